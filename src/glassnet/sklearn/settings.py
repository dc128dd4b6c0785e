"""The estimators' hyper-parameters, checked in ``fit`` as scikit-learn does.

:func:`check_settings` reads every hyper-parameter of an estimator and returns them as a
:class:`Settings`, the form the training code uses. A bad value raises scikit-learn's
``InvalidParameterError`` (a ``ValueError`` and a ``TypeError``) with glassnet's one-line
message naming the parameter and the value: ``learning_rate must be > 0, got -0.1``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from glassnet._validation import (
    check_bool,
    check_float_dtype,
    check_hidden_sizes,
    check_int,
    check_real,
)
from glassnet.errors import InputTypeError, InputValueError
from glassnet.nn.activations import get_activation
from glassnet.training.optimizers import OPTIMIZERS

# scikit-learn's name for the sigmoid, accepted so that MLP settings carry over unchanged
_ACTIVATION_ALIASES = {"logistic": "sigmoid"}


@dataclass(frozen=True)
class Settings:
    """The hyper-parameters after checking, in the form the training code uses."""

    hidden_layer_sizes: tuple[int, ...]
    activations: tuple[str, ...]
    dropouts: tuple[float, ...]
    optimizer: str
    learning_rate: float
    batch_size: int | str | None
    epochs: int
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    alpha: float
    dtype: np.dtype
    verbose: int
    seed: int | np.random.Generator | None


def check_settings(estimator) -> Settings:
    """Every hyper-parameter of ``estimator``, checked.

    Raises scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and a ``TypeError``)
    with glassnet's one-line message naming the parameter and the value.
    """
    try:
        sizes = check_hidden_sizes("hidden_layer_sizes", estimator.hidden_layer_sizes)
        n_hidden = len(sizes)
        return Settings(
            hidden_layer_sizes=sizes,
            activations=_per_layer("activation", estimator.activation, n_hidden, _check_activation),
            dropouts=_per_layer("dropout", estimator.dropout, n_hidden, _check_dropout),
            optimizer=_check_optimizer(estimator.optimizer),
            learning_rate=check_real(
                "learning_rate", estimator.learning_rate, minimum=0, include_min=False
            ),
            batch_size=_check_batch_size(estimator.batch_size),
            epochs=check_int("epochs", estimator.epochs, minimum=1),
            early_stopping=check_bool("early_stopping", estimator.early_stopping),
            validation_fraction=check_real(
                "validation_fraction",
                estimator.validation_fraction,
                minimum=0,
                maximum=1,
                include_min=False,
                include_max=False,
            ),
            n_iter_no_change=check_int("n_iter_no_change", estimator.n_iter_no_change, minimum=1),
            alpha=check_real("alpha", estimator.alpha, minimum=0),
            dtype=check_float_dtype("dtype", estimator.dtype),
            verbose=_check_verbose(estimator.verbose),
            seed=_seed(estimator.random_state),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(str(exc)) from None


# -- checks of single hyper-parameters ----------------------------------------------------------
def _per_layer(name, value, n_layers, check) -> tuple:
    """One value for every hidden layer, or a list with one per layer, each checked."""
    if isinstance(value, list | tuple):
        if len(value) != n_layers:
            raise InputValueError(
                f"{name} has {len(value)} entries but hidden_layer_sizes has "
                f"{n_layers} layers: give one {name} per hidden layer, or one "
                f"for all, got {value!r}"
            )
        return tuple(check(v) for v in value)
    return (check(value),) * n_layers


def _check_activation(value) -> str:
    if not isinstance(value, str):
        raise InputTypeError(f"activation must be a name such as 'relu', got {value!r}")
    name = _ACTIVATION_ALIASES.get(value.lower(), value)
    return get_activation(name).name  # raises "unknown activation ...; valid names are ..."


def _check_dropout(value) -> float:
    return check_real("dropout", value, minimum=0, maximum=1, include_max=False)


def _check_optimizer(value) -> str:
    if not isinstance(value, str) or value.lower() not in OPTIMIZERS:
        raise InputValueError(
            f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))}, got {value!r}"
        )
    return value.lower()


def _check_batch_size(value):
    if value is None or (isinstance(value, str) and value == "auto"):
        return value
    if isinstance(value, str):
        raise InputValueError(f"batch_size must be 'auto', None or an integer >= 1, got {value!r}")
    return check_int("batch_size", value, minimum=1)


def _check_verbose(value) -> int:
    if isinstance(value, bool | np.bool_):
        return int(value)
    return check_int("verbose", value, minimum=0, maximum=2)


def _seed(random_state):
    """What ``Sequential.fit(rng=...)`` takes, from scikit-learn's ``random_state``.

    None and ints pass through (an int gives the same network every fit); a RandomState
    gives up one integer, advancing as scikit-learn estimators do; a Generator is used as is.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return check_int("random_state", random_state, minimum=0)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise InputTypeError(
        f"random_state must be None, an int, a numpy RandomState or Generator, got {random_state!r}"
    )
