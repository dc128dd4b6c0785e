"""The ``glassnet`` command, end to end: through ``glassnet.cli.main(argv)`` in-process and
through the installed console script in a subprocess.

Every bad input must end as one line on stderr, exit status 2, no traceback — and leave the
folder exactly as it was: no model, plot or CSV half-written, nothing that existed removed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Interrupt
from glassnet import Callback, load, tabular
from glassnet.cli import main

FAST = ["--epochs", "40", "--patience", "5", "-q"]
PENGUIN_COLUMNS = "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own empty folder, so default outputs land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def fails(capsys, folder, argv, message):
    """Run ``argv``; assert exit status 2, one line naming ``message``, no file changed."""
    before = snapshot(folder)
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert "Traceback" not in err + out
    assert snapshot(folder) == before
    return err


def write(path, text):
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


@pytest.fixture(scope="module")
def penguin_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "penguins.safetensors"
    assert (
        main(
            [
                "train",
                "penguins.csv",
                "--target",
                "species",
                "--impute",
                "mean",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 0
    )
    return out


# --------------------------------------------------------------------------- the round trips


def test_gender_round_trip(capsys, in_tmp):
    code, out, err = run(
        capsys, "train", "gender.csv", "--target", "Gender", "--ignore", "Name", "-q"
    )
    assert code == 0, err
    assert "no validation split was made" in out
    assert "model written to gender.safetensors" in out  # here: gender.csv is shipped
    assert (in_tmp / "gender.safetensors").is_file()

    code, out, err = run(capsys, "predict", "gender.safetensors", "gender-new.csv", "--proba")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Name,Weight,Height,predicted_Gender,P(F),P(M)"
    assert lines[1].startswith("Emily,128,63,F,") and lines[2].startswith("Frank,155,68,M,")

    code, out, err = run(capsys, "evaluate", "gender.safetensors", "gender.csv")
    assert code == 0, err
    assert "accuracy  1.0000" in out
    assert "F                    2     0" in out


def test_penguins_round_trip_with_plots(capsys, in_tmp):
    code, out, err = run(
        capsys,
        "train",
        "penguins.csv",
        "--target",
        "species",
        "--impute",
        "mean",
        "--plot",
        "train.png",
        "--out",
        "p.safetensors",
        *FAST,
    )
    assert code == 0, err
    assert "task: classification, 3 classes (Adelie, Chinstrap, Gentoo)" in out
    assert "split: 275 training rows, 69 validation rows (stratified), seed 0" in out
    row = next(line for line in out.splitlines() if line.startswith("validation"))
    loss, accuracy, f1 = (float(v) for v in row.split()[1:])
    assert accuracy >= 0.95 and f1 >= 0.95
    assert "plot written to train.png" in out

    code, out, err = run(
        capsys, "predict", "p.safetensors", "penguins.csv", "--out", "pred.csv", "--proba"
    )
    assert code == 0, err
    assert out == "" and "344 predictions written to pred.csv" in err
    import pandas as pd

    pred = pd.read_csv("pred.csv")
    assert list(pred.columns[-4:]) == [
        "predicted_species",
        "P(Adelie)",
        "P(Chinstrap)",
        "P(Gentoo)",
    ]
    assert set(pred["predicted_species"]) == {"Adelie", "Chinstrap", "Gentoo"}
    assert (pred["predicted_species"] == pred["species"]).mean() >= 0.95

    code, out, err = run(capsys, "evaluate", "p.safetensors", "penguins.csv", "--plot", "cm.png")
    assert code == 0, err
    assert "344 rows, target 'species' (classification)" in out
    assert "true \\ predicted" in out and "Chinstrap" in out
    for png in ("train.png", "cm.png"):
        data = (in_tmp / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_regression_round_trip(capsys, in_tmp):
    code, out, err = run(
        capsys,
        "train",
        "penguins.csv",
        "--target",
        "body_mass_g",
        "--drop-missing",
        "--out",
        "mass.safetensors",
        "--plot",
        "r.png",
        *FAST,
    )
    assert code == 0, err
    assert "note: left out 2 rows whose target is missing\n" in out
    assert "note: dropped 9 of 344 rows with missing feature values\n" in out
    assert "RMSE" in out and "R²" in out
    code, out, err = run(
        capsys, "evaluate", "mass.safetensors", "penguins.csv", "--drop-missing", "--plot", "pt.png"
    )
    assert code == 0, err
    assert err == (
        "glassnet: note: left out 2 rows whose target is missing\n"
        "glassnet: note: left out 9 of 344 rows with missing feature values\n"
    )
    assert "RMSE" in out and (in_tmp / "pt.png").stat().st_size > 5000
    code, out, err = run(capsys, "predict", "mass.safetensors", "penguins.csv", "--drop-missing")
    assert code == 0
    first = out.splitlines()[1].split(",")
    assert 2500 < float(first[-1]) < 6500  # grams, not standardised


def test_decision_boundary_with_two_features(capsys, in_tmp):
    code, out, err = run(
        capsys,
        "train",
        "xor.csv",
        "--target",
        "y",
        "--plot",
        "xor.png",
        "--out",
        "xor.safetensors",
        "--learning-rate",
        "0.01",
        "-q",
    )
    assert code == 0, err
    assert (in_tmp / "xor.png").stat().st_size > 5000


def test_default_model_path_is_next_to_the_data(capsys, in_tmp):
    (in_tmp / "data").mkdir()
    shutil.copy(tabular.tables.table_path("gender.csv"), in_tmp / "data" / "people.csv")
    code, out, err = run(
        capsys,
        "train",
        "data/people.csv",
        "--target",
        "Gender",
        "--ignore",
        "Name",
        "--epochs",
        "5",
        "-q",
    )
    assert code == 0, err
    assert (in_tmp / "data" / "people.safetensors").is_file()


def test_unknown_category_at_predict(capsys, in_tmp, penguin_model):
    write("new.csv", f"{PENGUIN_COLUMNS}\nAtlantis,46.5,14.8,217,5200,female,2008\n")
    code, out, err = run(capsys, "predict", penguin_model, "new.csv")
    assert code == 0, err
    assert out.splitlines()[1].endswith(",Gentoo")
    assert (
        "note: column 'island': 1 row with a category the model never saw (first 'Atlantis')" in err
    )


def test_extra_columns_are_ignored(capsys, in_tmp, penguin_model):
    write("new.csv", f"id,{PENGUIN_COLUMNS},comment\n7,Dream,39,18,190,3600,female,2009,hi\n")
    code, out, err = run(capsys, "predict", penguin_model, "new.csv")
    assert code == 0, err
    assert out.splitlines()[0] == f"id,{PENGUIN_COLUMNS},comment,predicted_species"


def test_summary(capsys, penguin_model):
    code, out, err = run(capsys, "summary", penguin_model)
    assert code == 0, err
    for part in (
        "Dense(256, relu)",
        "Dense(3, softmax)",
        "total parameters: 3,587",
        "island: one-hot, 3 categories (Biscoe, Dream, Torgersen)",
        "sex: one-hot, 2 categories (female, male); unknown -> all zeros, missing ->",
        "training history:",
        "kept the weights of epoch",
    ):
        assert part in out, part


def test_datasets_and_demo_listing(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "penguins.csv" in out and "gender-new.csv" in out
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "gender" in out


def test_demo_options_are_checked_by_the_demo(capsys, tmp_path):
    """The CLI does not check a demo's options itself: the demo's own checks speak, their
    parameters spelled as flags, before any work is done."""
    code, _, err = run(capsys, "demo", "digits", "--epochs", "0", "--out-dir", str(tmp_path))
    assert (code, err) == (2, "glassnet: error: --epochs must be >= 1, got 0\n")
    missing = str(tmp_path / "missing")
    code, _, err = run(capsys, "demo", "digits", "--out-dir", missing)
    assert code == 2 and err.startswith("glassnet: error: ")
    assert err.endswith(f"{missing!r} is not a folder\n") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_saves_the_best_model_and_says_where(capsys, in_tmp, monkeypatch):
    monkeypatch.setattr(
        tabular, "train", functools.partial(tabular.train, callbacks=[Interrupt(at=4)])
    )
    code, out, err = run(
        capsys,
        "train",
        "penguins.csv",
        "--target",
        "species",
        "--impute",
        "mean",
        "--out",
        "m.safetensors",
        "-q",
    )
    assert code == 130
    assert "epochs: 4 (interrupted by Ctrl-C)" in out
    assert "best model so far written to m.safetensors" in out
    model = load("m.safetensors")
    assert model.preprocessing.training["stopped"] == "interrupted"


def test_ctrl_c_before_any_epoch(capsys, in_tmp, monkeypatch):
    class AtOnce(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            raise KeyboardInterrupt

    monkeypatch.setattr(tabular, "train", functools.partial(tabular.train, callbacks=[AtOnce()]))
    code, out, err = run(capsys, "train", "xor.csv", "--target", "y", "-q")
    assert code == 130
    assert err == "glassnet: interrupted before the first epoch finished: no model was written\n"
    assert list(in_tmp.iterdir()) == []


# --------------------------------------------------------------------------- bad input

TRAIN_OUT = ["--out", "m.safetensors", "--plot", "m.png", "-q"]


def test_missing_file(capsys, in_tmp):
    fails(
        capsys,
        in_tmp,
        ["train", "nope.csv", "--target", "y", *TRAIN_OUT],
        "file not found: 'nope.csv' (tables shipped with glassnet: gender.csv",
    )


def test_unreadable_files(capsys, in_tmp):
    (in_tmp / "folder.csv").mkdir()
    fails(
        capsys,
        in_tmp,
        ["train", "folder.csv", "--target", "y", *TRAIN_OUT],
        "'folder.csv' is a folder, not a CSV file",
    )
    (in_tmp / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    fails(
        capsys,
        in_tmp,
        ["train", "binary.csv", "--target", "y", *TRAIN_OUT],
        "'binary.csv' is not a UTF-8 text file",
    )


def test_empty_file(capsys, in_tmp):
    write("empty.csv", "")
    fails(
        capsys, in_tmp, ["train", "empty.csv", "--target", "y", *TRAIN_OUT], "'empty.csv' is empty"
    )
    write("header.csv", "x,y\n")
    fails(
        capsys,
        in_tmp,
        ["train", "header.csv", "--target", "y", *TRAIN_OUT],
        "'header.csv' has a header but no data rows",
    )


def test_target_column_absent_lists_columns(capsys, in_tmp):
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Sex", *TRAIN_OUT],
        "'gender.csv' has no column 'Sex' (given as --target); its columns are: 'Name', "
        "'Weight', 'Height', 'Gender'",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--ignore", "Nme", *TRAIN_OUT],
        "has no column 'Nme' (given in --ignore)",
    )


def test_target_with_a_single_class(capsys, in_tmp):
    write("one.csv", "Weight,Height,Gender\n133,65,F\n120,60,F\n140,66,F\n")
    fails(
        capsys,
        in_tmp,
        ["train", "one.csv", "--target", "Gender", *TRAIN_OUT],
        "the target column 'Gender' has a single class ('F'): a classifier needs at least two",
    )


def test_numeric_column_with_junk(capsys, in_tmp):
    write(
        "junk.csv",
        "Name,Weight,Height,Gender\nAlice,133,65,F\nBob,160,72,M\n"
        "Charlie,abc,70,M\nDiana,120,60,F\n",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "junk.csv", "--target", "Gender", "--ignore", "Name", *TRAIN_OUT],
        "column 'Weight' holds numbers, but row 3 has 'abc'",
    )


def test_junk_at_predict_time(capsys, in_tmp, penguin_model):
    write(
        "new.csv",
        f"{PENGUIN_COLUMNS}\nDream,39,18,190,3600,female,2009\nDream,39,18,big,3600,female,2009\n",
    )
    fails(
        capsys,
        in_tmp,
        ["predict", penguin_model, "new.csv", "--out", "p.csv"],
        "column 'flipper_length_mm' holds numbers, but row 2 has 'big'",
    )


def test_missing_values_are_never_silent(capsys, in_tmp):
    err = fails(
        capsys,
        in_tmp,
        ["train", "penguins.csv", "--target", "species", *TRAIN_OUT],
        "column 'bill_length_mm' has 2 missing values (first in row 4)",
    )
    assert "--impute mean|median|most_frequent, or --drop-missing" in err


def test_an_empty_column_is_named(capsys, in_tmp):
    write("trailing.csv", "x,y,\n1,a,\n2,b,\n3,a,\n")  # a trailing comma per line
    fails(
        capsys,
        in_tmp,
        ["train", "trailing.csv", "--target", "y", *TRAIN_OUT],
        "column 'Unnamed: 2' of 'trailing.csv' is empty: add it to --ignore",
    )


def test_missing_values_at_predict_without_fill(capsys, in_tmp):
    assert (
        main(
            [
                "train",
                "penguins.csv",
                "--target",
                "species",
                "--drop-missing",
                "--out",
                "d.safetensors",
                *FAST,
            ]
        )
        == 0
    )
    capsys.readouterr()
    err = fails(
        capsys,
        in_tmp,
        ["predict", "d.safetensors", "penguins.csv", "--out", "p.csv"],
        "column 'bill_length_mm' has 2 missing values (first in row 4)",
    )
    assert "use --drop-missing, or train with --impute" in err
    code, out, err = run(capsys, "predict", "d.safetensors", "penguins.csv", "--drop-missing")
    assert code == 0 and len(out.splitlines()) == 1 + 333


def test_prediction_file_missing_a_column(capsys, in_tmp, penguin_model):
    write("new.csv", "island,bill_length_mm,sex\nDream,39,female\n")
    fails(
        capsys,
        in_tmp,
        ["predict", penguin_model, "new.csv", "--out", "p.csv"],
        "'new.csv' has no column 'bill_depth_mm', which the model needs",
    )
    fails(
        capsys,
        in_tmp,
        ["evaluate", penguin_model, "new.csv", "--plot", "e.png"],
        "has no column 'bill_depth_mm'",
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda good: b"", "is not a glassnet model file (too short)"),
        (lambda good: good[: len(good) // 2], "truncated"),
        (lambda good: good[:9] + b"\x00" + good[10:], "is not a glassnet model file"),
        (lambda good: b"Name,Weight\nAlice,133\n", "is not a glassnet model file"),
    ],
)
def test_bad_model_files(capsys, in_tmp, penguin_model, make, message):
    (in_tmp / "bad.safetensors").write_bytes(make(penguin_model.read_bytes()))
    for argv in (
        ["predict", "bad.safetensors", "gender-new.csv", "--out", "p.csv"],
        ["evaluate", "bad.safetensors", "penguins.csv", "--plot", "e.png"],
        ["summary", "bad.safetensors"],
    ):
        fails(capsys, in_tmp, argv, message)
    fails(
        capsys,
        in_tmp,
        ["predict", "missing.safetensors", "gender-new.csv"],
        "model file not found: 'missing.safetensors'",
    )


def test_a_model_without_table_preprocessing(capsys, in_tmp):
    import numpy as np

    import glassnet as gn

    model = gn.Sequential([gn.Dense(1, activation="sigmoid")])
    model.fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]), loss="bce", epochs=1)
    model.save("plain.safetensors")
    fails(
        capsys,
        in_tmp,
        ["predict", "plain.safetensors", "xor.csv"],
        "the model file holds no table preprocessing (it was not made by `glassnet train`)",
    )
    code, out, _ = run(capsys, "summary", "plain.safetensors")
    assert code == 0 and "preprocessing: none stored" in out


def test_a_failed_run_removes_nothing_that_existed(capsys, in_tmp, penguin_model):
    write("p.csv", "keep me\n")
    write("m.safetensors", "an older model\n")
    write("new.csv", "island\nDream\n")
    fails(
        capsys,
        in_tmp,
        ["predict", penguin_model, "new.csv", "--out", "p.csv"],
        "has no column 'bill_length_mm'",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "penguins.csv", "--target", "species", "--out", "m.safetensors", "-q"],
        "missing values",
    )
    assert (in_tmp / "p.csv").read_text() == "keep me\n"


def test_outputs_are_checked_before_any_work(capsys, in_tmp, penguin_model):
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--out", "nowhere/m.safetensors", "-q"],
        "cannot write the model to 'nowhere/m.safetensors': the folder 'nowhere' does not exist",
    )
    write("mine.csv", "x,y\n1,a\n2,b\n")
    fails(
        capsys,
        in_tmp,
        ["train", "mine.csv", "--target", "y", "--out", "mine.csv"],
        "the model would overwrite the input file 'mine.csv'",
    )
    fails(
        capsys,
        in_tmp,
        ["predict", penguin_model, "mine.csv", "--out", "mine.csv"],
        "the predictions would overwrite the input file 'mine.csv'",
    )
    fails(
        capsys,
        in_tmp,
        ["evaluate", penguin_model, "penguins.csv", "--plot", "no/e.png"],
        "cannot write the plot to 'no/e.png'",
    )


def test_option_errors(capsys, in_tmp, penguin_model):
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--hidden", "64,x", *TRAIN_OUT],
        "hidden must be sizes separated by commas",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--hidden", "64,0", *TRAIN_OUT],
        "--hidden must be >= 1, got 0",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--activation", "swish", *TRAIN_OUT],
        "unknown activation 'swish'",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--task", "regression", *TRAIN_OUT],
        "regression needs numbers",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Name", *TRAIN_OUT],
        "the target column 'Name' has a different value in every row",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--learning-rate", "-1", *TRAIN_OUT],
        "--learning-rate must be > 0.0, got -1.0",
    )
    assert (
        main(
            [
                "train",
                "penguins.csv",
                "--target",
                "body_mass_g",
                "--drop-missing",
                "--out",
                "r.safetensors",
                "--epochs",
                "2",
                "-q",
            ]
        )
        == 0
    )
    capsys.readouterr()
    fails(
        capsys,
        in_tmp,
        ["predict", "r.safetensors", "penguins.csv", "--proba", "--drop-missing"],
        "--proba needs a classification model",
    )
    write("e.csv", f"{PENGUIN_COLUMNS},species\nDream,39,18,190,3600,female,2009,Emperor\n")
    fails(
        capsys,
        in_tmp,
        ["evaluate", penguin_model, "e.csv"],
        "the target column 'species' has the label 'Emperor' in row 1, which the model "
        "never saw (it knows: Adelie, Chinstrap, Gentoo)",
    )


def test_argparse_misuse_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "gender.csv"])  # --target is required
    assert info.value.code == 2
    assert "--target" in capsys.readouterr().err


# --------------------------------------------------------------------------- other commands


def test_image_prediction_hook(capsys, in_tmp, penguin_model, monkeypatch):
    calls = []

    def predict_image(model, path):
        calls.append(path)
        return 7, 0.93

    monkeypatch.setattr("glassnet.datasets.images.predict_image", predict_image)
    (in_tmp / "digit.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    code, out, err = run(capsys, "predict", penguin_model, "digit.png")
    assert code == 0, err
    assert out == "digit: 7 (probability 0.930)\n" and calls == ["digit.png"]
    fails(capsys, in_tmp, ["predict", penguin_model, "other.jpg"], "image not found")
    fails(
        capsys,
        in_tmp,
        ["predict", penguin_model, "digit.png", "--proba"],
        "apply to CSV files, not images",
    )


def test_export_without_onnx_says_how_to_install(capsys, in_tmp, penguin_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "glassnet.io.onnx", None)  # import fails
    fails(
        capsys,
        in_tmp,
        ["export", penguin_model, "--onnx", "m.onnx"],
        "ONNX export needs the onnx extra: pip install glassnet[onnx]",
    )


def test_export_onnx(capsys, in_tmp, penguin_model):
    pytest.importorskip("onnx")
    pytest.importorskip("glassnet.io.onnx")
    fails(capsys, in_tmp, ["export", penguin_model, "--onnx", "m.onnx"], "--network-only")
    code, out, err = run(capsys, "export", penguin_model, "--onnx", "m.onnx", "--network-only")
    assert code == 0, err
    assert out.startswith("ONNX graph written to m.onnx") and (in_tmp / "m.onnx").is_file()
    assert [p.name for p in in_tmp.iterdir()] == ["m.onnx"]


# --------------------------------------------------------------------------- the console script


def console_script() -> str:
    here = Path(sys.executable).parent / ("glassnet.exe" if os.name == "nt" else "glassnet")
    found = str(here) if here.is_file() else shutil.which("glassnet")
    assert found, "the glassnet console script is not installed: pip install -e ."
    return found


def script(*argv, cwd):
    return subprocess.run(
        [console_script(), *map(str, argv)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_console_script_round_trip(in_tmp):
    done = script(
        "train",
        "gender.csv",
        "--target",
        "Gender",
        "--ignore",
        "Name",
        "-q",
        "--out",
        "g.safetensors",
        cwd=in_tmp,
    )
    assert done.returncode == 0, done.stderr
    assert "model written to g.safetensors" in done.stdout
    done = script("predict", "g.safetensors", "gender-new.csv", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Name,Weight,Height,predicted_Gender",
        "Emily,128,63,F",
        "Frank,155,68,M",
    ]


def test_console_script_bad_input(in_tmp):
    write(in_tmp / "junk.csv", "a,b\n1,x\n2,3\n3,4\n")
    before = snapshot(in_tmp)
    done = script("train", "junk.csv", "--target", "a", "--plot", "p.png", cwd=in_tmp)
    assert done.returncode == 2
    assert (
        done.stderr == "glassnet: error: column 'b' holds numbers, but row 1 has 'x': fix "
        "that value, or leave the cell empty to mark it missing\n"
    )
    assert done.stdout == "" and snapshot(in_tmp) == before


# --------------------------------------------------------------------------- errors


def test_library_errors_are_shown_in_flag_terms(capsys, in_tmp):
    fails(
        capsys,
        in_tmp,
        [
            "train",
            "xor.csv",
            "--target",
            "y",
            "--task",
            "regression",
            "--validation-split",
            "0.1",
            *TRAIN_OUT,
        ],
        "--validation-split 0.1 leaves 4 training and 0 validation rows out of 4",
    )
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--patience", "-1", *TRAIN_OUT],
        "--patience must be >= 0, got -1",
    )


def test_a_bug_is_not_swallowed_into_a_one_liner(capsys, in_tmp, monkeypatch):
    from glassnet import tabular
    from glassnet.errors import InputTypeError, Param

    def broken(*args, **kwargs):
        return None + 1  # a TypeError from inside the code, not an input check

    monkeypatch.setattr(tabular, "train", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        main(["train", "gender.csv", "--target", "Gender", *TRAIN_OUT])

    import numpy as np

    def broadcasts(*args, **kwargs):
        return np.ones(2) + np.ones(3)  # NumPy's own ValueError: a bug, not the user's input

    monkeypatch.setattr(tabular, "train", broadcasts)
    with pytest.raises(ValueError, match="could not be broadcast"):
        main(["train", "gender.csv", "--target", "Gender", *TRAIN_OUT])

    def refuses(*args, **kwargs):
        raise InputTypeError("{p} must be a number, got 'x'", p=Param("learning_rate"))

    monkeypatch.setattr(tabular, "train", refuses)
    fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", *TRAIN_OUT],
        "--learning-rate must be a number, got 'x'",
    )


def test_no_library_message_names_a_flag():
    """Every string inside a ``raise`` outside the cli package is free of the CLI's flags."""
    import ast
    from pathlib import Path

    import glassnet
    from glassnet.cli import FLAGS

    package = Path(glassnet.__file__).parent
    for path in package.rglob("*.py"):
        if path.parent.name == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                texts = [
                    c.value
                    for c in ast.walk(node.exc)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
                named = [flag for flag in FLAGS.values() for text in texts if flag in text]
                assert not named, f"{path.name}:{node.lineno} names {named}"


def test_divergence_names_the_learning_rate_flag_once(capsys, in_tmp):
    err = fails(
        capsys,
        in_tmp,
        ["train", "gender.csv", "--target", "Gender", "--ignore", "Name", "--optimizer", "sgd",
         "--learning-rate", "1e6", *TRAIN_OUT],
        # the rate given, cosine-decayed: 999013 at the step that diverged
        "; try a smaller --learning-rate (now 999013). The model keeps the weights",
    )  # fmt: skip
    assert err.startswith("glassnet: error: training diverged: ")
    assert err.count("learning") == 1


# -- missing targets, many categories, --id, the labels' spelling -------------------------------


def test_impute_fills_features_and_rows_whose_target_is_missing_are_left_out(capsys, in_tmp):
    code, out, err = run(
        capsys, "train", "penguins.csv", "--target", "sex", "--impute", "mean", *TRAIN_OUT
    )
    assert code == 0, err
    assert out.startswith("data: 'penguins.csv', 333 rows; 7 feature columns -> 11 inputs\n")
    assert "note: left out 11 rows whose target is missing\n" in out
    code, out, err = run(capsys, "evaluate", "m.safetensors", "penguins.csv", "--target", "sex")
    assert code == 0, err
    assert err == "glassnet: note: left out 11 rows whose target is missing\n"
    assert out.startswith("evaluated on 'penguins.csv': 333 rows, target 'sex'")


def test_a_note_suggests_ignoring_a_column_of_names(capsys, in_tmp):
    rows = [f"name{i % 257},{i % 7},{'ab'[i % 2]}" for i in range(325)]
    write("names.csv", "name,x,y\n" + "\n".join(rows) + "\n")
    code, out, err = run(capsys, "train", "names.csv", "--target", "y", *TRAIN_OUT)
    assert code == 0, err
    assert (
        "note: column 'name' has 220 distinct values in 260 training rows: one-hot encoding "
        "makes an input of each, which a network learns by heart; if it names or identifies "
        "rows, leave it out with --ignore name\n"
    ) in out
    code, out, err = run(capsys, "train", "gender.csv", "--target", "Gender", *TRAIN_OUT)
    assert (
        "note: column 'Name' has a different value in every row: if it is an identifier, "
        "leave it out with --ignore Name\n"
    ) in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "more than 20 values, which are more than 50% of the training rows" in " ".join(
        capsys.readouterr().out.split()
    )


def test_predict_with_an_id_column_writes_it_first(capsys, in_tmp, penguin_model):
    write("new.csv", f"tag,{PENGUIN_COLUMNS}\nA1,Dream,39,18,190,3600,female,2009\n")
    code, out, err = run(capsys, "predict", penguin_model, "new.csv", "--id", "tag", "--proba")
    assert code == 0, err
    header, row = out.splitlines()
    assert header == "tag,predicted_species,P(Adelie),P(Chinstrap),P(Gentoo)"
    assert row.startswith("A1,")
    code, out, err = run(
        capsys, "predict", penguin_model, "new.csv", "--id", "island", "--out", "p.csv"
    )
    assert code == 0 and (in_tmp / "p.csv").read_text().splitlines()[0] == (
        "island,predicted_species"
    )
    fails(
        capsys,
        in_tmp,
        ["predict", penguin_model, "new.csv", "--id", "Tag"],
        "'new.csv' has no column 'Tag' (given as --id); its columns are: 'tag', 'island', ",
    )


@pytest.mark.parametrize("spellings", [("01", "02"), ("1.0", "2.0"), ('" Yes"', " No")])
def test_predictions_spell_labels_as_the_csv_does(capsys, in_tmp, spellings):
    rows = "\n".join(f"{x},{x % 3},{spellings[x > 9]}" for x in range(20))
    write("t.csv", "x,z,label\n" + rows + "\n")
    code, out, err = run(capsys, "train", "t.csv", "--target", "label", "--epochs", "3", "-q")
    assert code == 0, err
    labels = {spellings[0].strip('"'), spellings[1].lstrip()}  # unquoted spaces: padding
    assert f"classes ({', '.join(sorted(labels))})" in out
    code, out, err = run(capsys, "predict", "t.safetensors", "t.csv")
    assert code == 0, err
    assert {line.rsplit(",", 1)[1] for line in out.splitlines()[1:]} <= labels
