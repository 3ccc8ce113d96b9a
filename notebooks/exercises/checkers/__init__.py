"""Checkers for the exercise notebooks beside this folder: each runs a student's function against
the reference of ``horq_ref`` on fixed, random and adversarial cases and prints "passed N cases", or
stops the notebook (``AssertionError``) at the first failing case with a hint naming the likely mistake
(``runner``). ``check_f`` checks the student's ``f`` (``check_horq_conv2d``: ``conv``,
``check_quantizer_backward``: ``backward``); each returns a ``runner.Verdict``.

They live beside the exercises, not in the package: only the course uses them. An exercise notebook
imports them from its own folder (``import checkers``); a solution, one folder down, adds ``..`` to
``sys.path`` first.
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
