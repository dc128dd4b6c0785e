"""The tutorial and the README run as written, and print what they show.

The pages follow five conventions, and a block of any other kind fails the test, so that
nothing on them goes unchecked by accident:

- A ```python block runs, in order, in a temporary folder: the tutorial's blocks in one
  namespace (it is one story), the README's each in a fresh one (each is self-contained).
- A plain ``` block right after a ```python block is an excerpt of what that block prints:
  its lines appear in the printed output, together and in order.
- A plain ``` block of ``$ glassnet ...`` lines is a transcript: each command runs through
  ``glassnet.cli.main``, and the lines under it are what it prints — its standard output when
  it succeeds (status 0), its one-line error when it fails (status 2). Times (``0.2 s``) are
  the one thing masked: they differ from run to run.
- A ```text block that starts ``src/glassnet/`` is the layout: every module it names exists,
  and every module of the package is named in it.
- In a ```bash block every ``glassnet`` command runs and must succeed (``> FILE`` writes its
  output to FILE); a ``# prints: ...`` line is checked against the command above it, with
  ``<...>`` standing for any value. The set-up commands (``pip install``, ``python -m pytest``)
  are not run: they are what runs this test.

The README's ``glassnet demo digits`` runs on 1,000 of the shipped digits for one epoch (the
full demo takes a minute; ``tests/test_digits.py`` checks it), and the ``my_digit.png`` a
reader would draw is one of the shipped test digits, drawn here.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import shlex
from dataclasses import dataclass

import numpy as np
import pytest

from conftest import ROOT
from glassnet import datasets, demos
from glassnet.cli import main
from glassnet.digits import FILES, run_digits_demo

SETUP_COMMANDS = {"pip install .", 'pip install -e ".[test]"', "python -m pytest"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", flags=re.S | re.M)


@dataclass
class Check:
    """One thing a page shows, and what the code did."""

    kind: str  # "excerpt", "transcript", "bash", "prints", "layout", "block"
    where: str
    shown: str
    got: str


def blocks(path):
    """``(language, text)`` for every fenced block of a Markdown file, in order."""
    return FENCE.findall(path.read_text(encoding="utf-8"))


def mask_times(text: str) -> str:
    return re.sub(r"\b\d+(?:\.\d+)? s\b", "<time> s", text)


def capture(function, *args):
    """Run ``function(*args)``; return its result, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = function(*args)
    return result, out.getvalue(), err.getvalue()


def run_command(line: str):
    """Run one ``glassnet ...`` line (``> FILE`` allowed); return (status, stdout, stderr)."""
    words = shlex.split(line)
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    status, out, err = capture(main, words[1:])
    if target is not None:
        with open(target, "w", encoding="utf-8") as file:
            file.write(out)
    return status, out, err


def excerpt_check(shown: str, printed: str, where: str) -> Check:
    """The excerpt as shown, and the run of printed lines it should be (or all of them)."""
    lines, want = printed.splitlines(), shown.splitlines()
    for start in range(len(lines) - len(want) + 1):
        if lines[start : start + len(want)] == want:
            return Check("excerpt", where, shown, shown)
    return Check("excerpt", where, shown, printed)


def transcript_checks(text: str, where: str) -> list[Check]:
    checks, command, shown = [], None, []
    for line in [*text.splitlines(), "$ "]:
        if line.startswith("$ "):
            if command is not None:
                status, out, err = run_command(command)
                expected = "\n".join(shown)
                fails = expected.startswith("glassnet: error:")
                got = err if fails else out
                checks.append(
                    Check(
                        "transcript",
                        f"{where}: $ {command}",
                        f"status {2 if fails else 0}\n{mask_times(expected)}",
                        f"status {status}\n{mask_times(got.rstrip())}",
                    )
                )
            command, shown = line[2:], []
        else:
            shown.append(line)
    return checks


