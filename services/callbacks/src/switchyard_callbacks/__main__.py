"""``python -m switchyard_callbacks``: the logging-callbacks consumer."""

from switchyard_callbacks.config import Settings
from switchyard_callbacks.server import serve
from switchyard_common.runtime import run_service


def main() -> None:
    run_service(Settings, serve)


if __name__ == "__main__":
    main()
