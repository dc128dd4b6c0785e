"""Input errors that know their parameters, spelled for Python or for the command line."""

from __future__ import annotations

import pytest

from glassnet._validation import check_bool, check_int, check_real
from glassnet.cli import error_message, flag_spelling
from glassnet.errors import InputError, InputTypeError, InputValueError, Param


def test_param_python_spelling():
    assert Param("impute").python() == "impute"
    assert Param("drop_missing", True).python() == "drop_missing=True"
    assert Param("task", "classification").python() == "task='classification'"
    assert Param("impute", choices=("mean", "median")).python() == "impute='mean' or 'median'"
    assert Param("impute", choices=("mean",)).python() == "impute='mean'"


def test_flag_spelling_comes_from_the_one_table():
    assert flag_spelling(Param("impute", choices=("mean", "median"))) == "--impute mean|median"
    assert flag_spelling(Param("drop_missing", True)) == "--drop-missing"
    assert flag_spelling(Param("learning_rate")) == "--learning-rate"
    assert flag_spelling(Param("validation_split", 0.5)) == "--validation-split 0.5"
    assert flag_spelling(Param("preprocessing", False)) == "--network-only"
    assert flag_spelling(Param("n_train")) == "n_train"  # no flag sets it: the Python name


def test_one_error_two_spellings():
    error = InputValueError(
        "column {name!r} is {what}: use {impute}, or {drop}",
        name="a{b}",  # a value with braces is substituted, never parsed
        what="empty",
        impute=Param("impute", choices=("mean", "median")),
        drop=Param("drop_missing", True),
    )
    assert isinstance(error, ValueError) and error.parameters == ["impute", "drop_missing"]
    assert (
        str(error) == "column 'a{b}' is empty: use impute='mean' or 'median', or drop_missing=True"
    )
    assert (
        error_message(error)
        == "column 'a{b}' is empty: use --impute mean|median, or --drop-missing"
    )
    assert error_message(ValueError("first line\nsecond")) == "first line"


def test_checks_raise_input_errors_with_unchanged_messages():
    with pytest.raises(InputValueError, match=r"^learning_rate must be > 0.0, got -0.1$") as info:
        check_real("learning_rate", -0.1, minimum=0.0, include_min=False)
    assert error_message(info.value) == "--learning-rate must be > 0.0, got -0.1"
    with pytest.raises(InputValueError, match=r"^epochs must be >= 1, got 0$"):
        check_int("epochs", 0, minimum=1)
    with pytest.raises(InputTypeError, match=r"^shuffle must be True or False, got 1$"):
        check_bool("shuffle", 1)
    assert check_bool("shuffle", True) is True
    assert issubclass(InputTypeError, TypeError) and issubclass(InputTypeError, InputError)


def test_shared_checks_of_sizes_and_folders_name_the_parameter(tmp_path):
    from glassnet._validation import check_folder, check_hidden_sizes

    assert check_hidden_sizes("hidden", [64, 32]) == (64, 32)
    assert check_hidden_sizes("hidden_layer_sizes", 100) == (100,)
    assert check_hidden_sizes("hidden", ()) == ()
    with pytest.raises(InputValueError, match=r"^hidden must be >= 1, got 0$") as caught:
        check_hidden_sizes("hidden", (8, 0))
    assert error_message(caught.value) == "--hidden must be >= 1, got 0"
    with pytest.raises(InputTypeError, match=r"^hidden must be an integer, got 2.5$"):
        check_hidden_sizes("hidden", [8, 2.5])
    with pytest.raises(
        InputTypeError,
        match=r"^hidden_layer_sizes must be an integer or a sequence of integers, got '10'$",
    ):
        check_hidden_sizes("hidden_layer_sizes", "10")
    with pytest.raises(InputTypeError, match=r"^hidden must be an integer, got True$"):
        check_hidden_sizes("hidden", [True])

    assert check_folder("out_dir", str(tmp_path)) == tmp_path
    missing = tmp_path / "missing"
    with pytest.raises(InputValueError, match=r"^out_dir '.*missing' is not a folder$") as caught:
        check_folder("out_dir", missing)
    assert error_message(caught.value) == f"--out-dir {str(missing)!r} is not a folder"
    with pytest.raises(InputTypeError, match=r"^out_dir must be a path to a folder, got 3$"):
        check_folder("out_dir", 3)
