"""Do the SET defaults learn? The case of issue 4: a 10-class ``make_classification`` problem
(500 features, 50 informative, 50 redundant, 2 clusters per class; 20k training samples and a
held-out test set) and a 500-1000-1000-1000-10 SET network trained for 10 epochs.

Compares, in one run and with the same thread count:

- ``published``: the SET papers' settings (lr 0.01, dropout 0.3, He-uniform scaled by the full
  layer width: ``SparseMLPClassifier.published()``);
- ``defaults``: our defaults (lr 0.05, no dropout, He-uniform scaled by the layer width);
- the issue's proposal (He-uniform scaled by each neuron's real fan-in, lr 0.05, no dropout),
  with evolution and with a static topology (zeta 0), and fan-in init alone;

The features are standardized (fit on the training part) unless ``--raw`` is given.
- optionally (``--dense``) scikit-learn's dense ``MLPClassifier`` with the same widths.

    python benches/set_defaults.py [--epochs 10] [--train 20000] [--seeds 1] [--raw] [--dense]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import sparsedag as sd


def problem(train: int, test: int, seed: int, standardize: bool) -> tuple[np.ndarray, ...]:
    try:
        from sklearn.datasets import make_classification

        X, y = make_classification(
            n_samples=train + test,
            n_features=500,
            n_informative=50,
            n_redundant=50,
            n_classes=10,
            n_clusters_per_class=2,
            random_state=seed,
        )
        source = "sklearn.datasets.make_classification"
    except ImportError:
        X, y = sd.datasets.make_madelon_like(
            n_samples=train + test,
            n_features=500,
            n_informative=50,
            n_redundant=50,
            n_classes=10,
            n_clusters_per_class=2,
            seed=seed,
        )
        source = "sparsedag.datasets.make_madelon_like"
    X = X.astype(np.float32)
    if standardize:
        mean, std = X[:train].mean(axis=0), X[:train].std(axis=0)
        X = (X - mean) / np.where(std > 0, std, 1)
    print(f"standardized: {standardize}")
    print(f"data: {source}, {train} train + {test} test samples, 500 features, 10 classes")
    return X[:train], y[:train], X[train:], y[train:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train", type=int, default=20_000)
    parser.add_argument("--test", type=int, default=5_000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--raw", action="store_true", help="do not standardize the features")
    parser.add_argument("--dense", action="store_true", help="also train sklearn's dense MLP")
    args = parser.parse_args()
    print(f"threads: {sd.get_num_threads()} (CPUs: {os.cpu_count()})")
    Xtr, ytr, Xte, yte = problem(args.train, args.test, 0, not args.raw)
    hidden = (1000, 1000, 1000)
    pub = sd._set_estimators.PUBLISHED
    configs = {
        "published (lr 0.01, dropout 0.3, he_uniform by width)": dict(pub),
        "published + fan-in init": {**pub, "init": "he_uniform_neuron"},
        "defaults (lr 0.05, no dropout, he_uniform by width)": {},
        "fan-in init + lr 0.05 + no dropout": {"init": "he_uniform_neuron"},
        "fan-in init + lr 0.05 + no dropout, static (zeta 0)": {
            "init": "he_uniform_neuron",
            "zeta": 0.0,
        },
    }
    print(
        f"network 500-{'-'.join(map(str, hidden))}-10, epsilon 20, {args.epochs} epochs, batch 128"
    )
    for name, params in configs.items():
        accs, times, conns = [], [], []
        for seed in range(args.seeds):
            clf = sd.SparseMLPClassifier(hidden=hidden, epochs=args.epochs, seed=seed, **params)
            started = time.perf_counter()
            try:
                clf.fit(Xtr, ytr)
            except FloatingPointError as error:
                print(f"{name:52s} diverged: {error}")
                break
            times.append(time.perf_counter() - started)
            accs.append(clf.score(Xte, yte))
            conns.append(clf.n_connections_)
        if not accs:
            continue
        print(
            f"{name:52s} test acc {np.mean(accs) * 100:5.1f} %  "
            f"(per seed {', '.join(f'{a * 100:.1f}' for a in accs)})  "
            f"train acc {clf.history_['accuracy'][-1] * 100:5.1f} %  "
            f"connections {'/'.join(map(str, conns))}  fit {np.mean(times):.1f} s"
        )
    if args.dense:
        from sklearn.neural_network import MLPClassifier

        dense = MLPClassifier(
            hidden_layer_sizes=hidden, max_iter=args.epochs, batch_size=128, random_state=0
        )
        started = time.perf_counter()
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dense.fit(Xtr, ytr)
        print(
            f"{'sklearn MLPClassifier (dense, adam lr 1e-3)':52s} test acc "
            f"{dense.score(Xte, yte) * 100:5.1f} %  fit {time.perf_counter() - started:.1f} s"
        )


if __name__ == "__main__":
    main()
