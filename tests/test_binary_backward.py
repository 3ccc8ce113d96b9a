"""The backward products on binary operands (horq_ref.binary_backward) against the float backward.

Tolerance of the equality tests. Each output of ``signed_sum`` adds the same rounded terms as the
float GEMM does, in another order (the scale products ``dY alpha_f`` are rounded identically on
both sides; ``beta_i dY`` on the binary side against ``Xt = sum_i beta_i H_i`` on the float side).
Any summation order of ``n`` terms errs by at most ``gamma_n sum|terms|``, ``gamma_n ~ n eps / 2``,
so the two results differ by at most ``(n + 1) eps sum|terms|`` per output, with ``n = F`` for the
input gradient and ``n = K M + K`` for the weight gradient, while ``n (n + 1) eps <= 2``
(docs/theory.md §14); the terms carry ``|alpha_f|`` and ``|beta_i|``. The test asserts exactly that
bound, output by output; a wrong sign on one term moves an output by ``2 |term|``.
"""

from functools import partial

import numpy as np
import pytest

from horq_ref import binary_backward as bb
from horq_ref.binary_backward import (
    binary_backward,
    binary_operands,
    float_backward,
    operands_from_planes,
    signed_sum,
)
from horq_ref.fast import lut
from horq_ref.nn.conv_layers import horq_conv2d_backward, horq_conv2d_forward
from horq_ref.nn.variants import (bits_dense_backward, bits_dense_forward, rows_conv2d_backward,
                                  rows_conv2d_forward)
from horq_ref.nn.gradcheck import check_op
from horq_ref.nn.layers import horq_dense_backward, horq_dense_forward
from horq_ref.nn.losses import softmax_cross_entropy
from horq_ref.nn.models import build_model
from horq_ref.nn.optim import SGD
from horq_ref.ste import SignFn, binary_sign

# (M, F, D): rows, outputs, row length; D off and on multiples of 64, single rows and columns.
SHAPES = [(1, 1, 1), (1, 3, 5), (4, 1, 70), (6, 5, 64), (3, 7, 65), (9, 4, 129), (2, 2, 200)]
# The true sign with its true derivative (0 almost everywhere): binary planes, and a function that
# finite differences can check (the gradient flows through beta_i and alpha only).
TRUE_SIGN = SignFn(binary_sign, np.zeros_like, "sign, derivative 0")
FD_TOL = 1e-6  # as in tests/nn/test_layers.py: centered differences, h = 1e-6, float64


def bounds(dY, ops, signed=False):
    """``(n + 1) eps sum|terms|`` per output of dXt (M, 1) and of dWt (F, 1) (module docstring).

    ``(n + 1) eps`` bounds ``2 gamma_n`` only while ``n (n + 1) eps <= 2`` (n <= 4095 in float32),
    which is asserted. ``signed`` sums the scales with their signs: the negative control."""
    eps, (K, M), F = np.finfo(dY.dtype).eps, ops.beta.shape, ops.alpha.size
    assert all(n * (n + 1) * eps <= 2 for n in (F, K * M + K)), "outside the range of the bound"
    size = (lambda a: a) if signed else np.abs
    tx = np.abs(dY) @ size(ops.alpha)  # (M,): sum_f |dY[m, f]| |alpha_f|
    tw = np.abs(dY).T @ size(ops.beta).sum(axis=0)  # (F,): sum_m |dY[m, f]| sum_i |beta_i[m]|
    return (F + 1) * eps * tx[:, None], (K * M + K + 1) * eps * tw[:, None]


def violation(dY, ops, binary_ops=None, signed=False):
    """Largest ``|binary - float| / bound`` over both gradients (<= 1 means within the bound).

    ``binary_ops`` (default ``ops``) feeds the binary side only: the negative controls."""
    dXb, dWb = binary_backward(dY, ops if binary_ops is None else binary_ops)
    dXf, dWf = float_backward(dY, ops)
    bx, bw = bounds(dY, ops, signed)
    return max(ratio(np.abs(dXb - dXf), bx), ratio(np.abs(dWb - dWf), bw))


