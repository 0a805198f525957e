"""``python -m switchyard_router [migrate]``: the router's gRPC server, or its migrations only."""

from switchyard_common.runtime import run_service
from switchyard_router.config import Settings
from switchyard_router.server import run_migrations, serve


def main() -> None:
    run_service(Settings, serve, commands={"migrate": run_migrations})


if __name__ == "__main__":
    main()
