"""Writes the SET main case (Erdős–Rényi layers 500-4000-4000-4000-10 at epsilon 20) as an edge
file for the Rust examples that time the engine's kernels (`nn_phases`, `nn_step`):

    python benches/set_edges.py /tmp/set.edges
    RUNS=50 OPT=momentum target/release/examples/nn_phases /tmp/set.edges 128

The file holds the node count on its first line, then one ``source target`` pair per line.
Each pair of consecutive layers of widths a and b keeps each of the a·b pairs with probability
epsilon·(a + b)/(a·b), capped at 1, as SET's initialisation does.
"""

from __future__ import annotations

import argparse

import numpy as np


def set_edges(sizes: list[int], epsilon: float, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    src, dst, first = [], [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        density = min(1.0, epsilon * (a + b) / (a * b))
        keys = np.flatnonzero(rng.random(a * b) < density)
        src.append(first + keys // b)
        dst.append(first + a + keys % b)
        first += a
    return first + sizes[-1], np.concatenate(src), np.concatenate(dst)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path")
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 4000, 4000, 4000, 10])
    ap.add_argument("--epsilon", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n, src, dst = set_edges(args.sizes, args.epsilon, args.seed)
    with open(args.path, "w") as f:
        f.write(f"{n}\n")
        np.savetxt(f, np.column_stack([src, dst]), fmt="%d")
    print(f"{args.path}: {n} nodes, {src.size} edges")


if __name__ == "__main__":
    main()
