"""The MLP and the CNN (horq_ref.nn.models): the interface the training loop relies on.

Whole-network gradient checks are in test_gradcheck.py.
"""


import numpy as np
import pytest
from support import npz_roundtrip

from horq_ref.nn.blocks import Activation, BatchNorm, Conv, Dense
from horq_ref.data import load_embedded_mnist
from horq_ref.nn.layers import dense_forward, relu_forward
from horq_ref.nn.losses import softmax_cross_entropy
from horq_ref.ste import smooth_sign
from horq_ref.nn.models import build_model
from horq_ref.nn.norm import batchnorm_forward
from horq_ref.nn.optim import Adam
from horq_ref.quantize import residual_quantize

METHODS = ["float", "horq1", "horq2", "horq3"]


def batch(n=8, seed=0, shape=(1, 28, 28)):
    return np.random.default_rng(seed).random((n,) + shape, dtype=np.float32)


def weighted(model):
    return [l for l in model.layers if isinstance(l, (Dense, Conv))]


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("method", METHODS)
def test_forward_backward_interface(arch, method):
    model = build_model(arch, method)
    z = model.forward(batch(), train=True)
    assert z.shape == (8, 10) and z.dtype == np.float32
    _, dz = softmax_cross_entropy(z, np.arange(8))
    dx = model.backward(dz)
    assert dx.shape == (8, 1, 28, 28)
    grads = model.grads
    assert list(grads) == list(model.params)
    for k, p in model.params.items():
        assert grads[k].shape == p.shape and grads[k].dtype == np.float32
    assert any(np.any(g != 0) for g in grads.values())


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_first_and_last_layers_stay_full_precision(arch):
    for method, K in [("float", None), ("horq1", 1), ("horq2", 2), ("horq3", 3)]:
        model = build_model(arch, method)
        layers = weighted(model)
        assert layers[0].order is None and layers[-1].order is None
        assert all(l.order == K and l.binary_weights == (K is not None) for l in layers[1:-1])
        assert model.binarized == {f"{l.name}.W" for l in layers[1:-1] if K is not None}
        assert model.config["order"] == K


def test_order_override_and_method_horq():
    assert build_model("mlp", "horq", order=5).config["order"] == 5
    assert weighted(build_model("cnn", "horq2", order=4))[1].order == 4
    with pytest.raises(ValueError, match="order"):
        build_model("mlp", "horq")
    with pytest.raises(ValueError, match="order"):
        build_model("mlp", "float", order=2)
    with pytest.raises(ValueError, match="order"):
        build_model("mlp", "horq", order=0)


def test_same_seed_same_weights_and_stable_names():
    a, b, c = (build_model("cnn", "horq2", seed=s) for s in (7, 7, 8))
    assert list(a.params) == list(b.params) == list(c.params)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params if k.endswith(".W"))
    # The float and HORQ versions of an architecture start from the same weights.
    f = build_model("cnn", "float", seed=7)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], f.params[k])


def test_num_params_and_describe():
    model = build_model("mlp", "horq2")
    expected = (784 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10) + 2 * (2 * 512)  # + BN
    assert model.num_params == expected
    text = model.describe()
    for name in ("fc1", "fc2", "fc3", "bn1", "relu1", "flatten"):
        assert name in text
    assert "input order 2" in text and "full precision" in text
    assert [l.name for l in build_model("mlp", hidden=(32, 16, 8)).layers if isinstance(l, Dense)] == [
        "fc1", "fc2", "fc3", "fc4"]
    assert build_model("mlp", hidden=64).params["fc2.W"].shape == (64, 64)


def test_cnn_geometry_and_other_inputs():
    model = build_model("cnn", channels=(4, 6, 8), input_shape=(3, 32, 32))
    pools = [l for l in model.layers if l.name.startswith("pool")]
    assert len(pools) == 3  # 32 -> 16 -> 8 -> 4, all even
    assert model.params["fc.W"].shape == (10, 8 * 4 * 4)
    assert model.forward(batch(2, shape=(3, 32, 32)), train=False).shape == (2, 10)
    assert build_model("cnn").params["fc.W"].shape == (10, 32 * 7 * 7)  # 28 -> 14 -> 7 (odd: stop)


