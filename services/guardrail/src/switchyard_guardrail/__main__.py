"""``python -m switchyard_guardrail``: the guardrail service's gRPC server."""

from switchyard_common.runtime import run_service
from switchyard_guardrail.config import Settings
from switchyard_guardrail.server import serve


def main() -> None:
    run_service(Settings, serve)


if __name__ == "__main__":
    main()
