import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[3]
for p in (_ROOT / "src", _ROOT / "tests" / "unit" / "api"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
