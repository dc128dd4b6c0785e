"""The parameters a model file's layers declare, checked against its tensors before any layer
is built.

Building a layer draws its weights at random, so a 2 KB file whose document declares
``Dense(20000)`` twice would cost 400 million random numbers (gigabytes, seconds) before the
mismatch with its small tensors showed. Instead, before building, the declared network is
walked with each layer's ``compute_output_shape`` (pure arithmetic on shapes), and for
glassnet's own parametric layers the parameter shapes their ``build`` will create are
compared with the file's tensors:

=========  ===================================  ===============
layer      ``W``                                ``b`` (use_bias)
=========  ===================================  ===============
Dense      ``(n_in, units)``                    ``(units,)``
Conv2D     ``(filters, channels, kh, kw)``      ``(filters,)``
=========  ===================================  ===============

and a normalisation layer's ``gamma``/``beta`` (and BatchNormalization's buffers
``moving_mean``/``moving_variance``) have the shape of the axes it normalises along.

Every tensor lies inside the file (see :mod:`glassnet.io.container`), so once these agree,
building allocates no more than the file holds (twice: parameters and gradients). A user's
layer from ``custom_objects`` is the caller's own code: only its ``build`` knows its
parameters, which are then checked by name, shape and dtype like every other.
"""

from __future__ import annotations

import math

from glassnet.io import classes
from glassnet.io.errors import ModelFileError, one_line
from glassnet.nn import conv, layers, normalization

MAX_FEATURES = 2**31  # values per sample entering or leaving any layer


def declared_parameters(layer, input_shape: tuple[int, ...]) -> dict[str, tuple] | None:
    """The shapes glassnet's own ``layer`` gives its parameters for inputs of ``input_shape``
    (see the module docstring); None for a user's layer."""
    if not classes.is_builtin(type(layer)):
        return None
    if isinstance(layer, normalization.BatchNormalization | normalization.LayerNormalization):
        return layer.param_shapes(input_shape)
    if isinstance(layer, layers.Dense):
        shapes = {"W": (input_shape[0], layer.units)}
        n_out = layer.units
    elif isinstance(layer, conv.Conv2D):
        shapes = {"W": (layer.filters, input_shape[0], *layer.kernel_size)}
        n_out = layer.filters
    else:
        return {}
    if layer.use_bias:
        shapes["b"] = (n_out,)
    return shapes


def check_declared_shapes(model_layers, input_shape, dtype, tensors: dict, where: str) -> None:
    """Raise ModelFileError unless the unbuilt ``model_layers``, fed inputs of
    ``input_shape``, declare exactly the parameter shapes and dtype of ``tensors``
    (arrays, or anything with ``shape`` and ``dtype``). Allocates nothing."""
    shape = tuple(input_shape)
    for index, layer in enumerate(model_layers):
        _check_size(shape, f"the input of layer {index}", where)
        try:
            out = tuple(layer.compute_output_shape(shape))
        except (ValueError, TypeError) as exc:
            raise ModelFileError(
                f"{where}: layer {index} ({layer.describe()}) cannot take inputs of shape "
                f"{shape}: {one_line(exc)}"
            ) from None
        for key, expected in (declared_parameters(layer, shape) or {}).items():
            name = f"layers.{index}.{key}"
            found = tensors.get(name)
            if found is None:
                raise ModelFileError(
                    f"{where}: layer {index} ({layer.describe()}) needs a tensor {name!r} of "
                    f"shape {expected}, which the file does not hold"
                )
            if tuple(found.shape) != expected or found.dtype != dtype:
                raise ModelFileError(
                    f"{where}: layer {index} ({layer.describe()}) declares tensor {name!r} of "
                    f"shape {expected} {dtype}, but the file holds {tuple(found.shape)} "
                    f"{found.dtype}"
                )
        shape = out
    _check_size(shape, "the output", where)


def _check_size(shape: tuple, what: str, where: str) -> None:
    if math.prod(shape) > MAX_FEATURES:
        raise ModelFileError(
            f"{where}: {what} of the network would have shape {shape}, more than "
            f"{MAX_FEATURES} values per sample"
        )
