"""Data sets ready for training: the embedded MNIST subset, full MNIST, Fashion-MNIST and CIFAR-10.

This module is plumbing, not part of the paper. The paper trains on MNIST and CIFAR-10 without saying
how pixels are scaled; the choices made here are:

* Pixels are scaled to ``[0, 1]`` by ``x = p / 255`` (float32) and nothing else: no mean subtraction,
  so a black background stays exactly 0 and is binarized by ``sign(0) = +1`` like any other zero.
* Images are channels-first, ``(N, 1, 28, 28)`` for MNIST and Fashion-MNIST, ``(N, 3, 32, 32)`` for
  CIFAR-10, as the convolutions of :mod:`horq_ref` expect; labels are int64 ``(N,)``.
* The embedded subset (5,000 digits, 500 per class) has no test set of its own: it is split
  stratified by class, by default 4,000 train / 1,000 test with exactly 100 test digits per class, the
  same split for the same ``seed``.
* ``limit_train`` / ``limit_test`` keep a stratified subset of that size, for quick runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..checks import check_int
from .cifar import CIFAR10_CLASSES, find_cifar10_batches, read_cifar10_batch
from .idx import find_idx_files, read_idx_images, read_idx_labels

__all__ = ["Dataset", "DATASET_NAMES", "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "CIFAR10_CLASSES",
           "normalize_images", "stratified_split", "load_dataset"]

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DATASET_NAMES = ("mnist", "fashion-mnist", "cifar10")


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train and test arrays of one data set.

    Attributes
    ----------
    x_train : ndarray of float32, shape (N, C, H, W)
    y_train : ndarray of int64, shape (N,)
    x_test : ndarray of float32, shape (n, C, H, W)
    y_test : ndarray of int64, shape (n,)
    name : str
    classes : tuple of str, length num_classes
        ``classes[y]`` names label ``y``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    classes: tuple

    def __post_init__(self):
        for part in ("train", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x.ndim != 4 or y.ndim != 1 or x.shape[0] != y.shape[0]:
                raise ValueError(f"x_{part} must be (N, C, H, W) and y_{part} (N,), got "
                                 f"{x.shape} and {y.shape}")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"x_train and x_test image shapes differ: {self.x_train.shape[1:]} "
                             f"vs {self.x_test.shape[1:]}")

    @property
    def image_shape(self):
        """``(C, H, W)`` of one image."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self):
        """Number of classes (the same name as ``build_model``'s ``num_classes``)."""
        return len(self.classes)

    @property
    def n_train(self):
        return int(self.x_train.shape[0])

    @property
    def n_test(self):
        return int(self.x_test.shape[0])

    @property
    def fingerprint(self):
        """SHA-256 (hex) of the images and labels: equal counts from other files differ here."""
        h = hashlib.sha256()
        for a in (self.x_train, self.y_train, self.x_test, self.y_test):
            h.update(np.ascontiguousarray(a))
        return h.hexdigest()

    def __repr__(self):
        return (f"Dataset({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, "
                f"{self.num_classes} classes)")


