"""Argument checks shared by the whole package: one convention, one place.

* ``TypeError`` when an argument has the wrong type, ``ValueError`` when it has the right type and a
  wrong value; every message names the argument.
* NumPy integers are accepted wherever Python ints are; ``bool`` is never an integer here (``True``
  for an order or a size is almost always a slip).
* Arrays of numbers are accepted as anything :func:`numpy.asarray` takes; object, string and complex
  arrays are refused.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["check_int", "check_real", "check_choice", "check_real_dtype", "as_float_array",
           "check_order", "normalize_axis", "ORDER_LIMIT"]

#: Largest order K accepted anywhere (expansions, models, model files, the command line). The time
#: and memory of an expansion grow in proportion to K, so an unbounded K in a file or a flag could
#: run for hours; the paper uses K <= 3 and the experiments here K <= 6.
ORDER_LIMIT = 128


def check_int(value, name, minimum=None, maximum=None):
    """``value`` as a Python int in ``[minimum, maximum]`` (bounds optional).

    Examples
    --------
    >>> check_int(np.int64(3), "order", minimum=1)
    3
    >>> check_int(True, "order")
    Traceback (most recent call last):
    TypeError: order must be an integer, got True
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_real(value, name, minimum=None, maximum=None, *, exclusive_minimum=False, finite=True):
    """``value`` as a Python float, finite unless ``finite=False``, within the given bounds.

    ``exclusive_minimum=True`` makes ``minimum`` itself invalid (``> minimum`` instead of ``>=``).

    Examples
    --------
    >>> check_real(np.float32(0.5), "lr", minimum=0.0, exclusive_minimum=True)
    0.5
    >>> check_real(float("nan"), "lr")
    Traceback (most recent call last):
    ValueError: lr must be a finite number, got nan
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        raise ValueError(f"{name} must be {'>' if exclusive_minimum else '>='} {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_choice(value, name, choices):
    """``value`` if it is one of ``choices`` (a tuple of strings), else ``ValueError`` listing them."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_order(order, name="order"):
    """The order ``K`` of an expansion: an integer in ``1..ORDER_LIMIT``."""
    if check_int(order, name, minimum=1) > ORDER_LIMIT:
        raise ValueError(f"{name} must be <= ORDER_LIMIT = {ORDER_LIMIT}, got {order}")
    return int(order)


def check_real_dtype(arr, name):
    """Raise ``TypeError`` unless ``arr`` (an ndarray) holds real numbers (bool counts as 0/1)."""
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")


def as_float_array(x, name="x"):
    """``x`` as a finite floating array; raise naming ``name`` otherwise.

    Floating inputs keep their dtype (float16 is promoted to float32); integer and boolean inputs
    become float64.
    """
    arr = np.asarray(x)
    check_real_dtype(arr, name)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite: it contains NaN or inf")
    return arr


def normalize_axis(axis, ndim, name="axis"):
    """Normalize ``axis`` (None, int or tuple of ints) to a sorted tuple, or None for all axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, Integral) else axis
    try:
        axes = tuple(axes)
    except TypeError:
        raise TypeError(f"{name} must be None, an int or a tuple of ints, got {axis!r}") from None
    out = []
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, Integral):
            raise TypeError(f"{name} must contain ints, got {a!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{name} {a} is out of bounds for an array of dimension {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} contains a repeated axis: {axis!r}")
    return tuple(sorted(out))

