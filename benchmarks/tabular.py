"""glassnet train's defaults against other tabular learners, on real tables, side by side.

Every table ships with an installable package (no download at run time): scikit-learn's
bundled loaders, statsmodels' datasets, vega_datasets' local data and glassnet's own
penguins. Each table is split ``--splits`` times at random, 80/20 (stratified by class for
classification), with the split seeds ``--seed``, ``--seed`` + 1, ...; every method trains on
the same 80 % and is scored on the same 20 %:

- ``glassnet``: :func:`glassnet.tabular.train` with its defaults — what ``glassnet train``
  runs — on the training rows written to a CSV file, then :func:`glassnet.tabular.predict`
  on the test rows' file (the validation split for early stopping is taken from the 80 %);
- ``sklearn MLP``: ``MLPClassifier``/``MLPRegressor`` with their defaults, after median
  imputation and standard scaling of the numbers and one-hot encoding of the text (the
  regressor's target is standardised too, by ``TransformedTargetRegressor``);
- ``HistGB``: ``HistGradientBoostingClassifier``/``Regressor`` with their defaults (they take
  missing values and categories as they are);
- ``RealMLP-TD``: pytabkit's tuned-default MLP (Holzmüller et al., 2024), where pytabkit
  imports; skipped, with a note, where it does not.

It prints, per table and method, the accuracy (classification) or R² (regression) on the
test rows as mean ± standard deviation over the splits, the mean training time, each
method's mean rank over the tables (1 = best, ties share) and how many tables glassnet wins
against each other method, as a Markdown table (``--markdown`` also writes it to a file).
A table whose package is missing is skipped, saying so.

    python benchmarks/tabular.py                    # every table, 5 splits (some minutes)
    python benchmarks/tabular.py --quick            # 3 small tables, 1 split, few epochs
    python benchmarks/tabular.py --seed 100         # other splits (for tuning, not reporting)
    python benchmarks/tabular.py --set epochs=50 --methods glassnet
    OMP_NUM_THREADS=1 python benchmarks/tabular.py  # one thread each: on a loaded machine,
                                                    # BLAS threads that wait for each other
                                                    # make times meaningless

``--set name=value`` passes a keyword to ``glassnet.tabular.train`` (to try another setting
on splits that are not the reported ones).

The tables' packages are the ``bench`` extra (``pip install -e ".[bench]"``); RealMLP-TD
needs ``pip install pytabkit`` (it brings PyTorch). The ``--quick`` mode needs only the
``test`` extra (scikit-learn): it runs in the test suite.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import glassnet  # noqa: E402
from glassnet import tabular  # noqa: E402

METHODS = ("glassnet", "sklearn MLP", "HistGB", "RealMLP-TD")
QUICK_TABLES = ("iris", "penguins", "diabetes")
QUICK_EPOCHS = 30


class Unavailable(Exception):
    """A table or a method cannot run here; the message says why."""


# -- the tables ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A real table: its name, task, target column, where it comes from, and its loader."""

    name: str
    task: str  # "classification" or "regression"
    target: str
    source: str
    load: object  # () -> pandas.DataFrame holding the features and the target


