import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` run without `python -m` from the repository root
    sys.path.insert(0, str(ROOT))

from tests.fixtures_mqtt import messenger_factory, mosquitto, mosquitto_factory  # noqa: E402,F401
from tests.fixtures_pg import postgres  # noqa: E402,F401
