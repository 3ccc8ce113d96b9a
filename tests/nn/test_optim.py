"""Optimizers and schedules (horq_ref.nn.optim): hand-computed steps, convergence, clipping, state."""

import math

import numpy as np
import pytest
from support import npz_roundtrip

from horq_ref.nn.optim import SGD, Adam, constant_lr, cosine_lr, make_optimizer, make_schedule, step_lr

# One or two float64 updates of O(1) numbers: rounding is ~1e-16.
STEP_TOL = 1e-12


def quadratic_grad(params, a=2.0):
    """Gradient of f(w) = a/2 * |w|^2."""
    return {k: a * v for k, v in params.items()}


def test_sgd_momentum_by_hand():
    # w0 = 1, f = w^2 (g = 2w), lr 0.1, mu 0.9:
    # g0 = 2, v1 = 2, w1 = 1 - 0.2 = 0.8; g1 = 1.6, v2 = 0.9*2 + 1.6 = 3.4, w2 = 0.8 - 0.34 = 0.46.
    p, opt = {"w": np.array([1.0])}, SGD(lr=0.1, momentum=0.9)
    opt.step(p, quadratic_grad(p))
    assert p["w"][0] == pytest.approx(0.8, abs=STEP_TOL)
    opt.step(p, quadratic_grad(p))
    assert p["w"][0] == pytest.approx(0.46, abs=STEP_TOL)


def test_sgd_nesterov_and_weight_decay_by_hand():
    # Nesterov: w1 = w0 - lr (g0 + mu v1) = 1 - 0.1 (2 + 0.9 * 2) = 0.62.
    p, opt = {"w": np.array([1.0])}, SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.step(p, quadratic_grad(p))
    assert p["w"][0] == pytest.approx(0.62, abs=STEP_TOL)
    # Weight decay 0.5 acts on the 2-D weight only: g = 2 + 0.5 = 2.5 -> 1 - 0.25; the bias
    # (1-D) moves by lr * 2 = 0.2.
    p = {"W": np.ones((1, 1)), "b": np.ones(1)}
    SGD(lr=0.1, momentum=0.0, weight_decay=0.5).step(p, quadratic_grad(p))
    assert p["W"][0, 0] == pytest.approx(0.75, abs=STEP_TOL)
    assert p["b"][0] == pytest.approx(0.8, abs=STEP_TOL)


