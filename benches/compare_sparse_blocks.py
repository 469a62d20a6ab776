"""Times sparsedag's sparse-training building blocks against vectorised NumPy/SciPy versions of
the same steps (the way reference SET code does them) in one run, and prints the ratios.
Run from the repository root after `pip install .`:

    python benches/compare_sparse_blocks.py                  # 1000^2 and 10000^2 layers, eps 20
    python benches/compare_sparse_blocks.py --sizes 1000     # quicker

Steps: Erdős–Rényi initialisation (peer: scipy.sparse.random at the same density), one SET
evolution step with zeta 0.3 (peer: sort-based thresholds, NumPy rejection sampling with
np.isin, CSR rebuilt by argsort) and importance pruning at q = 20 of a 500-4000-4000-4000-10
network (peer: np.add.reduceat scores, np.percentile, boolean masks). Times are the best of
--repeat runs; the peak RSS is the whole process's, printed at the end.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import sparsedag as sd
from sparsedag.sparse import SparseLayer


def best_time(fn: Callable[[], Any], repeat: int, setup: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        arg = setup()
        start = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - start)
    return best


def copy_layer(layer: SparseLayer) -> SparseLayer:
    return SparseLayer(layer.n_in, layer.n_out, *(a.copy() for a in layer[2:]))


def numpy_evolve(layer: SparseLayer, zeta: float, rng: np.random.Generator) -> SparseLayer:
    n_in, n_out = layer.n_in, layer.n_out
    w = layer.weights
    pos, neg = w > 0, w < 0
    keep = w != 0
    for side, magnitude in ((pos, w), (neg, -w)):
        values = np.sort(magnitude[side])
        k = int(zeta * values.size)
        if k:
            keep &= ~(side & (magnitude <= values[k - 1]))
    rows = np.repeat(np.arange(n_out, dtype=np.int64), np.diff(layer.offsets))[keep]
    existing = rows * n_in + layer.indices[keep]
    need = w.size - existing.size
    new = np.empty(0, dtype=np.int64)
    while new.size < need:
        candidates = np.unique(rng.integers(0, n_in * n_out, size=need - new.size))
        candidates = candidates[~np.isin(candidates, existing, assume_unique=True)]
        candidates = candidates[~np.isin(candidates, new, assume_unique=True)]
        new = np.concatenate([new, candidates])
    keys = np.concatenate([existing, new[:need]])
    limit = np.sqrt(6.0 / n_in)
    weights = np.concatenate([w[keep], rng.uniform(-limit, limit, need).astype(np.float32)])
    momentum = np.concatenate([layer.momentum[keep], np.zeros(need, dtype=np.float32)])
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    offsets = np.searchsorted(keys // n_in, np.arange(n_out + 1)).astype(np.int64)
    indices = (keys % n_in).astype(np.int32)
    return SparseLayer(n_in, n_out, offsets, indices, weights[order], momentum[order])


def numpy_importance_prune(layers: list[SparseLayer], q: float) -> list[SparseLayer]:
    out = [copy_layer(layer) for layer in layers]
    for h in range(len(layers) - 1):
        layer = out[h]
        scores = np.zeros(layer.n_out)
        nonempty = np.diff(layer.offsets) > 0
        sums = np.add.reduceat(np.abs(layer.weights), layer.offsets[:-1][nonempty])
        scores[nonempty] = sums
        removed = scores <= np.percentile(scores, q)
        for target, row_mask, col_mask in ((h, removed, None), (h + 1, None, removed)):
            t = out[target]
            rows = np.repeat(np.arange(t.n_out), np.diff(t.offsets))
            keep = np.ones(t.nnz, dtype=bool)
            if row_mask is not None:
                keep &= ~row_mask[rows]
            if col_mask is not None:
                keep &= ~col_mask[t.indices]
            offsets = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=t.n_out))])
            out[target] = SparseLayer(
                t.n_in,
                t.n_out,
                offsets.astype(np.int64),
                t.indices[keep],
                t.weights[keep],
                t.momentum[keep],
            )
    return out


def row(name: str, ours: float, peer: float, connections: int) -> None:
    print(
        f"{name:<34} {ours * 1e3:9.2f} ms {ours * 1e9 / connections:7.1f} ns/conn"
        f" | {peer * 1e3:9.2f} ms {peer * 1e9 / connections:7.1f} ns/conn | x{peer / ours:6.1f}"
    )


def bench_square_layer(n: int, epsilon: float, repeat: int, rng: np.random.Generator) -> None:
    import scipy.sparse

    p = sd.sparse.erdos_renyi_probability(n, n, epsilon)
    layer = sd.sparse.erdos_renyi_layer(n, n, epsilon, seed=1)
    ours = best_time(
        lambda _: sd.sparse.erdos_renyi_layer(n, n, epsilon, seed=1), repeat, lambda: None
    )
    peer = best_time(
        lambda _: scipy.sparse.random(n, n, density=p, format="csr", dtype=np.float32, rng=rng),
        repeat,
        lambda: None,
    )
    row(f"erdos_renyi {n}x{n}", ours, peer, layer.nnz)
    seeds = iter(range(10**6))
    ours = best_time(
        lambda x: sd.sparse.evolve_layer(x, 0.3, seed=next(seeds)),
        repeat,
        lambda: copy_layer(layer),
    )
    peer = best_time(lambda x: numpy_evolve(x, 0.3, rng), repeat, lambda: layer)
    row(f"evolve zeta 0.3 {n}x{n}", ours, peer, layer.nnz)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--epsilon", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"numpy {np.__version__}"
    )
    print(f"{'step':<34} {'sparsedag':>24} | {'numpy/scipy':>24} | ratio")
    rng = np.random.default_rng(0)
    for n in args.sizes:
        bench_square_layer(n, args.epsilon, args.repeat, rng)

    sizes = [500, 4000, 4000, 4000, 10]
    net = [
        sd.sparse.erdos_renyi_layer(a, b, args.epsilon, seed=s)
        for s, (a, b) in enumerate(zip(sizes, sizes[1:]))
    ]
    nnz = sum(x.nnz for x in net)
    ours = best_time(lambda _: sd.sparse.importance_prune(net, 20), args.repeat, lambda: None)
    peer = best_time(lambda _: numpy_importance_prune(net, 20), args.repeat, lambda: None)
    row("importance_prune 500-4000x3-10", ours, peer, nnz)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
