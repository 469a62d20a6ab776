"""SET at scale: one epoch of a 500-N-N-N-10 sparse MLP (epsilon 20) on 10k samples.

Each N runs in a fresh subprocess so its peak RSS (VmHWM) is its own. Per N it reports seconds
per epoch, peak RSS, and bytes per connection:

- ``model B/conn``: the model's own accounting after fit (``clf.memory_``): per connection a
  u32 source index, an f32 weight and an f32 momentum (12 bytes), plus the per-neuron state
  (CSR offset, ids, activation, bias and its momentum) spread over the connections; the batch
  workspace is 0 here because ``fit`` frees it when it returns;
- ``rss B/conn``: (RSS after fit - RSS before fit) / connections, the persistent state the fit
  left behind as the operating system sees it (the model is built inside ``fit``);
- ``trim B/conn``: the same after ``malloc_trim(0)``, which hands memory that glibc keeps in
  its free lists back to the system (matters only at small N, where arrays are below glibc's
  mmap threshold);
- ``peak B/conn``: (VmHWM - RSS before fit) / connections, including the transient buffers:
  while it trains the engine keeps a batch workspace (pre-activations, activations and
  gradients: 3 x 4 bytes x batch x neurons, ``ws GiB``; at epsilon 20 a hidden neuron has about
  40 connections, so with batch 128 that is about 38 bytes per connection);
- ``evolve s`` and ``evolve +peak B/conn``: one SET evolution step after the epoch (zeta 0.3,
  hidden layers), its time and how far its peak RSS rose above the RSS before it (the
  transient copy of the layers and the scratch arrays of pruning and regrowth).

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
import ctypes, json, sys, time
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
# A tiny fit first loads everything a fit imports or starts (scikit-learn's validation, the
# thread pool), so that the RSS difference below is the network's.
sd.SparseMLPClassifier(hidden=(8,), epochs=1, n_jobs=threads).fit(X[:256], y[:256])
before = status("VmRSS")
started = time.perf_counter()
clf.fit(X, y)
wall = time.perf_counter() - started
after = status("VmRSS")
hwm = status("VmHWM")
memory = clf.memory_
ctypes.CDLL("libc.so.6").malloc_trim(0)
trimmed = status("VmRSS")
# One SET evolution step, as fit runs between epochs (zeta 0.3, hidden layers), with the peak
# RSS counter reset first so that its peak is its own.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
evolve_rss = status("VmRSS")
t0 = time.perf_counter()
clf._core.evolve(0.3, False, seed + 1)
evolve_s = time.perf_counter() - t0
evolve_hwm = status("VmHWM")
print(json.dumps({
    "n": n,
    "connections": clf.n_connections_,
    "fit_s": wall,
    "train_s": clf.history_["time_train"][0],
    "accuracy": clf.history_["accuracy"][0],
    "rss_before": before,
    "rss_after": after,
    "rss_trimmed": trimmed,
    "hwm": hwm,
    "model_bytes": memory["connection_bytes"] + memory["neuron_bytes"],
    "workspace_after": memory["workspace_bytes"],
    "evolve_s": evolve_s,
    "evolve_rss": evolve_rss,
    "evolve_hwm": evolve_hwm,
    "connections_after_evolve": clf.n_connections_,
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
        f"{'model B/conn':>12} {'rss B/conn':>10} {'trim B/conn':>11} {'peak B/conn':>11} "
        f"{'ws GiB':>7} {'train acc':>9} {'evolve s':>8} {'evolve +peak B/conn':>19}"
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
        assert r["workspace_after"] == 0, "fit must free the batch workspace"
        workspace = 3 * 4 * 128 * (500 + 3 * n + 10)
        before = r["rss_before"]
        row = (
            f"{n:>8} {c:>12} {r['train_s']:>8.2f} {r['hwm'] / gib:>12.3f} "
            f"{r['model_bytes'] / c:>12.2f} {(r['rss_after'] - before) / c:>10.2f} "
            f"{(r['rss_trimmed'] - before) / c:>11.2f} {(r['hwm'] - before) / c:>11.2f} "
            f"{workspace / gib:>7.3f} {r['accuracy']:>9.4f} {r['evolve_s']:>8.2f} "
            f"{(r['evolve_hwm'] - r['evolve_rss']) / c:>19.2f}"
        )
        assert r["connections_after_evolve"] == c
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