def test_adam_by_hand():
    # w0 = 1, g = 2w, lr 0.1, b1 0.9, b2 0.999, eps 1e-8.
    # t=1: m = 0.2, v = 0.004; m_hat = 2, v_hat = 4; w1 = 1 - 0.1 * 2 / (2 + 1e-8).
    p, opt = {"w": np.array([1.0])}, Adam(lr=0.1)
    opt.step(p, quadratic_grad(p))
    w1 = 1 - 0.1 * 2 / (2 + 1e-8)
    assert p["w"][0] == pytest.approx(w1, abs=STEP_TOL)
    # t=2: g = 2 w1; m = 0.9*0.2 + 0.1 g; v = 0.999*0.004 + 0.001 g^2.
    g = 2 * w1
    m, v = 0.18 + 0.1 * g, 0.999 * 0.004 + 0.001 * g * g
    w2 = w1 - 0.1 * (m / (1 - 0.81)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    opt.step(p, quadratic_grad(p))
    assert p["w"][0] == pytest.approx(w2, abs=STEP_TOL)


@pytest.mark.parametrize("opt", [SGD(lr=0.05, momentum=0.9), SGD(lr=0.05, nesterov=True), Adam(lr=0.05)])
def test_convergence_on_an_ill_conditioned_quadratic(opt):
    a = np.array([1.0, 3.0, 10.0])  # f = sum a_i w_i^2 / 2, condition number 10
    p = {"w": np.array([1.0, -2.0, 0.5])}
    for _ in range(500):
        opt.step(p, {"w": a * p["w"]})
    assert np.max(np.abs(p["w"])) < 1e-4  # the minimum is 0; each method contracts geometrically here


def test_clipping_of_binarized_latent_weights():
    p = {"fc2.W": np.array([[0.95, -0.95]]), "fc1.W": np.array([[0.95, -0.95]])}
    g = {k: np.array([[-1.0, 1.0]]) for k in p}
    SGD(lr=0.2, momentum=0.0, clip_names={"fc2.W"}).step(p, g)
    np.testing.assert_array_equal(p["fc2.W"], [[1.0, -1.0]])
    np.testing.assert_allclose(p["fc1.W"], [[1.15, -1.15]], rtol=1e-12)  # not clipped


def test_updates_are_in_place_and_keep_dtype():
    W = np.ones((2, 3), dtype=np.float32)
    p = {"W": W}
    for opt in (SGD(lr=0.1), Adam(lr=0.1)):
        opt.step(p, {"W": np.ones((2, 3), dtype=np.float32)})
        assert p["W"] is W and W.dtype == np.float32


@pytest.mark.parametrize("make", [lambda: SGD(lr=0.1, momentum=0.9, nesterov=True), lambda: Adam(lr=0.1)])
def test_state_dict_resumes_exactly(make):
    a = np.array([1.0, 3.0])
    p1, p2 = {"w": np.array([1.0, -1.0])}, None
    opt = make()
    for _ in range(3):
        opt.step(p1, {"w": a * p1["w"]})
    p2, resumed = {"w": p1["w"].copy()}, make()
    resumed.lr = 123.0  # overwritten by the state
    resumed.load_state_dict(npz_roundtrip(opt.state_dict()))
    for _ in range(3):
        opt.step(p1, {"w": a * p1["w"]})
        resumed.step(p2, {"w": a * p2["w"]})
    np.testing.assert_array_equal(p1["w"], p2["w"])
    assert resumed.t == opt.t == 6 and resumed.lr == 0.1


def test_load_state_dict_rejects_foreign_keys():
    state = SGD(lr=0.1).state_dict()
    with pytest.raises(ValueError, match="unknown key"):
        SGD(lr=0.1).load_state_dict({**state, "m.w": np.zeros(1)})
    with pytest.raises(ValueError, match="lacks"):
        Adam().load_state_dict({"lr": 0.1})


def test_schedules():
    assert [constant_lr(0.5)(e) for e in (0, 10)] == [0.5, 0.5]
    assert [step_lr(1.0, 3, 0.1)(e) for e in (0, 2, 3, 6)] == pytest.approx([1.0, 1.0, 0.1, 0.01])
    cos = cosine_lr(1.0, 10, lr_min=0.1)
    assert cos(0) == pytest.approx(1.0) and cos(10) == pytest.approx(0.1) and cos(20) == pytest.approx(0.1)
    assert cos(5) == pytest.approx(0.55)  # halfway: the mean of lr and lr_min
    lrs = [cos(e) for e in range(11)]
    assert all(x > y for x, y in zip(lrs, lrs[1:]))
    assert make_schedule("step", 1.0, step_size=2)(2) == pytest.approx(0.1)
    assert make_schedule("cosine", 1.0, epochs=4)(2) == pytest.approx(0.5)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="lr"):
        SGD(lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=1.0)
    with pytest.raises(ValueError, match="beta2"):
        Adam(beta2=1.5)
    with pytest.raises(ValueError, match="name"):
        make_optimizer("rmsprop", 0.1)
    with pytest.raises(ValueError, match="name"):
        make_schedule("linear", 0.1)
    with pytest.raises(TypeError, match="epochs must be an integer"):  # missing: None
        make_schedule("cosine", 0.1)
    with pytest.raises(ValueError, match="step_size"):
        step_lr(0.1, 0)
    with pytest.raises(TypeError, match="step_size"):
        step_lr(0.1, True)
    assert step_lr(1.0, np.int64(2), 0.5)(2) == 0.5  # NumPy integers are integers
    assert cosine_lr(1.0, np.int64(4))(4) == 0.0
    p = {"w": np.ones(2)}
    with pytest.raises(ValueError, match="grads"):
        SGD().step(p, {"v": np.ones(2)})
    with pytest.raises(ValueError, match="clip_names"):
        SGD(clip_names={"x"}).step(p, {"w": np.ones(2)})
    with pytest.raises(ValueError, match="shape"):
        SGD().step(p, {"w": np.ones(3)})