def test_hidden_block_order_and_the_relu_ablation():
    kinds = [type(l).__name__ for l in build_model("mlp").layers]
    block = ["Dense", "Activation", "BatchNorm"]
    assert kinds == ["Flatten"] + block + block + ["Dense"]
    assert not any(isinstance(l, Activation) for l in build_model("cnn", hidden_relu=False).layers)
    # Without the ReLU the float MLP is affine in eval mode; with it, it is not.
    x1, x2 = batch(4, 1), batch(4, 2)
    for relu, affine in [(False, True), (True, False)]:
        m = build_model("mlp", hidden_relu=relu, hidden=16)
        mix = m.forward(0.3 * x1 + 0.7 * x2, train=False)
        comb = 0.3 * m.forward(x1, train=False) + 0.7 * m.forward(x2, train=False)
        # float32 sums of O(1) terms: an affine map agrees to ~1e-5; the ReLU breaks it by O(0.1).
        assert np.allclose(mix, comb, atol=1e-4) == affine


def test_state_dict_roundtrip_restores_outputs_in_place():
    a = build_model("cnn", "horq2", seed=1)
    a.forward(batch(16, 3), train=True)  # moves the running statistics off their initial values
    state = a.state_dict()
    assert "bn1.running_mean" in state and "bn2.running_var" in state
    assert set(state) - {f"{l.name}.running_{s}" for l in a.layers if isinstance(l, BatchNorm)
                         for s in ("mean", "var")} == set(a.params)
    b = build_model("cnn", "horq2", seed=2)
    arrays = {k: v for k, v in b.params.items()}
    b.load_state_dict(npz_roundtrip(state))
    assert all(b.params[k] is arrays[k] for k in arrays)  # copied into the same arrays
    np.testing.assert_array_equal(a.forward(batch(4), train=False), b.forward(batch(4), train=False))
    with pytest.raises(ValueError, match="keys"):
        b.load_state_dict({k: v for k, v in state.items() if k != "fc.b"})
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({**state, "fc.b": np.zeros(3)})


def manual_mlp(model, x, K):
    """The float MLP in eval mode with fc2's and fc3's inputs replaced by order-K expansions."""
    p, (bn1, bn2) = model.params, [l.bn_param for l in model.layers if isinstance(l, BatchNorm)]
    h = x.reshape(len(x), -1)
    for i, bn in ((1, bn1), (2, bn2)):
        h = relu_forward(dense_forward(h, p[f"fc{i}.W"], p[f"fc{i}.b"])[0])[0]
        h = batchnorm_forward(h, p[f"bn{i}.gamma"], p[f"bn{i}.shift"], dict(bn, mode="eval"))[0]
        h = residual_quantize(h, K, axis=-1).reconstruct()
    return dense_forward(h, p["fc3.W"], p["fc3.b"])[0]


def test_post_training_quantization():
    model = build_model("mlp", hidden=32)
    x = batch(6)
    model.forward(batch(64, 5), train=True)
    ref = model.forward(x, train=False)
    model.set_input_order(2)
    # float32 through the same operations in a different grouping: ~1e-6 relative.
    np.testing.assert_allclose(model.forward(x, train=False), manual_mlp(model, x, 2), rtol=1e-4, atol=1e-5)
    errors = []
    for K in (1, 8, 96):
        model.set_input_order(K)
        errors.append(np.max(np.abs(model.forward(x, train=False) - ref)))
    # -> float as K grows. Slowly: rows of post-ReLU units with many near-zero entries lose only
    # ~7 % of their residual norm per order after the first few, so K = 96 is needed for 1e-2.
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-2 * np.max(np.abs(ref))
    model.set_input_order(1, include_last=False)
    assert [l.input_order for l in weighted(model)] == [None, 1, None]
    model.set_input_order(None)
    np.testing.assert_array_equal(model.forward(x, train=False), ref)
    h = build_model("mlp", "horq2", hidden=32)
    h.set_input_order(3)
    assert [l.input_order for l in weighted(h)] == [None, 3, 3] and h.binarized == {"fc2.W"}
    h.set_input_order(None)
    assert [l.input_order for l in weighted(h)] == [None, 2, None]
    with pytest.raises(ValueError, match="order"):
        h.set_input_order(0)


