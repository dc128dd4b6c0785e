"""The one error a model file raises when it cannot be read, and how its values are shown."""

from __future__ import annotations

from glassnet.errors import InputValueError

SHOWN_CHARACTERS = 100  # the most of any value from a file an error message echoes


class ModelFileError(InputValueError):
    """The file is not a readable glassnet model (missing, truncated, corrupted, foreign, or
    naming a class the caller did not hand over)."""


def shown(value, limit: int = SHOWN_CHARACTERS) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters (a file's values can be huge).

    >>> shown("x" * 500).endswith("xxx... (502 characters)")
    True
    """
    text = repr(value).replace("\n", "\\n")
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def one_line(text: str, limit: int = 2 * SHOWN_CHARACTERS) -> str:
    """An error text from elsewhere (a constructor's message) as one line of at most ``limit``
    characters, since it may quote a value from the file."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[:limit]}..."