def ratio(diff, bound):
    """``diff / bound``; where the bound is 0 (all terms 0) the difference must be exactly 0."""
    diff, bound = np.broadcast_arrays(diff, bound)
    out = np.where(diff > 0, np.inf, 0.0)
    np.divide(diff, bound, out=out, where=bound > 0)
    return float(out.max(initial=0))


def random_case(rng, M, F, D, K, dtype=np.float64, zeros=0.0):
    x = rng.standard_normal((M, D)).astype(dtype)
    x[rng.random((M, D)) < 0.2] = 0  # exact zeros: sign(0) = +1 must agree on both sides
    W = rng.standard_normal((F, D)).astype(dtype)
    dY = rng.standard_normal((M, F)).astype(dtype)
    dY[rng.random((M, F)) < zeros] = 0
    return binary_operands(x, W, K), dY


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("shape", SHAPES)
def test_binary_backward_equals_float_within_the_rounding_bound(rng, shape, order):
    ops, dY = random_case(rng, *shape, order, zeros=0.3)
    assert violation(dY, ops) <= 1
    assert violation(dY.astype(np.float32), ops) <= 1  # float32 dY: the same bound with its eps


def test_all_zero_upstream_gradient_gives_exact_zeros(rng):
    ops, dY = random_case(rng, 5, 3, 70, 3, zeros=1.0)
    dXt, dWt = binary_backward(dY, ops)
    assert not dXt.any() and not dWt.any()


def test_wrong_mask_convention_fails(rng):
    """Negative control: reading a set bit as +1 (the complement) breaks the equality."""
    ops, dY = random_case(rng, 6, 5, 70, 2)
    assert violation(dY, ops) <= 1
    assert violation(dY, ops, ops._replace(B_words=~ops.B_words)) > 1e6
    assert violation(dY, ops, ops._replace(H_words=~ops.H_words)) > 1e6


def test_scales_of_either_sign_need_their_magnitudes_in_the_bound(rng):
    """operands_from_planes accepts any beta: with beta_2 = -beta_1 the signed sum of the scales is 0,
    a bound that no rounding fits (negative control), while the one with |beta_i| holds."""
    K, M, F, D = 2, 6, 5, 70
    planes = np.where(rng.random((K, M, D)) < 0.5, -1.0, 1.0)
    beta = np.stack([np.full(M, 0.3), np.full(M, -0.3)]) * rng.uniform(1, 2, M)
    ops = operands_from_planes(planes, beta, np.where(rng.random((F, D)) < 0.5, -1.0, 1.0),
                               rng.uniform(0.5, 1.5, F))
    dY = rng.standard_normal((M, F))
    assert violation(dY, ops) <= 1
    assert violation(dY, ops, signed=True) > 1


def test_signed_sum_is_a_product_with_plus_minus_one(rng):
    A, neg = rng.standard_normal((4, 9)), rng.random((9, 70)) < 0.5
    S = np.where(neg, -1.0, 1.0)
    bound = (9 + 1) * np.finfo(float).eps * (np.abs(A) @ np.abs(S))
    assert np.all(np.abs(signed_sum(A, neg) - A @ S) <= bound)


def test_operands_from_planes_checks_its_arguments():
    with pytest.raises(ValueError, match="planes"):
        operands_from_planes(np.zeros((1, 2, 3)), np.ones((2, 3)), np.ones((1, 2)), np.ones(2))
    with pytest.raises(ValueError, match="do not match"):
        operands_from_planes(np.ones((1, 2, 3)), np.ones((2, 4)), np.ones((1, 2)), np.ones(2))
    ops = binary_operands(np.ones((2, 3)), np.ones((4, 3)), 1)
    with pytest.raises(ValueError, match="dY"):
        binary_backward(np.ones((4, 2)), ops)


# ---- through the layers: the backend switch -----------------------------------------------------

