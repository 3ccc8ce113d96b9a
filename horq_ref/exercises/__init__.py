"""Checkers for the exercise notebooks (notebooks/exercises/): each runs a student's function against
the reference on fixed, random and adversarial cases and prints "passed N cases", or stops the notebook
(``AssertionError``) at the first failing case with a hint naming the likely mistake
(:mod:`horq_ref.exercises.runner`). ``check_f`` checks the student's ``f`` (``check_horq_conv2d``: ``conv``,
``check_quantizer_backward``: ``backward``); each returns a :class:`~horq_ref.exercises.runner.Verdict`.
"""

from .backward import check_fd_error, check_quantizer_backward
from .binarization import check_binarize, check_sign
from .bound import check_refined_bound, check_worst_input
from .popcount import check_horq_conv2d, check_pack_signs, check_popcount_dot
from .residual import check_predicted_energy, check_residual_quantize
from .runner import Verdict

__all__ = ["check_sign", "check_binarize", "check_residual_quantize", "check_predicted_energy",
           "check_worst_input", "check_refined_bound", "check_pack_signs", "check_popcount_dot",
           "check_horq_conv2d", "check_quantizer_backward", "check_fd_error", "Verdict"]
