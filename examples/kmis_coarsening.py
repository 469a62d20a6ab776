"""Coarsen a graph with maximal k-independent sets: each round keeps nodes pairwise more than
k hops apart, merges every other node into its nearest kept node, and contracts the edges.

    python examples/kmis_coarsening.py [--nodes 100000] [--k 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sparsedag as sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=1)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    src = rng.integers(0, args.nodes, 5 * args.nodes)
    dst = rng.integers(0, args.nodes, 5 * args.nodes)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    features = rng.standard_normal((args.nodes, 8)).astype(np.float32)
    print(f"{args.nodes:,} nodes, {src.size:,} undirected edges, k = {args.k}")

    n, s, d, x = args.nodes, src, dst, features
    for level in range(1, 4):
        start = time.perf_counter()
        c = sd.coarsen(s, d, n, k=args.k, seed=0)
        x = c.pool(x, "mean")  # each coarse node averages the features of its cluster
        elapsed = time.perf_counter() - start
        print(f"level {level}: {n:>9,} -> {c.num_nodes:>9,} nodes, "
              f"{c.src.size:>9,} edges, {elapsed * 1e3:7.1f} ms")  # fmt: skip
        n, s, d = c.num_nodes, c.src, c.dst
    print(f"pooled features: {x.shape}")


if __name__ == "__main__":
    main()
