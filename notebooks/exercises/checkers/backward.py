"""Checkers for exercise 05: the chain-STE backward pass of the order-K quantizer (docs/paper.md §5).

The student writes ``backward(dXt, x, order, axis, sign_fn)`` returning ``dX`` (shape of ``x``) for
``Xt = sum_i beta_i H_i`` with ``H_i = s(R_{i-1})``, ``beta_i = mean |R_{i-1}|`` per group. ``sign_fn``
is a :class:`horq_ref.ste.SignFn`: ``SIGN_STE`` (``s = sign``, ``s'`` the window ``1{|r| <= 1}``) or
``smooth_sign(tau)`` (``tanh(r / tau)`` and its true derivative), with which the answer is the exact
gradient. The student's ``fd_error(backward, x, order, tau, seed)`` measures a ``backward`` against
finite differences: small for the reference (:func:`horq_ref.ste.quantizer_backward`), large for wrong ones.
"""

from __future__ import annotations

import numpy as np

from horq_ref.nn.gradcheck import eval_numerical_gradient_array, rel_error
from horq_ref.quantize import binary_sign, expand, group_size
from horq_ref.ste import SIGN_STE, quantizer_backward, quantizer_forward, smooth_sign
from .runner import Case, Mistake, run_cases

__all__ = ["check_quantizer_backward", "reference_backward", "check_fd_error", "reference_fd_error"]

BACKWARD_HINT = ("walk the orders backwards with u_K = dXt: c_i = beta_i s'(R_{i-1}) u_i + "
                 "sign(R_{i-1}) / n * sum_group(u_i H_i), u_{i-1} = u_i - c_i, dX = sum_i c_i")


def reference_backward(dXt, x, order, axis=-1, sign_fn=SIGN_STE):
    """``dX`` from :func:`horq_ref.ste.quantizer_forward` and ``quantizer_backward`` (chain STE)."""
    _, cache = quantizer_forward(x, order, axis, sign_fn=sign_fn)
    return quantizer_backward(dXt, cache)


def _chain(dXt, x, order, axis=-1, sign_fn=SIGN_STE, beta_path=True, carry=True, plane_as_sign=False,
           window=None, group=True):
    """The chain rule with switches that plant one mistake each."""
    betas, H, R, ax = expand(x, order, axis, sign_fn=sign_fn.fn)  # (K,)+G, (K,)+shape, (K+1,)+shape
    n = group_size(R[0].shape, ax)
    deriv = window or sign_fn.deriv
    u, dX = dXt, np.zeros_like(R[0])
    for i in reversed(range(order)):
        S = H[i] if plane_as_sign else binary_sign(R[i])  # d|R_{i-1}|/dR_{i-1}
        c = betas[i] * deriv(R[i]) * u
        if beta_path:
            c = c + S * np.sum(u * H[i], axis=ax if group else None, keepdims=True) / n
        u = u - c if carry else u
        dX = dX + c
    return dX


BACKWARD_MISTAKES = (
    Mistake(lambda *a, **k: _chain(*a, **k, beta_path=False),
            "a forgotten beta path: beta_i = mean |R_{i-1}| depends on every entry of its group, so "
            "each order also sends sign(R_{i-1}) / n * sum_group(u_i H_i)"),
    Mistake(lambda *a, **k: _chain(*a, **k, carry=False),
            "every order sees dXt: order i must get the gradient u_i the later orders left over, "
            "u_{i-1} = u_i - c_i"),
    Mistake(lambda *a, **k: _chain(*a, **k, plane_as_sign=True),
            "d|r|/dr is sign(r), not the plane H_i = s(r): they differ when the sign function is smooth"),
    Mistake(lambda *a, **k: _chain(*a, **k, window=lambda r: (np.abs(r) < 1).astype(r.dtype))
            if k.get("sign_fn", SIGN_STE) is SIGN_STE else _chain(*a, **k),
            "the STE window is closed: 1{|r| <= 1} passes the gradient at |r| = 1 exactly"),
    Mistake(lambda *a, **k: _chain(*a, **k, group=False),
            "the beta path sums u_i H_i over the whole array: sum over each group (axis, keepdims)"),
    Mistake(lambda dXt, x, order, axis=-1, sign_fn=SIGN_STE: dXt * (np.abs(x) <= 1),
            "that is the identity STE (dXt inside the window); the chain STE differentiates every "
            "plane and scale"),
)