LAYER_TOL = 1e-11  # max |diff| / max |grad|: (n + 1) eps ~ 1e-13 for n <= 400, times a margin for
# the straight-through map applied to both (its gain here is below 10). "bits-fast" (table lookup)
# is within (gamma_{g+G-2} + gamma_n) sum|terms| of the float side (docs/theory.md §15); with g <= 8
# and G = ceil(Q / g) <= Q <= n, g + G - 2 <= n + 6, so about (n + 3) eps: the same order.
BIT_BACKENDS = ["bits", "bits-fast"]


def max_rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("backend", BIT_BACKENDS)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("ste", ["chain", "identity"])
def test_dense_bits_backward_equals_float(rng, order, ste, backend):
    x, W, b = rng.standard_normal((7, 70)), rng.standard_normal((5, 70)), rng.standard_normal(5)
    dY = rng.standard_normal((7, 5))
    dY[0] = 0
    grads_b = bits_dense_backward(dY, bits_dense_forward(x, W, b, order, ste=ste, backend=backend)[1])
    grads_f = horq_dense_backward(dY, horq_dense_forward(x, W, b, order, ste=ste)[1])
    for gb, gf in zip(grads_b, grads_f):
        assert max_rel(gb, gf) < LAYER_TOL


@pytest.mark.parametrize("backend", BIT_BACKENDS)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("C,k,stride,padding", [(3, 3, 1, 1), (5, 1, 1, 0), (2, 3, 2, 1),
                                                (70, 1, 2, 0), (1, 2, 1, 2)])
def test_conv_bits_backward_equals_float(rng, order, C, k, stride, padding, backend):
    x, W, b = rng.standard_normal((2, C, 5, 5)), rng.standard_normal((4, C, k, k)), np.zeros(4)
    x[:, :, 0] = 0
    Yb, cb = rows_conv2d_forward(bits_dense_forward, x, W, b, order, stride, padding, backend=backend)
    _, cf = horq_conv2d_forward(x, W, b, order, stride, padding)
    dY = rng.standard_normal(Yb.shape)
    for gb, gf in zip(rows_conv2d_backward(bits_dense_backward, dY, cb), horq_conv2d_backward(dY, cf)):
        assert max_rel(gb, gf) < LAYER_TOL


@pytest.mark.parametrize("backend", BIT_BACKENDS)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_bits_backend_passes_finite_differences(rng, order, backend):
    """The whole bits-backend layer, with the true sign's derivative, against centered differences.

    The smooth sign of the float backend's checks (tests/nn/test_layers.py) makes planes tanh(R/tau)
    that are not ±1, which the bits backend rejects by design. With the true sign and its derivative
    (0 wherever no residual is 0) the layer is differentiable at random inputs, so the check covers
    the binary products and the float gradient through beta_i and alpha; the STE window's term is the
    same float code as on the float backend, checked there."""
    x, W, b = rng.standard_normal((4, 70)), rng.standard_normal((3, 70)), rng.standard_normal(3)
    errs = check_op(bits_dense_forward, bits_dense_backward, [x, W, b], order=order,
                    sign_fn=TRUE_SIGN, backend=backend)
    assert max(errs.values()) < FD_TOL, errs
    xc, Wc = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    errs = check_op(partial(rows_conv2d_forward, bits_dense_forward),
                    partial(rows_conv2d_backward, bits_dense_backward), [xc, Wc, np.zeros(4)],
                    order=order, stride=2, padding=1, sign_fn=TRUE_SIGN, backend=backend)
    assert max(errs.values()) < FD_TOL, errs


def wrong_mask(words, n):
    """A set bit read as +1: the negative controls' broken ``set_mask``."""
    return bb.unpack_signs(words, n) > 0


