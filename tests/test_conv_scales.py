"""The scales keyword of the binary layers: both backends equal a direct evaluation of the variant."""

import numpy as np
import pytest

from horq_ref import horq_conv2d, horq_linear
from horq_ref.cost import refit_cost
from horq_ref.im2col import im2col
from horq_ref.scales import SCALES, quantize_with


def direct(x, w, order, padding, scales):
    """Y[n, f, p] = alpha_f sum_i beta_i[n, p] (B_f . H_i[n, p]), from quantize_with on the columns."""
    e = quantize_with(im2col(x, 3, 3, 1, padding), order, -1, scales)  # (K, N, P, D)
    B = np.where(w.reshape(w.shape[0], -1) >= 0, 1.0, -1.0)
    alpha = np.abs(w).mean(axis=(1, 2, 3))
    Y = np.einsum("knp,knpd,fd->nfp", e.betas[..., 0], e.signs.astype(float), B) * alpha[:, None]
    return Y.reshape(x.shape[0], w.shape[0], x.shape[2] + 2 * padding - 2, -1)


@pytest.mark.parametrize("scales", SCALES)
@pytest.mark.parametrize("backend", ["float", "bits"])
def test_conv_matches_the_direct_formula(scales, backend, rng):
    x = np.maximum(rng.standard_normal((2, 3, 6, 6)), 0)  # post-ReLU: the refit matters here
    w = rng.standard_normal((4, 3, 3, 3))
    y = horq_conv2d(x, w, 3, padding=1, backend=backend, scales=scales)
    np.testing.assert_allclose(y, direct(x, w, 3, 1, scales), rtol=1e-12, atol=1e-12)


def test_refit_keeps_the_planes_and_changes_the_output(rng):
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    _, tg = horq_conv2d(x, w, 2, backend="bits", return_intermediates=True)
    _, tr = horq_conv2d(x, w, 2, backend="bits", return_intermediates=True, scales="refit")
    np.testing.assert_array_equal(tg.planes, tr.planes)
    assert np.abs(tg.Y.sum(0) - tr.Y.sum(0)).max() > 1e-3  # negative control: the scales differ


@pytest.mark.parametrize("scales", SCALES)
def test_linear_backends_agree(scales, rng):
    x, w = rng.standard_normal((5, 70)), rng.standard_normal((3, 70))
    np.testing.assert_allclose(horq_linear(x, w, 3, scales=scales),
                               horq_linear(x, w, 3, backend="bits", scales=scales), rtol=1e-12)


def test_bad_scales_is_rejected():
    with pytest.raises(ValueError, match="scales"):
        horq_linear(np.ones((1, 2)), np.ones((1, 2)), 1, scales="best")


def test_refit_cost_counts():
    c = refit_cost(64, 3)
    assert c == {"word_ops": 3, "float_ops": 3 * 64 + 27, "greedy_float_ops": 3 * 3 * 64}
    assert refit_cost(576, 1)["word_ops"] == 0