def _sklearn(name, **kwargs):
    def load():
        try:
            from sklearn import datasets
        except ImportError:
            raise Unavailable("scikit-learn is not installed") from None
        bunch = getattr(datasets, f"load_{name}")(as_frame=True, **kwargs)
        frame = bunch.frame
        if "target_names" in bunch:  # class labels as their names, not codes
            frame["target"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        return frame

    return load


def _statsmodels(name, change):
    def load():
        try:
            from statsmodels import datasets
        except ImportError:
            raise Unavailable("statsmodels is not installed") from None
        return change(getattr(datasets, name).load_pandas().data.copy())

    return load


def _vega(name, change):
    def load():
        try:
            from vega_datasets import local_data
        except ImportError:
            raise Unavailable("vega_datasets is not installed") from None
        return change(getattr(local_data, name)())

    return load


def _penguins():
    # typed as glassnet types it: numbers as floats (NA -> NaN), text as strings
    frame = glassnet.datasets.tabular.load_table("penguins.csv")
    return frame.astype({c: object for c in ("species", "island", "sex")})


def _anes96(d):
    d = d.drop(columns=["popul"])  # logpopul is its logarithm
    d["vote"] = np.where(d["vote"] == 1, "Dole", "Clinton")
    return d


def _fair(d):
    d["affair"] = np.where(d.pop("affairs") > 0, "yes", "no")
    return d


def _star98(d):
    # the share of a district's pupils above the national median in maths
    d["above"] = d["NABOVE"] / (d["NABOVE"] + d["NBELOW"])
    return d.drop(columns=["NABOVE", "NBELOW"])


def _grunfeld(d):
    d["firm"] = d["firm"].astype(str).astype(object)
    return d


def _cars(d):
    return d.drop(columns=["Name"]).dropna(subset=["Miles_per_Gallon"]).reset_index(drop=True)


def _weather(d):
    d = d.copy()
    d["month"] = d.pop("date").dt.month
    return d


TABLES = (
    Table("iris", "classification", "target", "scikit-learn", _sklearn("iris")),
    Table("wine", "classification", "target", "scikit-learn", _sklearn("wine")),
    Table("breast_cancer", "classification", "target", "scikit-learn", _sklearn("breast_cancer")),
    Table("digits", "classification", "target", "scikit-learn", _sklearn("digits")),
    Table("penguins", "classification", "species", "glassnet", _penguins),
    Table("anes96", "classification", "vote", "statsmodels", _statsmodels("anes96", _anes96)),
    Table("fair", "classification", "affair", "statsmodels", _statsmodels("fair", _fair)),
    Table(
        "seattle_weather",
        "classification",
        "weather",
        "vega_datasets",
        _vega("seattle_weather", _weather),
    ),
    Table("diabetes", "regression", "target", "scikit-learn", _sklearn("diabetes", scaled=False)),
    Table("cars_mpg", "regression", "Miles_per_Gallon", "vega_datasets", _vega("cars", _cars)),
    Table("star98", "regression", "above", "statsmodels", _statsmodels("star98", _star98)),
    Table("grunfeld", "regression", "invest", "statsmodels", _statsmodels("grunfeld", _grunfeld)),
)


def split(frame, table: Table, seed: int):
    """80/20 train/test positions, stratified by class for classification."""
    from sklearn.model_selection import train_test_split

    stratify = frame[table.target] if table.task == "classification" else None
    return train_test_split(
        np.arange(len(frame)), test_size=0.2, random_state=seed, stratify=stratify
    )


def score(table: Table, truth, predicted) -> float:
    """Accuracy (classification) or R² (regression) of the test rows."""
    if table.task == "classification":
        return float(np.mean(np.asarray(truth, dtype=str) == np.asarray(predicted, dtype=str)))
    truth = np.asarray(truth, dtype=float)
    residual = np.sum((truth - np.asarray(predicted, dtype=float)) ** 2)
    return float(1.0 - residual / np.sum((truth - truth.mean()) ** 2))


# -- the methods ---------------------------------------------------------------------------------
def fit_glassnet(table, train, test, seed, options, folder):
    """``tabular.train`` on the training rows' CSV, ``tabular.predict`` on the test rows'."""
    train_csv, test_csv = Path(folder) / "train.csv", Path(folder) / "test.csv"
    train.to_csv(train_csv, index=False)
    test.drop(columns=[table.target]).to_csv(test_csv, index=False)
    impute = "median" if train.drop(columns=[table.target]).isna().any().any() else None
    start = time.perf_counter()
    result = tabular.train(
        train_csv, table.target, task=table.task, impute=impute, out=False, seed=seed, **options
    )
    seconds = time.perf_counter() - start
    frame, _ = tabular.predict(result.model, test_csv)
    return frame[f"predicted_{table.target}"].to_numpy(), seconds


def _columns(frame):
    numeric = [c for c in frame.columns if frame[c].dtype.kind in "fiub"]
    return numeric, [c for c in frame.columns if c not in numeric]


def fit_sklearn_mlp(table, train, test, seed, quick):
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = train.drop(columns=[table.target]), train[table.target]
    numeric, text = _columns(X)
    encode = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                text,
            ),
        ]
    )
    iterations = {"max_iter": QUICK_EPOCHS} if quick else {}
    if table.task == "classification":
        model = make_pipeline(encode, MLPClassifier(random_state=seed, **iterations))
    else:
        mlp = MLPRegressor(random_state=seed, **iterations)
        model = make_pipeline(
            encode, TransformedTargetRegressor(regressor=mlp, transformer=StandardScaler())
        )
    return _timed_fit(model, X, y, test.drop(columns=[table.target]))


