"""SET at scale: one epoch of a 500-N-N-N-10 sparse MLP (epsilon 20) on 10k samples.

Each N runs in a fresh subprocess so its peak RSS (VmHWM) is its own. Per N it reports seconds
per epoch, peak RSS, and bytes per connection:

- ``doc B/conn``: the engine's documented persistent state per connection (u32 source index,
  f32 weight, f32 momentum: ``DagNetCore.bytes_per_connection("momentum")``);
- ``rss B/conn``: (RSS after fit - RSS before fit) / connections, the state the fit left behind;
- ``peak B/conn``: (VmHWM - RSS before fit) / connections, including transient buffers;
- ``ws GiB``: the engine's training workspace, kept between batches: pre-activations,
  activations and gradients of a batch, 3 x 4 bytes x batch x nodes. It scales with neurons,
  not connections (at epsilon 20 a hidden neuron has about 40 connections, so with batch 128
  it adds about 38 bytes per connection); ``rss-ws B/conn`` takes it out of ``rss B/conn``.

Not part of CI. Large N takes minutes and gigabytes:

    python benches/scale_sparse.py [--sizes 16000,64000,250000,1000000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import numpy as np
import sparsedag as sd

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)

n, samples, threads, seed = (int(v) for v in sys.argv[1:5])
sd.set_num_threads(threads)
X, y = sd.datasets.make_madelon_like(
    n_samples=samples, n_features=500, n_informative=50, n_redundant=50,
    n_classes=10, n_clusters_per_class=2, seed=seed,
)
clf = sd.SparseMLPClassifier(
    hidden=(n, n, n), epsilon=20.0, activation="relu", lr=0.05, dropout=0.0,
    batch_size=128, epochs=1, seed=seed, n_jobs=threads,
)
before = status("VmRSS")
started = time.perf_counter()
clf.fit(X, y)
wall = time.perf_counter() - started
after = status("VmRSS")
print(json.dumps({
    "n": n,
    "connections": clf.n_connections_,
    "fit_s": wall,
    "train_s": clf.history_["time_train"][0],
    "accuracy": clf.history_["accuracy"][0],
    "rss_before": before,
    "rss_after": after,
    "hwm": status("VmHWM"),
    "doc_bytes": sd._core.DagNetCore.bytes_per_connection("momentum"),
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="16000,64000,250000,1000000")
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    gib = 1024**3
    print(
        f"500-N-N-N-10, epsilon 20, 1 epoch on {args.samples} samples, batch 128, "
        f"threads {args.threads}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    header = (
        f"{'N':>8} {'connections':>12} {'s/epoch':>8} {'peak RSS GiB':>12} "
        f"{'doc B/conn':>10} {'rss B/conn':>10} {'peak B/conn':>11} {'ws GiB':>7} "
        f"{'rss-ws B/conn':>13} {'train acc':>9}"
    )
    rows = []
    for n in (int(v) for v in args.sizes.split(",")):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, *map(str, (n, args.samples, args.threads, args.seed))],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            print(f"N={n} failed ({out.returncode}):\n{out.stderr[-2000:]}", flush=True)
            break
        r = json.loads(out.stdout.strip().splitlines()[-1])
        c = r["connections"]
        workspace = 3 * 4 * 128 * (500 + 3 * n + 10)
        kept = r["rss_after"] - r["rss_before"]
        row = (
            f"{n:>8} {c:>12} {r['train_s']:>8.2f} {r['hwm'] / gib:>12.3f} "
            f"{r['doc_bytes']:>10} {kept / c:>10.2f} {(r['hwm'] - r['rss_before']) / c:>11.2f} "
            f"{workspace / gib:>7.3f} {(kept - workspace) / c:>13.2f} {r['accuracy']:>9.4f}"
        )
        rows.append(row)
        print(
            f"N={n}: done in {time.perf_counter() - started:.1f}s wall (load average "
            f"{os.getloadavg()[0]:.2f})\n{header}\n{row}",
            flush=True,
        )
    print("\n" + header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