def test_a_few_steps_learn_a_batch():
    images, labels = load_embedded_mnist()
    idx = np.arange(0, 5000, 50)  # the file is sorted by label: 10 images of each digit
    x, y = (images[idx, None] / np.float32(255)).astype(np.float32), labels[idx].astype(np.int64)
    assert np.bincount(y).tolist() == [10] * 10
    for arch in ("mlp", "cnn"):
        model = build_model(arch, "horq2", hidden=64, channels=(4, 8), seed=0)
        opt = Adam(lr=1e-2, clip_names=model.binarized)
        first = None
        for _ in range(20):
            loss, dz = softmax_cross_entropy(model.forward(x, train=True), y)
            first = loss if first is None else first
            model.backward(dz)
            opt.step(model.params, model.grads)
        # Initial loss ~ ln 10 = 2.3; 20 full-batch Adam steps on 100 images must cut it far below.
        assert loss < 0.25 * first, (arch, first, loss)
        assert all(np.max(np.abs(model.params[k])) <= 1 for k in model.binarized)


def test_bits_backend_model_matches_float_in_eval():
    pytest.importorskip("horq_ref.conv")
    for arch in ("mlp", "cnn"):
        f = build_model(arch, "horq2", hidden=32, seed=3)
        f.forward(batch(16, 4), train=True)
        b = build_model(arch, "horq2", hidden=32, seed=0, backend="bits")
        b.load_state_dict(f.state_dict())
        x = batch(4)
        # The bit kernels' integer dots are exact; float32 rounding of the scaled sums differs.
        np.testing.assert_allclose(b.forward(x, train=False), f.forward(x, train=False), rtol=1e-4, atol=1e-4)
        fast = build_model(arch, "horq2", hidden=32, seed=0, backend="bits-fast")
        fast.load_state_dict(f.state_dict())
        np.testing.assert_array_equal(fast.forward(x, train=False), b.forward(x, train=False))
        # Both train too (a training forward updates the batch-norm statistics, so it comes last);
        # equality of the gradients with the float backward: tests/test_binary_backward.py.
        b.forward(x, train=True)
        assert np.isfinite(b.backward(np.ones((4, 10), np.float32))).all()
        fast.forward(x, train=True)
        assert np.isfinite(fast.backward(np.ones((4, 10), np.float32))).all()


def test_float64_models_and_errors():
    m = build_model("mlp", "horq1", dtype=np.float64, hidden=8)
    assert all(p.dtype == np.float64 for p in m.params.values())
    assert m.forward(batch(2), train=False).dtype == np.float64
    with pytest.raises(ValueError, match="preceding forward"):
        build_model("mlp", hidden=8).backward(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="x must"):
        m.forward(np.zeros((2, 1, 27, 28)), train=False)
    for kwargs, name in [
        (dict(arch="rnn"), "arch"), (dict(method="xnor"), "method"), (dict(ste="clip"), "ste"),
        (dict(backend="gpu"), "backend"), (dict(dtype=np.int32), "dtype"),
        (dict(input_shape=(28, 28)), "input_shape"), (dict(num_classes=1), "num_classes"),
        (dict(hidden=(0,)), "hidden"), (dict(arch="cnn", channels=()), "channels"),
        (dict(backend="bits", scales="refit"), "greedy scales"),
        (dict(backend="bits-fast", sign_fn=smooth_sign(0.5)), "true sign"),
    ]:
        with pytest.raises(ValueError, match=name):
            build_model(**{"arch": "mlp", "method": "horq2", **kwargs})


def test_set_input_scales_sets_every_quantized_input_and_restores():
    m = build_model("cnn", "horq2", channels=(2, 3), scales="refit")
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    m.set_input_scales("alternating")
    assert {l.input_scales for l in weighted(m)} == {"alternating"}
    alt = m.forward(x, train=False)
    m.set_input_scales(None)  # back to the built variant
    assert {l.input_scales for l in weighted(m)} == {"refit"}
    assert not np.allclose(m.forward(x, train=False), alt)  # the setting reaches the quantizer
    with pytest.raises(ValueError, match="scales must be one of"):
        m.set_input_scales("median")
    with pytest.raises(ValueError, match="evaluation only"):  # alternating scales have no backward
        m.set_input_scales("alternating")
        m.forward(x, train=True)
        m.backward(np.ones((2, 10), np.float32))
