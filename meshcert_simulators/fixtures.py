"""Where the bundled data is: ``fixtures/`` beside the packages in a checkout, or
``meshcert_fixtures`` beside them once installed from the wheel (see setup.py)."""

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]

FIXTURES_DIR = _ROOT / "meshcert_fixtures" if (_ROOT / "meshcert_fixtures").is_dir() \
    else _ROOT / "fixtures"


def fixture_path(*parts: str) -> Path:
    """A file or folder of the bundled data, e.g. ``fixture_path("topologies",
    "embedded.yaml")``."""
    return FIXTURES_DIR.joinpath(*parts)
