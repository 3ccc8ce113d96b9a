"""The shared figure style and the notebook figures (Agg backend)."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from support import text_sizes

from horq_ref import residual_quantize
from horq_ref.experiments import figures, figures_backprop, figures_training, style
from horq_ref.ste import SIGN_STE, smooth_sign

_ROW = np.random.default_rng(0).standard_normal(64)
_ACC = {m: [0.9, 0.91] for m in ("float", "horq1", "horq2", "horq3")}
_RUNS = [{"model": "mlp", "method": "float", "test_accuracy": 0.95}]
_PTQ = [{"model": "mlp", "order": k, "test_accuracy": 0.7 + 0.05 * k} for k in (1, 2, 3, 4)]


@pytest.mark.parametrize("make", [
    lambda: figures.plot_levels(np.linspace(-1, 1, 50), {1: np.sign(np.linspace(-1, 1, 50))}),
    lambda: figures.plot_orders_of_image(np.eye(4), {1: np.ones((4, 4))}),
    lambda: figures.plot_error_vs_order([1, 2], {"m": [0.5, 0.2]}, {"b": [0.9, 0.8]}),
    lambda: figures_training.plot_row_levels(_ROW, {K: residual_quantize(_ROW, K) for K in (1, 2)}),
    lambda: figures_training.plot_throughput_and_model({m: 1.0 for m in _ACC}, {m: [1.0] for m in _ACC},
                                                       {"S_K": [62.0, 31.0]}),
    lambda: figures_training.plot_ablation(_ACC, _ACC),
    lambda: figures_backprop.plot_sign_stand_ins(np.linspace(-2, 2, 9), (0.5,), np.sign,
                                                 np.clip(np.linspace(-2, 2, 9), -1, 1),
                                                 SIGN_STE.deriv(np.linspace(-2, 2, 9)), smooth_sign),
    lambda: figures_backprop.plot_jacobian_diagonals(np.arange(3.0), {("chain", K): np.ones(3) for K in (1, 2, 3)}
                                                     | {("identity", 1): np.ones(3)}),
    lambda: figures_backprop.plot_jacobians([np.eye(3), np.ones((3, 3))], ["a", "b"]),
    lambda: figures_backprop.plot_gradcheck_errors([("a", 1e-9, "pass"), ("b", 0.5, "control")], 1e-6, 1e-2),
    lambda: figures_training.plot_ptq_with_fc2(_RUNS, _PTQ, [1, 2, 3, 4], [0.8] * 4, [0.3, 0.1, 0.05, 0.02]),
])
def test_notebook_figures_are_projector_ready(make):
    fig = make()
    try:
        assert fig.get_figwidth() * style.STYLE["figure.dpi"] >= 700
        assert min(text_sizes(fig)) >= 10
    finally:
        plt.close(fig)


def test_figure_style_restores_the_callers_settings_and_interactive_mode():
    before = matplotlib.rcParams["font.size"]
    was = matplotlib.is_interactive()
    with style.figure_style():
        assert matplotlib.rcParams["font.size"] == style.STYLE["font.size"]
        matplotlib.interactive(True)  # what an inline backend does when it loads
    assert matplotlib.rcParams["font.size"] == before
    assert matplotlib.is_interactive()
    matplotlib.interactive(was)


def test_image_panel_has_a_frame_and_a_colorbar():
    fig, ax = plt.subplots()
    style.image_panel(ax, np.ones((3, 3)), "white")  # an all-white panel stays visible
    assert all(s.get_visible() for s in ax.spines.values())
    assert len(fig.axes) == 2  # the image and its colorbar
    plt.close(fig)


def test_reference_line_is_horizontal():
    fig, ax = plt.subplots()
    line = style.reference_line(ax, 0.97, "float")
    assert list(line.get_ydata()) == [0.97, 0.97]
    plt.close(fig)


def test_bound_figure_n_is_the_same_in_the_cli_reproduce_and_readme():
    import argparse
    import pathlib

    from horq_ref.commands import bound
    from horq_ref.experiments.reproduce import BOUND_N

    parser = argparse.ArgumentParser()
    bound.add_arguments(parser)
    assert parser.parse_args([]).n == BOUND_N
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"groups of {BOUND_N} entries" in readme


def test_bound_figure_draws_both_bounds_beside_the_axes(tmp_path):
    from horq_ref.experiments.plots import plot_bound_reports
    from horq_ref.theory import bound_report

    rows = bound_report(np.random.default_rng(0).standard_normal((20, 16)), 3, law="normal")
    fig = plot_bound_reports({"normal": rows}, tmp_path / "b.png")  # path positional, as the CLI does
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("worst case" in t for t in labels) and any("refined" in t for t in labels)
    fig.canvas.draw()
    legend, ax = fig.axes[0].get_legend(), fig.axes[0]
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # beside the curves, not over them
    assert (tmp_path / "b.png").stat().st_size > 0
    assert min(text_sizes(fig)) >= 10
