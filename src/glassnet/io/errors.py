"""The one error a model file raises when it cannot be read."""

from __future__ import annotations


class ModelFileError(ValueError):
    """The file is not a readable glassnet model (missing, truncated, corrupted, foreign, or
    naming a class the caller did not hand over)."""
