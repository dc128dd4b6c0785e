"""The table pipeline as a library: shipped tables, CSV reading, task detection, the split,
preprocessing on the training rows only, metrics by hand, Ctrl-C, predict and evaluate.

The command line over it is tested in test_cli.py.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import Interrupt
from glassnet import Callback, TrainingDivergedError, load, tabular
from glassnet.datasets import tabular as tables
from glassnet.tabular.preprocessing import TablePreprocessor

FAST = {"epochs": 40, "patience": 5}


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- shipped tables


def test_shipped_tables_by_name():
    frame = tables.load_table("gender.csv")
    assert list(frame.columns) == ["Name", "Weight", "Height", "Gender"]
    assert frame["Weight"].tolist() == [133.0, 160.0, 152.0, 120.0]
    assert frame["Gender"].tolist() == ["F", "M", "M", "F"]
    assert tables.load_table("xor").shape == (4, 3)  # the .csv is optional
    penguins = tables.load_table("penguins.csv")
    assert penguins.shape == (344, 8)
    assert penguins["bill_length_mm"].isna().sum() == 2 and penguins["sex"].isna().sum() == 11
    assert penguins["species"].value_counts().to_dict() == {
        "Adelie": 152,
        "Gentoo": 124,
        "Chinstrap": 68,
    }


def test_shipped_tables_have_attribution():
    folder = tables.table_path("penguins.csv").parent
    text = (folder / "TABLES-ATTRIBUTION.md").read_text(encoding="utf-8")
    for name in tables.TABLES:
        assert name.split("-")[0].split(".")[0] in text
    assert "CC0" in text and "Gorman" in text


def test_a_local_file_wins_over_a_shipped_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "xor.csv", "a,b\n1,2\n")
    assert tables.resolve("xor.csv") == tmp_path.joinpath("xor.csv").relative_to(tmp_path)
    assert list(tables.read_csv("xor.csv").columns) == ["a", "b"]


def test_unknown_name_lists_the_shipped_tables():
    with pytest.raises(
        ValueError,
        match=r"file not found: 'nope.csv' \(tables shipped with "
        r"glassnet: gender.csv, gender-new.csv",
    ):
        tables.read_csv("nope.csv")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "is empty"),
        ("a,b\n", "has a header but no data rows"),
        ("a;b;c\n1;2;3\n", "looks separated by semicolons"),
        (b"\xff\xfe\x00garbage", "is not a UTF-8 text file"),
        ('a,b\n1,"2\n', "is not a readable CSV file"),
    ],
)
def test_unreadable_csv(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError, match=message):
        tables.read_csv(path)


def test_column_kinds_and_junk():
    frame = pd.DataFrame(
        {"n": ["1", "2.5", None], "s": ["a", "b", "1"], "j": ["1", "x", "3"]}, dtype=str
    )
    assert tables.column_kinds(frame[["n", "s"]]) == {"n": "numeric", "s": "categorical"}
    with pytest.raises(ValueError, match=r"column 'j' holds numbers, but row 2 has 'x'"):
        tables.column_kinds(frame)
    with pytest.raises(ValueError, match=r"column 's' holds numbers, but row 1 has 'a'"):
        tables.typed(frame[["s"]], {"s": "numeric"})


def test_infinity_counts_as_junk():
    frame = pd.DataFrame({"x": ["1", "inf", "2"]}, dtype=str)
    with pytest.raises(ValueError, match="row 2 has 'inf'"):
        tables.column_kinds(frame)


# --------------------------------------------------------------------------- metrics by hand


def test_macro_f1_by_hand():
    # true \ predicted: class 0: 3 right, 1 as class 1; class 1: 2 right; class 2: 1 as 0
    matrix = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 0]])
    # class 0: P = 3/4, R = 3/4 -> F1 0.75; class 1: P = 2/3, R = 1 -> F1 0.8;
    # class 2: never predicted, present once -> F1 0
    assert tabular.macro_f1(matrix) == pytest.approx((0.75 + 0.8 + 0.0) / 3)


def test_regression_metrics_by_hand():
    m = tabular.regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    # residuals 0, 0, -2: RMSE sqrt(4/3), MAE 2/3, R² 1 - 4/2 = -1
    assert m["rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["r2"] == pytest.approx(-1.0)
    assert np.isnan(tabular.regression_metrics([2.0, 2.0], [1.0, 3.0])["r2"])


def test_confusion_text():
    text = tabular.format_confusion(np.array([[2, 0], [1, 3]]), ["F", "M"])
    assert text.splitlines() == [
        "true \\ predicted     F     M",
        "F                    2     0",
        "M                    1     3",
    ]


# --------------------------------------------------------------------------- train


def test_gender_story(tmp_path):
    """Seed 002 from a CSV: four people train; Emily comes back F, Frank M."""
    result = tabular.train("gender.csv", "Gender", ignore=["Name"], out=tmp_path / "g.st")
    assert result.n_validation == 0
    assert any("no validation split was made" in note for note in result.notes)
    assert result.metrics["training"]["accuracy"] == 1.0
    frame, notes = tabular.predict(tmp_path / "g.st", "gender-new.csv", proba=True)
    assert frame["Name"].tolist() == ["Emily", "Frank"]
    assert frame["predicted_Gender"].tolist() == ["F", "M"]
    np.testing.assert_allclose(frame["P(F)"] + frame["P(M)"], 1.0, atol=2e-6)
    assert notes == []


def test_penguins_classification_with_imputation():
    result = tabular.train("penguins.csv", "species", impute="mean", out=False, **FAST)
    assert result.n_train + result.n_validation == 344
    assert result.metrics["validation"]["accuracy"] >= 0.95
    assert result.metrics["validation"]["macro_f1"] >= 0.95
    assert result.preprocessor.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert result.model.layers[-1].activation.name == "softmax"
    assert result.model.loss_.name == "cross_entropy"


def test_split_is_stratified_and_preprocessing_learned_on_training_rows_only():
    result = tabular.train("penguins.csv", "species", drop_missing=True, out=False, epochs=1)
    frame = tables.load_table("penguins.csv")
    train, val = frame.loc[result.train_rows], frame.loc[result.validation_rows]
    assert set(result.train_rows).isdisjoint(result.validation_rows)
    assert len(val) == round(0.2 * 333) or abs(len(val) - 0.2 * 333) <= 2
    # every species keeps its share in the validation rows (stratified)
    share = val["species"].value_counts(normalize=True)
    overall = frame.dropna()["species"].value_counts(normalize=True)
    assert (share - overall).abs().max() < 0.02
    pre = result.model.preprocessing.to_dict()
    column = pre["inputs"].index("body_mass_g")
    # robust scaling: the training rows' median and interquartile range, not the table's
    q25, q75 = np.quantile(train["body_mass_g"], [0.25, 0.75])
    assert pre["robust_scale"]["center"][column] == pytest.approx(train["body_mass_g"].median())
    assert pre["robust_scale"]["scale"][column] == pytest.approx(q75 - q25)
    whole = np.quantile(frame["body_mass_g"].dropna(), [0.25, 0.75])
    assert pre["robust_scale"]["scale"][column] != pytest.approx(whole[1] - whole[0])
    assert pre["training"]["validation_rows"] == len(val)


def test_regression_reports_original_units(tmp_path):
    result = tabular.train(
        "penguins.csv", "body_mass_g", drop_missing=True, out=False, epochs=60, patience=10
    )
    assert result.preprocessor.task == "regression"
    assert result.model.loss_.name == "mse"
    assert result.model.layers[-1].activation.name == "identity"
    val = result.metrics["validation"]
    assert val["r2"] > 0.75 and 150 < val["rmse"] < 450 and val["mae"] < val["rmse"]
    mean = result.model.preprocessing.to_dict()["target_standardize"]["mean"][0]
    assert 4000 < mean < 4400  # the target's scale is stored, in grams


@pytest.mark.parametrize(
    "values, task",
    [
        (["a", "b", "a", "b"], "classification"),
        (["True", "False", "True", "False"], "classification"),
        (["1", "2", "3", "1"], "classification"),  # few whole numbers
        ([str(v) for v in range(12)], "regression"),  # many whole numbers
        (["0.5", "1.5", "0.5", "2.25"], "regression"),
    ],
)
def test_task_detection(values, task):
    assert (
        tabular.detect_task(
            tables.typed(
                pd.DataFrame({"y": values}, dtype=str),
                tables.column_kinds(pd.DataFrame({"y": values}, dtype=str)),
            )["y"]
        )
        == task
    )


@pytest.mark.parametrize(
    "spellings",
    [["0.0", "1.0"], ["01", "02"], ["1", "2"], ['" Yes"', "No"], ["1e0", "2e0"]],
)
def test_class_labels_keep_the_csv_spelling(tmp_path, spellings):
    """A class comes back from predict spelled as the CSV spells it: "1.0" is not "1", "01"
    not "1", a quoted " Yes" keeps its space (an unquoted one is separator padding)."""
    rows = "\n".join(f"{x},{spellings[x > 4]}" for x in range(10))
    path = write(tmp_path / "t.csv", "x,label\n" + rows + "\n")
    result = tabular.train(path, "label", out=False, epochs=5, validation_split=0)
    labels = [label.strip('"') for label in spellings]
    assert result.preprocessor.classes == labels
    frame, _ = tabular.predict(result.model, path)
    assert set(frame["predicted_label"]) <= set(labels)
    out = tabular.write_csv(frame, tmp_path / "p.csv").read_text(encoding="utf-8")
    assert {line.rsplit(",", 1)[1] for line in out.splitlines()[1:]} <= set(labels)


def test_numbers_spelled_two_ways_are_one_class_spelled_the_first_way(tmp_path):
    rows = "\n".join(f"{x},{['1.0', '1', '01', '2'][x % 4]}" for x in range(12))
    path = write(tmp_path / "t.csv", "x,label\n" + rows + "\n")
    result = tabular.train(path, "label", out=False, epochs=2)
    assert result.preprocessor.classes == ["1.0", "2"]
    # a table measured later may spell a class another way: it is the same number
    other = write(tmp_path / "o.csv", "x,label\n0,1\n3,2.0\n5,1e0\n")
    assert tabular.evaluate(result.model, other).n_rows == 3
    from glassnet.tabular.columns import class_labels, spelled_as

    assert class_labels(["b", "a", "b"]).tolist() == ["b", "a", "b"]  # text: as it is
    assert spelled_as(["1", "x"], ["1.0", "2"]).tolist() == ["1.0", "x"]
    assert spelled_as(["1"], ["1.0", "two"]).tolist() == ["1"]  # not all numbers: as it is


def test_task_override_and_its_checks(tmp_path):
    result = tabular.train("xor.csv", "y", task="regression", out=False, epochs=2)
    assert result.preprocessor.task == "regression"
    with pytest.raises(ValueError, match="holds text .* regression needs numbers"):
        tabular.train("gender.csv", "Gender", task="regression", out=False)


def test_ctrl_c_keeps_and_saves_the_best_model(tmp_path):
    out = tmp_path / "m.safetensors"
    result = tabular.train(
        "penguins.csv", "species", impute="mean", out=out, epochs=100, callbacks=[Interrupt(at=6)]
    )
    assert result.interrupted and result.epochs_run == 6
    assert 1 <= result.best_epoch <= 6
    val_loss = result.model.history.val_loss
    assert result.best_epoch == int(np.argmin(val_loss)) + 1
    saved = load(out)
    pre = saved.preprocessing
    assert isinstance(pre, TablePreprocessor) and pre.training["stopped"] == "interrupted"
    # the saved weights are the best epoch's: its validation loss is the best one recorded
    frame = tables.typed(
        tables.read_csv("penguins.csv").loc[result.validation_rows],
        {name: kind for name, kind in pre.columns},
    )
    X = pre.transform(frame)
    y = pre.transform_target(frame["species"].to_numpy())
    assert saved.evaluate(X, y)["loss"] == pytest.approx(min(val_loss), rel=1e-4)
    assert "best model so far written to" in tabular.format_train_report(result)


def test_ctrl_c_before_the_first_epoch_writes_nothing(tmp_path):
    class AtOnce(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            raise KeyboardInterrupt

    out = tmp_path / "m.safetensors"
    with pytest.raises(tabular.Interrupted, match="no model was written"):
        tabular.train("xor.csv", "y", out=out, callbacks=[AtOnce()], epochs=3)
    assert list(tmp_path.iterdir()) == []


def test_divergence_is_a_one_line_error(tmp_path):
    with pytest.raises(
        TrainingDivergedError,
        # the rate given, cosine-decayed over the 5 epochs' steps: 984292 when it diverged
        match=r"^training diverged: .*; try a smaller learning_rate \(now 984292\)\. The model",
    ):
        tabular.train(
            "penguins.csv",
            "body_mass_g",
            drop_missing=True,
            out=False,
            optimizer="sgd",
            learning_rate=1e6,
            epochs=5,
        )


def test_option_checks():
    with pytest.raises(ValueError, match="hidden must be sizes separated by commas"):
        tabular.parse_hidden("64,x")
    assert tabular.parse_hidden("none") == () and tabular.parse_hidden(" 8, 4") == (8, 4)
    with pytest.raises(ValueError, match="^hidden must be >= 1, got 0$"):
        tabular.train("xor.csv", "y", hidden=(0,), out=False)
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        tabular.train("xor.csv", "y", epochs=0, out=False)
    with pytest.raises(ValueError, match="choose one of impute and drop_missing"):
        tabular.train("xor.csv", "y", impute="mean", drop_missing=True, out=False)
    with pytest.raises(ValueError, match="validation_split must be < 1"):
        tabular.train("xor.csv", "y", validation_split=1.0, out=False)
    with pytest.raises(
        ValueError, match="validation_split=0.1 leaves 4 training and 0 validation rows"
    ):
        tabular.train("xor.csv", "y", task="regression", validation_split=0.1, out=False)
    small = tabular.train("xor.csv", "y", validation_split=0.1, out=False, epochs=1)
    assert small.n_validation == 2  # stratified: one row of each class


def test_no_hidden_layer_is_logistic_regression():
    result = tabular.train("penguins.csv", "species", impute="mean", hidden=(), out=False, **FAST)
    assert len(result.model.layers) == 1


def test_model_file_keeps_json_safe_preprocessing(tmp_path):
    out = tmp_path / "p.safetensors"
    tabular.train("penguins.csv", "species", impute="median", out=out, **FAST)
    stored = load(out).preprocessing.to_dict()
    json.dumps(stored, allow_nan=False)
    assert stored["labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert [c["name"] for c in stored["columns"]] == [
        "island",
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "sex",
        "year",
    ]
    assert stored["columns"][0]["categories"] == ["Biscoe", "Dream", "Torgersen"]
    assert stored["impute"] == "median"


# --------------------------------------------------------------------------- predict, evaluate


@pytest.fixture(scope="module")
def penguin_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "penguins.safetensors"
    tabular.train("penguins.csv", "species", impute="mean", out=out, **FAST)
    return out


def test_predict_handles_unknown_categories(tmp_path, penguin_model):
    write(
        tmp_path / "new.csv",
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year,tag\n"
        "Atlantis,39.1,18.7,181,3750,male,2007,a\n"
        "Biscoe,46.5,14.8,217,5200,unknown,2008,b\n",
    )
    frame, notes = tabular.predict(penguin_model, tmp_path / "new.csv")
    assert frame["predicted_species"].tolist() == ["Adelie", "Gentoo"]
    assert frame["tag"].tolist() == ["a", "b"]  # extra columns pass through
    assert any(
        "'island': 1 row with a category the model never saw (first 'Atlantis')" in n for n in notes
    )
    assert any("'sex'" in n for n in notes)


def test_predict_missing_column_is_named(tmp_path, penguin_model):
    write(tmp_path / "new.csv", "island,bill_length_mm\nDream,40\n")
    with pytest.raises(ValueError, match="has no column 'bill_depth_mm', which the model needs"):
        tabular.predict(penguin_model, tmp_path / "new.csv")


def test_predict_fills_with_training_values(tmp_path, penguin_model):
    frame, _ = tabular.predict(penguin_model, "penguins.csv")
    assert len(frame) == 344  # NA rows are filled, kept
    assert (frame["predicted_species"] == frame["species"]).mean() > 0.95


def test_evaluate(penguin_model, tmp_path):
    result = tabular.evaluate(penguin_model, "penguins.csv", plot=tmp_path / "cm.png")
    assert result.n_rows == 344 and result.metrics["accuracy"] > 0.95
    assert result.confusion.sum() == 344
    assert result.confusion.sum(axis=1).tolist() == [152, 68, 124]
    assert (tmp_path / "cm.png").stat().st_size > 1000
    text = tabular.format_evaluation(result)
    assert "macro F1" in text and "Chinstrap" in text


def test_evaluate_unknown_label(tmp_path, penguin_model):
    write(
        tmp_path / "e.csv",
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year,species\n"
        "Dream,39.1,18.7,181,3750,male,2007,Emperor\n",
    )
    with pytest.raises(ValueError, match="label 'Emperor' in row 1, which the model never saw"):
        tabular.evaluate(penguin_model, tmp_path / "e.csv")


def test_describe(penguin_model):
    text = tabular.describe(load(penguin_model))
    for part in (
        "Dense(256, relu)",
        "total parameters: 3,587",
        "island: one-hot, 3 categories",
        "bill_length_mm: numeric, median",
        "labels Adelie, Chinstrap, Gentoo",
        "training history:",
        "val_loss",
    ):
        assert part in text


def test_training_report_png(tmp_path):
    result = tabular.train(
        "gender.csv", "Gender", ignore=["Name"], out=False, epochs=20, plot=tmp_path / "g.png"
    )
    assert result.plot_path == tmp_path / "g.png"
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = tabular.train(
        "penguins.csv", "body_mass_g", drop_missing=True, out=False, plot=tmp_path / "r.png", **FAST
    )
    assert (tmp_path / "r.png").stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir()] in (["g.png", "r.png"], ["r.png", "g.png"])


def test_same_seed_same_run_other_seed_other_split():
    runs = [
        tabular.train("penguins.csv", "species", impute="mean", out=False, epochs=3, seed=seed)
        for seed in (1, 1, 2)
    ]
    assert runs[0].model.history.history == runs[1].model.history.history
    assert list(runs[0].validation_rows) == list(runs[1].validation_rows)
    assert list(runs[0].validation_rows) != list(runs[2].validation_rows)


# --------------------------------------------------------------------------- reports and errors


def test_early_stopping_report_counts_patience_epochs():
    result = tabular.train("penguins.csv", "species", impute="mean", out=False, patience=3)
    assert result.stopped == "early stopping"
    assert result.epochs_run == result.best_epoch + 3  # 3 epochs without a better val loss
    report = tabular.format_train_report(result)
    assert "early stopping: no better validation loss in 3 epochs" in report


def test_short_runs_report_seconds_that_are_not_zero():
    assert tabular.format_seconds(0.04) == "0.04 s"
    assert tabular.format_seconds(0.0123) == "0.012 s"
    assert tabular.format_seconds(3.4) == "3.4 s"
    assert tabular.format_seconds(125) == "2 min 5 s"
    result = tabular.train("xor.csv", "y", out=False, epochs=2)
    first = tabular.format_train_report(result).splitlines()[0]
    assert first.endswith(tabular.format_seconds(result.seconds))
    assert not first.endswith(" 0.0 s")


def test_library_messages_name_python_parameters(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"use impute='mean', 'median' or 'most_frequent', or drop_missing=True$",
    ):
        tabular.train("penguins.csv", "species", out=False)
    with pytest.raises(ValueError, match=r"regression needs numbers; use task='classification'$"):
        tabular.train("gender.csv", "Gender", task="regression", out=False)
    with pytest.raises(ValueError, match=r"has no column 'Nme' \(given in ignore\)"):
        tabular.train("gender.csv", "Gender", ignore=["Nme"], out=False)
    with pytest.raises(TypeError, match="drop_missing must be True or False, got 1"):
        tabular.train("gender.csv", "Gender", drop_missing=1, out=False)
    with pytest.raises(ValueError, match=r"impute must be one of mean, median, most_frequent"):
        tabular.train("gender.csv", "Gender", impute="max", out=False)


# --------------------------------------------------------------------------- duplicate names


def test_duplicate_column_names_are_an_error_naming_them(tmp_path):
    path = write(tmp_path / "d.csv", "x1,x1,y\n1,2,0\n3,4,1\n")
    with pytest.raises(
        ValueError,
        match=rf"^'{path}' has duplicate column names: 'x1' \(columns 1 and 2\); "
        "give every column its own name$",
    ):
        tables.read_csv(path)
    many = write(tmp_path / "m.csv", 'a, b,a,,,b,a,"NA",NA\n1,2,3,4,5,6,7,8,9\n')
    with pytest.raises(
        ValueError,
        match=r"'a' \(columns 1, 3 and 7\); 'b' \(columns 2 and 6\); 'NA' \(columns 8 and 9\); ",
    ):
        tables.load_table(many)
    with pytest.raises(ValueError, match="duplicate column names: 'x1'"):
        tabular.train(path, target="y", out=False, **FAST)


def test_a_column_really_named_like_a_renamed_duplicate_is_kept(tmp_path):
    path = write(tmp_path / "d.csv", "x1,x1.1,y\n1,2,0\n")
    assert list(tables.read_csv(path).columns) == ["x1", "x1.1", "y"]


def test_an_undefined_r2_prints_n_a_with_its_reason(tmp_path):
    """A constant target has no variance: R² is n/a, and the report says why."""
    table = tmp_path / "const.csv"
    rows = "\n".join(f"{i % 5},{(i * 7) % 3},3" for i in range(40))
    table.write_text("x1,x2,y\n" + rows + "\n")
    result = tabular.train(table, "y", task="regression", out=False, epochs=3)
    report = tabular.format_train_report(result)
    assert "R²: n/a (every true value is 3: there is no variance for R² to explain)" in report
    model = tabular.train(table, "y", task="regression", out=tmp_path / "m.safetensors", epochs=3)
    evaluation = tabular.format_evaluation(tabular.evaluate(model.model_path, table, target="y"))
    assert "R²        n/a (every true value is 3: there is no variance" in evaluation


# --------------------------------------------------------------------------- a DataFrame


def penguins_frame():
    """penguins.csv with the dtypes a pandas user has: floats with NaN, Int64 with NA,
    a category, a string column, an object column with None, booleans."""
    frame = pd.read_csv(tables.table_path("penguins.csv"))
    frame["year"] = frame["year"].astype("Int64")
    frame.loc[[5, 17], "year"] = pd.NA
    frame["island"] = frame["island"].astype("category")
    frame["sex"] = frame["sex"].astype(object).where(frame["sex"].notna(), None)
    frame["species"] = frame["species"].astype("string")
    frame["heavy"] = frame["body_mass_g"] > 4000
    return frame


def weights(model):
    return [(name, value) for layer in model.layers for name, value in layer.params.items()]


def test_a_dataframe_and_the_csv_written_from_it_give_the_same_model(tmp_path):
    frame = penguins_frame()
    assert frame.dtypes.astype(str).tolist() == [
        "string", "category", "float64", "float64", "float64", "float64", "object", "Int64",
        "bool",
    ]  # fmt: skip
    frame.to_csv(tmp_path / "p.csv", index=False)
    options = {"impute": "mean", "epochs": 8, "seed": 3, "out": False}
    from_frame = tabular.train(frame, "species", **options)
    from_csv = tabular.train(tmp_path / "p.csv", "species", **options)
    for (name, a), (_, b) in zip(weights(from_frame.model), weights(from_csv.model), strict=True):
        assert a.tobytes() == b.tobytes(), name  # bit for bit
    stored_frame = from_frame.preprocessor.to_dict()
    stored_csv = from_csv.preprocessor.to_dict()
    assert stored_frame.pop("training")["data"] == "the DataFrame"
    assert stored_csv.pop("training")["data"] == str(tmp_path / "p.csv")
    assert stored_frame == stored_csv
    assert "heavy=True" in stored_frame["inputs"]  # booleans: a category, as in a CSV
    year = stored_frame["columns"][-2]  # Int64 with NA: numbers, filled with their mean
    assert year["kind"] == "numeric" and 2008 < year["fill"] < 2009
    assert from_frame.metrics == from_csv.metrics


def test_a_dataframe_writes_no_model_file_unless_given_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = penguins_frame()
    lines = []
    result = tabular.train(frame, "species", impute="mean", epochs=2, log=lines.append)
    assert result.model_path is None and list(tmp_path.iterdir()) == []
    assert lines[0] == "data: the DataFrame, 344 rows; 8 feature columns -> 12 inputs"
    result = tabular.train(frame, "species", impute="mean", epochs=2, out="m.safetensors")
    assert result.model_path == Path("m.safetensors") and (tmp_path / "m.safetensors").exists()
    assert load("m.safetensors").preprocessing.training["data"] == "the DataFrame"


def test_predict_and_evaluate_a_dataframe(tmp_path):
    frame = penguins_frame()
    model = tabular.train(frame, "species", impute="mean", out=False, **FAST).model
    new = frame.drop(columns="species").iloc[[10, 200, 300]].set_axis(["a", "b", "c"])
    out, notes = tabular.predict(model, new, proba=True)
    assert list(out.index) == ["a", "b", "c"] and notes == []  # the frame's own index
    assert out["year"].dtype == "Int64" and out["island"].dtype == "category"  # as given
    assert out["predicted_species"].tolist() == frame["species"].iloc[[10, 200, 300]].tolist()
    assert list(out.columns[-4:]) == ["predicted_species", "P(Adelie)", "P(Chinstrap)", "P(Gentoo)"]
    ids, _ = tabular.predict(model, new.assign(tag=["x", "y", "z"]), id="tag")
    assert list(ids.columns) == ["tag", "predicted_species"] and ids["tag"].tolist() == list("xyz")
    numbered = new.assign(tag=["x", "y", "z"]).rename(columns={"tag": 7})  # a name not text
    ids, _ = tabular.predict(model, numbered, id="7")
    assert list(ids.columns) == [7, "predicted_species"] and ids[7].tolist() == list("xyz")
    frame.loc[[0, 1, 2], "species"] = pd.NA
    result = tabular.evaluate(model, frame)
    assert result.n_rows == 341 and result.data == "the DataFrame"
    assert result.notes == ["left out 3 rows whose target is missing"]
    assert tabular.format_evaluation(result).startswith("evaluated on the DataFrame: 341 rows")


def test_rows_whose_target_is_missing_are_left_out_and_counted(tmp_path):
    frame = penguins_frame()
    frame.loc[[3, 50, 60], "species"] = None
    lines = []
    result = tabular.train(frame, "species", impute="mean", out=False, epochs=2, log=lines.append)
    assert "note: left out 3 rows whose target is missing" in lines
    assert result.n_train + result.n_validation == 341
    assert 3 not in result.train_rows and 3 not in result.validation_rows
    dropped = tabular.train(frame, "species", drop_missing=True, out=False, epochs=2)
    gaps = frame[frame["species"].notna()].isna().any(axis=1).sum()
    assert gaps == 12
    assert dropped.notes == [
        "left out 3 rows whose target is missing",
        "dropped 12 of 344 rows with missing feature values",
    ]
    frame["species"] = None
    with pytest.raises(ValueError, match="^the target column 'species' of the DataFrame is empty"):
        tabular.train(frame, "species", out=False)


def test_a_dataframe_is_the_table_of_text_its_csv_file_is(tmp_path):
    frame = penguins_frame()
    frame.to_csv(tmp_path / "p.csv", index=False)
    text = tables.frame_as_text(frame)
    assert text.equals(tables.read_csv(tmp_path / "p.csv").astype(object))
    assert pd.isna(text.loc[5, "year"]) and text.loc[0, "year"] == "2007"  # Int64 with NA
    assert text.loc[0, "heavy"] == "False" and text.loc[0, "bill_length_mm"] == "39.1"
    odd = pd.DataFrame({"a": [" Yes", "NA", "", None], "b": [0.1, 1e16, 2.5, None]})
    odd["c"] = np.array([0.1, 0.2, 0.3, np.nan], dtype=np.float32)
    text = tables.frame_as_text(odd).fillna("<missing>")
    assert text.to_dict("list") == {  # a string stays as it is; float32 in its own digits
        "a": [" Yes", "NA", "", "<missing>"],
        "b": ["0.1", "1e+16", "2.5", "<missing>"],
        "c": ["0.1", "0.2", "0.3", "<missing>"],
    }


def test_bad_data_is_one_line_naming_the_parameter():
    with pytest.raises(
        TypeError, match="^data must be a pandas DataFrame or the path of a CSV file, got list$"
    ):
        tabular.train([[1, 2]], "y", out=False)
    with pytest.raises(TypeError, match="^data must be a pandas DataFrame .* got Series$"):
        tabular.predict(load_penguins_model(), penguins_frame()["island"])
    frame = penguins_frame()
    with pytest.raises(
        ValueError,
        match=r"^the DataFrame has no column 'Species' \(given as target\); its columns are: "
        r"'species', 'island', ",
    ):
        tabular.train(frame, "Species", out=False)
    with pytest.raises(TypeError, match=r"^target must be a column name \(a string\), got 0$"):
        tabular.train(frame, 0, out=False)
    with pytest.raises(
        ValueError,
        match=r"^data is empty \(0 rows, 9 columns\): there is nothing to learn from$",
    ):
        tabular.train(frame.iloc[:0], "species", out=False)
    with pytest.raises(ValueError, match=r"^data is empty \(344 rows, 0 columns\)"):
        tabular.evaluate(load_penguins_model(), frame[[]])
    twice = pd.concat([frame[["island", "year"]], frame[["year", "species"]]], axis=1)
    with pytest.raises(
        ValueError,
        match=r"^data \(a DataFrame\) has duplicate column names: 'year' \(columns 2 and 3\); ",
    ):
        tabular.train(twice, "species", out=False)
    levels = frame.set_axis(pd.MultiIndex.from_product([["a"], frame.columns]), axis=1)
    with pytest.raises(ValueError, match=r"^data has columns in levels \(a MultiIndex\)"):
        tabular.train(levels, "species", out=False)
    with pytest.raises(ValueError, match=r"^the DataFrame has no column 'tag' \(given as id\)"):
        tabular.predict(load_penguins_model(), frame, id="tag")


@functools.cache
def load_penguins_model():
    return tabular.train("penguins.csv", "species", impute="mean", out=False, epochs=2).model


def test_one_name_to_ignore_may_be_given_alone():
    result = tabular.train("gender.csv", "Gender", ignore="Name", out=False, epochs=2)
    assert [name for name, _ in result.preprocessor.columns] == ["Weight", "Height"]


def test_a_run_on_a_dataframe_resumes_when_given_it_again(tmp_path):
    frame = penguins_frame()
    options = {"impute": "mean", "epochs": 6, "out": False, "seed": 1}
    whole = tabular.train(frame, "species", **options)
    tabular.train(frame, "species", **{**options, "epochs": 6}, checkpoint=tmp_path / "c",
                  callbacks=[Interrupt(at=3)])  # fmt: skip
    with pytest.raises(ValueError, match=r"was trained on a DataFrame: pass it again as data$"):
        tabular.pipeline.resume(tmp_path / "c")
    resumed = tabular.pipeline.resume(tmp_path / "c", frame)
    for (name, a), (_, b) in zip(weights(whole.model), weights(resumed.model), strict=True):
        assert a.tobytes() == b.tobytes(), name


# --------------------------------------------------------------------------- many categories


def names_table(path, n_rows, n_names):
    rows = [f"name{i % n_names},{i % 7},{'ab'[i % 2]}" for i in range(n_rows)]
    return write(path, "name,x,y\n" + "\n".join(rows) + "\n")


def test_a_text_column_with_many_values_gets_a_note(tmp_path):
    path = names_table(tmp_path / "t.csv", 325, 257)
    result = tabular.train(path, "y", out=False, epochs=1)
    assert result.notes == [
        "column 'name' has 220 distinct values in 260 training rows: one-hot encoding makes an "
        "input of each, which a network learns by heart; if it names or identifies rows, leave "
        "it out with ignore='name'"
    ]
    # the threshold: more than 20 values, more than half of the training rows
    every_row = {"out": False, "epochs": 1, "validation_split": 0}
    for n_rows, n_names, noted in (
        (40, 21, True),
        (40, 20, False),
        (60, 31, True),
        (60, 30, False),
    ):
        table = names_table(tmp_path / f"{n_rows}-{n_names}.csv", n_rows, n_names)
        assert bool(tabular.train(table, "y", **every_row).notes) is noted, (n_rows, n_names)
