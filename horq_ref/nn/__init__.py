"""Networks built on the method: layers, batch norm, losses, blocks, models, optimizers, training, the
gradient checker; read :mod:`horq_ref.quantize`, :mod:`horq_ref.conv` and :mod:`horq_ref.ste` first.
"""
