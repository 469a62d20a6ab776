"""How far the I/O optimum of small random networks lies above the lower bound, by exhaustive
search. From the repository root after `pip install .`:

    python benches/io_optimum_small.py                 # about a minute
    python benches/io_optimum_small.py --instances 50

Issue 6 asks for annealing within 1.2x of the lower bound on average. The lower bound of
sd.io_bounds is attained by the networks of sd.io_efficient_network, so no bound computed from
the counts alone can be higher; on networks without that structure the optimum itself can lie
far above it. This script measures that gap where the optimum can be computed: small random
layered networks (inputs, then layers of `width` neurons, each reading `degree` distinct random
neurons of the layer before; the last layer are the outputs). For each instance and M it finds
the least I/O of any neuron order under any eviction and write-back policy (every topological
order of the neurons, each searched exhaustively by the oracle of tests/test_iosched.py), and
prints it, the anneal schedule's I/O and the lower bound. If the optimum averages more than
1.2x the lower bound, no schedule whatsoever meets that target on such networks.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

import sparsedag as sd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_iosched import optimal_io_for_order  # the brute-force oracle


def layered(inputs: int, width: int, layers: int, degree: int, rng) -> sd.Dag:
    src, dst = [], []
    prev = list(range(inputs))
    nxt = inputs
    for _ in range(layers):
        layer = list(range(nxt, nxt + width))
        for v in layer:
            for u in rng.choice(prev, size=min(degree, len(prev)), replace=False):
                src.append(int(u))
                dst.append(v)
        prev, nxt = layer, nxt + width
    return sd.Dag.from_edges(src, dst, nxt)


def neuron_orders(dag: sd.Dag, inputs: int):
    """Every topological order of the neurons, inputs first (their position is irrelevant)."""
    src, dst = dag.edges()
    n = dag.num_nodes
    for perm in itertools.permutations(range(inputs, n)):
        pos = np.empty(n, dtype=np.int64)
        pos[:inputs] = -1
        pos[list(perm)] = np.arange(len(perm))
        if np.all(pos[src] < pos[dst]):
            yield list(range(inputs)) + list(perm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--inputs", type=int, default=3)
    parser.add_argument("--width", type=int, default=3)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--degree", type=int, default=2)
    parser.add_argument("--memories", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"# random layered networks: {args.inputs} inputs, {args.layers} layers of "
        f"{args.width}, in-degree {args.degree}; {args.instances} instances; seed {args.seed}"
    )
    print("#    M  instance  lower  optimum  anneal  optimum/lower  anneal/lower")
    for memory in args.memories:
        opt_ratio, anneal_ratio = [], []
        for i in range(args.instances):
            dag = layered(args.inputs, args.width, args.layers, args.degree, rng)
            lower = sd.io_bounds(dag, memory)["lower"]
            optimum = min(
                optimal_io_for_order(dag, order, memory)
                for order in neuron_orders(dag, args.inputs)
            )
            anneal = sd.io_schedule(dag, memory, "anneal", steps=2000, seed=i).io
            opt_ratio.append(optimum / lower)
            anneal_ratio.append(anneal / lower)
            print(
                f"{memory:6d} {i:9d} {lower:6d} {optimum:8d} {anneal:7d} "
                f"{optimum / lower:14.3f} {anneal / lower:13.3f}"
            )
        print(
            f"# M = {memory}: mean optimum/lower {np.mean(opt_ratio):.3f} "
            f"(min {np.min(opt_ratio):.3f}, max {np.max(opt_ratio):.3f}); "
            f"mean anneal/lower {np.mean(anneal_ratio):.3f}; "
            f"mean anneal/optimum {np.mean(np.array(anneal_ratio) / np.array(opt_ratio)):.3f}"
        )


if __name__ == "__main__":
    main()
