"""``python -m switchyard_edge``: the HTTP API and the gRPC Gateway API."""

from switchyard_common.runtime import run_service
from switchyard_edge.config import Settings
from switchyard_edge.server import serve


def main() -> None:
    run_service(Settings, serve)


if __name__ == "__main__":
    main()
