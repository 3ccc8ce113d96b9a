"""Checkers for the exercise notebooks (notebooks/exercises/): each runs a student's function against
the reference on fixed, random and adversarial cases and prints "passed N cases", or stops the notebook
(:class:`~horq_ref.exercises.runner.CheckFailed`) at the first failing case with a hint naming the
likely mistake (:mod:`horq_ref.exercises.runner`).

=====================================  ==============================================  ===========
checker                                the student writes                              notebook
=====================================  ==============================================  ===========
``check_sign``                         ``sign(x)``                                     01
``check_binarize``                     ``binarize(x, axis) -> (beta, H)``              01
``check_residual_quantize``            ``residual_quantize(x, order, axis)``           02
``check_predicted_energy``             ``predicted_energy(x, betas, axis)``            02
``check_worst_input``                  ``worst_input(n)``                              02b
``check_refined_bound``                ``refined_bound(n, order)``                     02b
``check_pack_signs``                   ``pack_signs(x)``                               03
``check_popcount_dot``                 ``popcount_dot(a, b, n)``                       03
``check_horq_conv2d``                  ``conv(x, w, order, stride, padding)``          03
``check_quantizer_backward``           ``backward(dXt, x, order, axis, sign_fn)``      05
``check_fd_error``                     ``fd_error(backward, x, order, tau, seed)``     05
=====================================  ==============================================  ===========

Every checker returns a :class:`~horq_ref.exercises.runner.Verdict` (true when all cases passed).
"""

from .backward import check_fd_error, check_quantizer_backward
from .binarization import check_binarize, check_sign
from .bound import check_refined_bound, check_worst_input
from .popcount import check_horq_conv2d, check_pack_signs, check_popcount_dot
from .residual import check_predicted_energy, check_residual_quantize
from .runner import CheckFailed, Verdict

__all__ = ["check_sign", "check_binarize", "check_residual_quantize", "check_predicted_energy",
           "check_worst_input", "check_refined_bound", "check_pack_signs", "check_popcount_dot",
           "check_horq_conv2d", "check_quantizer_backward", "check_fd_error", "CheckFailed", "Verdict"]
