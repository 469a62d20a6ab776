"""Data sets for sparse-training experiments.

- :func:`make_madelon_like`: a Madelon-style classification problem, built the way
  scikit-learn's ``make_classification`` builds it (our own implementation, NumPy only).
- :func:`load_digits`: scikit-learn's 8x8 digits, scaled to [0, 1] (needs scikit-learn).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

__all__ = ["load_digits", "make_madelon_like"]


def _int(value: Any, name: str, minimum: int) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def _hypercube_vertices(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct vertices of the unit hypercube {0, 1}^dim, in random order."""
    if dim <= 30:
        codes = rng.choice(2**dim, size=count, replace=False)
        return ((codes[:, None] >> np.arange(dim)) & 1).astype(np.float64)
    # 2**dim is far larger than count: random bit rows, redrawing the rare repeats
    vertices = np.empty((0, dim), dtype=np.float64)
    while vertices.shape[0] < count:
        fresh = rng.integers(0, 2, size=(count - vertices.shape[0], dim)).astype(np.float64)
        stacked = np.concatenate([vertices, fresh])
        _, first = np.unique(stacked, axis=0, return_index=True)
        vertices = stacked[np.sort(first)]
    return vertices


def make_madelon_like(
    n_samples: int = 2600,
    n_features: int = 500,
    n_informative: int = 5,
    n_redundant: int = 15,
    n_repeated: int = 0,
    n_classes: int = 2,
    n_clusters_per_class: int = 16,
    class_sep: float = 1.0,
    flip_y: float = 0.01,
    *,
    shuffle: bool = True,
    seed: int = 0,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """A Madelon-style problem: ``(X, y)`` with ``X`` of shape ``(n_samples, n_features)``
    and ``y`` int64 labels in ``0..n_classes``.

    The construction of scikit-learn's ``make_classification`` (Guyon's Madelon design):

    1. ``n_classes * n_clusters_per_class`` clusters sit at distinct vertices of a hypercube of
       side ``2 * class_sep`` in the ``n_informative``-dimensional informative space; cluster
       ``k`` belongs to class ``k % n_classes``, and the samples are split as evenly as possible
       over the clusters (the first clusters get one more when it does not divide).
    2. Each cluster's points are standard normal, multiplied by a random matrix with entries
       uniform on [-1, 1) (a random covariance) and moved to the cluster's vertex.
    3. ``n_redundant`` features are random linear combinations (coefficients uniform on
       [-1, 1)) of the informative ones, ``n_repeated`` copy randomly chosen informative or
       redundant features, and the remaining features are standard normal noise.
    4. A fraction ``flip_y`` of the labels is replaced by random labels.
    5. With ``shuffle``, rows and then columns are permuted. These are the last random draws,
       so ``shuffle=False`` with the same seed gives the same data with columns in the order
       informative, redundant, repeated, noise.

    The default is Madelon's design: 500 features, 5 informative, 15 redundant, two classes of
    16 clusters each, 1 % label noise. ``seed`` drives ``numpy.random.default_rng``.
    """
    n_samples = _int(n_samples, "n_samples", 1)
    n_features = _int(n_features, "n_features", 1)
    n_informative = _int(n_informative, "n_informative", 1)
    n_redundant = _int(n_redundant, "n_redundant", 0)
    n_repeated = _int(n_repeated, "n_repeated", 0)
    n_classes = _int(n_classes, "n_classes", 1)
    n_clusters_per_class = _int(n_clusters_per_class, "n_clusters_per_class", 1)
    seed = _int(seed, "seed", 0)
    class_sep, flip_y = float(class_sep), float(flip_y)
    n_useful = n_informative + n_redundant + n_repeated
    if n_useful > n_features:
        raise ValueError(
            f"n_informative + n_redundant + n_repeated = {n_useful} exceeds "
            f"n_features = {n_features}"
        )
    n_clusters = n_classes * n_clusters_per_class
    if n_informative < 63 and 2**n_informative < n_clusters:
        raise ValueError(
            f"n_classes * n_clusters_per_class = {n_clusters} clusters need distinct hypercube "
            f"vertices, but n_informative = {n_informative} gives only {2**n_informative}"
        )
    if not np.isfinite(2.0 * class_sep):  # the hypercube side is 2 * class_sep
        raise ValueError(f"class_sep must be finite (and below ~9e307), got {class_sep}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating-point type, got {dtype}")
    if not 0.0 <= flip_y <= 1.0:
        raise ValueError(f"flip_y must lie in [0, 1], got {flip_y}")

    rng = np.random.default_rng(seed)
    per_cluster = np.full(n_clusters, n_samples // n_clusters)
    per_cluster[: n_samples - per_cluster.sum()] += 1
    bounds = np.concatenate([[0], np.cumsum(per_cluster)])
    centroids = _hypercube_vertices(n_clusters, n_informative, rng) * (2 * class_sep) - class_sep

    X = np.empty((n_samples, n_features), dtype=np.float64)
    y = np.repeat(np.arange(n_clusters) % n_classes, per_cluster).astype(np.int64)
    informative = rng.standard_normal((n_samples, n_informative))
    for k in range(n_clusters):
        rows = slice(bounds[k], bounds[k + 1])
        covariance = 2.0 * rng.random((n_informative, n_informative)) - 1.0
        informative[rows] = informative[rows] @ covariance + centroids[k]
    X[:, :n_informative] = informative
    if n_redundant:
        mixing = 2.0 * rng.random((n_informative, n_redundant)) - 1.0
        X[:, n_informative : n_informative + n_redundant] = informative @ mixing
    if n_repeated:
        n = n_informative + n_redundant
        sources = ((n - 1) * rng.random(n_repeated) + 0.5).astype(np.intp)
        X[:, n : n + n_repeated] = X[:, sources]
    if n_useful < n_features:
        X[:, n_useful:] = rng.standard_normal((n_samples, n_features - n_useful))
    if flip_y > 0.0:
        flipped = rng.random(n_samples) < flip_y
        y[flipped] = rng.integers(0, n_classes, size=int(flipped.sum()))
    with np.errstate(over="ignore"):
        X = X.astype(dtype, copy=False)
    if not np.isfinite(X).all():
        raise ValueError(f"the features overflow {dtype}: lower class_sep or use a wider dtype")
    if shuffle:
        rows = rng.permutation(n_samples)
        cols = rng.permutation(n_features)
        X, y = X.take(rows, axis=0).take(cols, axis=1), y[rows]
    return np.ascontiguousarray(X), y


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits: ``X`` float32 of shape (1797, 64) scaled to
    [0, 1] (pixel / 16) and ``y`` int64 in 0..10. The data ship with scikit-learn; nothing is
    downloaded."""
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "sparsedag.datasets.load_digits needs scikit-learn, which ships the digits data; "
            "install it with `pip install scikit-learn`"
        ) from error
    digits = sklearn_load_digits()
    X = (np.asarray(digits.data, dtype=np.float64) / 16.0).astype(np.float32)
    return X, np.asarray(digits.target, dtype=np.int64)
