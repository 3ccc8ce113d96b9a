"""The PyTorch quantizer of docs/frameworks.md gives horq_ref's values and chain-STE gradients."""

import numpy as np
import pytest

from horq_ref.ste import SIGN_STE, quantizer_backward, quantizer_forward

torch = pytest.importorskip("torch", reason="PyTorch is optional: pip install torch to run the "
                                            "framework bridge tests (docs/frameworks.md)")

from horq_ref.interop.torch_quantizer import binary_sign, horq_quantize  # noqa: E402

CASES = [((4, 9), 1, -1), ((4, 9), 3, -1), ((3, 2, 5), 2, (0, 2)), ((7,), 4, None), ((2, 3, 4), 2, 1)]


@pytest.mark.parametrize("shape, order, axis", CASES)
def test_values_and_gradients_match_horq_ref(shape, order, axis):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 0.8
    x.flat[0], x.flat[1] = 0.0, 1.0  # a zero and an entry on the window's edge
    g = rng.standard_normal(shape)
    ref, cache = quantizer_forward(x, order, axis, sign_fn=SIGN_STE, ste="chain")
    ref_grad = quantizer_backward(g, cache)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = horq_quantize(xt, order, dim=axis)
    (out * torch.tensor(g)).sum().backward()
    # Same float64 operations in the same order: agreement to rounding (1e-12 relative).
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), ref_grad, rtol=1e-12, atol=1e-12)


def test_a_forgotten_beta_path_would_be_caught():  # negative control of the gradient comparison
    x = np.random.default_rng(1).standard_normal((2, 6))
    g = np.ones_like(x) + np.arange(6)
    _, cache = quantizer_forward(x, 1, -1)
    xt = torch.tensor(x, requires_grad=True)
    (horq_quantize(xt, 1) * torch.tensor(g)).sum().backward()
    beta = np.mean(np.abs(x), -1, keepdims=True)
    plane_only = beta * (np.abs(x) <= 1) * g
    assert not np.allclose(xt.grad.numpy(), plane_only)
    np.testing.assert_allclose(xt.grad.numpy(), quantizer_backward(g, cache), rtol=1e-12)


def test_sign_of_zero_is_plus_one_here_and_zero_in_torch():
    z = torch.tensor([0.0, -0.0, -2.0, 3.0])
    assert binary_sign(z).tolist() == [1.0, 1.0, -1.0, 1.0]
    assert torch.sign(z)[0].item() == 0.0  # PyTorch's default, documented with torch.sign


def test_float32_stays_float32():
    out = horq_quantize(torch.randn(3, 8), 2)
    assert out.dtype == torch.float32 and out.shape == (3, 8)


def test_torch_sign_has_no_straight_through_gradient():  # why the autograd.Function is needed
    x = torch.tensor([-0.5, 0.2, 3.0], requires_grad=True)
    torch.sign(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
