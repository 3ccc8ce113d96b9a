"""The common runner of the exercise checkers: run cases, compare, print a verdict with a hint.

A checker calls a student's function on fixed, random (fixed seed) and adversarial cases, compares
each result with the reference implementation of ``horq_ref`` and stops at the first difference.
To say *why* a result is wrong it also runs a few planted wrong implementations (``Mistake``): when
the student's result equals one of them on the failing case, that mistake's hint is printed, else the
checker's general hint. Hints name the likely mistake; they never show the solution.

``NotImplementedError`` from the student's function is re-raised, so an exercise left blank stops
the notebook at its first checker instead of printing a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Case", "Mistake", "Verdict", "compare_arrays", "run_cases"]


@dataclass(frozen=True)
class Case:
    """One call: ``fn(*args, **kwargs)``, described by ``name`` ("fixed: ...", "adversarial: ...")."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def call(self, fn):
        """Call ``fn`` on copies of the arrays, so that a function writing into its input harms no one."""
        return fn(*[_copy(a) for a in self.args], **{k: _copy(v) for k, v in self.kwargs.items()})


@dataclass(frozen=True)
class Mistake:
    """A typical wrong implementation and the hint printed when a student's result matches it."""

    fn: Callable
    hint: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of a checker; true when every case passed. ``str()`` is the printed verdict."""

    checker: str
    passed: bool
    n_cases: int
    case: str = ""
    inputs: str = ""
    detail: str = ""
    hint: str = ""

    def __bool__(self):
        return self.passed

    def __str__(self):
        if self.passed:
            return f"{self.checker}: passed {self.n_cases} cases"
        return (f"{self.checker}: FAILED on case '{self.case}'\n  input:    {self.inputs}\n"
                f"  {self.detail}\n  hint:     {self.hint}")


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def _show(a):
    if isinstance(a, np.ndarray) and a.size > 12:
        return f"array of shape {a.shape}, dtype {a.dtype}"
    if not _is_array(a):
        return repr(a)
    return " ".join(np.array2string(np.asarray(a), precision=6, threshold=12).split())


def _is_array(a):
    return isinstance(a, (np.ndarray, np.generic, float, int, list))


def compare_arrays(got, expected, rtol=1e-9, atol=0.0):
    """``""`` when ``got`` equals ``expected`` (same shape, values within tolerance), else why not.

    Tuples are compared entry by entry. The default ``rtol = 1e-9`` is far above the rounding of a
    float64 reduction taken in another order (about ``n * 1e-16``) and far below any real mistake;
    ``atol`` is scaled by the largest expected magnitude.
    """
    if isinstance(expected, tuple):
        if not isinstance(got, tuple) or len(got) != len(expected):
            return f"expected a tuple of {len(expected)} results, got {type(got).__name__}"
        for k, (g, e) in enumerate(zip(got, expected)):
            why = compare_arrays(g, e, rtol, atol)
            if why:
                return f"result [{k}] of the tuple differs:\n  {why}"
        return ""
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"expected an array, got {type(got).__name__}"
    e = np.asarray(expected, dtype=float)
    if g.shape != e.shape:
        return f"expected shape {e.shape}, got shape {g.shape}"
    scale = float(np.max(np.abs(e), initial=0.0)) if np.all(np.isfinite(e)) else 1.0
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol * scale) & ~(g == e)
    if not bad.any():
        return ""
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"expected: {_show(expected)}\n  got:      {_show(got)}\n"
            f"  first difference at index {idx}: expected {float(e[idx])!r}, got {float(g[idx])!r}")


def _diagnose(case, got, mistakes, compare, general_hint):
    """The hint of the first planted mistake whose result equals ``got`` on ``case``."""
    for mistake in mistakes:
        try:
            wrong = case.call(mistake.fn)
        except Exception:  # a planted mistake may itself fail on an adversarial case
            continue
        if not compare(got, wrong):
            return mistake.hint
    return general_hint


def run_cases(checker, student, reference, cases, mistakes=(), general_hint="", compare=None,
              show_inputs=None, verbose=True):
    """Run ``student`` against ``reference`` on ``cases``; print and return a :class:`Verdict`.

    Parameters
    ----------
    checker : str
        Name printed in the verdict.
    student, reference : callable
        Called as ``fn(*case.args, **case.kwargs)``.
    cases : sequence of Case
    mistakes : sequence of Mistake
    general_hint : str
        Printed when no planted mistake explains the difference.
    compare : callable, optional
        ``compare(got, expected) -> ""`` or a reason; default :func:`compare_arrays`.
    show_inputs : callable, optional
        ``case -> str`` describing the input; default: the arguments, shortened.
    verbose : bool
        Print the verdict (the notebooks do; the tests read the returned object).
    """
    compare = compare or compare_arrays
    show_inputs = show_inputs or (lambda c: ", ".join(
        [_show(a) for a in c.args] + [f"{k}={v!r}" for k, v in c.kwargs.items()]))
    verdict = Verdict(checker, True, len(cases))
    for case in cases:
        expected = case.call(reference)
        try:
            got = case.call(student)
        except NotImplementedError:
            raise
        except Exception as exc:  # the student's code failed: report it as this case's result
            detail, hint = f"raised {type(exc).__name__}: {exc}", general_hint
        else:
            detail = compare(got, expected)
            hint = _diagnose(case, got, mistakes, compare, general_hint) if detail else ""
        if detail:
            verdict = Verdict(checker, False, len(cases), case.name, show_inputs(case), detail, hint)
            break
    if verbose:
        print(verdict)
    return verdict
