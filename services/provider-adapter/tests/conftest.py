import sys
from pathlib import Path

# The scenario suite and harness are imported by the provider test modules.
sys.path.insert(0, str(Path(__file__).parent))
