"""The common runner of the exercise checkers: run cases, compare, stop the notebook with a hint.

A checker calls a student's function on fixed, random (fixed seed) and adversarial cases and compares
each result with the reference of ``horq_ref``. A wrong result gets the hint of the planted wrong
implementation (``Mistake``) whose results equal the student's on every case (one tiny case can match
by coincidence), else the checker's general hint; hints name the mistake, never the solution. Calling
the replaced function (the package's or the reference) fails too. In a notebook a failed check raises
``AssertionError`` with the verdict, so the notebook stops there; ``NotImplementedError`` passes through.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Case", "Mistake", "Verdict", "compare_arrays", "run_cases"]

PRECISION_HINT = ("the result is float32 or float16, about 7 digits or fewer where float64 keeps 16: "
                  "compute in float64 (np.asarray(x, dtype=float))")

@dataclass(frozen=True)
class Case:
    """One call: ``fn(*args, **kwargs)``, described by ``name`` ("fixed: ...", "adversarial: ...")."""

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def call(self, fn):
        """``fn`` on copies of the arrays (writing into its input harms no one), overflow warnings off
        (the verdict shows the wrapped values); an exception (but NotImplementedError) is its result."""
        try:
            with np.errstate(all="ignore"):
                return fn(*map(_copy, self.args), **{k: _copy(v) for k, v in self.kwargs.items()})
        except NotImplementedError:
            raise
        except Exception as exc:  # the function failed: that is its result on this case
            return exc


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
    if not isinstance(a, (np.ndarray, np.generic, float, int, list)):
        return repr(a)
    return " ".join(np.array2string(np.asarray(a), precision=6, threshold=12).split())


def compare_arrays(got, expected, rtol=1e-9, atol=0.0):
    """``""`` when ``got`` equals ``expected`` (same shape, values within tolerance), else why not.

    Tuples are compared entry by entry. The default ``rtol = 1e-9`` is far above the rounding of a
    float64 reduction taken in another order (about ``n * 1e-16``) and far below any real mistake;
    ``atol`` is scaled by the largest expected magnitude. Another dtype is named (float32 agrees with
    float64 to the digits shown, and uint64 wraps around below zero).
    """
    if isinstance(expected, tuple):
        if not isinstance(got, tuple) or len(got) != len(expected):
            return f"expected a tuple of {len(expected)} results, got {type(got).__name__}"
        for k, (g, e) in enumerate(zip(got, expected)):
            if why := compare_arrays(g, e, rtol, atol):
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
    dtypes = (np.asarray(expected).dtype, np.asarray(got).dtype)
    return (f"expected: {_show(expected)}\n  got:      {_show(got)}\n"
            f"  first difference at index {idx}: expected {float(e[idx])!r}, got {float(g[idx])!r}"
            + (f"\n  dtype:    expected {dtypes[0]}, got {dtypes[1]}" if dtypes[0] != dtypes[1] else ""))


def _diagnose(cases, got, mistakes, agree, general_hint, failing):
    """The hint of the first planted mistake whose results equal the student's on every case (an
    exception equals one of the same type), else of a low precision of the ``failing`` result."""
    def same(a, b):
        return type(a) is type(b) if isinstance(a, Exception) or isinstance(b, Exception) else not agree(a, b)
    for mistake in mistakes:
        if all(same(g, c.call(mistake.fn)) for c, g in zip(cases, got)):
            return mistake.hint
    low = [p for p in (failing if isinstance(failing, tuple) else (failing,))
           if getattr(p, "dtype", None) in (np.float32, np.float16)]
    return PRECISION_HINT if low else general_hint


def _traced(fn):
    """``fn()`` and the code objects of the Python functions it called (a profile hook sees them)."""
    called, previous = set(), sys.getprofile()
    sys.setprofile(lambda frame, event, arg: called.add(frame.f_code) if event == "call" else None)
    try:
        return fn(), called
    finally:
        sys.setprofile(previous)


def _honesty(student, called, replaces, uses):
    """Why the student's function is not the exercise: it calls a replaced function, or misses one."""
    name = getattr(student, "__name__", "your function")
    for f in replaces:
        if f.__code__ in called:
            return (f"{name} calls {f.__module__}.{f.__name__}, the function this exercise replaces",
                    "write it yourself from NumPy (and your functions of the earlier exercises)")
    for f in uses:
        if f.__code__ not in called:
            return (f"{name} never calls {f.__name__}",
                    f"the exercise builds {name} on your {f.__name__}: call it")
    return "", ""


def run_cases(checker, student, reference, cases, mistakes=(), general_hint="", compare=None,
              show_inputs=None, stop=True, replaces=(), uses=(), agree=None):
    """Run ``student`` against ``reference`` on ``cases``; return a :class:`Verdict`.

    Parameters
    ----------
    checker, general_hint : str
        The name in the verdict; the hint when no planted mistake explains a wrong result.
    student, reference : callable
        Called as ``fn(*case.args, **case.kwargs)`` for each of ``cases`` (sequence of Case).
    mistakes : sequence of Mistake
        A mistake's hint is given when its results ``agree`` with the student's on every case.
    compare, agree, show_inputs : callable, optional
        ``(got, expected) -> ""`` or why they differ (default :func:`compare_arrays`; ``agree``
        defaults to ``compare``); ``case -> str`` (default: the arguments, shortened).
    stop : bool
        True (notebooks): print a pass, raise AssertionError with the verdict on a failure. False:
        return only.
    replaces, uses : sequence of functions
        ``student`` must not call ``reference`` or any of ``replaces``, and must call each of ``uses``.
    """
    compare = compare or compare_arrays
    show_inputs = show_inputs or (lambda c: ", ".join(
        [_show(a) for a in c.args] + [f"{k}={v!r}" for k, v in c.kwargs.items()]))
    got, called = _traced(lambda: [case.call(student) for case in cases])
    verdict = Verdict(checker, True, len(cases))
    for case, g in zip(cases, got):
        if detail := (f"raised {type(g).__name__}: {g}" if isinstance(g, Exception)
                      else compare(g, case.call(reference))):
            hint = _diagnose(cases, got, mistakes, agree or compare, general_hint, g)
            verdict = Verdict(checker, False, len(cases), case.name, show_inputs(case), detail, hint)
            break
    else:
        detail, hint = _honesty(student, called, (reference,) + tuple(replaces), uses)
        if detail:
            verdict = Verdict(checker, False, len(cases), "every case", "-", detail, hint)
    if stop and not verdict:
        raise AssertionError(str(verdict))
    if stop:
        print(verdict)
    return verdict
