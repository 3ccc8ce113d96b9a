"""The notebooks' figures (notebooks/figures.py), each drawn on tiny inputs (Agg backend): the expected
axes (panels plus one per colorbar), at least 700 px wide, text of at least 10 pt."""

import importlib.util
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import pytest
from support import assert_readable_figure

from horq_ref import residual_quantize
from horq_ref.cost import backward_cost, layer_cost
from horq_ref.ste import SIGN_STE, smooth_sign

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"


def _module(path):
    """``notebooks/figures.py`` as a module (the notebooks import it from their own folder)."""
    spec = importlib.util.spec_from_file_location("figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = _module(NOTEBOOKS / "figures.py")

_RNG = np.random.default_rng(0)
_IMG = _RNG.random((6, 6))
_E = residual_quantize(_IMG, 2)                           # one group: the whole image
_E_ROWS = residual_quantize(_IMG, 2, axis=1)              # one group per row
_ROW = _RNG.standard_normal(64)
_R = np.sort(_RNG.random((4, 10)), axis=0)[::-1]          # (K+1, M) decreasing errors
_SIGNS = np.where(_RNG.random(70) < 0.5, -1, 1)
_PLANES = np.where(_RNG.random((2, 16, 9)) < 0.5, -1, 1)  # (K, P, 9) for a 4x4 image
_Y = _RNG.standard_normal((2, 4, 4))
_K = (1, 2)
_FWD = [layer_cost(8, 3, 3, positions=4, filters=2, order=K) for K in _K]
_BWD = [backward_cost(8, 3, 3, rows=4, filters=2, order=K) for K in _K]
_X = np.maximum(_RNG.standard_normal(32), 0)
_ACC = {m: [0.9, 0.91] for m in ("float", "horq1", "horq2", "horq3")}
_RUNS = [{"model": "mlp", "method": "float", "test_accuracy": 0.95}]
_PTQ = [{"model": "mlp", "order": k, "test_accuracy": 0.7 + 0.05 * k} for k in (1, 2, 3, 4)]
_XS = np.linspace(-2, 2, 9)

# {figure function: (maker, number of axes: panels plus one per colorbar)}, by concept as in
# notebooks/figures.py
CASES = {
    # the quantizer: levels and scales
    "plot_levels": (lambda: figures.plot_levels(_XS, {1: np.sign(_XS)}), 1),
    "plot_orders_of_image": (lambda: figures.plot_orders_of_image(np.eye(4), {1: np.ones((4, 4))}), 3),
    "plot_planes_and_residuals": (lambda: figures.plot_planes_and_residuals(_IMG, _E), 6 + 2),
    "plot_levels_histogram": (lambda: figures.plot_levels_histogram(_IMG, _E), 2),
    "plot_row_levels": (lambda: figures.plot_row_levels(_ROW, {K: residual_quantize(_ROW, K) for K in _K}), 2),
    "plot_levels_used": (lambda: figures.plot_levels_used(
        _X, {"mean": (np.array([0.2, 1.0]), np.array([0.2])), "optimal": (np.array([0.5]), np.array([0.5]))}), 1),
    "plot_row_scales": (lambda: figures.plot_row_scales(_E_ROWS, {1: 0.3, 2: 0.1}), 3 + 1),
    "plot_scales_over_dataset": (lambda: figures.plot_scales_over_dataset(_R[:2], _R[1] / _R[0]), 2),
    "plot_scale_growth": (lambda: figures.plot_scale_growth([2, 3], [1.0, 4 / 3], [1.0, 4 / 3], _R[:2]), 2),
    # the error guarantee
    "plot_identity_check": (lambda: figures.plot_identity_check(_R, _R, {"a": _R * 1e-16}, 1e-16, 2), 2),
    "plot_small_group_errors": (lambda: figures.plot_small_group_errors(_R, 4, np.random.default_rng(1), 5), 1),
    "plot_closed_form_approach": (lambda: figures.plot_closed_form_approach(
        [4, 16], {("normal", 1): [0.1, 0.01]}, {("normal", 1): [0.01, 0.001]}), 1),
    "plot_contraction_per_order": (lambda: figures.plot_contraction_per_order({"normal": [0.4, 0.3]}, 8, 10), 1),
    "plot_order_one_worst": (lambda: figures.plot_order_one_worst([2, 3], [0.5, 0.67], [0.5, 0.67], [0.4, 0.5]), 1),
    "plot_two_order_search": (lambda: figures.plot_two_order_search([3, 4], [0.2, 0.3], [0.1, 0.2]), 1),
    "plot_rho_floor": (lambda: figures.plot_rho_floor([1 + 5 * _RNG.random(20), 2 + 4 * _RNG.random(20)], 6), 1),
    # bits and convolution
    "plot_packed_words": (lambda: figures.plot_packed_words(_SIGNS < 0, np.array([3, 65])), 1),
    "plot_xor_strip": (lambda: figures.plot_xor_strip(_SIGNS, -_SIGNS), 1),
    "plot_gemm_histogram": (lambda: figures.plot_gemm_histogram(np.arange(-20, 20, 2)), 1),
    "plot_im2col_columns": (lambda: figures.plot_im2col_columns(
        np.pad(_Y[0], 1), _RNG.standard_normal((16, 9)), rows=(0, 1)), 3),
    "plot_planes_and_scales": (lambda: figures.plot_planes_and_scales(_PLANES, _RNG.random((2, 16)), _Y[0], 5), 9),
    "plot_per_order_outputs": (lambda: figures.plot_per_order_outputs(
        _Y, np.cumsum(_Y, axis=0), _Y[0, :3, :3], _Y[1]), 9),
    "plot_error_by_order": (lambda: figures.plot_error_by_order([0.5, 0.1], [0.6, 0.4], 0.39), 1),
    "plot_xnor_k": (lambda: figures.plot_xnor_k({"I": _Y[0], "A": _Y[1], "K": _Y[0]}), 6),
    "plot_backward_operands": (lambda: figures.plot_backward_operands(
        np.eye(3, 5, dtype=bool), np.zeros((2, 4, 5), bool), _RNG.standard_normal((4, 3))), 4 + 2),
    "plot_rounding_ratios": (lambda: figures.plot_rounding_ratios(np.array([0.0, 0.1]), np.array([[0.5, 1e-3]])), 1),
    # gradients
    "plot_sign_stand_ins": (lambda: figures.plot_sign_stand_ins(
        _XS, (0.5,), np.sign, np.clip(_XS, -1, 1), SIGN_STE.deriv(_XS), smooth_sign), 2),
    "plot_jacobian_diagonals": (lambda: figures.plot_jacobian_diagonals(
        np.arange(3.0), {("chain", K): np.ones(3) for K in (1, 2, 3)} | {("identity", 1): np.ones(3)}), 1),
    "plot_jacobians": (lambda: figures.plot_jacobians([np.eye(3), np.ones((3, 3))], ["a", "b"]), 3),
    "plot_gradcheck_errors": (lambda: figures.plot_gradcheck_errors(
        [("a", 1e-9, "pass"), ("b", 0.5, "control")], 1e-6, 1e-2), 1),
    # cost and speed
    "plot_speedup_model": (lambda: figures.plot_speedup_model([16, 32], _K, [(1, 1), (3, 3)], np.ones((2, 2, 2))), 2),
    "plot_weight_memory": (lambda: figures.plot_weight_memory(
        np.arange(1, 9), np.linspace(1, 20, 8), np.array([64]), np.array([21.3])), 1),
    "plot_measured_vs_model": (lambda: figures.plot_measured_vs_model(
        _K, {"a, 1 thread(s)": [0.5, 0.3]}, {"model": [62, 31]}), 2),
    "plot_time_breakdown": (lambda: figures.plot_time_breakdown(
        _K, {1: 1e-3, 2: 2e-3}, {1: 2e-3, 2: 3e-3}, 4e-3, 3e-3, "t"), 1),
    "plot_forward_backward_costs": (lambda: figures.plot_forward_backward_costs(_K, _FWD, _BWD), 2),
    "plot_throughput_and_model": (lambda: figures.plot_throughput_and_model(
        {m: 1.0 for m in _ACC}, {m: [1.0] for m in _ACC}, {"S_K": [62.0, 31.0]}), 2),
    # accuracy
    "plot_ablation": (lambda: figures.plot_ablation(_ACC, _ACC), 1),
    "plot_ptq_with_fc2": (lambda: figures.plot_ptq_with_fc2(
        _RUNS, _PTQ, [1, 2, 3, 4], [0.8] * 4, [0.3, 0.1, 0.05, 0.02]), 2),
    "plot_ptq_by_scales": (lambda: figures.plot_ptq_by_scales(
        range(1, 3), {"mean": [0.5, 0.8], "lsq": [0.6, 0.9]}, 0.95), 1),
}


def test_every_figure_of_the_module_has_a_case():
    drawn = {name for name, f in vars(figures).items()
             if name.startswith("plot_") and f.__module__ == figures.__name__}  # not the imported plot_ptq
    assert drawn == set(CASES), drawn ^ set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_figure_has_its_axes_and_is_readable(name):
    make, n_axes = CASES[name]
    assert_readable_figure(make(), n_axes)


def test_axes_count_is_a_real_check():
    # Negative controls: one panel fewer, and one more, than expected fail the check.
    with pytest.raises(AssertionError, match="expected 6"):
        assert_readable_figure(figures.plot_xnor_k({"I": _Y[0], "A": _Y[1]}), CASES["plot_xnor_k"][1])
    fig = figures.plot_speedup_model([16], _K, [(1, 1), (3, 3), (5, 5)], np.ones((3, 1, 2)))
    with pytest.raises(AssertionError, match="3 axes, expected 2"):
        assert_readable_figure(fig, 2)


def test_width_and_text_checks_can_fail():
    # Negative controls: a narrow figure and small text fail the readability check.
    fig, _ = plt.subplots(figsize=(5.0, 3.0), dpi=110)
    with pytest.raises(AssertionError, match="px wide"):
        assert_readable_figure(fig, 1)
    fig, ax = plt.subplots(figsize=(8.0, 3.0), dpi=110)
    ax.set_title("small", fontsize=8)
    with pytest.raises(AssertionError):
        assert_readable_figure(fig, 1)


def test_image_panel_has_a_frame_and_a_colorbar():
    fig, ax = plt.subplots()
    figures.image_panel(ax, np.ones((3, 3)), "white")  # an all-white panel stays visible
    assert all(s.get_visible() for s in ax.spines.values())
    assert len(fig.axes) == 2  # the image and its colorbar
    plt.close(fig)