def bash_checks(text: str, where: str) -> list[Check]:
    checks, last_out = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# prints:"):
            pattern = re.sub(r"<[^<>]+>", ".+", re.escape(line.removeprefix("# prints:").strip()))
            got = last_out.strip()
            checks.append(
                Check(
                    "prints", f"{where}: {line}", line, line if re.fullmatch(pattern, got) else got
                )
            )
            continue
        command_part = line.split(" # ", 1)[0].strip() if not line.startswith("#") else ""
        for command in filter(None, (c.strip() for c in command_part.split("&&"))):
            if command in SETUP_COMMANDS:
                continue
            if not command.startswith("glassnet "):
                checks.append(Check("bash", where, "a glassnet or set-up command", command))
                continue
            status, last_out, err = run_command(command)
            got = "status 0" if status == 0 else f"status {status}: {err.strip()[-300:]}"
            checks.append(Check("bash", f"{where}: {command}", "status 0", got))
    return checks


def layout_check(text: str, where: str) -> Check:
    """The modules a layout block names against those the package has, by file name: every
    name shown exists, and no module goes unnamed."""
    package = ROOT / "src" / "glassnet"
    shown = set(re.findall(r"\b(\w+\.py)\b", text))
    have = {p.name for p in package.rglob("*.py")} - {"__init__.py", "__main__.py"}
    return Check(
        "layout",
        where,
        "",
        f"named, not in the package: {sorted(shown - have)}; "
        f"in the package, not named: {sorted(have - shown)}"
        if shown != have
        else "",
    )


def run_page(path, *, shared_namespace: bool):
    """Run every block of a page in order; return (checks, namespaces of the python blocks)."""
    checks, namespaces, previous, printed = [], [], None, ""
    namespace = {}
    for i, (language, text) in enumerate(blocks(path)):
        where = f"{path.name} block {i + 1}"
        if language == "python":
            if not shared_namespace:
                namespace = {}
            code = compile(text, where, "exec")
            _, printed, _ = capture(exec, code, namespace)
            namespaces.append(namespace)
        elif language == "bash":
            checks += bash_checks(text, where)
        elif language == "" and text.startswith("$ glassnet "):
            checks += transcript_checks(text, where)
        elif language == "text" and text.startswith("src/glassnet/"):
            checks.append(layout_check(text, where))
        elif language == "" and previous == "python":
            checks.append(excerpt_check(text.rstrip("\n"), printed, where))
        else:
            checks.append(Check("block", where, "a block of a known kind", f"```{language}"))
        previous = language
    return checks, namespaces


def assert_all(checks, kind):
    mine = [c for c in checks if c.kind == kind]
    assert mine, f"no {kind} on the page"
    wrong = [check for check in mine if check.got != check.shown]
    if wrong:  # every one named; the first one's difference shown
        assert wrong[0].got == wrong[0].shown, [check.where for check in wrong]


# -- the tutorial --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("tutorial"))
        return run_page(ROOT / "docs" / "tutorial.md", shared_namespace=True)


def test_tutorial_runs(tutorial):
    checks, namespaces = tutorial
    assert len(namespaces) >= 10
    assert not [c for c in checks if c.kind == "block"]


def test_tutorial_excerpt_is_what_its_code_prints(tutorial):
    checks, _ = tutorial
    assert_all(checks, "excerpt")


# -- the pages of docs/, one per theme ---------------------------------------------------------

#: pages checked elsewhere: the tutorial above; the ecosystem recipes by the tests of each tool
SEPARATELY_CHECKED = {"tutorial.md", "ecosystem.md"}
THEME_PAGES = sorted(
    p.name for p in (ROOT / "docs").glob("*.md") if p.name not in SEPARATELY_CHECKED
)


@pytest.mark.parametrize("page", THEME_PAGES)
def test_theme_page_runs_and_prints_what_it_shows(page, tmp_path, monkeypatch):
    """Each theme page is one story: its python blocks run in order in one namespace, in a
    temporary folder, and every excerpt and transcript on it is what the code printed."""
    monkeypatch.chdir(tmp_path)
    checks, namespaces = run_page(ROOT / "docs" / page, shared_namespace=True)
    assert namespaces, f"{page} has no runnable example"
    assert not [c for c in checks if c.kind == "block"], [c.where for c in checks]
    for kind in ("excerpt", "transcript", "bash"):
        if any(c.kind == kind for c in checks):
            assert_all(checks, kind)


