"""Preprocessing: each estimator's arithmetic by hand, unknown categories, original labels,
imputation, and the table preprocessor's round trip through JSON (what the model file keeps).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from glassnet.tabular.preprocessing import (
    Imputer,
    LabelEncoder,
    MissingValueError,
    OneHotEncoder,
    Standardizer,
    TablePreprocessor,
    UnknownLabelError,
)

# --------------------------------------------------------------------------- Standardizer


def test_standardizer_by_hand():
    # column 0: mean (1+3+5)/3 = 3, population std sqrt((4+0+4)/3) = sqrt(8/3)
    # column 1: constant 7 -> scale 1, so it becomes 0 rather than NaN
    X = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
    s = Standardizer().fit(X)
    np.testing.assert_allclose(s.mean_, [3.0, 7.0])
    np.testing.assert_allclose(s.scale_, [np.sqrt(8 / 3), 1.0])
    Z = s.transform(X)
    np.testing.assert_allclose(Z[:, 0], np.array([-2.0, 0.0, 2.0]) / np.sqrt(8 / 3))
    np.testing.assert_array_equal(Z[:, 1], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(s.inverse_transform(Z), X)


def test_standardizer_dict_round_trip_and_checks():
    s = Standardizer().fit(np.array([[1.0], [2.0], [4.0]]))
    d = json.loads(json.dumps(s.to_dict()))
    t = Standardizer.from_dict(d)
    np.testing.assert_array_equal(t.transform([[3.0]]), s.transform([[3.0]]))
    with pytest.raises(ValueError, match="scales > 0"):
        Standardizer.from_dict({"mean": [0.0], "scale": [0.0]})
    with pytest.raises(ValueError, match="non-empty 2-D"):
        Standardizer().fit(np.zeros((0, 2)))


# --------------------------------------------------------------------------- OneHotEncoder


def test_one_hot_sorted_categories_and_unknown_as_zeros():
    e = OneHotEncoder().fit(["Dream", "Biscoe", "Dream", "Torgersen"])
    assert e.categories_ == ["Biscoe", "Dream", "Torgersen"]
    out = e.transform(["Torgersen", "Atlantis", "Biscoe", "Atlantis"])
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 0, 0], [1, 0, 0], [0, 0, 0]])
    assert e.n_unknown_ == 2 and e.first_unknown_ == "Atlantis"
    assert e.feature_names("island") == ["island=Biscoe", "island=Dream", "island=Torgersen"]


def test_one_hot_refuses_missing_values():
    with pytest.raises(ValueError, match="must not be missing"):
        OneHotEncoder().fit(["a", None])


# --------------------------------------------------------------------------- LabelEncoder


def test_label_encoder_keeps_original_strings():
    e = LabelEncoder().fit(["M", "F", "F", "M"])
    assert e.classes_ == ["F", "M"]
    codes = e.transform(["F", "M", "M"])
    np.testing.assert_array_equal(codes, [0, 1, 1])
    assert list(e.inverse_transform(codes)) == ["F", "M", "M"]


def test_label_encoder_sorts_numbers_numerically():
    e = LabelEncoder().fit(["10", "2", "1"])
    assert e.classes_ == ["1", "2", "10"]  # not "1" < "10" < "2"


def test_label_encoder_names_an_unknown_label():
    e = LabelEncoder().fit(["F", "M"])
    with pytest.raises(UnknownLabelError, match="unknown label 'X'; known labels: F, M") as info:
        e.transform(["F", "X"])
    assert info.value.position == 1


# --------------------------------------------------------------------------- Imputer


@pytest.mark.parametrize(
    "strategy, expected", [("mean", 14 / 4), ("median", 2.5), ("most_frequent", 1.0)]
)
def test_imputer_numeric(strategy, expected):
    values = [1.0, np.nan, 1.0, 8.0, None, 4.0]  # present: 1, 1, 4, 8
    assert Imputer(strategy).fit(values, numeric=True).fill_ == pytest.approx(expected)


def test_imputer_text_uses_most_frequent_and_breaks_ties_by_value():
    assert Imputer("mean").fit(["b", "a", None, "b"], numeric=False).fill_ == "b"
    assert Imputer("most_frequent").fit(["b", "a"], numeric=False).fill_ == "a"


def test_imputer_checks():
    with pytest.raises(ValueError, match="strategy must be one of mean, median, most_frequent"):
        Imputer("zero")
    with pytest.raises(ValueError, match="every value is missing"):
        Imputer("mean").fit([np.nan, None], numeric=True)


# --------------------------------------------------------------------------- TablePreprocessor


def table(rows):
    """A typed frame: Weight numeric, island text."""
    frame = pd.DataFrame(rows, columns=["Weight", "island"])
    frame["Weight"] = frame["Weight"].astype("float64")
    return frame


COLUMNS = [("Weight", "numeric"), ("island", "categorical")]


def test_table_preprocessor_encodes_and_standardises_numbers_only():
    train = table([[100.0, "Biscoe"], [200.0, "Dream"], [300.0, "Biscoe"]])
    pre = TablePreprocessor(COLUMNS, "species", "classification").fit(train, ["A", "B", "A"])
    assert pre.input_names == ["Weight", "island=Biscoe", "island=Dream"]
    X = pre.transform(table([[200.0, "Dream"], [300.0, "Atlantis"]]))
    # Weight: mean 200, std sqrt(20000/3); one-hot columns keep mean 0, scale 1
    np.testing.assert_allclose(X, [[0.0, 0.0, 1.0], [100 / np.sqrt(20000 / 3), 0.0, 0.0]])
    assert pre.unknown_ == {"island": (1, "Atlantis")}
    np.testing.assert_array_equal(pre.transform_target(["B", "A"]), [1, 0])


def test_table_preprocessor_fills_from_training_rows_only():
    train = table([[100.0, "Dream"], [np.nan, None], [300.0, "Dream"], [400.0, "Biscoe"]])
    pre = TablePreprocessor(COLUMNS, "y", "regression", impute="median")
    pre.fit(train, [1.0, 2.0, 3.0, 4.0])
    assert pre.fills_ == {"Weight": 300.0, "island": "Dream"}
    X = pre.transform(table([[np.nan, None]]))
    expected = (300.0 - pre.standardizer_.mean_[0]) / pre.standardizer_.scale_[0]
    np.testing.assert_allclose(X, [[expected, 0.0, 1.0]])


def test_table_preprocessor_missing_value_without_fill_names_column_and_row():
    train = table([[100.0, "Dream"], [200.0, "Biscoe"]])
    pre = TablePreprocessor(COLUMNS, "y", "regression").fit(train, [1.0, 2.0])
    with pytest.raises(
        MissingValueError,
        match=r"column 'island' has 1 missing value "
        r"\(first in row 2\)",
    ):
        pre.transform(table([[1.0, "Dream"], [2.0, None]]))


def test_regression_target_round_trip():
    train = table([[1.0, "a"], [2.0, "b"], [3.0, "a"]])
    pre = TablePreprocessor(COLUMNS, "y", "regression").fit(train, [10.0, 20.0, 30.0])
    z = pre.transform_target([10.0, 30.0])
    np.testing.assert_allclose(z, [-np.sqrt(1.5), np.sqrt(1.5)])  # (y - 20) / sqrt(200/3)
    np.testing.assert_allclose(pre.inverse_target(z), [10.0, 30.0])


def test_binary_probabilities_and_labels():
    train = table([[1.0, "a"], [2.0, "b"]])
    pre = TablePreprocessor(COLUMNS, "g", "classification").fit(train, ["M", "F"])
    out = np.array([[0.2], [0.9]])  # P(classes[1]) = P("M")
    assert list(pre.inverse_target(out)) == ["F", "M"]
    np.testing.assert_allclose(pre.probabilities(out), [[0.8, 0.2], [0.1, 0.9]])


def test_single_class_is_refused():
    with pytest.raises(ValueError, match=r"single class \('F'\)"):
        TablePreprocessor(COLUMNS, "g", "classification").fit(table([[1.0, "a"]] * 2), ["F", "F"])


def test_to_dict_is_json_and_from_dict_reproduces_transform():
    train = table([[100.0, "Biscoe"], [np.nan, "Dream"], [300.0, None]])
    pre = TablePreprocessor(COLUMNS, "species", "classification", impute="mean")
    pre.fit(train, ["A", "B", "C"])
    d = pre.to_dict()
    text = json.dumps(d, allow_nan=False)  # lists of floats and strings, no NaN
    again = TablePreprocessor.from_dict(json.loads(text))
    new = table([[150.0, "Dream"], [np.nan, "Atlantis"], [250.0, None]])
    np.testing.assert_array_equal(again.transform(new), pre.transform(new))
    assert again.classes == ["A", "B", "C"]
    assert d["inputs"] == ["Weight", "island=Biscoe", "island=Dream"]
    assert d["columns"][0] == {"name": "Weight", "kind": "numeric", "fill": 200.0}


def test_from_dict_rejects_what_it_cannot_read():
    with pytest.raises(ValueError, match="no table preprocessing"):
        TablePreprocessor.from_dict(None)
    with pytest.raises(ValueError, match="format version 99"):
        TablePreprocessor.from_dict({"kind": "table", "format_version": 99})
    with pytest.raises(ValueError, match="preprocessing is invalid"):
        TablePreprocessor.from_dict({"kind": "table", "format_version": 1, "columns": 3})


def test_constructor_checks():
    with pytest.raises(ValueError, match="task must be"):
        TablePreprocessor(COLUMNS, "y", "clustering")
    with pytest.raises(ValueError, match="impute must be one of"):
        TablePreprocessor(COLUMNS, "y", "regression", impute="zero")
    with pytest.raises(ValueError, match="no feature columns"):
        TablePreprocessor([], "y", "regression")


def test_a_constant_column_is_not_scaled_by_rounding_noise():
    from glassnet.tabular.preprocessing import Standardizer

    for value in (0.1, 2.675, 1e6 + 0.1):
        X = np.full((7, 1), value)
        s = Standardizer().fit(X)
        assert s.scale_[0] == 1.0
        assert np.allclose(s.transform(X), 0.0, atol=1e-9)
        assert np.isfinite(s.transform(np.array([[value + 0.1]]))).all()


# --------------------------------------------------------------------------- typed, one dispatch


def test_typed_preprocessing_round_trips_through_the_one_dispatch(tmp_path):
    import glassnet as gn
    from glassnet.datasets.images import ImagePreprocessing
    from glassnet.io.preprocessing import preprocessing_from_dict

    frame = pd.DataFrame({"w": [1.0, 3.0, np.nan], "c": ["a", "b", "a"]})
    table = TablePreprocessor(
        [("w", "numeric"), ("c", "categorical")], "y", "regression", impute="mean"
    )
    table.fit(frame, np.array([1.0, 2.0, 4.0]))
    table.training = {"seed": 3}
    again = preprocessing_from_dict(json.loads(json.dumps(table.to_dict())))
    assert isinstance(again, TablePreprocessor) and again.to_dict() == table.to_dict()
    np.testing.assert_array_equal(again.transform(frame), table.transform(frame))
    assert again.training == {"seed": 3}

    image = ImagePreprocessing(shape=(1, 28, 28), scale=255, classes=("zero", "one"))
    assert image.to_dict() == {
        "kind": "image",
        "shape": [1, 28, 28],
        "scale": 255,
        "classes": ["zero", "one"],
    }
    assert preprocessing_from_dict(image.to_dict()) == image
    assert image.describe()[0] == "preprocessing: images of shape 1x28x28, pixels divided by 255"

    model = gn.Sequential([gn.Dense(2, activation="softmax")]).build((784,), rng=0)
    model.preprocessing = image
    model.save(tmp_path / "m.safetensors")
    assert gn.load(tmp_path / "m.safetensors").preprocessing == image
    assert preprocessing_from_dict(None) is None


def test_unknown_kind_and_bad_descriptions_are_clear_errors(tmp_path, monkeypatch):
    import glassnet as gn
    from glassnet.datasets.images import ImagePreprocessing
    from glassnet.io.model_file import ModelFileError
    from glassnet.io.preprocessing import preprocessing_from_dict

    with pytest.raises(
        ValueError,
        match=r"unknown preprocessing kind 'audio'; this glassnet "
        r"knows: image, table",
    ):
        preprocessing_from_dict({"kind": "audio"})
    with pytest.raises(ValueError, match="unknown preprocessing kind None"):
        preprocessing_from_dict({"columns": ["a"]})
    with pytest.raises(ValueError, match="must be a dict, got list"):
        preprocessing_from_dict([1])
    with pytest.raises(ValueError, match=r"shape must be a list of sizes >= 1, got \(0,\)"):
        ImagePreprocessing.from_dict({"kind": "image", "shape": [0]})
    with pytest.raises(ValueError, match=r"unknown entries \['colour'\]"):
        ImagePreprocessing.from_dict({"kind": "image", "shape": [4], "colour": "x"})

    model = gn.Sequential([gn.Dense(1)]).build((2,), rng=0)
    model.preprocessing = {"kind": "image", "shape": [2]}  # a dict, not the typed object
    with pytest.raises(
        TypeError,
        match="model.preprocessing must be None or a glassnet preprocessing object .*got dict",
    ):
        model.save(tmp_path / "bad.safetensors")
    # a file (checksums intact) whose stored description names an unknown kind
    model.preprocessing = ImagePreprocessing(shape=(2,))
    with monkeypatch.context() as patch:
        patch.setattr(
            "glassnet.io.model_file.preprocessing_to_dict",
            lambda _: {"kind": "audio", "shape": [2]},
        )
        model.save(tmp_path / "audio.safetensors")
    with pytest.raises(ModelFileError, match="unknown preprocessing kind 'audio'"):
        gn.load(tmp_path / "audio.safetensors")
