"""The shared figure style and the figures of the command line and the report (Agg backend)."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from support import assert_readable_figure, text_sizes

from horq_ref.experiments import plots, style
from horq_ref.experiments.report import summarize_ptq, summarize_runs


def _records():
    """Per-seed records of two models, three methods, two seeds (the shape reproduce summarizes)."""
    recs = []
    for model in ("mlp", "cnn"):
        for method, order, accs in (("float", 0, [0.96, 0.95]), ("horq1", 1, [0.90, 0.93]),
                                    ("horq2", 2, [0.94, 0.95])):
            for seed, a in enumerate(accs):
                hist = [{"epoch": 1, "test_acc": a - 0.1, "train_loss": 1.0},
                        {"epoch": 2, "test_acc": a, "train_loss": 0.5}]
                rec = {"model": model, "method": method, "order": order, "seed": seed, "test_acc": a,
                       "history": hist, "train_seconds": 2.0, "images_per_s": 100.0, "settings": {}}
                if method == "float":
                    rec["ptq"] = {sc: {1: 0.5 + seed / 10, 2: 0.8, 3: 0.9} for sc in ("greedy", "refit")}
                recs.append(rec)
    return recs


_RUNS = summarize_runs(_records(), "mnist-5k", 1000)
_PTQ = summarize_ptq(_records(), "mnist-5k")


# (figure maker, number of axes): two models side by side, training curves two rows per model
@pytest.mark.parametrize("make, n_axes", [
    (lambda: plots.plot_histories({"horq1": _records()[2]["history"], "float": _records()[0]["history"]}), 2),
    (lambda: plots.plot_training_curves(_RUNS), 4),
    (lambda: plots.plot_accuracy_vs_order(_RUNS), 2),
    (lambda: plots.plot_ptq(_RUNS, _PTQ), 1),
    (lambda: plots.plot_ptq_scales(_PTQ), 2),
])
def test_report_figure_has_its_axes_and_is_readable(make, n_axes):
    assert_readable_figure(make(), n_axes)


def test_the_float_network_is_a_reference_line_not_a_point():
    fig = plots.plot_accuracy_vs_order(_RUNS)
    ys = {tuple(line.get_ydata()) for line in fig.axes[0].get_lines()}
    float_acc = 100 * _RUNS[0]["test_accuracy"]
    assert (float_acc, float_acc) in ys  # a horizontal line at the float accuracy
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
    from horq_ref.experiments.tasks import bound_report

    rows = bound_report(np.random.default_rng(0).standard_normal((20, 16)), 3, law="normal")
    fig = plots.plot_bound_reports({"normal": rows}, tmp_path / "b.png")  # path positional, as the CLI does
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("worst case" in t for t in labels) and any("refined" in t for t in labels)
    fig.canvas.draw()
    legend, ax = fig.axes[0].get_legend(), fig.axes[0]
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # beside the curves, not over them
    assert (tmp_path / "b.png").stat().st_size > 0
    assert min(text_sizes(fig)) >= 10
    assert_readable_figure(fig, 1)


def test_methods_are_named_as_the_text_names_them():
    assert [plots.method_label(m) for m in ("float", "horq1", "horq2", "horq3", "horq2-refit")] == [
        "float", "XNOR-Net (HORQ-1)", "HORQ-2", "HORQ-3", "HORQ-2, refit scales"]


@pytest.mark.parametrize("make", [lambda: plots.plot_training_curves(_RUNS),
                                  lambda: plots.plot_accuracy_vs_order(_RUNS)])
def test_one_legend_below_the_panels_names_xnor_net(make):
    fig = make()
    fig.canvas.draw()
    assert not any(ax.get_legend() for ax in fig.axes) and len(fig.legends) == 1
    legend = fig.legends[0].get_window_extent()
    assert legend.y1 <= min(ax.get_window_extent().y0 for ax in fig.axes)  # outside the data
    assert legend.width <= fig.bbox.width  # across the figure, not beside half of it
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "XNOR-Net (HORQ-1)" in labels or any("XNOR-Net" in t.get_text() for t in fig.findobj(
        matplotlib.text.Text))
    plt.close(fig)


def test_seed_dots_and_titles_say_what_is_drawn():
    fig = plots.plot_accuracy_vs_order(_RUNS)  # two seeds: dots, "mean of 2 seeds"
    assert fig.axes[0].get_title() == "mlp: mean of 2 seeds"
    assert "one seed" in [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)
    one = [{**r, "seeds": r["seeds"][:1], "test_accuracy_per_seed": r["test_accuracy_per_seed"][:1]}
           for r in _RUNS]
    fig = plots.plot_accuracy_vs_order(one)
    assert fig.axes[0].get_title() == "mlp: 1 seed" and "one seed" not in [
        t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)
    fig = plots.plot_training_curves(_RUNS)  # the spread over seeds: one dot per seed at the end
    dots = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "None"]
    assert [len(d.get_xdata()) for d in dots] == [2, 2, 2]
    plt.close(fig)


def test_the_readability_check_rejects_a_twin_y_axis_and_a_strip():  # negative controls
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    ax.plot([1, 2], [1, 2])
    ax.set_title("accuracy and residual energy", fontsize=12)
    ax.twinx().semilogy([1, 2], [1, 10])
    with pytest.raises(AssertionError, match="twin"):
        assert_readable_figure(fig, 2)
    fig, ax = plt.subplots(figsize=(11.0, 1.5))
    ax.set_title("a strip of bits", fontsize=12)
    with pytest.raises(AssertionError, match="px high"):
        assert_readable_figure(fig, 1)
