"""Credentials of deployments added at runtime: they arrive in the ``Deployment`` proto sealed
to this adapter's public key (switchyard_common.sealing) and are opened here, with the private
key only the adapter holds. Opened values are kept per deployment until the sealed values change."""

from __future__ import annotations

from collections.abc import Mapping

from switchyard.llm.v1 import deployment_pb2
from switchyard_common.model_config import ConfigError, resolve_value
from switchyard_common.sealing import SealingError, load_private_key, open_sealed


class SealedCredentials:
    def __init__(self, private_key: str | None) -> None:
        self._key = load_private_key(private_key) if private_key else None
        # deployment id → (the sealed values, what they opened to or the problem)
        self._opened: dict[str, tuple[dict[str, bytes], dict[str, str], str | None]] = {}

    def open(self, dep: deployment_pb2.Deployment) -> tuple[Mapping[str, str], str | None]:
        """(credentials, problem) of a deployment with sealed credentials."""
        sealed = dep.sealed_credentials
        hit = self._opened.get(dep.id)
        if hit is not None and hit[0] == sealed:
            return hit[1], hit[2]
        creds: dict[str, str] = {}
        problem: str | None = None
        if self._key is None:
            problem = "this provider adapter has no PROVIDER_CREDENTIALS_PRIVATE_KEY to open them"
        else:
            for name, value in sealed.items():
                try:
                    # A stored credential may itself be an os.environ/ reference to this
                    # adapter's environment, as in config.yaml.
                    creds[name] = str(resolve_value(open_sealed(self._key, dep.id, name, value)))
                except (SealingError, ConfigError) as exc:
                    problem = f"{name}: {exc}"
                    creds = {}
                    break
        if len(self._opened) > 10_000:
            self._opened.clear()
        self._opened[dep.id] = (dict(sealed), creds, problem)
        return creds, problem
