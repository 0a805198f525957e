"""Imports of the edge's tests go through the helper module's name (``pipeline_testing``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
