"""Tables: CSV files read with pandas, and the example tables shipped with glassnet.

A table is read with every cell as text (``dtype=str``), so that nothing is guessed behind
the user's back; :func:`column_kinds` then decides which columns are numbers and which are
categories, and :func:`typed` converts them. A column that is *mostly* numbers but holds a
stray word is an error naming the column and the row, not a silent switch to categories.

Rows are counted from 1, after the header: "row 3" is the third data row of the file.
Missing values are what pandas reads as missing by default: an empty cell, ``NA``, ``N/A``,
``NaN``, ``null``, ``None`` and a few more.

The shipped tables (see ``data/TABLES-ATTRIBUTION.md`` for sources and licences) are
reachable by name wherever a path is accepted: ``load_table("penguins.csv")``.

A pandas DataFrame is accepted wherever a CSV file is (:func:`read_table`): its cells are
written as the text ``DataFrame.to_csv`` writes for them (``1.0``, ``39``, ``True``,
``Adelie``) and typed from there, so a DataFrame and the CSV file written from it are the
same table to glassnet. Missing is what pandas calls missing (NaN, None, ``pd.NA``, NaT);
a string is kept as it is (a CSV reader would take ``"NA"`` or ``""`` for missing, and drop
the spaces that start an unquoted value).
"""

from __future__ import annotations

import io
import math
import os
from importlib import resources
from pathlib import Path

import numpy as np

from glassnet.errors import InputTypeError, InputValueError, Param

# name -> (description, a suggested command)
TABLES = {
    "gender.csv": (
        "seed 002's four people: Name, Weight (lb), Height (in), Gender (F/M)",
        "glassnet train gender.csv --target Gender --ignore Name",
    ),
    "gender-new.csv": (
        "seed 002's Emily and Frank, to predict (no Gender column)",
        "glassnet predict gender.safetensors gender-new.csv",
    ),
    "xor.csv": ("the XOR truth table: x1, x2, y", "glassnet train xor.csv --target y"),
    "penguins.csv": (
        "Palmer penguins (CC0): 344 penguins, 3 species, strings and missing values",
        "glassnet train penguins.csv --target species --impute mean",
    ),
    "new_penguins.csv": (
        "six penguins of penguins.csv (two of each species), to predict (no species column)",
        "glassnet predict penguins.safetensors new_penguins.csv",
    ),
}

#: a numeric-looking column is numeric if at least this share of its values are numbers
NUMERIC_SHARE = 0.5


def table_path(name: str) -> Path:
    """The installed path of a shipped table (``"penguins.csv"``; the ``.csv`` is optional)."""
    key = name if name in TABLES else f"{name}.csv"
    if key not in TABLES:
        raise InputValueError(
            f"no shipped table named {name!r}; the shipped tables are: {', '.join(TABLES)}"
        )
    return Path(str(resources.files(__package__).joinpath("data", key)))


def resolve(path_or_name) -> Path:
    """A file that exists, or a shipped table's path when the name is one of :data:`TABLES`.

    A file in the current folder wins over a shipped table of the same name.
    """
    path = Path(path_or_name)
    if path.exists():
        return path
    name = str(path_or_name)
    if path.parent == Path(".") and (name in TABLES or f"{name}.csv" in TABLES):
        return table_path(name)
    raise InputValueError(
        f"file not found: {name!r} (tables shipped with glassnet: {', '.join(TABLES)})"
    )


def is_frame(data) -> bool:
    """Whether ``data`` is a pandas DataFrame (rather than a path or a shipped table's name)."""
    import pandas as pd

    return isinstance(data, pd.DataFrame)


def source_path(data, param: str = "data") -> Path | None:
    """The file ``data`` names (see :func:`resolve`), or None for a DataFrame; anything else
    is an error naming ``param``."""
    if is_frame(data):
        return None
    if not isinstance(data, str | os.PathLike):
        raise InputTypeError(
            "{data} must be a pandas DataFrame or the path of a CSV file, got {type}",
            data=Param(param),
            type=type(data).__name__,
        )
    return resolve(data)


def source_name(data) -> str:
    """How a message names a table: ``'penguins.csv'``, or ``the DataFrame``."""
    return "the DataFrame" if is_frame(data) else repr(str(data))


def read_table(data, param: str = "data"):
    """A CSV file, a shipped table or a DataFrame as a table of text (:func:`read_csv`'s
    form: every present cell a string, NaN where one is missing, rows indexed from 0)."""
    if source_path(data, param) is None:
        return frame_as_text(data, param)
    return read_csv(data)


def frame_as_text(frame, param: str = "data"):
    """A DataFrame's cells as the text ``to_csv`` writes for them; missing ones NaN.

    Raises a one-line error naming ``param`` for a frame without rows or columns, with
    columns in levels (a MultiIndex) or with two columns of the same name.
    """
    import pandas as pd

    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise InputValueError(
            "{data} is empty ({rows} rows, {columns} columns): there is nothing to learn from",
            data=Param(param),
            rows=frame.shape[0],
            columns=frame.shape[1],
        )
    if isinstance(frame.columns, pd.MultiIndex):
        raise InputValueError(
            "{data} has columns in levels (a MultiIndex): give every column one name",
            data=Param(param),
        )
    names = [str(c) for c in frame.columns]
    _refuse_repeated(names, f"{param} (a DataFrame)")
    # pandas writes each dtype's text (floats as repr, float32 as its shortest digits, dates
    # as ISO); it is read back verbatim: no cell is taken for missing, no space is dropped
    written = frame.to_csv(index=False, header=False, lineterminator="\n")
    text = pd.read_csv(
        io.StringIO(written),
        header=None,
        names=range(len(names)),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
    ).astype(object)
    text = text.mask(frame.isna().to_numpy(), np.nan)
    text.columns, text.index = names, np.arange(len(frame))
    return text


