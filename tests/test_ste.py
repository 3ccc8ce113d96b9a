"""Backward of the quantizer and of the weight binarizer (horq_ref.ste), docs/paper.md §5.

Three independent checks of the reverse-mode code:
* with the smooth stand-in ``tanh(r / tau)`` it is an exact derivative -> centered differences;
* with the true sign it must equal ``J^T G`` where ``J`` is built by forward-mode differentiation
  (``quantizer_jacobian``), a different algorithm for the same straight-through derivative;
* for order one it must equal the closed form ``beta s'(X) G + sign(X)/n sum(G H)``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from horq_ref.nn.gradcheck import eval_numerical_gradient_array, rel_error
from horq_ref.quantize import residual_quantize, sign
from horq_ref.ste import (
    SIGN_STE,
    binary_sign,
    quantizer_backward,
    quantizer_forward,
    quantizer_jacobian,
    smooth_sign,
    weight_binarize_backward,
    weight_binarize_forward,
    xnor_paper_weight_grad,
)

# Centered differences, h = 1e-6, float64: truncation O(h^2) ~ 1e-12 and rounding
# O(eps |f| / h) ~ 1e-10 relative to the gradient's scale; a wrong term is off by O(1).
FD_TOL = 1e-6
# Two float64 algorithms for the same quantity (reverse vs forward mode): they differ only by
# the rounding of a few dozen operations on O(1) numbers.
EXACT_TOL = 1e-12
SMOOTH = smooth_sign(0.5)


def fd_vjp(x, G, order, axis, sign_fn=SMOOTH):
    return eval_numerical_gradient_array(
        lambda x: quantizer_forward(x, order, axis, sign_fn=sign_fn)[0], x, G
    )


@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]), hnp.array_shapes(max_dims=3),
                   elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_binary_sign_is_the_project_sign(x):
    # The fast sign used in training must agree with the reference bit for bit, zeros included.
    x = np.concatenate([x.ravel(), np.array([0.0, -0.0, 5e-324, -5e-324], dtype=x.dtype)])
    out = binary_sign(x)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, sign(x))


@st.composite
def shapes_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    ndim = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple),
        )
    )
    return shape, axis


@given(sa=shapes_and_axes(), order=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_chain_backward_matches_finite_differences_with_smooth_sign(sa, order, seed):
    shape, axis = sa
    rng = np.random.default_rng(seed)
    x, G = rng.standard_normal(shape), rng.standard_normal(shape)
    _, cache = quantizer_forward(x, order, axis, sign_fn=SMOOTH)
    assert rel_error(quantizer_backward(G, cache), fd_vjp(x, G, order, axis)) < FD_TOL


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_chain_backward_orders_and_axes(rng, order, axis):
    x, G = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))
    _, cache = quantizer_forward(x, order, axis, sign_fn=SMOOTH)
    assert rel_error(quantizer_backward(G, cache), fd_vjp(x, G, order, axis)) < FD_TOL


@given(n=st.integers(1, 9), rows=st.integers(1, 4), order=st.integers(1, 4),
       scale=st.sampled_from([0.1, 1.0, 3.0]), seed=st.integers(0, 2**32 - 1))
def test_true_sign_chain_equals_forward_mode_jacobian(n, rows, order, scale, seed):
    rng = np.random.default_rng(seed)
    x, G = scale * rng.standard_normal((rows, n)), rng.standard_normal((rows, n))
    _, cache = quantizer_forward(x, order, axis=-1)
    expected = np.stack([quantizer_jacobian(x[r], order).T @ G[r] for r in range(rows)])
    assert rel_error(quantizer_backward(G, cache), expected) < EXACT_TOL


def test_forward_mode_jacobian_itself_matches_finite_differences(rng):
    # The oracle is checked too: with the smooth sign its J^T G is an exact derivative.
    x, G = rng.standard_normal(7), rng.standard_normal(7)
    J = quantizer_jacobian(x, 3, sign_fn=SMOOTH)
    assert rel_error(J.T @ G, fd_vjp(x, G, 3, None)) < FD_TOL


def test_order_one_closed_form(rng):
    x, G = rng.standard_normal((5, 8)), rng.standard_normal((5, 8))
    _, cache = quantizer_forward(x, 1, axis=-1)
    beta = np.mean(np.abs(x), axis=-1, keepdims=True)
    H = sign(x)
    expected = beta * (np.abs(x) <= 1) * G + H / 8 * np.sum(G * H, axis=-1, keepdims=True)
    assert rel_error(quantizer_backward(G, cache), expected) < EXACT_TOL


def test_forward_value_is_the_residual_expansion(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    Xt, _ = quantizer_forward(x, 3, axis=-1)
    assert Xt.dtype == np.float32
    # Same sums of the same products in the same order: equal to float32 rounding of O(1) values.
    np.testing.assert_allclose(Xt, residual_quantize(x, 3, axis=-1).reconstruct(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("sign_fn", [SIGN_STE, SMOOTH])
def test_identity_variant_is_the_clipped_identity(rng, sign_fn):
    x, G = 1.5 * rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    _, cache = quantizer_forward(x, 2, axis=-1, sign_fn=sign_fn, ste="identity")
    np.testing.assert_array_equal(quantizer_backward(G, cache), G * (np.abs(x) <= 1))
    _, chain = quantizer_forward(x, 2, axis=-1, sign_fn=sign_fn)
    assert rel_error(quantizer_backward(G, chain), G * (np.abs(x) <= 1)) > 1e-2  # a different rule


def test_identity_jacobian_is_diagonal_window(rng):
    x = 1.5 * rng.standard_normal(6)
    np.testing.assert_array_equal(quantizer_jacobian(x, 2, ste="identity"), np.diag(np.abs(x) <= 1))


def test_backward_does_not_modify_its_inputs_and_keeps_dtype(rng):
    x = rng.standard_normal((3, 5)).astype(np.float32)
    G = rng.standard_normal((3, 5)).astype(np.float32)
    G0 = G.copy()
    _, cache = quantizer_forward(x, 3, axis=-1)
    dX = quantizer_backward(G, cache)
    np.testing.assert_array_equal(G, G0)
    assert dX.dtype == np.float32 and dX.shape == x.shape


# ---- weights: alpha sign(W) per output unit ---------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 6), (4, 2, 3, 3)])
def test_weight_chain_matches_finite_differences(rng, shape):
    W, G = 0.7 * rng.standard_normal(shape), rng.standard_normal(shape)
    _, cache = weight_binarize_forward(W, sign_fn=SMOOTH)
    numeric = eval_numerical_gradient_array(
        lambda W: weight_binarize_forward(W, sign_fn=SMOOTH)[0], W, G
    )
    assert rel_error(weight_binarize_backward(G, cache), numeric) < FD_TOL


def test_weight_chain_closed_form_with_true_sign(rng):
    W, G = 0.7 * rng.standard_normal((3, 16)), rng.standard_normal((3, 16))
    Wt, cache = weight_binarize_forward(W)
    alpha = np.mean(np.abs(W), axis=1, keepdims=True)
    np.testing.assert_allclose(Wt, alpha * sign(W), rtol=1e-15)
    expected = alpha * (np.abs(W) <= 1) * G + sign(W) / 16 * np.sum(G * sign(W), axis=1, keepdims=True)
    assert rel_error(weight_binarize_backward(G, cache), expected) < EXACT_TOL


def test_xnor_paper_gradient_drops_the_cross_terms(rng):
    n = 16
    W, G = 0.7 * rng.standard_normal((3, n)), rng.standard_normal((3, n))
    _, cache = weight_binarize_forward(W)
    chain = weight_binarize_backward(G, cache)
    paper = xnor_paper_weight_grad(G, W)
    # What the paper leaves out is exactly the off-diagonal part of sign(W)/n sum_j G_j sign(W_j).
    S = sign(W)
    cross = S / n * (np.sum(G * S, axis=1, keepdims=True) - G * S)
    assert rel_error(chain - paper, cross) < EXACT_TOL
    assert rel_error(paper, chain) > 1e-2  # and it is far from negligible: O(1/sqrt(n)) relative


def test_xnor_paper_form_fails_the_finite_difference_check_that_chain_passes(rng):
    # The paper's rule in smooth form: keep only d(alpha s(W_k))/dW_k (the diagonal).
    W, G = 0.7 * rng.standard_normal((3, 10)), rng.standard_normal((3, 10))
    _, cache = weight_binarize_forward(W, sign_fn=SMOOTH)
    numeric = eval_numerical_gradient_array(lambda W: weight_binarize_forward(W, sign_fn=SMOOTH)[0], W, G)
    alpha = np.mean(np.abs(W), axis=1, keepdims=True)
    diagonal = G * (sign(W) * SMOOTH.fn(W) / 10 + alpha * SMOOTH.deriv(W))
    assert rel_error(diagonal, numeric) > 1e-2
    assert rel_error(weight_binarize_backward(G, cache), numeric) < FD_TOL


# ---- arguments --------------------------------------------------------------------------------


def test_bad_arguments_name_themselves():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="ste"):
        quantizer_forward(x, 1, ste="straight")
    with pytest.raises(TypeError, match="sign_fn"):
        quantizer_forward(x, 1, sign_fn=np.sign)
    with pytest.raises(ValueError, match="tau"):
        smooth_sign(0.0)
    with pytest.raises(ValueError, match="order"):
        quantizer_forward(x, 0)
    with pytest.raises(ValueError, match="W"):
        weight_binarize_forward(np.ones(3))
    with pytest.raises(ValueError, match="dWt"):
        xnor_paper_weight_grad(np.ones((2, 2)), np.ones((2, 3)))
