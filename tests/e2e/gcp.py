"""A Google service-account key for the e2e session: the provider adapter gets it through
E2E_VERTEX_CREDENTIALS (config.yaml's vertex_credentials), the Gemini fake gets its public key,
so the adapter's JWT-bearer exchange is verified end to end."""

from __future__ import annotations

import functools
import json

from switchyard_fakes.gemini_server import make_service_account

# serve.py puts the Gemini fake at the fake base port + 2.
GEMINI_FAKE_OFFSET = 2


@functools.cache
def service_account(fake_base_port: int) -> tuple[str, str, str]:
    """(credentials JSON, client_email, PEM public key) for the stack whose fakes start at
    ``fake_base_port``."""
    port = fake_base_port + GEMINI_FAKE_OFFSET
    info, public_pem = make_service_account(
        f"http://127.0.0.1:{port}/token",
        project_id="e2e-project",
        client_email="switchyard-e2e@e2e-project.iam.gserviceaccount.com",
    )
    return json.dumps(info), info["client_email"], public_pem
