"""The cost model: operations and bytes of an order-K binary layer, forward and backward.

:mod:`horq_ref.cost.forward` holds the speed model ``S_K`` of the forward pass (docs/paper.md §6),
the per-layer counts and memory, and what the least-squares refit of the scales adds;
:mod:`horq_ref.cost.backward` counts the backward products, float against binary operands.
Every name is importable from :mod:`horq_ref.cost` itself.
"""

from .backward import *  # noqa: F401,F403
from .backward import __all__ as _backward_all
from .forward import *  # noqa: F401,F403
from .forward import __all__ as _forward_all

__all__ = list(_forward_all) + list(_backward_all)
