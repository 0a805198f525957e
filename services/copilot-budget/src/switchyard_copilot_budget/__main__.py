"""``python -m switchyard_copilot_budget [migrate]``: the budget service, or its migrations."""

from switchyard_common.runtime import run_service
from switchyard_copilot_budget.config import Settings
from switchyard_copilot_budget.server import run_migrations, serve


def main() -> None:
    run_service(Settings, serve, commands={"migrate": run_migrations})


if __name__ == "__main__":
    main()
