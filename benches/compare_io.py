"""I/O of sparse inference schedules against the lower bound, in one run. From the repository
root after `pip install .`:

    python benches/compare_io.py                              # 10k and 100k neurons (minutes)
    python benches/compare_io.py --nodes 10000 --degrees 8    # quick
    python benches/compare_io.py --nodes 1000000 --degrees 8 32 --steps 200000   # 1M neurons

Networks: random sparse layered networks (layers of --width neurons, each neuron reading
`degree` random neurons of the layer before; the first layer are the inputs, the last the
outputs), random-DAG networks (sd.random_dag with degree x n edges; sources are the
inputs, sinks the outputs) and, as the attainable best case, networks of maximal I/O efficiency
built for each M (sd.io_efficient_network with 64 inputs; their generation order meets the lower
bound, but the schedulers are not told it). Per (network, M) it prints the I/O (loads +
stores, furthest-next-use eviction, weights not counted) of the layer / greedy / two_approx /
anneal schedules (neuron orders), each divided by the lower bound of sd.io_bounds for neuron
orders, the layer/anneal ratio, the annealing time, and the tiled edge order divided by the
edge-order lower bound `lower_edges` with layer/tiled (benches/compare_io_tiled.py sweeps
where tiling pays).
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np

import sparsedag as sd


def layered_network(n: int, width: int, degree: int, seed: int) -> sd.Dag:
    rng = np.random.default_rng(seed)
    layers = max(2, n // width)
    src = []
    dst = []
    for layer in range(1, layers):
        targets = np.repeat(np.arange(layer * width, (layer + 1) * width), degree)
        sources = (layer - 1) * width + rng.integers(0, width, size=width * degree)
        src.append(sources)
        dst.append(targets)
    return sd.Dag.from_edges(
        np.concatenate(src), np.concatenate(dst), layers * width, duplicates="merge"
    )


def random_network(n: int, degree: int, seed: int) -> sd.Dag:
    return sd.random_dag(n, m=degree * n, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--degrees", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--memories", type=int, nargs="+", default=[64, 1024, 65536])
    parser.add_argument("--width", type=int, default=1000, help="layer width of the layered nets")
    parser.add_argument("--kinds", nargs="+", default=["layered", "random", "efficient"])
    parser.add_argument("--steps", type=int, default=20_000, help="annealing moves")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"python {platform.python_version()}, sparsedag {sd.__version__}; "
        f"anneal steps {args.steps}"
    )
    print(
        "# kind        n  deg      M   lower |  layer  greedy  two_apx  anneal  (x lower) "
        "| layer/anneal  anneal s | tiled (x lower_edges) layer/tiled"
    )
    ratios = []
    gains = []
    for kind in args.kinds:
        for n in args.nodes:
            for degree in args.degrees:
                if kind == "layered":
                    dag = layered_network(n, args.width, degree, args.seed)
                elif kind == "random":
                    dag = random_network(n, degree, args.seed)
                for memory in args.memories:
                    if kind == "efficient":
                        # built for this M: the best case, where the lower bound is attainable
                        dag, _ = sd.io_efficient_network(
                            64, n, min(degree, memory - 1), memory, seed=args.seed
                        )
                    lower = sd.io_bounds(dag, memory)["lower"]
                    io = {}
                    for method in ("layer", "greedy", "two_approx"):
                        io[method] = sd.io_schedule(dag, memory, method).io
                    start = time.perf_counter()
                    annealed = sd.io_schedule(
                        dag, memory, "anneal", steps=args.steps, seed=args.seed
                    )
                    seconds = time.perf_counter() - start
                    io["anneal"] = annealed.io
                    tiled = sd.io_schedule(dag, memory, "tiled")
                    ratios.append(io["anneal"] / lower)
                    if dag.num_nodes > memory:
                        gains.append(io["layer"] / io["anneal"])
                    print(
                        f"{kind:8s} {dag.num_nodes:8d} {degree:4d} {memory:6d} {lower:7d} | "
                        + "  ".join(
                            f"{io[m] / lower:6.2f}" for m in ("layer", "greedy", "two_approx")
                        )
                        + f"  {io['anneal'] / lower:6.2f}            | "
                        f"{io['layer'] / io['anneal']:12.2f}  {seconds:8.2f} | "
                        f"{tiled.io / tiled.lower:21.2f} {io['layer'] / tiled.io:11.2f}"
                    )
    print(f"# mean anneal / lower bound: {np.mean(ratios):.2f}")
    if gains:
        print(
            f"# layer / anneal where n > M: mean {np.mean(gains):.2f}, "
            f"min {np.min(gains):.2f}, max {np.max(gains):.2f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
