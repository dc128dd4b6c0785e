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
    RobustScaler,
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


# --------------------------------------------------------------------------- RobustScaler


def test_robust_scaler_by_hand():
    # column 0: [0, 1, 2, 3, 100]: median 2, q25 1, q75 3 -> scale 2 (the 100 moves neither)
    # column 1: [5, 5, 5, 5, 9]: q25 = q75 = 5 -> half the range, (9 - 5) / 2 = 2
    # column 2: constant 7 -> scale 1, so it becomes 0 rather than NaN
    X = np.array([[0.0, 5, 7], [1, 5, 7], [2, 5, 7], [3, 5, 7], [100, 9, 7]])
    s = RobustScaler().fit(X)
    np.testing.assert_array_equal(s.center_, [2.0, 5.0, 7.0])
    np.testing.assert_array_equal(s.scale_, [2.0, 2.0, 1.0])
    Z = s.transform(np.array([[2.0, 7.0, 7.0], [4.0, 5.0, 8.0], [100.0, 3.0, 7.0]]))
    # u = (x - center) / scale, then u / sqrt(1 + (u / 3)^2):
    #   u = 1  -> 1 / sqrt(1 + 1/9) = 3 / sqrt(10);   u = -1 -> -3 / sqrt(10)
    #   u = 49 -> 49 / sqrt(1 + 49^2 / 9) = 147 / sqrt(9 + 2401) = 147 / sqrt(2410)
    s1 = 3 / np.sqrt(10)
    np.testing.assert_allclose(
        Z, [[0.0, s1, 0.0], [s1, 0.0, s1], [147 / np.sqrt(2410), -s1, 0.0]], rtol=1e-15
    )


def test_smooth_clip_stays_inside_the_clip_and_never_overflows():
    s = RobustScaler(clip=2.0).fit(np.array([[0.0], [1.0], [2.0], [3.0]]))  # center 1.5, IQR 1.5
    with np.errstate(all="raise"):  # no overflow, no invalid value on the way
        Z = s.transform(np.array([[1e300], [-1e300], [np.inf], [1.5 + 1.5 * 1e3]]))[:, 0]
    # |u| past 1e6 clips is computed as u = 1e6 clips: 2 * 1e6 / sqrt(1 + 1e12) = 2 (1 - 5e-13)
    np.testing.assert_allclose(Z[:3], [2.0, -2.0, 2.0], rtol=1e-12)
    assert (np.abs(Z[:3]) < 2.0).all()
    # u = 1000: v = 500, 2 * 500 / sqrt(1 + 500^2)
    assert Z[3] == pytest.approx(1000 / np.sqrt(1 + 250000), rel=1e-15)


def test_robust_scaler_dict_round_trip_and_checks():
    s = RobustScaler().fit(np.array([[1.0, 0.0], [2.0, 1.0], [4.0, 1.0], [8.0, 0.0]]))
    s.clip_[1] = np.inf  # a one-hot column: not clipped, stored as null
    d = json.loads(json.dumps(s.to_dict()))
    assert d["clip"] == [3.0, None]
    t = RobustScaler.from_dict(d)
    X = np.array([[3.0, 1.0], [50.0, 0.0]])
    np.testing.assert_array_equal(t.transform(X), s.transform(X))
    # the unclipped column is u itself: median 0.5, q25 0, q75 1 -> (1 - 0.5) / 1
    assert t.transform(X)[0, 1] == 0.5
    with pytest.raises(ValueError, match="three equally long lists, scales > 0"):
        RobustScaler.from_dict({"center": [0.0], "scale": [0.0], "clip": [3.0]})
    with pytest.raises(ValueError, match="three equally long lists"):
        RobustScaler.from_dict({"center": [0.0], "scale": [1.0], "clip": [3.0, 3.0]})
    with pytest.raises(ValueError, match=r"clip values must be > 0 \(or null: none\)"):
        RobustScaler.from_dict({"center": [0.0], "scale": [1.0], "clip": [-1.0]})
    with pytest.raises(ValueError, match="clip must be a number > 0, got 0"):
        RobustScaler(clip=0)


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
    pre = TablePreprocessor(COLUMNS, "species", "classification", scaling="standard")
    pre.fit(train, ["A", "B", "A"])
    assert pre.input_names == ["Weight", "island=Biscoe", "island=Dream"]
    X = pre.transform(table([[200.0, "Dream"], [300.0, "Atlantis"]]))
    # Weight: mean 200, std sqrt(20000/3); one-hot columns keep mean 0, scale 1
    np.testing.assert_allclose(X, [[0.0, 0.0, 1.0], [100 / np.sqrt(20000 / 3), 0.0, 0.0]])
    assert pre.unknown_ == {"island": (1, "Atlantis")}
    np.testing.assert_array_equal(pre.transform_target(["B", "A"]), [1, 0])