def normalize_images(images):
    """Scale 8-bit pixels to float32 in ``[0, 1]``.

    Parameters
    ----------
    images : ndarray of uint8, any shape, e.g. (N, C, H, W)

    Returns
    -------
    ndarray of float32, same shape, entries in ``[0, 1]``.

    Notes
    -----
    ``x = p / 255``: 0 stays exactly 0 and 255 becomes exactly 1.

    Examples
    --------
    >>> normalize_images(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images must have dtype uint8 (8-bit pixels), got {images.dtype}")
    return images.astype(np.float32) / np.float32(255)


def _check_labels(labels):
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d array, got shape {labels.shape}")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    return labels


def _test_size(n, test_fraction, n_test):
    if test_fraction is not None and n_test is not None:
        raise ValueError("give test_fraction or n_test, not both")
    if n_test is None:
        frac = 0.2 if test_fraction is None else float(test_fraction)
        if not 0.0 < frac < 1.0:
            raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
        n_test = int(round(frac * n))
    return check_int(n_test, "n_test", minimum=1, maximum=n - 1)


def stratified_split(labels, test_fraction=None, n_test=None, seed=0):
    """Split indices into train and test, each class represented in proportion.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
    test_fraction : float in (0, 1), optional
        Default 0.2 when ``n_test`` is not given either; ``n_test = round(test_fraction * N)``.
    n_test : int in 1..N-1, optional
    seed : int
        The same seed gives the same split.

    Returns
    -------
    train_idx : ndarray of int64, shape (N - n_test,)
    test_idx : ndarray of int64, shape (n_test,)
        Disjoint, together ``0..N-1``, each in a seed-determined shuffled order.

    Notes
    -----
    Class ``c`` with ``N_c`` members gets ``floor(n_test N_c / N)`` test indices; the ``n_test`` minus
    their sum left over go one each to the classes with the largest remainders ``n_test N_c mod N``
    (ties to the smaller label), so every class is within one of its exact share ``n_test N_c / N``.

    Examples
    --------
    >>> train, test = stratified_split([0, 0, 0, 0, 1, 1, 1, 1], n_test=4, seed=0)
    >>> np.bincount(np.asarray([0, 0, 0, 0, 1, 1, 1, 1])[test]).tolist()
    [2, 2]
    """
    labels = _check_labels(labels)
    n = labels.shape[0]
    k = _test_size(n, test_fraction, n_test)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    share = k * counts.astype(np.int64)                   # n_test * N_c, exact in int64
    per_class = share // n
    order = np.lexsort((np.arange(classes.size), -(share % n)))  # largest remainder first
    per_class[order[: k - per_class.sum()]] += 1
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(classes.size):
        members = rng.permutation(np.flatnonzero(inverse == c))
        test.append(members[: per_class[c]])
        train.append(members[per_class[c]:])
    train_idx = rng.permutation(np.concatenate(train)).astype(np.int64)
    test_idx = rng.permutation(np.concatenate(test)).astype(np.int64)
    return train_idx, test_idx


def _read_idx_split(images_path, labels_path, num_classes):
    """uint8 images (N, 1, H, W) and labels (N,) from one pair of IDX files, cross-checked."""
    images, labels = read_idx_images(images_path), read_idx_labels(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected images (N, H, W), got shape {images.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_path} holds {images.shape[0]} images but {labels_path} "
                         f"holds {labels.shape[0]} labels")
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"{labels_path}: label {labels.max()} out of range 0..{num_classes - 1}")
    return images[:, None], labels  # (N, H, W) -> (N, 1, H, W)


def _read_raw(name, data_dir):
    """uint8 ``(x_train, y_train, x_test, y_test)`` read from the files under ``data_dir``."""
    if name == "cifar10":
        train_paths, test_path = find_cifar10_batches(data_dir)
        parts = [read_cifar10_batch(p) for p in train_paths]
        x_test, y_test = read_cifar10_batch(test_path)
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                x_test, y_test)
    files = find_idx_files(data_dir, name)
    x_train, y_train = _read_idx_split(files["train_images"], files["train_labels"], 10)
    x_test, y_test = _read_idx_split(files["test_images"], files["test_labels"], 10)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"{files['train_images']} and {files['test_images']} hold images of "
                         f"different sizes: {x_train.shape[2:]} vs {x_test.shape[2:]}")
    return x_train, y_train, x_test, y_test


def _limit(x, y, limit, seed, arg):
    """A stratified subset of ``limit`` samples (all of them if ``limit`` is None or >= N)."""
    if limit is None:
        return x, y
    limit = check_int(limit, arg, minimum=1)
    if limit >= y.shape[0]:
        return x, y
    keep = np.sort(stratified_split(y, n_test=int(limit), seed=seed)[1])  # keep the file's order
    return x[keep], y[keep]


def _canonical_name(name):
    key = str(name).lower().replace("_", "-")
    key = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}.get(key, key)
    if key not in DATASET_NAMES:
        raise ValueError(f"name must be one of {', '.join(DATASET_NAMES)}, got {name!r}")
    return key


def load_dataset(name="mnist", data_dir=None, seed=0, limit_train=None, limit_test=None,
                 test_fraction=0.2):
    """Load a data set as float32 images in ``[0, 1]`` and int64 labels.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10"}
    data_dir : str or os.PathLike, optional
        Where the full data set's files are (see :func:`horq_ref.data.idx.find_idx_files`,
        :func:`horq_ref.data.cifar.find_cifar10_batches`). Default: the embedded MNIST subset,
        available for ``name="mnist"`` only, named ``"mnist-5k"``.
    seed : int
        Seeds the split of the embedded subset and the ``limit_*`` subsets.
    limit_train, limit_test : int, optional
        Keep a stratified subset of this many training / test samples.
    test_fraction : float
        The test share of the embedded subset (0.2: 4,000 train / 1,000 test).

    Returns
    -------
    Dataset
        ``x_*`` float32 (N, 1, 28, 28) or (N, 3, 32, 32), ``y_*`` int64 (N,).

    Examples
    --------
    >>> ds = load_dataset(limit_train=500, limit_test=100)
    >>> ds
    Dataset('mnist-5k', train=(500, 1, 28, 28), test=(100, 1, 28, 28), 10 classes)
    >>> np.bincount(ds.y_test).tolist()
    [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
    """
    key = _canonical_name(name)
    classes = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES,
               "cifar10": CIFAR10_CLASSES}[key]
    if data_dir is None:
        if key != "mnist":
            raise ValueError(f"{key} is not embedded: pass data_dir (`horq-ref download {key} "
                             f"--data-dir DIR` fetches it)")
        from . import load_embedded_mnist  # here, so the package may re-export this module

        images, labels = load_embedded_mnist()
        train, test = stratified_split(labels, test_fraction=test_fraction, seed=seed)
        images = images[:, None]  # (5000, 28, 28) -> (5000, 1, 28, 28)
        raw = images[train], labels[train], images[test], labels[test]
        key = "mnist-5k"
    else:
        raw = _read_raw(key, data_dir)
    x_train, y_train = _limit(raw[0], raw[1], limit_train, seed, "limit_train")
    x_test, y_test = _limit(raw[2], raw[3], limit_test, seed, "limit_test")
    return Dataset(normalize_images(x_train), y_train.astype(np.int64),
                   normalize_images(x_test), y_test.astype(np.int64), key, classes)
