"""Credentials of deployments added at runtime: they arrive in the ``Deployment`` proto sealed
to this adapter's public key and bound to the deployment's definition
(switchyard_llm.sealing), and are opened here with the private key only the adapter holds.
The values are used as they are: ``os.environ/`` references are config.yaml's alone."""

from __future__ import annotations

from collections.abc import Mapping

from switchyard_llm.sealing import SealingError, load_private_key, open_sealed


class SealedCredentials:
    def __init__(self, private_key: str | None) -> None:
        self._key = load_private_key(private_key) if private_key else None

    def open(
        self, deployment_id: str, sealed: Mapping[str, bytes], binding: bytes
    ) -> tuple[dict[str, str], str | None]:
        """(credentials, problem) of a deployment's sealed values, for the definition whose
        ``credential_binding`` is ``binding``."""
        if self._key is None:
            return {}, "this provider adapter has no PROVIDER_CREDENTIALS_PRIVATE_KEY to open them"
        creds: dict[str, str] = {}
        for name, value in sealed.items():
            try:
                creds[name] = open_sealed(self._key, deployment_id, name, value, binding=binding)
            except SealingError as exc:
                return {}, f"{name}: {exc}"
        return creds, None
