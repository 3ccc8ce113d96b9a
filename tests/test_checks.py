"""One convention for argument checks (horq_ref.checks), everywhere an order is taken.

TypeError for a wrong type (``order=1.5``, ``order=True``), ValueError for a wrong value
(``order=0``), NumPy integers accepted like Python ints.
"""

import numpy as np
import pytest

from horq_ref import checks, cost, theory
from horq_ref.experiments import tasks
from horq_ref.conv import horq_conv2d, horq_linear
from horq_ref.nn.conv_layers import horq_conv2d_forward
from horq_ref.nn.layers import horq_dense_forward
from horq_ref.nn.models import build_model
from horq_ref.quantize import expand, residual_quantize
from horq_ref.ste import quantizer_forward, quantizer_jacobian

X2, W2 = np.array([[1.0, -2.0, 0.5]]), np.array([[1.0, 1.0, -1.0]])
X4, W4 = np.ones((1, 2, 3, 3)), np.ones((1, 2, 2, 2))

# every public function that takes an order K >= 1, as ``order -> call``
TAKES_ORDER = {
    "residual_quantize": lambda K: residual_quantize(X2, K),
    "expand": lambda K: expand(X2, K),
    "horq_conv2d float": lambda K: horq_conv2d(X4, W4, K),
    "horq_conv2d bits": lambda K: horq_conv2d(X4, W4, K, backend="bits"),
    "horq_conv2d bits-fast": lambda K: horq_conv2d(X4, W4, K, backend="bits-fast"),
    "horq_linear": lambda K: horq_linear(X2, W2, K),
    "quantizer_forward": lambda K: quantizer_forward(X2, K),
    "quantizer_jacobian": lambda K: quantizer_jacobian(X2[0], K),
    "horq_dense_forward": lambda K: horq_dense_forward(X2, W2, np.zeros(1), K),
    "horq_conv2d_forward": lambda K: horq_conv2d_forward(X4, W4, np.zeros(1), K),
    "bound_report": lambda K: tasks.bound_report(X2, K),
    "speedup": lambda K: cost.speedup(64, 3, 3, K),
    "layer_cost": lambda K: cost.layer_cost(64, 3, 3, 16, 8, K),
    "build_model": lambda K: build_model("mlp", "horq", order=K, hidden=4),
    "Model.set_input_order": lambda K: build_model("mlp", "float", hidden=4).set_input_order(K),
}
# functions where order 0 is meaningful (the input itself): K >= 0
TAKES_ORDER_FROM_ZERO = {
    "worst_case_bound": lambda K: theory.worst_case_bound(5, K),
    "refined_bound": lambda K: theory.refined_bound(5, K),
    "closed_form_ratio": lambda K: theory.closed_form_ratio("uniform", K),
}
ALL = {**TAKES_ORDER, **TAKES_ORDER_FROM_ZERO}


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("bad", [1.5, True, "2"])  # None means "no quantization" in some layers
def test_a_non_integer_order_is_a_type_error(name, bad):
    with pytest.raises(TypeError, match="order must be an integer"):
        ALL[name](bad)


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_numpy_integer_order_is_accepted(name):
    ALL[name](np.int64(2))
    ALL[name](np.uint8(1))


@pytest.mark.parametrize("name", sorted(ALL))
def test_an_order_out_of_range_is_a_value_error(name):
    low = 0 if name in TAKES_ORDER_FROM_ZERO else 1
    with pytest.raises(ValueError, match=f"order must be >= {low}"):
        ALL[name](low - 1)
    ALL[name](low)  # the boundary itself is fine


def test_check_int_and_check_real():
    assert checks.check_int(np.int32(4), "n", minimum=1, maximum=4) == 4
    assert type(checks.check_int(np.int64(4), "n")) is int
    for bad, error in ((np.bool_(True), TypeError), (4.0, TypeError), (5, ValueError)):
        with pytest.raises(error, match="n must"):
            checks.check_int(bad, "n", maximum=4)
    assert checks.check_real(np.float32(0.5), "lr") == 0.5 and checks.check_real(2, "lr") == 2.0
    for bad, error in ((True, TypeError), ("1", TypeError), (float("inf"), ValueError), (0.0, ValueError)):
        with pytest.raises(error, match="lr must"):
            checks.check_real(bad, "lr", minimum=0.0, exclusive_minimum=True)
    assert checks.check_real(float("inf"), "x", finite=False) == float("inf")


def test_check_choice_and_axis():
    assert checks.check_choice("bits", "backend", ("float", "bits")) == "bits"
    with pytest.raises(ValueError, match=r"backend must be one of \('float', 'bits'\), got 'gpu'"):
        checks.check_choice("gpu", "backend", ("float", "bits"))
    with pytest.raises(TypeError, match="backend must be one of"):
        checks.check_choice(1, "backend", ("float", "bits"))
    assert checks.normalize_axis(np.int64(-1), 3) == (2,)
    with pytest.raises(TypeError, match="axis must contain ints"):
        checks.normalize_axis((True,), 3)


def test_the_order_test_can_fail(monkeypatch):
    # negative control: the test above, run on a function that skipped the check (rounding 1.5
    # down, or letting range() complain without naming the argument), fails
    for unchecked in (lambda K: list(range(int(K))), lambda K: list(range(K))):
        monkeypatch.setitem(ALL, "unchecked", unchecked)
        with pytest.raises((pytest.fail.Exception, AssertionError)):
            test_a_non_integer_order_is_a_type_error("unchecked", 1.5)
