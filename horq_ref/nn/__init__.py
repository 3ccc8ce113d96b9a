"""Networks built on the method: layers as forward/backward pairs, batch norm, losses, blocks, models,
optimizers, the training loop and the gradient checker.

Everything here is plumbing around :mod:`horq_ref.quantize`, :mod:`horq_ref.conv` and
:mod:`horq_ref.ste`; read those first (docs/reading-the-code.md gives the order).
"""
