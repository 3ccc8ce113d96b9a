"""The theory of residual quantization as executable statements (proofs in ``docs/theory.md``): the
error guarantee (:mod:`.bounds`), input laws and their closed forms (:mod:`.laws`), greedy within the
scale family (:mod:`.family`). Every public name of the three is importable from ``horq_ref.theory``.
"""

from . import bounds, family, laws
from .bounds import *  # noqa: F401,F403
from .family import *  # noqa: F401,F403
from .laws import *  # noqa: F401,F403

__all__ = bounds.__all__ + laws.__all__ + family.__all__
