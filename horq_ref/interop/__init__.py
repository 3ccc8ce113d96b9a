"""Bridges to frameworks (optional dependencies, imported lazily): :mod:`.torch_quantizer` for PyTorch."""
