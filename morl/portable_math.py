"""Arithmetic for evaluation actors that gives the same bits on every machine.

Why: a replayed policy must return what was recorded, on any machine. NumPy's matrix product goes
to OpenBLAS, which picks its kernel (and so its summation order, blocking and use of FMA) from the
CPU it finds (Haswell, SkylakeX, Zen, ...), and NumPy dispatches ``tanh``/``exp`` to SIMD
implementations (AVX-512 or not) that differ in the last bits. On contact-rich robots such
last-bit differences in the actions grow into different gaits: the shipped MO-Ant-v2 model
replayed on another VM of the same image family moved single preferences' returns by up to 16 %.

Here every operation is an IEEE-754 basic operation on whole arrays (add, multiply, divide,
floor, scaling by a power of two), each rounded exactly once and element by element, in an order
fixed by this code: a product sums its terms one input at a time, ``tanh`` is evaluated with a
fixed polynomial. Vector width, BLAS and the CPU's SIMD features cannot change the result; only
IEEE-754 double arithmetic is assumed (every platform NumPy supports). Slower than BLAS, but an
evaluation actor is a few small layers.
"""

from __future__ import annotations

import numpy as np

# exp(-r) for |r| <= ln2/2: Taylor terms up to r^15/15! (truncation < 1e-19 relative).
_TAYLOR = tuple(1.0 / np.prod(np.arange(1, n + 1, dtype=np.float64)) for n in range(16))
# ln 2 split so that k·LN2_HI is exact for the k that occur (Cody and Waite's reduction).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_TANH_SATURATION = 20.0  # tanh(20) = 1 - 8.5e-18: 1.0 in double precision


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x @ weight + bias`` in a fixed order, in float64.

    ``x`` (..., in) and ``weight`` (..., in, out) whose leading axes broadcast: one weight for all
    rows ((n, in) with (in, out)), one per row ((n, in) with (n, in, out)), or one per group of rows
    ((g, r, in) with (g, 1, in, out)). ``bias`` broadcasts to the result (..., out). Each output
    sums its terms over the inputs in index order, whatever the shapes.
    """
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    if x.ndim < 1 or weight.ndim < 2 or x.shape[-1] != weight.shape[-2]:
        raise ValueError(f"x of shape {x.shape} and weight of shape {weight.shape}: expected (..., in) and "
                         "(..., in, out)")  # fmt: skip
    try:
        rows = np.broadcast_shapes(x.shape[:-1], weight.shape[:-2])
    except ValueError:
        raise ValueError(f"x of shape {x.shape} and weight of shape {weight.shape}: their leading axes "
                         "do not broadcast") from None  # fmt: skip
    out = np.array(np.broadcast_to(np.asarray(bias, dtype=np.float64), (*rows, weight.shape[-1])))
    term = np.empty_like(out)
    for k in range(x.shape[-1]):
        np.multiply(x[..., k, None], weight[..., k, :], out=term)
        np.add(out, term, out=out)
    return out


def exp_neg(y: np.ndarray) -> np.ndarray:
    """exp(-y) for y >= 0, to about one unit in the last place, from basic operations only."""
    k = np.floor(y / (_LN2_HI + _LN2_LO) + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO  # y = k·ln2 + r, |r| <= ln2/2 (up to rounding)
    value = np.full_like(r, _TAYLOR[-1])
    for n in range(len(_TAYLOR) - 2, -1, -1):  # Horner in -r
        value = value * -r + _TAYLOR[n]
    scale = np.where(np.isfinite(k), -k, 0.0).astype(np.int64)  # NaN stays NaN through ``value``
    return np.ldexp(value, scale)


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh in float64 from basic operations only (absolute error about 1e-16)."""
    x = np.asarray(x, dtype=np.float64)
    magnitude = np.minimum(np.abs(x), _TANH_SATURATION)
    e = exp_neg(2.0 * magnitude)
    return np.copysign((1.0 - e) / (1.0 + e), x)
