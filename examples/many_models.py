"""Train many small MLPs at once: a model search as one sparse DAG. Every (width, activation,
repetition) combination becomes an independent MLP, all of them side by side in one network,
trained in one pass; then the best one is taken out as a DagNet of its own.

    python examples/many_models.py [--repetitions 4] [--epochs 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sparsedag as sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repetitions", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()

    X, y = sd.datasets.make_madelon_like(
        n_samples=4000, n_features=40, n_informative=10, n_redundant=10, n_classes=3,
        n_clusters_per_class=2, seed=0,
    )  # fmt: skip
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    X_train, y_train, X_val, y_val = X[:3000], y[:3000], X[3000:], y[3000:]

    widths, activations = [8, 32, 128], ["relu", "tanh"]
    pm = sd.ParallelMLPs(40, 3, widths=widths, activations=activations,
                         repetitions=args.repetitions, seed=0)  # fmt: skip
    start = time.perf_counter()
    pm.fit(X_train, y_train, epochs=args.epochs, lr=3e-3, optimizer="adam",
           loss="cross_entropy", progress=False)  # fmt: skip
    elapsed = time.perf_counter() - start
    losses = pm.evaluate(X_val, y_val)
    print(f"{pm.num_models} models ({len(widths)} widths x {len(activations)} activations x "
          f"{args.repetitions} repetitions), one network of "
          f"{pm.network.dag.num_nodes:,} neurons, trained in {elapsed:.2f} s")  # fmt: skip

    best = int(np.argmin(losses))
    net = pm.extract(best)
    accuracy = float(np.mean(net.predict(X_val) == y_val))
    print(f"validation loss per model: min {losses.min():.3f}, median {np.median(losses):.3f}, "
          f"max {losses.max():.3f}")  # fmt: skip
    print(f"best model {best}: {net.num_layers} layers, {net.dag.num_edges:,} connections, "
          f"validation accuracy {accuracy:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
