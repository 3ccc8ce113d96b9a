"""The theory of residual quantization as executable statements (proofs in ``docs/theory.md``).

* :mod:`.bounds` -- the error guarantee: energy identity, contraction, both bounds, the scales;
* :mod:`.laws` -- input laws: samplers, closed forms (order one at every ``n``, order two as
  ``n -> inf``) and their quadrature for every scale variant;
* :mod:`.family` -- greedy within the scale family: the least-squares optimality condition, the
  nearest-level condition, sharpness of the growth bound, exact rational expansions.

Every public name of the three modules is importable from ``horq_ref.theory``.
"""

from . import bounds, family, laws
from .bounds import *  # noqa: F401,F403
from .family import *  # noqa: F401,F403
from .laws import *  # noqa: F401,F403

__all__ = bounds.__all__ + laws.__all__ + family.__all__
