"""Shared fixtures. ``SHARED`` is the ../shared folder CI puts beside the checkout; tests
that read it skip cleanly when it is absent."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from glassnet.training.callbacks import Callback

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def python_blocks(path, section=None):
    """The ```python code blocks of a Markdown file, or of one ``## <section>`` of it."""
    text = Path(path).read_text(encoding="utf-8")
    if section is not None:
        text = text.split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def ecosystem_blocks(section):
    """The python blocks of one section of docs/ecosystem.md."""
    return python_blocks(ROOT / "docs" / "ecosystem.md", section)


class Interrupt(Callback):
    """Raises KeyboardInterrupt at the end of epoch ``at`` (1-based), as Ctrl-C would."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.at:
            raise KeyboardInterrupt
