"""Experiments: the logic of ``horq-ref reproduce``, its report and figures, and the speed benchmark."""
