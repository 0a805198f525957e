"""Imports of the auth service's tests go through the module name (``auth_testing``), whose
``auth`` fixture every test module uses."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from auth_testing import auth, auth_with_kafka

__all__ = ["auth", "auth_with_kafka"]