# -- the README ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readme(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("readme")
    _, _, X_test, _ = datasets.load_digits_subset()
    drawn = 255 * (1 - np.kron(X_test[0, 0], np.ones((4, 4))))  # dark on light, 112x112
    Image.fromarray(np.round(drawn).astype(np.uint8)).save(folder / "my_digit.png")
    small = functools.partial(run_digits_demo, epochs=1, n_train=1000, verbose=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setitem(demos.DEMOS, "digits", (small, demos.DEMOS["digits"][1]))
        checks, namespaces = run_page(ROOT / "README.md", shared_namespace=False)
    return checks, namespaces, folder


def test_readme_blocks_are_all_of_known_kinds(readme):
    checks, namespaces, _ = readme
    assert [c.got for c in checks if c.kind == "block"] == []
    assert len(namespaces) == 4  # the tour, the ledger, scikit-learn, training and diagnose


def test_readme_commands_succeed(readme):
    checks, _, folder = readme
    assert_all(checks, "bash")
    # what the set-up line's `glassnet demo digits` is said to write
    readme_text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in FILES.values():
        assert f"`{name}`" in readme_text, name
        assert (folder / name).stat().st_size > 1000, name
    predictions = (folder / "predictions.csv").read_text(encoding="utf-8").splitlines()
    assert predictions[0].endswith(",predicted_species,P(Adelie),P(Chinstrap),P(Gentoo)")
    assert len(predictions) == 1 + 6


def test_readme_layout_names_every_module(readme):
    checks, _, _ = readme
    assert_all(checks, "layout")


def test_readme_prints_what_it_shows(readme):
    checks, _, _ = readme
    assert_all(checks, "excerpt")  # the ledger, scikit-learn's accuracy


def test_readme_reads_a_drawn_digit_as_it_says(readme):
    checks, _, _ = readme
    assert_all(checks, "prints")  # digit: <the digit> (probability <p>)


def test_readme_transcripts(readme):
    checks, _, _ = readme
    assert_all(checks, "transcript")
    shown = [c.shown for c in checks if c.kind == "transcript"]
    assert sum(s.startswith("status 2\nglassnet: error:") for s in shown) == 2


def test_readme_tour_says_what_it_prints(readme):
    _, namespaces, folder = readme
    tour = namespaces[0]
    np_ = tour["np"]
    assert tour["gn"].Neuron(weights=[0, 1], bias=4).forward([2, 3]) == 0.9990889488055994
    emily, frank = tour["model"].predict(np_.array([[-7, -3], [20, 2]]))[:, 0]
    assert round(float(emily), 3) == 0.967 and round(float(frank), 3) == 0.055
    check = tour["gn"].gradcheck(tour["model"], tour["X"], tour["y"], loss="mse")
    assert 1e-9 < check.max_error < 1e-7  # "about 1e-8"
    assert (folder / "gender.safetensors").exists()
    assert (folder / "model.onnx").stat().st_size > 1000  # from the scikit-learn block


def test_readme_seed_table_numbers_are_what_the_demos_print(tmp_path, monkeypatch):
    """Every number of four or more decimals in the table of seeds appears in what the demo
    prints (`glassnet demo two-layer` and `digits` claim no numbers)."""
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `glassnet demo ([\w-]+)` \| (.*) \|$", text, flags=re.M)
    assert [name for name, _ in rows] == list(demos.DEMOS)
    claimed = 0
    for name, claim in rows:
        numbers = re.findall(r"\d+\.\d{4,}", claim)
        if not numbers:
            continue
        status, out, _ = capture(main, ["demo", name])
        assert status == 0, name
        for number in numbers:
            assert number in out, (name, number)
            claimed += 1
    assert claimed == 1 + 1 + 4
