"""Hypothesis strategies for quantizer inputs: exact zeros, pixel-like values, wide magnitudes.

Magnitudes are kept inside the normal float64 range through every order: base values in
``[1e-6, 1e3]`` (or exactly 0) times ``2**e`` with ``|e| <= 900`` stay within ``[2**-920, 2**910]``, so
residuals (at least ~eps times smaller) never become subnormal and sums of up to 10**4 entries never
overflow. Subnormals and the overflowing sums are tested separately, on purpose-built inputs.
:func:`conv_cases` draws convolution layers for the backends of horq_ref.conv.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

BASE = st.one_of(
    st.just(0.0),
    st.just(-0.0),
    st.integers(-255, 255).map(float),  # pixel-like and integer data: many ties and zeros
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).filter(
        lambda v: v == 0 or abs(v) >= 1e-6
    ),
)


@st.composite
def arrays_and_axis(draw, max_dims=3, max_side=6, min_side=1, scale=True):
    """A float64 array of 1..max_dims dims and an ``axis`` (None, int or tuple) valid for it."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=min_side, max_side=max_side))
    x = draw(hnp.arrays(np.float64, shape, elements=BASE))
    if scale:
        x = x * 2.0 ** draw(st.integers(-900, 900))  # exact: a power of two
    ndim = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
        )
    )
    return x, axis


@st.composite
def groups(draw, min_n=2, max_n=24, max_rows=4):
    """A float64 matrix (M, n): M groups of n entries, each group one row (``axis=-1``)."""
    n = draw(st.integers(min_n, max_n))
    m = draw(st.integers(1, max_rows))
    return draw(hnp.arrays(np.float64, (m, n), elements=BASE))


orders = st.integers(1, 6)


def draw_values(rng, kind, shape):
    """Test data of one kind: Gaussian, small integers (ties, exact zeros) or sparse with -0.0."""
    if kind == "integers":
        return rng.integers(-3, 4, shape).astype(float)
    v = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)
    if kind == "sparse":
        v[rng.random(shape) < 0.5] = 0.0
        v[rng.random(shape) < 0.2] = -0.0
    return v


@st.composite
def conv_cases(draw, max_c=70):
    """``(x, w, order, stride, padding)``: a small layer, float32 or float64, of one data kind."""
    N, C, F = draw(st.integers(1, 2)), draw(st.integers(1, max_c)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, kh - 2 * padding), 7))
    W = draw(st.integers(max(1, kw - 2 * padding), 7))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = draw_values(rng, draw(st.sampled_from(["normal", "integers", "sparse"])), (N, C, H, W))
    w = draw_values(rng, draw(st.sampled_from(["normal", "integers", "sparse"])), (F, C, kh, kw))
    return x.astype(dtype), w, draw(st.integers(1, 4)), stride, padding
