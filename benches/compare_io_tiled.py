"""Where tiled edge orders beat the layer order: I/O of every io_schedule method against the
edge-order lower bound, swept over the layer width relative to M. From the repository root
after `pip install .`:

    python benches/compare_io_tiled.py --quick       # seconds (the CI smoke run does this)
    python benches/compare_io_tiled.py               # layered sweep + random DAGs (minutes)
    python benches/compare_io_tiled.py --kinds random --nodes 1000000 --memories 1024 65536

Networks: random sparse layered networks with `--layers` layers of width c x M for each ratio
c in `--ratios` (each neuron reads `degree` random neurons of the layer before; duplicates
merged; the first layer are the inputs, the last the outputs; networks above --max-nodes are
skipped or get fewer layers), and random-DAG networks (sd.random_dag with degree x n edges;
sources are the inputs, sinks the outputs). Per (network, M) it prints the I/O (loads +
stores, furthest-next-use eviction, weights not counted) of layer / greedy / two_approx /
anneal (neuron orders) and tiled (an edge order), each divided by the edge-order lower bound
`lower_edges` of sd.io_bounds (|inputs used| + |outputs|, valid for every schedule), the
neuron-order lower bound over the same number, and layer / best (best over all five; greedy
and anneal are skipped, "-", above --slow-max-nodes).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import numpy as np

import sparsedag as sd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_io import layered_network, random_network

METHODS = ("layer", "greedy", "two_approx", "anneal", "tiled")


SLOW = ("greedy", "anneal")


def measure(dag: sd.Dag, memory: int, steps: int, seed: int, slow_max_nodes: int) -> dict:
    bounds = sd.io_bounds(dag, memory)
    io = {}
    seconds = {"anneal": float("nan")}
    for method in METHODS:
        if method in SLOW and dag.num_nodes > slow_max_nodes:
            continue
        start = time.perf_counter()
        s = sd.io_schedule(dag, memory, method, steps=steps, seed=seed)
        seconds[method] = time.perf_counter() - start
        io[method] = s.io
        if method == "tiled":
            block, base = s.block, s.start
    best = min(io, key=io.get)
    return {
        "bounds": bounds,
        "io": io,
        "seconds": seconds,
        "best": best,
        "gain": io["layer"] / io[best],
        "block": block,
        "base": base,
    }


def row(kind: str, dag: sd.Dag, degree: int, memory: int, ratio: str, r: dict) -> str:
    lower = r["bounds"]["lower_edges"]
    cells = "  ".join(
        f"{r['io'][m] / lower:7.2f}" if m in r["io"] else f"{'-':>7s}" for m in METHODS
    )
    return (
        f"{kind:8s} {dag.num_nodes:8d} {degree:4d} {memory:6d} {ratio:>6s} {lower:8d} "
        f"{r['bounds']['lower'] / lower:7.2f} | {cells} | {r['gain']:6.2f} {r['best']:10s} "
        f"B={r['block']:<6d} {r['base']:10s} {r['seconds']['tiled']:6.2f} "
        f"{r['seconds']['anneal']:7.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["layered", "random"])
    parser.add_argument("--degrees", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--memories", type=int, nargs="+", default=[64, 1024, 16384, 65536])
    parser.add_argument(
        "--ratios",
        type=float,
        nargs="+",
        default=[0.5, 1.5, 2, 4, 8, 16, 64],
        help="layer width / M of the layered networks",
    )
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--max-nodes", type=int, default=1_100_000)
    parser.add_argument("--nodes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--steps", type=int, default=20_000, help="annealing moves")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--slow-max-nodes",
        type=int,
        default=150_000,
        help="greedy and anneal (whose greedy start is slow on wide layers) only up to this size",
    )
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    args = parser.parse_args()
    if args.quick:
        args.degrees, args.memories, args.ratios = [8, 32], [64, 256], [0.5, 2, 8]
        args.layers, args.nodes, args.steps = 4, [5_000], 2_000
    print(
        f"# {platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"python {platform.python_version()}, sparsedag {sd.__version__}; "
        f"anneal steps {args.steps}; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "# kind        n  deg      M  w/M  lower_e  lower_n | "
        + "  ".join(f"{m[:7]:>7s}" for m in METHODS)
        + " | layer/best best       tiled block, base, s; anneal s"
    )
    results = []
    for kind in args.kinds:
        for degree in args.degrees:
            if kind == "layered":
                for memory in args.memories:
                    for ratio in args.ratios:
                        width = max(2, int(ratio * memory))
                        layers = min(args.layers, args.max_nodes // width)
                        if layers < 2:
                            continue
                        dag = layered_network(layers * width, width, degree, args.seed)
                        r = measure(dag, memory, args.steps, args.seed, args.slow_max_nodes)
                        results.append((kind, degree, memory, ratio, width > memory, r))
                        print(row(kind, dag, degree, memory, f"{ratio:g}", r), flush=True)
            else:
                for n in args.nodes:
                    dag = random_network(n, degree, args.seed)
                    for memory in args.memories:
                        r = measure(dag, memory, args.steps, args.seed, args.slow_max_nodes)
                        results.append((kind, degree, memory, None, n > memory, r))
                        print(row(kind, dag, degree, memory, "-", r), flush=True)
    exceed = [r for r in results if r[4]]
    if exceed:
        gains = np.array([r[5]["gain"] for r in exceed])
        print(
            f"# where activations exceed M ({len(exceed)} cases): layer / best mean "
            f"{gains.mean():.2f}, min {gains.min():.2f}, max {gains.max():.2f}; "
            f">= 2x in {(gains >= 2).sum()} cases"
        )
        for kind, degree, memory, ratio, _, r in exceed:
            if r["gain"] >= 2:
                where = f"w/M {ratio:g}" if ratio is not None else "random DAG"
                print(f"#   >= 2x: {kind} degree {degree} M {memory} {where}: {r['gain']:.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