def _cases(rng):
    def case(name, shape, order, axis=-1, sign_fn=SIGN_STE, x=None):
        x = rng.standard_normal(shape) * 0.8 if x is None else x
        return Case(name, (rng.standard_normal(np.shape(x)), x, order),
                    {"axis": axis, "sign_fn": sign_fn})
    edge = np.array([[1.0, -1.0, 0.0, -0.0, 0.5, 2.0], [0.3, -0.7, 1.0, 0.0, -1.5, 0.25]])
    return [
        case("fixed: K = 1, one row", (1, 6), 1),
        case("random (4, 9), K = 3, seed 0", (4, 9), 3),
        case("smooth sign tanh(r/0.5), K = 2, several axes (0, 2)", (3, 2, 5), 2, (0, 2),
             smooth_sign(0.5)),
        case("adversarial: |x| = 1 exactly, zeros and -0.0, K = 1", None, 1, x=edge),
        case("adversarial: odd group size 7, K = 4, axis None", (7,), 4, None),
        case("smooth sign tanh(r/0.3), K = 3", (3, 5), 3, -1, smooth_sign(0.3)),
    ]


def check_quantizer_backward(student_fn, stop=True):
    """Check ``student_fn(dXt, x, order, axis, sign_fn) -> dX`` against the chain STE of ``ste``."""
    return run_cases("check_quantizer_backward", student_fn, reference_backward,
                     _cases(np.random.default_rng(0)), BACKWARD_MISTAKES, BACKWARD_HINT,
                     show_inputs=lambda c: (f"x of shape {np.shape(c.args[1])}, order {c.args[2]}, "
                                            f"axis {c.kwargs['axis']}, sign_fn {c.kwargs['sign_fn'].name}"),
                     stop=stop, replaces=(quantizer_backward,))


FD_TOL = 1e-6  # a right float64 gradient agrees to ~1e-8 (nn/gradcheck.py), each planted wrong one by > 1e-2


def reference_fd_error(backward, x, order, tau=0.5, seed=0, *, fd_sign=None, bw_sign=None):
    """``rel_error`` of ``backward(dXt, x, order, -1, s)`` against centered differences of
    ``L = sum(dXt * Xt(x))`` through the same ``s = smooth_sign(tau)``, ``dXt`` standard normal from
    ``seed``; ``fd_sign`` or ``bw_sign`` replace ``s`` on one side (the planted mistakes)."""
    s, dXt = smooth_sign(tau), np.random.default_rng(seed).standard_normal(np.shape(x))
    numeric = eval_numerical_gradient_array(
        lambda z: quantizer_forward(z, order, -1, sign_fn=fd_sign or s)[0], np.array(x, dtype=float), dXt)
    return rel_error(backward(dXt, x, order, -1, bw_sign or s), numeric)


def _compare_fd(got, expected):
    if isinstance(got, (int, float)) and np.isfinite(got) and (got < FD_TOL) == (expected < FD_TOL):
        return ""
    return (f"expected an error {'below' if expected < FD_TOL else 'above'} {FD_TOL:g} (the backward given is "
            f"{'right' if expected < FD_TOL else 'wrong'}; the reference measures {expected:.1e}), got {got!r}")


FD_MISTAKES = (
    Mistake(lambda *a, **k: 0.0, "fd_error never compares: it must return the error between backward's "
            "dX and the finite differences, small for a right backward, large for a wrong one"),
    Mistake(lambda *a, **k: reference_fd_error(*a, **k, bw_sign=SIGN_STE), "backward got the binary "
            "sign's STE: give it the smooth_sign(tau) that the finite differences go through"),
    Mistake(lambda *a, **k: reference_fd_error(*a, **k, fd_sign=SIGN_STE), "the finite differences went "
            "through the binary sign, whose derivative is 0 almost everywhere: use smooth_sign(tau)"),
)


def _fd_cases(rng):
    x, no_beta, identity = rng.standard_normal((3, 6)), BACKWARD_MISTAKES[0].fn, BACKWARD_MISTAKES[-1].fn
    return [Case("the reference backward, K = 3", (reference_backward, x, 3)),
            Case("a wrong backward (no beta path), K = 2", (no_beta, x, 2)),
            Case("the reference backward, K = 1, tau = 0.3", (reference_backward, x[:2, :5], 1), {"tau": 0.3}),
            Case("a wrong backward (identity STE), K = 2", (identity, x, 2))]


def check_fd_error(student_fn, stop=True):
    """Check ``student_fn(backward, x, order, tau, seed)``: small for the reference backward, large for
    wrong ones, like :func:`reference_fd_error`."""
    return run_cases("check_fd_error", student_fn, reference_fd_error, _fd_cases(np.random.default_rng(0)),
                     FD_MISTAKES, "compare backward(dXt, x, order, -1, smooth_sign(tau)) with the finite "
                     "differences of L = sum(dXt * Xt) by rel_error", compare=_compare_fd, agree=lambda g, w:
                     "" if isinstance(g, (int, float)) and np.isclose(g, w, rtol=1e-6) else "differ",
                     show_inputs=lambda c: f"{c.name}, x of shape {np.shape(c.args[1])}", stop=stop)
