"""The order-K input quantizer and its chain STE as a PyTorch ``autograd.Function``.

The same map and the same backward as :func:`horq_ref.ste.quantizer_forward` /
:func:`horq_ref.ste.quantizer_backward` with ``SIGN_STE`` and ``ste="chain"`` (derivation in the
docstring of :mod:`horq_ref.ste`, docs/paper.md §5), written with torch tensors so that it can sit in a
PyTorch model. PyTorch is an optional dependency: it is imported when the function is first used, and
its absence gives an ``ImportError`` that says what to install. Its choices that differ from
PyTorch's defaults (``sign(0) = +1``, one scale per group given by ``dim``, the closed STE window
``1{|r| <= 1}`` on every residual plus the path through each scale) are compared in docs/frameworks.md.
"""

from __future__ import annotations

__all__ = ["binary_sign", "horq_quantize", "quantize_function"]

_FUNCTION = None


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("horq_ref.interop.torch_quantizer needs PyTorch (pip install torch); "
                          "the rest of horq_ref does not") from exc
    return torch


def binary_sign(x):
    """``+1`` where ``x >= 0`` (both zeros included), ``-1`` elsewhere, in the dtype of ``x``."""
    torch = _torch()
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def quantize_function():
    """The ``torch.autograd.Function`` class (built once, on first use, so that torch stays optional)."""
    global _FUNCTION
    if _FUNCTION is not None:
        return _FUNCTION
    torch = _torch()

    class HorqQuantize(torch.autograd.Function):
        """``Xt = sum_i beta_i H_i`` forward; chain STE backward."""

        @staticmethod
        def forward(ctx, x, order, dim):
            R, Rs, Hs, betas = x, [], [], []  # R_0..R_{K-1}, H_i, beta_i (kept dims)
            for _ in range(order):
                Rs.append(R)
                Hs.append(binary_sign(R))
                betas.append(R.abs().mean(dim=dim, keepdim=True))
                R = R - betas[-1] * Hs[-1]
            ctx.save_for_backward(*Rs, *Hs, *betas)
            ctx.order, ctx.dim = order, dim
            Xt = betas[0] * Hs[0]
            for beta, H in zip(betas[1:], Hs[1:]):
                Xt = Xt + beta * H
            return Xt

        @staticmethod
        def backward(ctx, grad):
            K, dim = ctx.order, ctx.dim
            saved = ctx.saved_tensors
            Rs, Hs, betas = saved[:K], saved[K:2 * K], saved[2 * K:]
            n = Rs[0].numel() // betas[0].numel()  # entries per group
            u, dX = grad, torch.zeros_like(grad)
            for i in reversed(range(K)):
                window = (Rs[i].abs() <= 1).to(grad.dtype)  # STE for sign'(R_{i-1})
                c = betas[i] * window * u  # through the plane H_i
                c = c + Hs[i] * (u * Hs[i]).sum(dim=dim, keepdim=True) / n  # through beta_i
                u, dX = u - c, dX + c
            return dX, None, None

    _FUNCTION = HorqQuantize
    return _FUNCTION


def horq_quantize(x, order, dim=-1):
    """Order-K quantizer of a torch tensor, differentiable with the chain STE.

    Parameters
    ----------
    x : torch.Tensor, any shape
    order : int >= 1
        K.
    dim : int or tuple of int or None
        Dims of one group (one ``beta_i`` per group), like ``horq_ref``'s ``axis``; ``None``: all.

    Returns
    -------
    torch.Tensor, shape of ``x``: ``sum_i beta_i H_i``.
    """
    from ..checks import check_order

    K = check_order(order)
    if dim is None:
        dim = tuple(range(x.dim()))
    return quantize_function().apply(x, K, dim)