def fit_histgb(table, train, test, seed, quick):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    def categories(frame):
        _, text = _columns(frame)
        return frame.astype({c: "category" for c in text})

    X, y = categories(train.drop(columns=[table.target])), train[table.target]
    iterations = {"max_iter": QUICK_EPOCHS} if quick else {}
    cls = (
        HistGradientBoostingClassifier
        if table.task == "classification"
        else (HistGradientBoostingRegressor)
    )
    X_test = categories(test.drop(columns=[table.target]))
    for column in X.select_dtypes("category"):  # the test rows know the training categories
        X_test[column] = X_test[column].cat.set_categories(X[column].cat.categories)
    return _timed_fit(cls(random_state=seed, **iterations), X, y, X_test)


def fit_realmlp(table, train, test, seed, quick):
    try:
        import torch
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor
    except ImportError as exc:
        raise Unavailable(f"pytabkit does not import ({exc})") from None
    threads = _threads()
    torch.set_num_threads(threads)
    X, y = train.drop(columns=[table.target]), train[table.target]
    X_test = test.drop(columns=[table.target])
    numeric, text = _columns(X)
    fill = X[numeric].median()  # RealMLP takes no missing numbers: the training median
    X, X_test = X.fillna(fill), X_test.fillna(fill)
    X, X_test = (f.astype({c: "category" for c in text}) for f in (X, X_test))
    cls = RealMLP_TD_Classifier if table.task == "classification" else RealMLP_TD_Regressor
    extra = {"n_epochs": QUICK_EPOCHS} if quick else {}
    model = cls(device="cpu", random_state=seed, n_threads=threads, verbosity=0, **extra)
    return _timed_fit(model, X, y.to_numpy(), X_test)


def _threads() -> int:
    """PyTorch's threads: OMP_NUM_THREADS where it is set (as NumPy's BLAS and scikit-learn's
    OpenMP read it), else every core."""
    return int(os.environ.get("OMP_NUM_THREADS") or 0) or (os.cpu_count() or 1)


