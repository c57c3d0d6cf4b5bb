"""Shared fixtures: the reference vectors from the repository's tests/data."""

import json
from pathlib import Path
from typing import Any, Dict

import pytest

# bindings/python/tests/conftest.py -> repository root is three levels up.
REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS_PATH = REPO_ROOT / "tests" / "data" / "py2p-0.7.json"


@pytest.fixture(scope="session")
def vectors() -> Dict[str, Any]:
    if not VECTORS_PATH.is_file():
        pytest.fail(f"reference vectors missing: {VECTORS_PATH} (they are part of the repository)")
    with VECTORS_PATH.open(encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]
