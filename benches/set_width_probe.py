"""SET training time per connection and row as layer width and batch size change.

One epoch of a 500-w-w-w-10 SET-MLP (epsilon 20, ReLU, no dropout, lr 0.05, He-uniform) on 20k
``make_madelon_like`` rows (standardized), for each width w and batch size b given. If the
cost per connection grows with w at a fixed batch but not at a small batch, the batch rows of
a layer (w x b floats) have outgrown the cache. Also a convenient target for a profiler:

    python benches/set_width_probe.py [--widths 1000,4000] [--batches 32,128] [--threads 2]
    perf record -e cpu-clock -F 499 -g python benches/set_width_probe.py --widths 4000 \\
        --batches 128
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import sparsedag as sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="1000,4000")
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    sd.set_num_threads(args.threads)
    X, y = sd.datasets.make_madelon_like(
        n_samples=args.rows,
        n_features=500,
        n_informative=50,
        n_redundant=50,
        n_classes=10,
        n_clusters_per_class=2,
        seed=0,
    )
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    print(f"threads {sd.get_num_threads()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    for width in (int(v) for v in args.widths.split(",")):
        for batch in (int(v) for v in args.batches.split(",")):
            clf = sd.SparseMLPClassifier(
                hidden=(width,) * 3,
                epsilon=20,
                activation="relu",
                dropout=0.0,
                lr=0.05,
                epochs=1,
                batch_size=batch,
                init="he_uniform",
                seed=0,
                standardize=False,
            )
            clf.fit(X, y)
            t = clf.history_["time_train"][0]
            per = 1e9 * t / clf.n_connections_ / len(X)
            print(
                f"width {width:>5} batch {batch:>4}: {clf.n_connections_:>8} connections, "
                f"train {t:7.2f} s/epoch, {per:.3f} ns per connection and row",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
