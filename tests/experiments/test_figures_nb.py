"""The figures of notebooks 02, 02b, 03 and 03b, drawn on tiny inputs (Agg backend)."""

import numpy as np
import pytest
from support import assert_readable_figure

from horq_ref.experiments import figures_bits, figures_theory

_RNG = np.random.default_rng(0)
_R = np.sort(_RNG.random((4, 10)), axis=0)[::-1]          # (K+1, M) decreasing errors
_SIGNS = np.where(_RNG.random(70) < 0.5, -1, 1)
_PLANES = np.where(_RNG.random((2, 16, 9)) < 0.5, -1, 1)   # (K, P, 9) for a 4x4 image
_Y = _RNG.standard_normal((2, 4, 4))

# (figure maker, number of axes: panels plus one per colorbar)
CASES = {
    "identity_check": (lambda: figures_theory.plot_identity_check(_R, _R, {"a": _R * 1e-16}, 1e-16, 2), 2),
    "small_groups": (lambda: figures_theory.plot_small_group_errors(_R, 4, np.random.default_rng(1), 5), 1),
    "closed_form": (lambda: figures_theory.plot_closed_form_approach([4, 16], {("normal", 1): [0.1, 0.01]},
                                                                     {("normal", 1): [0.01, 0.001]}), 1),
    "contraction": (lambda: figures_theory.plot_contraction_per_order({"normal": [0.4, 0.3]}, 8, 10), 1),
    "order_one": (lambda: figures_theory.plot_order_one_worst([2, 3], [0.5, 0.67], [0.5, 0.67], [0.4, 0.5]), 1),
    "two_order": (lambda: figures_theory.plot_two_order_search([3, 4], [0.2, 0.3], [0.1, 0.2]), 1),
    "rho": (lambda: figures_theory.plot_rho_floor([1 + 5 * _RNG.random(20), 2 + 4 * _RNG.random(20)], 6), 1),
    "packed": (lambda: figures_bits.plot_packed_words(_SIGNS < 0, np.array([3, 65])), 1),
    "xor": (lambda: figures_bits.plot_xor_strip(_SIGNS, -_SIGNS), 1),
    "gemm": (lambda: figures_bits.plot_gemm_histogram(np.arange(-20, 20, 2)), 1),
    "im2col": (lambda: figures_bits.plot_im2col_columns(np.pad(_Y[0], 1), _RNG.standard_normal((16, 9)),
                                                        rows=(0, 1)), 3),
    "planes": (lambda: figures_bits.plot_planes_and_scales(_PLANES, _RNG.random((2, 16)), _Y[0], 5), 9),
    "outputs": (lambda: figures_bits.plot_per_order_outputs(_Y, np.cumsum(_Y, axis=0), _Y[0, :3, :3], _Y[1]), 9),
    "error": (lambda: figures_bits.plot_error_by_order([0.5, 0.1], [0.6, 0.4], 0.39), 1),
    "xnor_k": (lambda: figures_bits.plot_xnor_k({"I": _Y[0], "A": _Y[1], "K": _Y[0]}), 6),
}


@pytest.mark.parametrize("name", list(CASES))
def test_figure_has_its_axes_and_readable_text(name):
    make, n_axes = CASES[name]
    assert_readable_figure(make(), n_axes)


def test_axes_count_is_a_real_check():
    """Negative control: a figure with one panel fewer than expected fails the check."""
    fig = figures_bits.plot_xnor_k({"I": _Y[0], "A": _Y[1]})
    with pytest.raises(AssertionError, match="expected 6"):
        assert_readable_figure(fig, CASES["xnor_k"][1])