@pytest.mark.parametrize("backend", BIT_BACKENDS)
def test_finite_differences_catch_a_wrong_mask_convention(rng, monkeypatch, backend):
    """Negative control: the same check fails when a set bit is read as +1."""
    x, W, b = rng.standard_normal((4, 70)), rng.standard_normal((3, 70)), rng.standard_normal(3)
    monkeypatch.setattr(lut if backend == "bits-fast" else bb, "set_mask", wrong_mask)
    errs = check_op(bits_dense_forward, bits_dense_backward, [x, W, b], order=2, sign_fn=TRUE_SIGN,
                    backend=backend)
    assert max(errs[0], errs[1]) > 0.1, errs


@pytest.mark.parametrize("backend", BIT_BACKENDS)
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_one_training_step_equals_the_float_backward(arch, backend):
    """Parameters after one SGD step agree; a step moves them by lr * grad, so the gradients'
    relative rounding bound carries over. 1e-9 of the largest step: the forward passes differ by
    ~1e-16 relative (the bits forward sums its scaled dots in another order), which batch norm's
    division by a batch standard deviation can amplify by a few orders of magnitude, no more.

    The HORQ layers' row lengths are odd (25 units, 5 channels x 9): a ±1 dot product is then never
    0, so no output sits exactly on the ReLU's kink in one model and a rounding error away from it
    in the other (with an even length such ties occur and flip the ReLU's mask)."""
    rng = np.random.default_rng(5)
    x, y = rng.random((8, 1, 28, 28)), rng.integers(0, 10, 8)
    kw = dict(hidden=25, channels=(5, 6), seed=1, dtype=np.float64)
    models = [build_model(arch, "horq2", backend=be, **kw) for be in ("float", backend)]
    before = {k: v.copy() for k, v in models[0].params.items()}
    for m in models:
        m.backward(softmax_cross_entropy(m.forward(x, train=True), y)[1])
        SGD(lr=0.5, momentum=0.0).step(m.params, m.grads)
    (pf, pb), moved = (models[0].params, models[1].params), 0.0
    for k in pf:
        step = np.max(np.abs(pf[k] - before[k]))
        moved = max(moved, step)
        assert np.max(np.abs(pb[k] - pf[k])) <= 1e-9 * max(step, 1e-12), k
    assert moved > 1e-3  # the step did something


# ---- a short training run ----------------------------------------------------------------------


def test_training_with_the_binary_backward_reaches_the_float_accuracy(monkeypatch):
    """HORQ-2 MLPs trained 3 epochs on a stratified subset of the embedded digits, same seed, on the
    float backend and on both bit backends (reference sums and table lookup).

    Noise: on n test images an accuracy p has standard error sqrt(p (1 - p) / n); the difference of
    two such accuracies, sqrt(2 p (1 - p) / n) (~0.014 at p = 0.9, n = 1000) if they were
    independent -- an upper bound here, as the runs start alike and see the same batches, and
    diverge only where float32 rounding flips a sign. The test allows 3 of these. Negative control:
    reading set bits as +1 in the backward pass makes the same run fail to learn, on either backend."""
    from horq_ref.data.datasets import load_dataset
    from horq_ref.nn.train import train

    ds = load_dataset(limit_train=2000, limit_test=1000)
    n = len(ds.y_test)

    def accuracy(backend):
        model = build_model("mlp", "horq2", hidden=64, seed=0, backend=backend)
        hist = train(model, ds, epochs=3, batch_size=50, lr=3e-3, seed=0, log=None)
        return hist[-1]["test_acc"]

    acc_f = accuracy("float")
    for backend, module in zip(BIT_BACKENDS, (bb, lut)):
        acc_b = accuracy(backend)
        p = (acc_f + acc_b) / 2
        sigma = np.sqrt(2 * p * (1 - p) / n)
        assert acc_f > 0.8 and acc_b > 0.8, (backend, acc_f, acc_b)
        assert abs(acc_b - acc_f) <= 3 * sigma, (backend, acc_f, acc_b, sigma)
        with monkeypatch.context() as patched:
            patched.setattr(module, "set_mask", wrong_mask)
            acc_wrong = accuracy(backend)
        assert acc_wrong < acc_f - 10 * sigma, (backend, acc_f, acc_wrong)