def read_csv(path_or_name):
    """Read a CSV file (or a shipped table) with pandas, every cell as text.

    Returns a DataFrame whose index counts the data rows from 0. Raises ValueError with a
    one-line reason for a file that is missing, a folder, unreadable, empty, without rows,
    not UTF-8 text, or not parseable as CSV.
    """
    import pandas as pd

    path = resolve(path_or_name)
    where = repr(str(path_or_name))
    if path.is_dir():
        raise InputValueError(f"{where} is a folder, not a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputValueError(
            f"{where} is empty: a CSV file needs a header line and rows"
        ) from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "parse error"
        raise InputValueError(f"{where} is not a readable CSV file: {reason}") from None
    except UnicodeDecodeError as exc:
        raise InputValueError(
            f"{where} is not a UTF-8 text file (byte {exc.start}: {exc.reason}); "
            f"save it as UTF-8 CSV"
        ) from None
    except PermissionError:
        raise InputValueError(f"cannot read {where}: permission denied") from None
    except OSError as exc:
        raise InputValueError(f"cannot read {where}: {exc.strerror or exc}") from None
    if len(frame) == 0:
        raise InputValueError(f"{where} has a header but no data rows")
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header:
                raise InputValueError(
                    f"{where} has a single column {header!r}: it looks separated "
                    f"by {name}; glassnet reads comma-separated files"
                )
    _refuse_duplicate_names(path, where)
    frame.columns = [str(c) for c in frame.columns]
    frame.index = np.arange(len(frame))
    return frame


def _refuse_duplicate_names(path: Path, where: str) -> None:
    """Raise ValueError naming every column name the header row holds twice or more.

    pandas renames a repeated ``x1`` to ``x1.1``, which would then become a feature of its
    own; so the header is read again as a plain row (no renaming, no missing-value
    guessing), with the same parser settings as the table. Empty names are left alone
    (pandas names them ``Unnamed: <i>``, which cannot pass for another column).
    """
    import pandas as pd

    header = pd.read_csv(
        path, header=None, nrows=1, dtype=str, skipinitialspace=True, keep_default_na=False
    ).iloc[0]
    _refuse_repeated(list(header), where)


def _refuse_repeated(names, where: str) -> None:
    """Raise ValueError naming every name of ``names`` (a header) given twice or more."""
    positions: dict[str, list[int]] = {}
    for number, name in enumerate(names, start=1):
        if name != "":
            positions.setdefault(name, []).append(number)
    repeated = [
        f"{name!r} (columns {', '.join(map(str, numbers[:-1]))} and {numbers[-1]})"
        for name, numbers in positions.items()
        if len(numbers) > 1
    ]
    if repeated:
        raise InputValueError(
            f"{where} has duplicate column names: {'; '.join(repeated)}; "
            f"give every column its own name"
        )


def column_kinds(frame) -> dict[str, str]:
    """``{column: "numeric" | "categorical"}`` for every column of a text table.

    A column is numeric when every value that is present reads as a finite number. When at
    least :data:`NUMERIC_SHARE` of them do but some do not, the odd one out is taken for a
    typo and ValueError names the column, the row and the value.
    """
    kinds = {}
    for name in frame.columns:
        bad = _non_numbers(frame[name])
        present = int(frame[name].notna().sum())
        if present and not bad.any():
            kinds[name] = "numeric"
        elif present and (present - int(bad.sum())) >= NUMERIC_SHARE * present:
            raise junk_error(frame, name, bad)
        else:
            kinds[name] = "categorical"
    return kinds


def typed(frame, kinds: dict[str, str]):
    """A copy of ``frame`` with its numeric columns as float64 (NaN = missing).

    Raises ValueError naming the column and the first row whose value is not a number.
    """
    import pandas as pd

    out = {}
    for name in frame.columns:
        column = frame[name]
        if kinds.get(name) == "numeric":
            numbers = _numbers(column)
            bad = column.notna().to_numpy() & ~np.isfinite(numbers)
            if bad.any():
                raise junk_error(frame, name, bad)
            out[name] = pd.Series(numbers, index=frame.index, name=name)
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index)


def load_table(path_or_name):
    """A CSV file or shipped table as a DataFrame: numbers as float64, the rest as text."""
    frame = read_csv(path_or_name)
    return typed(frame, column_kinds(frame))


def junk_error(frame, name, bad) -> ValueError:
    position = int(np.argmax(np.asarray(bad)))
    value = frame[name].iloc[position]
    return InputValueError(
        f"column {name!r} holds numbers, but row {int(frame.index[position]) + 1} "
        f"has {value!r}: fix that value, or leave the cell empty to mark it "
        f"missing"
    )


def _numbers(column) -> np.ndarray:
    """The column's values as float64; NaN where a value is missing or not a number."""
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()


def _non_numbers(column) -> np.ndarray:
    """True where a value is present but is not a finite number."""
    return column.notna().to_numpy() & ~np.isfinite(_numbers(column))


def is_number(text) -> bool:
    """Whether ``text`` reads as a finite number."""
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


def is_integer_valued(values) -> bool:
    values = np.asarray(values, dtype=float)
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def canonical_number(value: float) -> str:
    """``"1"`` for 1.0, ``"2.5"`` for 2.5: how a numeric class label is written back."""
    value = float(value)
    if math.isfinite(value) and value == round(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)
