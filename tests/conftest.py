"""Shared fixtures. ``SHARED`` is the ../shared folder CI puts beside the checkout; tests
that read it skip cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def rng():
    return np.random.default_rng(0)
