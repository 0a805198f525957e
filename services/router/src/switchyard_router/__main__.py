"""``python -m switchyard_router``: the router's gRPC server."""

from switchyard_common.runtime import run_service
from switchyard_router.config import Settings
from switchyard_router.server import serve


def main() -> None:
    run_service(Settings, serve)


if __name__ == "__main__":
    main()
