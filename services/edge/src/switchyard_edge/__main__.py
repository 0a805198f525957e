"""``python -m switchyard_edge [migrate]``: the HTTP API and the gRPC Gateway API, or the
migrations of its stored responses."""

from switchyard_common.runtime import run_service
from switchyard_edge.config import Settings
from switchyard_edge.server import run_migrations, serve


def main() -> None:
    run_service(Settings, serve, commands={"migrate": run_migrations})


if __name__ == "__main__":
    main()
