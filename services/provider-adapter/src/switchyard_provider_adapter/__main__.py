"""``python -m switchyard_provider_adapter``: the provider adapter's gRPC server."""

from switchyard_common.runtime import run_service
from switchyard_provider_adapter.config import Settings
from switchyard_provider_adapter.server import serve


def main() -> None:
    run_service(Settings, serve)


if __name__ == "__main__":
    main()
