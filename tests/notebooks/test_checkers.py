"""The exercise checkers accept the solutions, reject every planted mistake with its own hint, stop the
notebook on a failure, reject a function that calls the one it replaces, and let a blank exercise
(NotImplementedError) stop the notebook.

The accepted functions are those of the solution notebooks (notebooks/exercises/solutions/), run here
directly: a solution that a checker rejects fails this file, not only the slow notebook tests.
"""

import ast
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import horq_ref

EXERCISES = Path(__file__).resolve().parents[2] / "notebooks" / "exercises"
sys.path.insert(0, str(EXERCISES))  # the checkers live beside the exercises, as the notebooks import them
import checkers  # noqa: E402
from checkers import backward, binarization, bound, popcount, residual  # noqa: E402
from checkers.runner import Case, Mistake, compare_arrays, run_cases  # noqa: E402

SOLUTIONS = EXERCISES / "solutions"
if not SOLUTIONS.is_dir():
    pytest.skip("a student copy: notebooks/exercises/solutions/ is left out (docs/course.md)",
                allow_module_level=True)


def solution(stem):
    """The functions a solution notebook defines (its function definitions and imports, nothing else)."""
    ns, keep = {}, (ast.FunctionDef, ast.Import, ast.ImportFrom)
    for cell in json.loads((SOLUTIONS / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse("".join(cell["source"]))
            tree.body = [node for node in tree.body if isinstance(node, keep)]
            exec(compile(tree, f"{stem}.ipynb", "exec"), ns)
    return ns


S01, S02, S02b, S03, S05 = (solution(s) for s in (
    "01_sign_and_binarization", "02_residual_quantization", "02b_worst_case_bound",
    "03_bits_and_popcount", "05_chain_ste_backward"))


def check_conv(fn, stop=True):
    return checkers.check_horq_conv2d(fn, S03["popcount_dot"], stop=stop)


# (checker, the solution's function, planted mistakes)
CHECKERS = {
    "sign": (checkers.check_sign, S01["sign"], binarization.SIGN_MISTAKES),
    "binarize": (checkers.check_binarize, S01["binarize"], binarization.BINARIZE_MISTAKES),
    "residual_quantize": (checkers.check_residual_quantize, S02["residual_quantize"],
                          residual.RESIDUAL_MISTAKES),
    "predicted_energy": (checkers.check_predicted_energy, S02["predicted_energy"],
                         residual.ENERGY_MISTAKES),
    "worst_input": (checkers.check_worst_input, S02b["worst_input"], bound.WORST_MISTAKES),
    "refined_bound": (checkers.check_refined_bound, S02b["refined_bound"], bound.REFINED_MISTAKES),
    "pack_signs": (checkers.check_pack_signs, S03["pack_signs"], popcount.PACK_MISTAKES),
    "popcount_dot": (checkers.check_popcount_dot, S03["popcount_dot"], popcount.DOT_MISTAKES),
    "horq_conv2d": (check_conv, S03["conv"], popcount.CONV_MISTAKES),
    "quantizer_backward": (checkers.check_quantizer_backward, S05["backward"],
                           backward.BACKWARD_MISTAKES),
    "fd_error": (checkers.check_fd_error, S05["fd_error"], backward.FD_MISTAKES),
}
MISTAKES = [(name, i) for name, (_, _, ms) in CHECKERS.items() for i in range(len(ms))]


def test_every_checker_of_the_package_is_tested():
    assert {f"check_{name}" for name in CHECKERS} == {n for n in checkers.__all__ if n.startswith("check_")}


@pytest.mark.parametrize("name", CHECKERS)
def test_solution_passes(name, capsys):
    checker, reference, _ = CHECKERS[name]
    verdict = checker(reference)
    assert verdict and verdict.n_cases >= 4
    assert capsys.readouterr().out.strip() == f"check_{name}: passed {verdict.n_cases} cases"


@pytest.mark.parametrize("name", CHECKERS)
def test_each_checker_has_two_negative_controls(name):
    assert len(CHECKERS[name][2]) >= 2


@pytest.mark.parametrize("name, i", MISTAKES, ids=[f"{n}-{i}" for n, i in MISTAKES])
def test_planted_mistake_stops_the_notebook_with_its_hint(name, i):
    checker, _, mistakes = CHECKERS[name]
    verdict = checker(mistakes[i].fn, stop=False)
    assert not verdict and verdict.hint == mistakes[i].hint, f"{name}: planted mistake {i}"
    assert "FAILED" in str(verdict) and "expected" in verdict.detail
    with pytest.raises(AssertionError) as info:  # in a notebook: the cell fails with the verdict
        checker(mistakes[i].fn)
    assert str(info.value) == str(verdict)


def hint_of(checker, fn):
    verdict = checker(fn, stop=False)
    assert not verdict
    return verdict


# The wrong answers students write, each with the hint it must get (not a planted twin's by accident).
def unsigned_dot(a, b, n):
    return n - 2 * np.bitwise_count(a ^ b).sum(axis=-1)  # uint64: wraps below zero


def uint8_dot(a, b, n):
    return n - 2 * np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.uint8)


def glossary_xnor_dot(a, b, n):
    return 2 * np.bitwise_count(~(a ^ b)).sum(axis=-1, dtype=np.int64) - n  # counts the tail bits


def test_unsigned_popcount_gets_the_signed_counts_hint():
    for fn in (unsigned_dot, uint8_dot):
        verdict = hint_of(checkers.check_popcount_dot, fn)
        assert verdict.hint == popcount.UNSIGNED_HINT and verdict.case == "fixed: doc example"
    assert "dtype:    expected int64, got uint64" in hint_of(checkers.check_popcount_dot, unsigned_dot).detail


def test_the_xnor_form_with_tail_bits_is_named():
    verdict = hint_of(checkers.check_popcount_dot, glossary_xnor_dot)
    assert "tail bits" in verdict.hint and "[123 119]" in verdict.detail


def test_float32_result_names_its_dtype():
    def residual32(x, order, axis=None):
        betas, H = S02["residual_quantize"](x, order, axis)
        return betas.astype(np.float32), H.astype(np.float32)
    verdict = hint_of(checkers.check_residual_quantize, residual32)  # the values agree to 6 digits
    assert "dtype:    expected float64, got float32" in verdict.detail


def test_energy_over_the_whole_array_size_and_lost_keepdims_are_named():
    def energy_size(x, betas, axis=None):
        return np.sum(x * x, axis=axis, keepdims=True) - x.size * np.sum(betas**2, axis=0)

    def residual_no_keepdims(x, order, axis=None):
        R, betas, H = np.asarray(x, dtype=float), [], []
        for _ in range(order):
            H.append(horq_ref.sign(R))
            betas.append(np.mean(np.abs(R), axis=axis))
            R = R - betas[-1] * H[-1]
        return np.stack(betas), np.stack(H)
    assert "x.size" in hint_of(checkers.check_predicted_energy, energy_size).hint
    assert "keepdims" in hint_of(checkers.check_residual_quantize, residual_no_keepdims).hint


def test_a_hint_needs_the_mistake_on_every_case_not_one_tiny_case():
    def two_sparse(n):
        x = np.zeros(n)
        x[:2] = 1.0  # equals the constant vector at n = 2
        return x
    assert hint_of(checkers.check_worst_input, two_sparse).hint == bound.WORST_HINT
    other_seed = hint_of(checkers.check_worst_input, lambda n: np.random.default_rng(7).standard_normal(n))
    assert other_seed.hint == bound.WORST_HINT


# A function that calls the one it replaces passes every case and still fails (the package's, or the
# checker's own reference); each row: checker, the call, what the verdict names.
def _package_residual(x, order, axis=None):
    e = horq_ref.residual_quantize(x, order, axis=axis)
    return e.betas, e.signs


CALLS = [
    (checkers.check_sign, lambda x: horq_ref.sign(x), "horq_ref.quantize.sign"),
    (checkers.check_binarize, lambda x, axis=None: horq_ref.binarize(x, axis), "horq_ref.quantize.binarize"),
    (checkers.check_residual_quantize, _package_residual, "horq_ref.quantize.residual_quantize"),
    (checkers.check_refined_bound, horq_ref.theory.refined_bound, "refined_bound"),
    (checkers.check_pack_signs, lambda x: horq_ref.bits.pack_signs(x), "horq_ref.bits.pack_signs"),
    (checkers.check_popcount_dot, horq_ref.bits.popcount_dot, "horq_ref.bits.popcount_dot"),
    (check_conv, lambda x, w, order, stride=1, padding=0: horq_ref.horq_conv2d(
        x, w, order, stride, padding, backend="bits"), "horq_ref.conv.horq_conv2d"),
    (checkers.check_quantizer_backward, backward.reference_backward, "reference_backward"),
    (checkers.check_fd_error, backward.reference_fd_error, "reference_fd_error"),
]


@pytest.mark.parametrize("checker, fn, named", CALLS, ids=[c[2] for c in CALLS])
def test_calling_the_replaced_function_fails(checker, fn, named):
    verdict = hint_of(checker, fn)
    assert verdict.case == "every case" and " calls " in verdict.detail and named in verdict.detail


def test_a_float_convolution_fails_the_bits_exercise():
    def float_conv(x, w, order, stride=1, padding=0):  # right numbers, no XOR + popcount
        return popcount._conv_variant(x, w, order, stride, padding)
    assert check_conv(float_conv, stop=False) is not None
    verdict = hint_of(check_conv, float_conv)
    assert "never calls popcount_dot" in verdict.detail


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
    verdict = CHECKERS[name][0](crash, stop=False)
    assert not verdict and "ZeroDivisionError" in verdict.detail


def test_student_writing_into_its_input_does_not_change_the_reference():
    def sloppy_sign(x):
        x[...] = np.where(x >= 0, 1.0, -1.0)  # overwrites its argument
        return x
    assert checkers.check_sign(sloppy_sign, stop=False)


def test_unknown_wrong_answer_gets_the_general_hint():
    verdict = checkers.check_sign(lambda x: np.ones_like(x), stop=False)
    assert not verdict and verdict.hint == binarization.SIGN_HINT


def test_worst_input_rejects_bad_shapes_and_zero_vectors():
    assert "shape" in checkers.check_worst_input(lambda n: np.eye(n), stop=False).detail
    assert "not all zero" in checkers.check_worst_input(np.zeros, stop=False).detail


def test_runner_reports_the_first_failing_case():
    cases = [Case("a", (1.0,)), Case("b", (2.0,)), Case("c", (3.0,))]
    verdict = run_cases("t", lambda x: x if x < 2 else -x, lambda x: x, cases,
                        [Mistake(lambda x: -x, "negated")], "general", stop=False)
    assert (verdict.case, verdict.hint, verdict.n_cases) == ("b", "general", 3)  # -x only from "b" on
    verdict = run_cases("t", lambda x: -x, lambda x: x, cases, [Mistake(lambda x: -x, "negated")],
                        "general", stop=False)
    assert (verdict.case, verdict.hint) == ("a", "negated")


def test_compare_arrays():
    assert compare_arrays(np.ones(3), np.ones(3)) == ""
    assert "shape" in compare_arrays(np.ones(3), np.ones(4))
    assert "index (1,)" in compare_arrays(np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    assert "tuple" in compare_arrays(np.ones(2), (np.ones(2), np.ones(2)))
    assert "dtype" not in compare_arrays(np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    # rtol: a relative difference of 1e-12 is rounding, 1e-6 is a mistake
    assert compare_arrays(np.array([1.0 + 1e-12]), np.array([1.0])) == ""
    assert compare_arrays(np.array([1.0 + 1e-6]), np.array([1.0])) != ""
