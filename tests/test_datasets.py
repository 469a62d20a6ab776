"""sd.datasets: the Madelon-style generator (make_classification's construction) and digits."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sparsedag as sd


def test_shapes_dtypes_and_seeds():
    X, y = sd.datasets.make_madelon_like(300, 40, 5, 10, 3, n_classes=3, n_clusters_per_class=2)
    assert X.shape == (300, 40) and X.dtype == np.float32 and X.flags.c_contiguous
    assert y.shape == (300,) and y.dtype == np.int64 and set(np.unique(y)) <= {0, 1, 2}
    X2, y2 = sd.datasets.make_madelon_like(300, 40, 5, 10, 3, n_classes=3, n_clusters_per_class=2)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = sd.datasets.make_madelon_like(
        300, 40, 5, 10, 3, n_classes=3, n_clusters_per_class=2, seed=1
    )
    assert not np.array_equal(X, X3)
    X64, _ = sd.datasets.make_madelon_like(50, 30, dtype=np.float64, n_clusters_per_class=2)
    assert X64.dtype == np.float64


def test_defaults_follow_madelon():
    X, y = sd.datasets.make_madelon_like()
    assert X.shape == (2600, 500)
    assert np.bincount(y).tolist() == pytest.approx([1300, 1300], abs=30)  # 1 % flipped


def test_classes_are_balanced_without_label_noise():
    for n_samples in (1000, 1003, 977):
        _, y = sd.datasets.make_madelon_like(
            n_samples, 20, 4, 2, n_classes=5, n_clusters_per_class=3, flip_y=0.0
        )
        counts = np.bincount(y, minlength=5)
        assert counts.sum() == n_samples
        # clusters differ by at most one sample, a class has 3 clusters
        assert counts.max() - counts.min() <= 3


def test_shuffle_permutes_rows_and_columns_only():
    kwargs = dict(n_samples=200, n_features=25, n_informative=4, n_redundant=5, n_repeated=2)
    Xs, ys = sd.datasets.make_madelon_like(**kwargs, n_clusters_per_class=2, seed=7)
    Xu, yu = sd.datasets.make_madelon_like(**kwargs, n_clusters_per_class=2, seed=7, shuffle=False)
    # same multiset of rows (with labels) and of columns
    key = lambda X, y: sorted(map(tuple, np.column_stack([X, y]).round(5)))  # noqa: E731
    assert key(np.sort(Xs, axis=1), ys) == key(np.sort(Xu, axis=1), yu)
    assert sorted(Xs.sum(axis=0).round(2)) == pytest.approx(sorted(Xu.sum(axis=0).round(2)))
    assert not np.array_equal(Xs, Xu)


def test_redundant_and_repeated_features_come_from_the_informative_ones():
    n_inf, n_red, n_rep = 6, 10, 4
    X, _ = sd.datasets.make_madelon_like(
        500, 40, n_inf, n_red, n_rep, n_clusters_per_class=2, shuffle=False, dtype=np.float64
    )
    informative = X[:, :n_inf]
    useful = X[:, : n_inf + n_red + n_rep]
    assert np.linalg.matrix_rank(informative) == n_inf
    # redundant and repeated columns add no rank: they are linear combinations
    assert np.linalg.matrix_rank(useful, tol=1e-8 * np.abs(useful).max()) == n_inf
    for c in range(n_inf + n_red, n_inf + n_red + n_rep):
        assert any(np.array_equal(X[:, c], X[:, s]) for s in range(n_inf + n_red))
    # the noise columns are independent standard normal
    noise = X[:, n_inf + n_red + n_rep :]
    assert np.linalg.matrix_rank(noise) == noise.shape[1]
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1) < 0.05


def _least_squares_accuracy(X_train, y_train, X_test, y_test, n_classes):
    A = np.column_stack([X_train, np.ones(len(X_train))])
    B = np.column_stack([X_test, np.ones(len(X_test))])
    targets = np.eye(n_classes)[y_train]
    coef, *_ = np.linalg.lstsq(A, targets, rcond=None)
    return float(np.mean((B @ coef).argmax(axis=1) == y_test))


def test_informative_features_separate_the_classes_and_noise_does_not():
    n_inf, n_classes = 5, 4
    X, y = sd.datasets.make_madelon_like(
        4000, 30, n_inf, 0, n_classes=n_classes, n_clusters_per_class=1, class_sep=2.0,
        flip_y=0.0, shuffle=False, seed=3,
    )  # fmt: skip
    train, test = slice(0, 3000), slice(3000, None)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    informative = _least_squares_accuracy(
        X[train, :n_inf], y[train], X[test, :n_inf], y[test], n_classes
    )
    noise = _least_squares_accuracy(X[train, n_inf:], y[train], X[test, n_inf:], y[test], n_classes)
    assert informative > 0.7, informative
    assert noise < 0.25 + 0.06, noise


def test_label_noise_fraction():
    kwargs = dict(n_clusters_per_class=2, shuffle=False)
    _, clean = sd.datasets.make_madelon_like(5000, 10, 3, 0, flip_y=0.0, **kwargs)
    _, noisy = sd.datasets.make_madelon_like(5000, 10, 3, 0, flip_y=0.2, **kwargs)
    # a flipped label is redrawn uniformly, so about half of the flips change it
    assert 0.07 < np.mean(clean != noisy) < 0.13


def test_many_informative_features_use_distinct_random_vertices():
    X, y = sd.datasets.make_madelon_like(
        2000, 100, 50, 50, n_classes=10, n_clusters_per_class=2, shuffle=False
    )
    assert X.shape == (2000, 100) and np.bincount(y).size == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_features": 10, "n_informative": 5, "n_redundant": 6}, ValueError, "exceeds"),
        ({"n_informative": 2, "n_classes": 3, "n_clusters_per_class": 2}, ValueError, "vertices"),
        ({"flip_y": 1.5}, ValueError, "flip_y"),
        ({"class_sep": float("inf")}, ValueError, "class_sep"),
        ({"n_classes": 2.5}, TypeError, "n_classes"),
        ({"seed": -1}, ValueError, "seed"),
        # these gave infinite features (2 * class_sep overflows; float16 tops out at 65504)
        ({"class_sep": 1e308}, ValueError, "class_sep"),
        ({"class_sep": 1e6, "dtype": np.float16}, ValueError, "overflow float16"),
        ({"dtype": str}, TypeError, "floating-point"),  # gave strings
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        sd.datasets.make_madelon_like(**kwargs)


def test_load_digits():
    pytest.importorskip("sklearn")
    X, y = sd.datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).size == 10


def test_load_digits_without_scikit_learn(monkeypatch):
    for name in list(sys.modules):
        if name == "sklearn" or name.startswith("sklearn."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        sd.datasets.load_digits()
