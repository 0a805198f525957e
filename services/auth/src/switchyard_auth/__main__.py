"""``python -m switchyard_auth [migrate]``: the auth service's gRPC server, or its migrations."""

from switchyard_auth.config import Settings
from switchyard_auth.server import run_migrations, serve
from switchyard_common.runtime import run_service


def main() -> None:
    run_service(Settings, serve, commands={"migrate": run_migrations})


if __name__ == "__main__":
    main()
