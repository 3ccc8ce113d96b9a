"""Argument types of the ``horq-ref`` commands: ``type=`` functions for :mod:`argparse`.

Each function turns one command-line string into a checked value with :mod:`horq_ref.checks` (the
package's one convention for argument checks) and turns a failure into
:class:`argparse.ArgumentTypeError`, so argparse prints ``argument --flag: <why>`` and exits with
status 2 before any work starts. Commands therefore never loop over their arguments afterwards.

>>> positive_int("3"), non_negative_int("0"), positive_float("2e-3")
(3, 0, 0.002)
>>> positive_int("0")
Traceback (most recent call last):
argparse.ArgumentTypeError: must be >= 1, got 0
>>> comma_list(("mlp", "cnn"))("cnn,mlp")
('cnn', 'mlp')
"""

from __future__ import annotations

import argparse
import math

from ..checks import check_int, check_order, check_real

__all__ = ["positive_int", "non_negative_int", "positive_float", "comma_list", "threads", "order",
           "path", "figure"]


def _strip_name(exc):
    """The message of a check (whose argument name argparse already prints), without the name."""
    return str(exc).removeprefix("value ")


def _int(text, minimum, order=False):
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    try:
        return check_order(value, "value") if order else check_int(value, "value", minimum=minimum)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_strip_name(exc)) from None


def positive_int(text):
    """An integer >= 1."""
    return _int(text, 1)


def non_negative_int(text):
    """An integer >= 0."""
    return _int(text, 0)


def threads(text):
    """A thread count: an integer >= 1."""
    return _int(text, 1)


def positive_float(text):
    """A finite number > 0 (``inf`` and ``nan`` are refused: a timeout or a rate must be finite)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    try:
        return check_real(value, "value", minimum=0.0, exclusive_minimum=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_strip_name(exc)) from None


def comma_list(choices):
    """A ``type=`` function for a comma-separated list of distinct names out of ``choices``."""
    choices = tuple(choices)

    def parse(text):
        items = tuple(s.strip() for s in text.split(","))
        if not all(items) or any(s not in choices for s in items) or len(set(items)) < len(items):
            raise argparse.ArgumentTypeError(
                f"must list {' and/or '.join(choices)} once each, separated by commas, got {text!r}")
        return items

    parse.__name__ = "comma_list"
    return parse


def order(text):
    """An expansion order: an integer in ``1..ORDER_LIMIT`` (:data:`horq_ref.checks.ORDER_LIMIT`)."""
    return _int(text, 1, order=True)


def path(text):
    """A file or folder name: not empty (an empty name would silently mean "no output")."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def figure(text):
    """A figure file whose type matplotlib writes, named by its extension."""
    if not path(text).lower().endswith(kinds := (".png", ".pdf", ".svg", ".jpg", ".eps", ".tif")):
        raise argparse.ArgumentTypeError(f"must end in one of {', '.join(kinds)}, got {text!r}")
    return text

