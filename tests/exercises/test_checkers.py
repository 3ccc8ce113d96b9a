"""The exercise checkers accept the reference, reject every planted mistake with its own hint, and
let a blank exercise (NotImplementedError) stop the notebook."""

import numpy as np
import pytest

import horq_ref
from horq_ref import exercises
from horq_ref.bits import pack_signs, popcount_dot
from horq_ref.exercises import backward, binarization, bound, popcount, residual
from horq_ref.exercises.runner import Case, Mistake, compare_arrays, run_cases
from horq_ref.theory import refined_bound

# (checker, reference implementation, planted mistakes)
CHECKERS = {
    "sign": (exercises.check_sign, horq_ref.sign, binarization.SIGN_MISTAKES),
    "binarize": (exercises.check_binarize, lambda x, axis=None: horq_ref.binarize(x, axis),
                 binarization.BINARIZE_MISTAKES),
    "residual_quantize": (exercises.check_residual_quantize, residual.reference_residual,
                          residual.RESIDUAL_MISTAKES),
    "predicted_energy": (exercises.check_predicted_energy, residual.reference_energy,
                         residual.ENERGY_MISTAKES),
    "worst_input": (exercises.check_worst_input, lambda n: np.eye(n)[n // 2] * -2.5,
                    bound.WORST_MISTAKES),
    "refined_bound": (exercises.check_refined_bound, refined_bound, bound.REFINED_MISTAKES),
    "pack_signs": (exercises.check_pack_signs, pack_signs, popcount.PACK_MISTAKES),
    "popcount_dot": (exercises.check_popcount_dot, popcount_dot, popcount.DOT_MISTAKES),
    "horq_conv2d": (exercises.check_horq_conv2d,
                    lambda x, w, order, stride=1, padding=0: horq_ref.horq_conv2d(
                        x, w, order, stride, padding, backend="bits"), popcount.CONV_MISTAKES),
    "quantizer_backward": (exercises.check_quantizer_backward, backward.reference_backward,
                           backward.BACKWARD_MISTAKES),
}
MISTAKES = [(name, i) for name, (_, _, ms) in CHECKERS.items() for i in range(len(ms))]


@pytest.mark.parametrize("name", CHECKERS)
def test_reference_passes(name, capsys):
    checker, reference, _ = CHECKERS[name]
    verdict = checker(reference)
    assert verdict and verdict.n_cases >= 4
    assert capsys.readouterr().out.strip() == f"check_{name}: passed {verdict.n_cases} cases"


@pytest.mark.parametrize("name", CHECKERS)
def test_each_checker_has_two_negative_controls(name):
    assert len(CHECKERS[name][2]) >= 2


@pytest.mark.parametrize("name, i", MISTAKES, ids=[f"{n}-{i}" for n, i in MISTAKES])
def test_planted_mistake_is_rejected_with_its_hint(name, i, capsys):
    checker, _, mistakes = CHECKERS[name]
    verdict = checker(mistakes[i].fn)
    assert not verdict, f"{name}: planted mistake {i} passed"
    assert verdict.hint == mistakes[i].hint
    out = capsys.readouterr().out
    assert "FAILED" in out and mistakes[i].hint in out and "expected" in out


@pytest.mark.parametrize("name", CHECKERS)
def test_blank_exercise_raises_not_implemented(name):
    def blank(*args, **kwargs):
        raise NotImplementedError("write this function")
    with pytest.raises(NotImplementedError):
        CHECKERS[name][0](blank)


@pytest.mark.parametrize("name", CHECKERS)
def test_a_crashing_student_gets_a_verdict_not_a_traceback(name):
    def crash(*args, **kwargs):
        raise ZeroDivisionError("oops")
    verdict = CHECKERS[name][0](crash, verbose=False)
    assert not verdict and "ZeroDivisionError" in verdict.detail


def test_student_writing_into_its_input_does_not_change_the_reference():
    def sloppy_sign(x):
        x[...] = np.where(x >= 0, 1.0, -1.0)  # overwrites its argument
        return x
    assert exercises.check_sign(sloppy_sign, verbose=False)


def test_unknown_wrong_answer_gets_the_general_hint():
    verdict = exercises.check_sign(lambda x: np.ones_like(x), verbose=False)
    assert not verdict and verdict.hint == binarization.SIGN_HINT


def test_worst_input_rejects_bad_shapes_and_zero_vectors():
    assert "shape" in exercises.check_worst_input(lambda n: np.eye(n), verbose=False).detail
    assert "not all zero" in exercises.check_worst_input(np.zeros, verbose=False).detail


def test_runner_stops_at_the_first_failing_case():
    cases = [Case("a", (1.0,)), Case("b", (2.0,)), Case("c", (3.0,))]
    verdict = run_cases("t", lambda x: x if x < 2 else -x, lambda x: x, cases,
                        [Mistake(lambda x: -x, "negated")], "general", verbose=False)
    assert (verdict.case, verdict.hint, verdict.n_cases) == ("b", "negated", 3)


def test_compare_arrays():
    assert compare_arrays(np.ones(3), np.ones(3)) == ""
    assert "shape" in compare_arrays(np.ones(3), np.ones(4))
    assert "index (1,)" in compare_arrays(np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    assert "tuple" in compare_arrays(np.ones(2), (np.ones(2), np.ones(2)))
    # rtol: a relative difference of 1e-12 is rounding, 1e-6 is a mistake
    assert compare_arrays(np.array([1.0 + 1e-12]), np.array([1.0])) == ""
    assert compare_arrays(np.array([1.0 + 1e-6]), np.array([1.0])) != ""
