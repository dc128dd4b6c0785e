"""The error function and the normal CDF on arrays, with NumPy alone (GELU needs them).

NumPy has no ``erf``, and glassnet depends on NumPy only (no SciPy). ``math.erf`` applied
element by element costs about 110 ns a number — sixty times a ``tanh`` — so this module
computes ``erfc`` as whole-array arithmetic instead (about 10 ns a number), to a relative
error below 1e-14 for ``|x| <= 6`` and below 2e-13 up to 26 in float64, where the
rounding of ``x^2`` sets the limit (``tests/test_activations.py`` checks it against
``math.erfc`` on a dense grid).

The method (the form of Numerical Recipes' ``erfccheb``, with coefficients of our own)
-------------------------------------------------------------------------------------
For ``x >= 0`` write ``t = 2 / (2 + x)``, which maps ``[0, inf)`` onto ``(0, 1]``, and

    erfc(x) = t * exp(-x^2 + h(t))

``h`` is smooth on the whole interval (as ``x -> inf``, ``erfc(x) ~ e^{-x^2} / (x sqrt(pi))``,
so ``h`` tends to ``-log(2 sqrt(pi))``), and a polynomial of degree 22 in ``t`` gives it to
about 1e-15. Its coefficients are not typed in: at import, ``h`` is interpolated at the 23
Chebyshev points of ``[t(26), 1]`` from the C library's ``math.erfc`` (correct to about one
unit in the last place), and the interpolant is rewritten in powers of ``u`` (``t`` mapped
onto ``[-1, 1]``), whose coefficients are all below 1 in size, for Horner's rule.

Why not the short formulas: Abramowitz & Stegun 7.1.26 (five coefficients) is off by up to
1.5e-7, and the Numerical Recipes ``erfcc`` by 1.2e-7 — fine for float32 values, but a
float64 gradient check of GELU at ``eps = 1e-6`` would then measure the approximation's
wiggles, not the derivative. Here the function is accurate to float64 rounding, so its
derivative (``2/sqrt(pi) e^{-x^2}``, exact) is the derivative of what is computed, up to
the same rounding.

Beyond ``x = 26`` (``erfc(26) = 5.7e-296``, the last value ``math.erfc`` gives as a normal
float64) ``x`` is held at 27.3, where ``t * exp(-x^2 + h)`` is below the smallest float64
and rounds to 0: the result there is 0 (the true value is below 6e-296), and no input,
however large, overflows. Float32 inputs are computed in float32 (relative error about 1e-6
where ``erfc`` is not tiny).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial

#: the last x at which math.erfc(x) is a normal float64 (5.7e-296): the fit's end
FIT_LIMIT = 26.0
#: larger x are held here, where the formula rounds to 0 in every dtype
CLAMP = 27.3
DEGREE = 22
_T_MIN = 2.0 / (2.0 + FIT_LIMIT)


def _h_exact(t: np.ndarray) -> np.ndarray:
    """``h(t) = log(erfc(x) / t) + x^2`` with ``x = 2/t - 2``, from ``math.erfc``."""
    x = 2.0 / t - 2.0
    return np.array([math.log(math.erfc(v) / s) + v * v for v, s in zip(x, t, strict=True)])


def _power_coefficients() -> tuple[float, ...]:
    """``h`` interpolated at the Chebyshev points of ``[t(FIT_LIMIT), 1]`` and rewritten in
    powers of ``u = (2t - 1 - t_min) / (1 - t_min)``; highest power first (Horner's order)."""
    chebyshev = Chebyshev.interpolate(_h_exact, DEGREE, domain=[_T_MIN, 1.0])
    power = chebyshev.convert(kind=Polynomial, domain=chebyshev.domain, window=chebyshev.window)
    return tuple(float(c) for c in power.coef[::-1])


_COEFFICIENTS = _power_coefficients()


def erfc_nonnegative(x: np.ndarray) -> np.ndarray:
    """``erfc(x) = 1 - erf(x)`` for ``x >= 0`` (a new array of ``x``'s dtype): see the module
    docstring for the method and its accuracy."""
    x = np.minimum(x, CLAMP)
    t = 2.0 / (2.0 + x)
    u = (2.0 * t - (1.0 + _T_MIN)) / (1.0 - _T_MIN)
    h = np.full_like(u, _COEFFICIENTS[0])
    for c in _COEFFICIENTS[1:]:  # Horner: h = (...(c0 u + c1) u + ...) u + c22
        h *= u
        h += c
    h -= x * x
    np.exp(h, out=h)
    h *= t
    return h


def erfc(x) -> np.ndarray:
    """The complementary error function ``erfc(x) = 2/sqrt(pi) int_x^inf e^{-s^2} ds``,
    element-wise; ``erfc(-x) = 2 - erfc(x)``."""
    x = np.asarray(x)
    e = erfc_nonnegative(np.abs(x))
    return np.where(x < 0, 2.0 - e, e).astype(e.dtype, copy=False)


def erf(x) -> np.ndarray:
    """The error function ``erf(x) = 1 - erfc(x)``, element-wise (absolute error below 2e-15
    in float64: near 0 its *relative* error is about ``1e-15 / |x|``)."""
    return 1.0 - erfc(x)


def normal_cdf(x) -> np.ndarray:
    """``Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt(2)) / 2``, element-wise.

    For ``x < 0`` it is ``erfc(|x| / sqrt 2) / 2`` — accurate relative to its own (tiny)
    size, so ``x * Phi(x)`` (GELU) has full relative accuracy on the negative side too; for
    ``x >= 0`` it is ``1 - erfc(x / sqrt 2) / 2``.
    """
    x = np.asarray(x)
    half_tail = erfc_nonnegative(np.abs(x) * (1.0 / math.sqrt(2.0)))
    half_tail *= 0.5
    return np.where(x < 0, half_tail, 1.0 - half_tail).astype(half_tail.dtype, copy=False)


def normal_pdf(x) -> np.ndarray:
    """``phi(x) = e^{-x^2/2} / sqrt(2 pi)``, element-wise; ``x`` is held within +-40 (where
    ``phi`` is already 0 in float64), so squaring it never overflows."""
    x = np.clip(x, -40.0, 40.0)
    p = x * x
    p *= -0.5
    np.exp(p, out=p)
    p *= 1.0 / math.sqrt(2.0 * math.pi)
    return p
