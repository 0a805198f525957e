"""Imports of the router's tests go through the package name (``router_testing``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
