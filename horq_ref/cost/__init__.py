"""The cost model: operations and bytes of an order-K binary layer, forward and backward.

:mod:`horq_ref.cost.forward` holds the speed model ``S_K`` of the forward pass (docs/paper.md §6),
the per-layer counts and memory, and what the least-squares refit of the scales adds;
:mod:`horq_ref.cost.backward` counts the backward products, float against binary operands.
Every name is importable from :mod:`horq_ref.cost` itself.
"""

from . import backward, forward
from .backward import *  # noqa: F401,F403
from .forward import *  # noqa: F401,F403

__all__ = forward.__all__ + backward.__all__
