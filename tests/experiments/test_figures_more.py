"""The figures of notebooks 06, 06b, 07 and 08 (Agg backend): each draws on tiny inputs, the expected axes."""

import numpy as np
import pytest
from support import assert_readable_figure

from horq_ref.cost import backward_cost, layer_cost
from horq_ref.experiments import figures_family, figures_speed

_K = (1, 2)
_FWD = [layer_cost(8, 3, 3, positions=4, filters=2, order=K) for K in _K]
_BWD = [backward_cost(8, 3, 3, rows=4, filters=2, order=K) for K in _K]
_RNG = np.random.default_rng(0)
_X = np.maximum(_RNG.standard_normal(32), 0)


# (figure, number of axes: panels plus colorbars)
@pytest.mark.parametrize("make, n_axes", [
    (lambda: figures_speed.plot_speedup_model([16, 32], _K, [(1, 1), (3, 3)], np.ones((2, 2, 2))), 2),
    (lambda: figures_speed.plot_weight_memory(np.arange(1, 9), np.linspace(1, 20, 8), np.array([64]),
                                              np.array([21.3])), 1),
    (lambda: figures_speed.plot_measured_vs_model(_K, {"a, 1 thread(s)": [0.5, 0.3]}, {"model": [62, 31]}), 2),
    (lambda: figures_speed.plot_time_breakdown(_K, {1: 1e-3, 2: 2e-3}, {1: 2e-3, 2: 3e-3}, 4e-3, 3e-3, "t"), 1),
    (lambda: figures_speed.plot_backward_operands(np.eye(3, 5, dtype=bool), np.zeros((2, 4, 5), bool),
                                                  _RNG.standard_normal((4, 3))), 4 + 2),
    (lambda: figures_speed.plot_rounding_ratios(np.array([0.0, 0.1]), np.array([[0.5, 1e-3]])), 1),
    (lambda: figures_speed.plot_forward_backward_costs(_K, _FWD, _BWD), 2),
    (lambda: figures_family.plot_levels_used(_X, {"mean": (np.array([0.2, 1.0]), np.array([0.2])),
                                                  "optimal": (np.array([0.5]), np.array([0.5]))}), 1),
    (lambda: figures_family.plot_ptq_by_scales(range(1, 3), {"mean": [0.5, 0.8], "lsq": [0.6, 0.9]}, 0.95), 1),
])
def test_figure_draws_with_the_expected_axes_and_readable_text(make, n_axes):
    assert_readable_figure(make(), n_axes)


def test_axes_count_check_can_fail():
    # Negative control: a figure with one panel more than expected fails the check.
    fig = figures_speed.plot_speedup_model([16], _K, [(1, 1), (3, 3), (5, 5)], np.ones((3, 1, 2)))
    with pytest.raises(AssertionError, match="3 axes, expected 2"):
        assert_readable_figure(fig, 2)
