"""When does WASAP-style data-parallel training beat intra-op threading? One run per network
size, same data, same thread count, same seed:

- ``threads``: one model, every layer step split over the rayon threads (``parallel="threads"``);
- ``data``: K workers (``--workers``, default 2) compute sparse updates on their shards that the
  server applies in a seeded order (the shared phase), then train and evolve locally on their
  shards and are averaged (the local phase, the last 30 % of the epochs).

Prints seconds per epoch (training only; evolution and the final merge separately) and the
test accuracy of each mode.

    python benches/set_parallel.py [--epochs 4] [--samples 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import sparsedag as sd

SIZES = [(64, 64), (256, 256), (1000, 1000, 1000), (4000, 4000, 4000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    print(f"threads: {sd.get_num_threads()} (CPUs: {os.cpu_count()}); batch {args.batch}")
    X, y = sd.datasets.make_madelon_like(
        n_samples=args.samples + 2000,
        n_features=500,
        n_informative=50,
        n_redundant=50,
        n_classes=10,
        n_clusters_per_class=2,
        seed=0,
    )
    Xtr, ytr, Xte, yte = X[: args.samples], y[: args.samples], X[args.samples :], y[args.samples :]
    print(
        f"{'hidden':>20} {'conns':>8} | {'threads s/ep':>12} {'acc':>6} | "
        f"{'data shared s/ep':>16} {'local s/ep':>10} {'merge s':>7} {'acc':>6} | speed-up"
    )
    for hidden in SIZES:
        common = dict(hidden=hidden, epochs=args.epochs, batch_size=args.batch, seed=0)
        threads = sd.SparseMLPClassifier(parallel="threads", **common).fit(Xtr, ytr)
        data = sd.SparseMLPClassifier(parallel="data", workers=args.workers, **common).fit(Xtr, ytr)
        t_threads = np.mean(threads.history_["time_train"])
        local = round(0.3 * args.epochs)
        shared = args.epochs - local
        t_shared = np.mean(data.history_["time_train"][:shared])
        t_local = np.mean(data.history_["time_train"][shared:]) if local else float("nan")
        merge = data.history_["time_evolve"][-1]
        t_data = np.mean(data.history_["time_train"])
        print(
            f"{hidden!s:>20} {threads.n_connections_:>8,} | {t_threads:>12.3f} "
            f"{threads.score(Xte, yte):>6.3f} | {t_shared:>16.3f} {t_local:>10.3f} {merge:>7.3f} "
            f"{data.score(Xte, yte):>6.3f} | {t_threads / t_data:.2f}x"
        )


if __name__ == "__main__":
    main()
