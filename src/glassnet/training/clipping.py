"""Gradient clipping: the gradient an optimizer uses, bounded before its update (Keras's
``clipnorm``, ``global_clipnorm`` and ``clipvalue``).

With ``||g||`` the L2 norm, ``c`` the bound::

    clipnorm=c         each parameter's g  <-  g * c / ||g||         where ||g|| > c
    global_clipnorm=c  every g             <-  g * c / ||G||         where ||G|| > c,
                       ||G|| = sqrt(sum over parameters of ||g||^2)   (all gradients as one)
    clipvalue=c        each element        <-  min(max(g, -c), c)

A gradient within its bound is used as it is (Keras multiplies it by ``c / max(||g||, c)``,
which is 1 there up to rounding; PyTorch's ``clip_grad_norm_`` divides by ``||G|| + 1e-6``).
Clipping bounds a step's size without changing its direction (the norm forms): it is what
keeps a rare huge gradient — an exploding RNN, a bad batch — from throwing the weights far.

The clipped gradient is written into a work-space array (``state["clipped"]``), never into
the model's gradient, and the norms are taken per parameter name whatever buffer holds the
numbers, so a packed model (:mod:`glassnet.fast.parameters`) clips exactly as an unpacked one.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet._validation import check_positive
from glassnet.errors import InputValueError

OPTIONS = ("clipnorm", "global_clipnorm", "clipvalue")


def check_options(clipnorm, global_clipnorm, clipvalue) -> tuple:
    """The three options, each None or a float > 0, at most one of them set."""
    given = {"clipnorm": clipnorm, "global_clipnorm": global_clipnorm, "clipvalue": clipvalue}
    checked = {k: None if v is None else check_positive(k, v) for k, v in given.items()}
    set_ = [f"{k}={v!r}" for k, v in given.items() if v is not None]
    if len(set_) > 1:
        raise InputValueError(
            f"only one of clipnorm, global_clipnorm and clipvalue can be set, got "
            f"{' and '.join(set_)}"
        )
    return checked["clipnorm"], checked["global_clipnorm"], checked["clipvalue"]


def squared_norm(g) -> float:
    """``||g||^2 = sum of g_i^2``, over every element, as a Python float."""
    flat = g.reshape(-1)
    return float(np.dot(flat, flat))


def norm_scale(optimizer, slots):
    """The factors a norm clip multiplies gradients by in this step: None (no clipping), a
    float for every gradient (``global_clipnorm``), or ``{name: factor}`` for the parameters
    whose gradient exceeds ``clipnorm``."""
    if optimizer.clipnorm is not None:
        c = optimizer.clipnorm
        norms = {name: math.sqrt(squared_norm(g)) for name, _, g in slots}
        return {name: c / norm for name, norm in norms.items() if norm > c} or None
    if optimizer.global_clipnorm is not None:
        c = optimizer.global_clipnorm
        norm = math.sqrt(sum(squared_norm(g) for _, _, g in slots))
        return c / norm if norm > c else None
    return None


def clipped(optimizer, group, scale) -> np.ndarray:
    """The gradient of ``group`` (a :class:`glassnet.fast.parameters.Group`) clipped: ``group.g``
    itself when nothing is clipped, else a work-space array holding the clipped values."""
    g = group.g
    if optimizer.clipvalue is not None:
        out = work_array(group.state, "clipped", g)
        return np.clip(g, -optimizer.clipvalue, optimizer.clipvalue, out=out)
    if scale is None:
        return g
    out = work_array(group.state, "clipped", g)
    if not isinstance(scale, dict):
        return np.multiply(g, scale, out=out)
    hits = [(start, stop, scale[name]) for name, start, stop in group.names if name in scale]
    if not hits:
        return g
    if len(hits) < len(group.names):
        np.copyto(out, g)  # a packed group: the parameters within their bound, as they are
    flat_g, flat_out = g.reshape(-1), out.reshape(-1)
    for start, stop, factor in hits:
        np.multiply(flat_g[start:stop], factor, out=flat_out[start:stop])
    return out


def work_array(state, key, like) -> np.ndarray:
    """The work-space array ``state[key]`` of ``like``'s shape and dtype, made on first use."""
    out = state.get(key)
    if out is None or out.shape != like.shape:
        out = state[key] = np.empty_like(like)
    return out
