"""Sparse evolutionary training (SET) of a sparse MLP on a Madelon-like problem.

    python examples/set_mlp.py [--epochs 8] [--plot history.png]

Every hidden layer starts as an Erdős–Rényi sparse layer and is pruned and regrown between
epochs; the network never holds a dense weight matrix.
"""

from __future__ import annotations

import argparse

import numpy as np

import sparsedag as sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--plot", help="save the training history to this image (needs matplotlib)")
    args = ap.parse_args()

    X, y = sd.datasets.make_madelon_like(
        n_samples=6000, n_features=200, n_informative=20, n_redundant=20, n_classes=4,
        n_clusters_per_class=2, seed=0,
    )  # fmt: skip
    X_train, y_train, X_test, y_test = X[:5000], y[:5000], X[5000:], y[5000:]

    clf = sd.SparseMLPClassifier(hidden=(1000, 1000), epsilon=20, epochs=args.epochs, seed=0)
    clf.fit(X_train, y_train)

    dense = 200 * 1000 + 1000 * 1000 + 1000 * 4
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    print(f"test accuracy {accuracy:.3f}")
    print(f"{clf.n_connections_:,} connections ({clf.n_connections_ / dense:.1%} of dense)")
    print(f"{clf.memory_['bytes_per_connection']:.1f} bytes per connection")
    print(f"time per epoch {np.mean(clf.history_['time_train']):.3f} s")
    if args.plot:
        from sparsedag import plot

        plot.plot_history(clf, metrics=("loss", "accuracy", "connections")).figure.savefig(
            args.plot
        )
        print(f"history plotted to {args.plot}")


if __name__ == "__main__":
    main()