def _timed_fit(model, X, y, X_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter, and the like
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
        return model.predict(X_test), seconds


# -- one run -------------------------------------------------------------------------------------
@dataclass
class Cell:
    """One method on one table: a score and a training time per split."""

    scores: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    skipped: str | None = None


def run(tables, methods, splits, seed, options, quick, progress=print):
    """``{table name: {method: Cell}}``, ``{table name: its rows}`` and ``{table name: why
    it was skipped}``."""
    results, rows, skipped = {}, {}, {}
    for table in tables:
        try:
            frame = table.load()
        except Unavailable as exc:
            skipped[table.name] = str(exc)
            continue
        rows[table.name] = len(frame)
        cells = results[table.name] = {m: Cell() for m in methods}
        for s in range(splits):
            train_idx, test_idx = split(frame, table, seed + s)
            train = frame.iloc[train_idx].reset_index(drop=True)
            test = frame.iloc[test_idx].reset_index(drop=True)
            for method in methods:
                cell = cells[method]
                if cell.skipped:
                    continue
                try:
                    predicted, seconds = _fit(method, table, train, test, seed + s, options, quick)
                except Unavailable as exc:
                    cell.skipped = str(exc)
                    continue
                cell.scores.append(score(table, test[table.target], predicted))
                cell.seconds.append(seconds)
                progress(
                    f"{table.name} split {s} {method}: {cell.scores[-1]:.4f} ({seconds:.2f} s)"
                )
    return results, rows, skipped


def _fit(method, table, train, test, seed, options, quick):
    if method == "glassnet":
        with tempfile.TemporaryDirectory() as folder:
            return fit_glassnet(table, train, test, seed, options, folder)
    fit = {"sklearn MLP": fit_sklearn_mlp, "HistGB": fit_histgb, "RealMLP-TD": fit_realmlp}
    return fit[method](table, train, test, seed, quick)


def mean_ranks(results, methods) -> dict[str, float]:
    """Each method's rank by mean score on each table (1 = best; ties share the mean of
    their ranks), averaged over the tables every ranked method ran on."""
    ranked = [m for m in methods if all(not r[m].skipped for r in results.values())]
    totals = dict.fromkeys(ranked, 0.0)
    for cells in results.values():
        means = {m: float(np.mean(cells[m].scores)) for m in ranked}
        for m in ranked:
            above = sum(v > means[m] for v in means.values())
            ties = sum(v == means[m] for v in means.values())
            totals[m] += above + (ties + 1) / 2
    return {m: totals[m] / max(len(results), 1) for m in ranked}


def wins(results, method, other) -> tuple[int, int]:
    """On how many tables ``method``'s mean score is above ``other``'s, out of how many."""
    both = [c for c in results.values() if c[method].scores and c[other].scores]
    won = sum(np.mean(c[method].scores) > np.mean(c[other].scores) for c in both)
    return int(won), len(both)


def markdown(results, rows, skipped, methods, tables, splits, command) -> str:
    """The report: one row per table, one column per method, then ranks and wins."""
    kinds = {t.name: t for t in tables}
    lines = [
        f"Command: `{command}`  ",
        f"{splits} random 80/20 split(s) per table (stratified for classification); "
        "accuracy or R² on the test rows, mean ± standard deviation over the splits; "
        "mean training time in seconds.  ",
        f"Python {platform.python_version()}, NumPy {np.__version__}, glassnet "
        f"{glassnet.__version__}, {os.cpu_count()} cores, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}.",
        "",
        "| table | rows | metric | " + " | ".join(methods) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in methods) + " |",
    ]
    for name, cells in results.items():
        t = kinds[name]
        metric = "accuracy" if t.task == "classification" else "R²"
        row = [name, str(rows[name]), metric]
        for m in methods:
            c = cells[m]
            if c.skipped or not c.scores:
                row.append("skipped")
            else:
                row.append(
                    f"{np.mean(c.scores):.3f} ± {np.std(c.scores):.3f} ({np.mean(c.seconds):.2f} s)"
                )
        lines.append("| " + " | ".join(row) + " |")
    ranks = mean_ranks(results, methods)
    lines.append(
        "| **mean rank** | | | "
        + " | ".join(f"**{ranks[m]:.2f}**" if m in ranks else "–" for m in methods)
        + " |"
    )
    lines.append("")
    if "glassnet" in methods:
        for other in methods:
            if other != "glassnet":
                won, of = wins(results, "glassnet", other)
                lines.append(f"glassnet beats {other} on {won} of {of} tables.  ")
    notes = {m: c.skipped for cells in results.values() for m, c in cells.items() if c.skipped}
    for m, why in notes.items():
        lines.append(f"{m} skipped: {why}.  ")
    for name, why in skipped.items():
        lines.append(f"table {name} skipped: {why}.  ")
    return "\n".join(lines).rstrip() + "\n"


def _option(text: str):
    name, _, value = text.partition("=")
    if not name or not _:
        raise argparse.ArgumentTypeError(f"--set takes name=value, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 tables, 1 split, few epochs")
    parser.add_argument("--splits", type=int, help="random splits per table (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="the first split's seed")
    parser.add_argument("--tables", help="comma-separated table names (default: all)")
    parser.add_argument("--methods", help=f"comma-separated, of: {', '.join(METHODS)}")
    parser.add_argument("--set", type=_option, action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--quiet", action="store_true", help="no line per split")
    args = parser.parse_args(argv)
    names = args.tables.split(",") if args.tables else (QUICK_TABLES if args.quick else None)
    tables = [t for t in TABLES if names is None or t.name in names]
    methods = args.methods.split(",") if args.methods else list(METHODS)
    if args.quick and not args.methods:
        methods.remove("RealMLP-TD")  # torch is not a test dependency
    unknown = sorted(set(methods) - set(METHODS)) + sorted(
        set(names or ()) - {t.name for t in TABLES}
    )
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    splits = args.splits or (1 if args.quick else 5)
    options = dict(args.set)
    if args.quick:
        options.setdefault("epochs", QUICK_EPOCHS)
    progress = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    results, rows, skipped = run(tables, methods, splits, args.seed, options, args.quick, progress)
    command = "python benchmarks/tabular.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = markdown(results, rows, skipped, methods, tables, splits, command.strip())
    print(report)
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
