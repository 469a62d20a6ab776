"""Wall-clock time of sparse inference (sd.io_execute: activations freed after their last use,
slots reused) in the layer-by-layer order against I/O-aware orders. From the repository root:

    python benches/io_execute.py                          # 1M neurons, batch 1 and 16
    python benches/io_execute.py --neurons 100000         # quicker

Networks: an I/O-efficient network (sd.io_efficient_network: every neuron reads among the
last M - 1 values produced) and a random sparse layered network (each neuron reads `degree`
random neurons of the layer before). Orders: layer, greedy, two_approx, and for the efficient
network its generation order. Each order is planned once (sd.IoPlan); times are the best of
--repeat runs of the plan; the ratio is layer time over the order's time; rows is the activation
memory of the plan (inputs + most values alive at once), in rows of batch floats. Cache
misses: run one order under cachegrind, e.g.

    valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null \\
        python benches/io_execute.py --neurons 200000 --only layer --batch 16 --repeat 1
"""

from __future__ import annotations

import argparse
import platform
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


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--degree", type=int, default=16)
    parser.add_argument("--fast-memory", type=int, default=4096, help="M of the orders")
    parser.add_argument("--width", type=int, default=50_000, help="layered network width")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=None, help="time only this order (for cachegrind)")
    parser.add_argument("--network", nargs="+", default=["efficient", "layered"])
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"sparsedag {sd.__version__}; neurons {args.neurons}, degree {args.degree}, "
        f"M {args.fast_memory}"
    )
    rng = np.random.default_rng(0)
    for kind in args.network:
        orders = {}
        if kind == "efficient":
            dag, generation = sd.io_efficient_network(
                64, args.neurons, args.degree, args.fast_memory, seed=0
            )
            orders["generation"] = generation
        else:
            dag = layered_network(args.neurons, args.width, args.degree, seed=0)
        for method in ("layer", "greedy", "two_approx"):
            if args.only in (None, method):
                orders[method] = sd.io_schedule(dag, args.fast_memory, method).order
        if args.only is not None:
            orders = {k: v for k, v in orders.items() if k == args.only}
        io = {k: sd.io_cost(dag, o, args.fast_memory)["total"] for k, o in orders.items()}
        # positive weights summing to about 1 per neuron keep activations O(1) at any depth
        weights = (rng.uniform(0.5, 1.5, size=dag.num_edges) / args.degree).astype(np.float32)
        n_in = int((dag.in_degree() == 0).sum())
        for batch in args.batch:
            x = rng.uniform(0.5, 1.5, size=(batch, n_in)).astype(np.float32)
            plans = {k: sd.IoPlan(dag, o) for k, o in orders.items()}
            times = {
                k: best_time(lambda p=p, w=weights, x=x: p.run(w, x), args.repeat)
                for k, p in plans.items()
            }
            base = times.get("layer")
            for k in orders:
                ratio = f"{base / times[k]:6.2f}x" if base else "     -"
                print(
                    f"{kind:9s} n={dag.num_nodes:8d} batch={batch:3d} {k:11s} "
                    f"{1000 * times[k]:9.1f} ms  layer/this {ratio}  I/O(M) {io[k]:10d}  "
                    f"rows {plans[k].rows}"
                )


if __name__ == "__main__":
    main()
