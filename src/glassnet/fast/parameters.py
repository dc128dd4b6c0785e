"""One contiguous buffer for all parameters (and one for all gradients), updated in one go.

Why: an optimizer step is a handful of element-wise passes per parameter. For a small network
the per-call overhead dominates (Adam on a 6-parameter network: 72 NumPy calls per step one
parameter at a time, 12 on one vector), and for a large one a few long passes run at memory
speed. Names stay the truth: ``layers[i].params["W"]`` is an ordinary array of its own shape —
a view into the buffer — and the optimizer keeps its state per parameter name, as views into
one vector per kind of state, so that saving, loading and a hand-called
``optimizer.step(model.slots())`` all see the same per-name state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from glassnet import fast


def pack(model) -> None:
    """Move every parameter and gradient of ``model`` into two contiguous vectors, in
    ``model.slots()`` order; the layers keep views. Nothing happens when the parameters are
    already packed."""
    slots = model.slots()
    if not slots or _flat_bases(slots) is not None:
        return
    total = sum(p.size for _, p, _ in slots)
    flat_p = np.empty(total, dtype=model.dtype)
    flat_g = np.zeros(total, dtype=model.dtype)
    offset = 0
    for layer in model.layers:
        for key, p in list(layer.params.items()):
            n = p.size
            flat_p[offset : offset + n] = p.ravel()
            layer.params[key] = flat_p[offset : offset + n].reshape(p.shape)
            layer.grads[key] = flat_g[offset : offset + n].reshape(p.shape)
            offset += n


def _flat_bases(slots):
    """``(flat_p, flat_g)`` when the slots are consecutive views filling two vectors, else None."""
    flat_p, flat_g = slots[0][1].base, slots[0][2].base
    if flat_p is None or flat_g is None or flat_p.ndim != 1 or flat_g.ndim != 1:
        return None
    if flat_p.size != sum(p.size for _, p, _ in slots) or flat_g.shape != flat_p.shape:
        return None
    start_p, start_g = _address(flat_p), _address(flat_g)
    offset = 0
    for _, p, g in slots:
        if p.base is not flat_p or g.base is not flat_g or not p.flags.c_contiguous:
            return None
        if (
            _address(p) != start_p + offset * p.itemsize
            or _address(g) != start_g + offset * g.itemsize
        ):
            return None
        offset += p.size
    return flat_p, flat_g


def _address(a) -> int:
    return a.__array_interface__["data"][0]


class Group(NamedTuple):
    """One update's worth of parameters: ``p`` and ``g`` (one parameter, or the packed
    vectors), the optimizer's ``state`` for them, ``names`` — each parameter's name and
    its elements ``start:stop`` in ``p.ravel()`` — and ``decay``: whether weight decay
    applies, True or False for the whole group or, for a packed group of both kinds, a
    mask ``(p.size,)`` of 1 (decayed) and 0 (excluded) in ``p``'s dtype."""

    p: np.ndarray
    g: np.ndarray
    state: dict
    names: tuple[tuple[str, int, int], ...]
    decay: bool | np.ndarray


def parameter_groups(optimizer, slots) -> list[Group]:
    """The :class:`Group` objects of one optimizer step over ``slots``.

    On the fast path, when the slots are packed (:func:`pack`), one group covers them all: the
    two vectors and a state of vectors whose slices *are* ``optimizer.state[name]``. Otherwise
    one group per slot. Either way the state is ``optimizer.state[name]``, per name, and
    which parameters weight decay applies to is ``optimizer.decays(name)``.
    """
    if fast.enabled():
        group = _packed_group(optimizer, slots)
        if group is not None:
            return [group]
    return [
        Group(p, g, optimizer.state_for(name, p), ((name, 0, p.size),), optimizer.decays(name))
        for name, p, g in slots
    ]


def _packed_group(optimizer, slots):
    key = tuple(id(p) for _, p, _ in slots) + tuple(id(g) for _, _, g in slots)
    key += (optimizer.exclude_from_weight_decay,)
    cached = optimizer._packed
    if cached is not None and cached[0] == key:
        return cached[2]
    bases = _flat_bases(slots) if slots else None
    if bases is None:
        return None
    flat_p, flat_g = bases
    flat_state = optimizer.init_state(flat_p)
    names, offset = [], 0
    for name, p, _ in slots:
        own = optimizer.state.get(name, {})
        views = {}
        for k, flat in flat_state.items():
            view = flat[offset : offset + p.size].reshape(p.shape)
            if k in own and own[k].shape == p.shape:
                view[...] = own[k]  # state kept so far (loaded, or from earlier steps)
            views[k] = view
        optimizer.state[name] = views
        names.append((name, offset, offset + p.size))
        offset += p.size
    group = Group(flat_p, flat_g, flat_state, tuple(names), _decay_mask(optimizer, names, flat_p))
    # the cache keeps the slots' arrays alive, so their ids cannot be reused by new arrays
    optimizer._packed = (key, slots, group)
    return group


def _decay_mask(optimizer, names, flat_p):
    """True, False, or the 1/0 mask of the decayed elements (see :class:`Group`)."""
    decays = [optimizer.decays(name) for name, _, _ in names]
    if all(decays) or not any(decays):
        return decays[0]
    mask = np.zeros_like(flat_p)
    for (_, start, stop), decayed in zip(names, decays, strict=True):
        mask[start:stop] = 1 if decayed else 0
    return mask