def test_table_preprocessor_robust_scales_numbers_and_leaves_one_hot_unclipped():
    train = table([[100.0, "Biscoe"], [200.0, "Dream"], [300.0, "Biscoe"], [1000.0, "Dream"]])
    pre = TablePreprocessor(COLUMNS, "species", "classification").fit(train, list("ABAB"))
    assert pre.scaling == "robust"
    # Weight: median 250, q25 175, q75 475 -> scale 300; one-hot: center 0, scale 1, no clip
    d = pre.to_dict()
    assert d["format_version"] == 2 and "standardize" not in d
    assert d["robust_scale"] == {
        "center": [250.0, 0.0, 0.0],
        "scale": [300.0, 1.0, 1.0],
        "clip": [3.0, None, None],
    }
    X = pre.transform(table([[550.0, "Dream"], [250.0, "Biscoe"]]))
    # 550: u = 1 -> 3 / sqrt(10); the 0/1 columns pass as they are
    np.testing.assert_allclose(X, [[3 / np.sqrt(10), 0.0, 1.0], [0.0, 1.0, 0.0]], rtol=1e-15)
    again = TablePreprocessor.from_dict(json.loads(json.dumps(d)))
    frame = table([[5e37, "Dream"], [-3.0, "Atlantis"]])
    np.testing.assert_array_equal(again.transform(frame), pre.transform(frame))
    assert abs(pre.transform(frame)[0, 0]) < 3.0  # an outlier reaches the network below 3


def test_a_format_1_preprocessing_still_loads_as_standardised():
    train = table([[100.0, "Biscoe"], [200.0, "Dream"], [300.0, "Biscoe"]])
    pre = TablePreprocessor(COLUMNS, "y", "regression", scaling="standard").fit(train, [1, 2, 3])
    d = json.loads(json.dumps(pre.to_dict()))
    assert "robust_scale" not in d
    d["format_version"] = 1  # what a model file of glassnet before robust scaling holds
    old = TablePreprocessor.from_dict(d)
    assert old.scaling == "standard"
    np.testing.assert_array_equal(old.transform(train), pre.transform(train))
    assert old.describe()[0].endswith("inputs are standardised as (x - mean) / scale):")
    with pytest.raises(ValueError, match="scaling must be one of robust, standard, got 'minmax'"):
        TablePreprocessor(COLUMNS, "y", "regression", scaling="minmax")


def test_imputing_learns_a_fill_for_every_column_not_only_those_with_gaps():
    # the training rows have no gap in island; a validation row (or one to predict) may
    train = table([[100.0, "Dream"], [np.nan, "Biscoe"], [300.0, "Dream"]])
    pre = TablePreprocessor(COLUMNS, "y", "regression", impute="most_frequent")
    pre.fit(train, [1.0, 2.0, 3.0])
    assert pre.fills_ == {"Weight": 100.0, "island": "Dream"}
    np.testing.assert_array_equal(pre.transform(table([[100.0, None]]))[:, 1:], [[0.0, 1.0]])


def test_table_preprocessor_fills_from_training_rows_only():
    train = table([[100.0, "Dream"], [np.nan, None], [300.0, "Dream"], [400.0, "Biscoe"]])
    pre = TablePreprocessor(COLUMNS, "y", "regression", impute="median", scaling="standard")
    pre.fit(train, [1.0, 2.0, 3.0, 4.0])
    assert pre.fills_ == {"Weight": 300.0, "island": "Dream"}
    X = pre.transform(table([[np.nan, None]]))
    expected = (300.0 - pre.scaler_.mean_[0]) / pre.scaler_.scale_[0]
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
