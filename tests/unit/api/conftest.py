import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[3]
for p in (_ROOT / "src", Path(__file__).resolve().parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from apifakes import running_server  # noqa: E402,F401  (fixture)
