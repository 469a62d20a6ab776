"""Wall-clock time of sparse inference in the layer-by-layer order against I/O-aware orders, in
one executor (sd.IoPlan(...).bind(weights).run(X): activations freed after their last use and
their rows reused, weights laid out next to their operand rows in execution order; every order
runs the same code). From the repository root:

    python benches/io_execute.py                          # 1M neurons, batch 1 and 16
    python benches/io_execute.py --neurons 100000         # quicker

Networks (16 in-edges per neuron, orders built for M = --fast-memory = 4096):

- ``efficient``: one I/O-efficient network (sd.io_efficient_network: every neuron reads among
  the last M - 1 values produced). Its layer order is itself nearly I/O-optimal (it keeps
  about M values alive too), so no order can gain much here.
- ``copies``: --copies such networks side by side (independent models, ids of one after the
  other's). The layer order interleaves them layer by layer and keeps every copy's window
  alive at once (copies x M values); the generation order (one copy after the other) and
  io_schedule's orders keep one window.
- ``layered``: a random sparse layered network (each neuron reads `degree` random neurons of
  the layer before): no order has locality there.

Orders: layer, generation (efficient and copies), greedy, two_approx, and ``tiled`` (the edge
order of io_schedule(..., method="tiled"), run by the edge-order executor; pass ``--orders
layer tiled``). Each order is planned and bound once; times are the best of --repeat runs; the
ratio is layer time over the order's time; rows is the activation memory of the plan (inputs
+ most values alive at once, + accumulators for an edge order, in rows of batch floats);
I/O(M) is sd.io_cost of the order. Outputs are checked to be equal across orders (to float
rounding for the tiled edge order, which sums each neuron's in-edges in its own order). Cache
misses: rust/sparsedag/examples/io_execute_cache.rs under cachegrind (command in its
docstring); that example also times tiled orders with a chosen block size on layered networks
of any width and in-degree. ``--dagnet`` also times DagNet.predict on the same wiring (the
engine, and ``schedule=`` each order).
"""

from __future__ import annotations

import argparse
import os
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


def side_by_side(neurons: int, copies: int, degree: int, fast_memory: int):
    """`copies` I/O-efficient networks of `neurons // copies` neurons (64 inputs each, seeds
    0..copies) with disjoint ids, and their generation order (one copy after the other)."""
    src, dst = [], []
    offset = 0
    for c in range(copies):
        g, _ = sd.io_efficient_network(64, neurons // copies, degree, fast_memory, seed=c)
        s, d = g.edges()
        src.append(np.asarray(s, dtype=np.int64) + offset)
        dst.append(np.asarray(d, dtype=np.int64) + offset)
        offset += g.num_nodes
    dag = sd.Dag.from_edges(np.concatenate(src), np.concatenate(dst), offset)
    return dag, np.arange(offset, dtype=np.int64)


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
    parser.add_argument("--copies", type=int, default=256, help="networks side by side")
    parser.add_argument("--width", type=int, default=50_000, help="layered network width")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--orders", nargs="+", default=["layer", "generation", "greedy", "two_approx"]
    )
    parser.add_argument("--network", nargs="+", default=["copies", "efficient", "layered"])
    parser.add_argument("--no-io", action="store_true", help="skip the I/O simulation")
    parser.add_argument(
        "--dagnet",
        action="store_true",
        help="also time DagNet.predict: the engine, and schedule= each order (ReLU net, seed 0)",
    )
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"sparsedag {sd.__version__}; neurons {args.neurons}, degree {args.degree}, "
        f"M {args.fast_memory}; load average {os.getloadavg()[0]:.2f}"
    )
    rng = np.random.default_rng(0)
    for kind in args.network:
        orders = {}
        if kind == "efficient":
            dag, generation = sd.io_efficient_network(
                64, args.neurons, args.degree, args.fast_memory, seed=0
            )
            name = "efficient"
        elif kind == "copies":
            dag, generation = side_by_side(args.neurons, args.copies, args.degree, args.fast_memory)
            name = f"{args.copies} copies"
        else:
            dag, generation = layered_network(args.neurons, args.width, args.degree, 0), None
            name = f"layered w={args.width}"
        for method in args.orders:
            if method == "generation":
                if generation is not None:
                    orders[method] = generation
            elif method == "tiled":
                orders[method] = sd.io_schedule(dag, args.fast_memory, method)
            else:
                orders[method] = sd.io_schedule(dag, args.fast_memory, method).order
        io = {
            k: (
                0
                if args.no_io
                else sd.io_cost(dag, getattr(o, "order", o), args.fast_memory)["total"]
            )
            for k, o in orders.items()
        }
        # positive weights summing to about 1 per neuron keep activations O(1) at any depth
        weights = (rng.uniform(0.5, 1.5, size=dag.num_edges) / args.degree).astype(np.float32)
        plans = {k: sd.IoPlan(dag, o) for k, o in orders.items()}
        bound = {k: p.bind(weights) for k, p in plans.items()}
        n_in = int((dag.in_degree() == 0).sum())
        for batch in args.batch:
            x = rng.uniform(0.5, 1.5, size=(batch, n_in)).astype(np.float32)
            results = {k: b.run(x) for k, b in bound.items()}
            first = next(iter(results.values()))
            assert all(np.allclose(first, y, rtol=1e-4, atol=1e-5) for y in results.values())
            times = {k: best_time(lambda b=b, x=x: b.run(x), args.repeat) for k, b in bound.items()}
            base = times.get("layer")
            for k in orders:
                ratio = f"{base / times[k]:6.2f}x" if base else "     -"
                print(
                    f"{name:16s} n={dag.num_nodes:8d} batch={batch:3d} {k:11s} "
                    f"{1000 * times[k]:8.1f} ms  layer/this {ratio}  I/O(M) {io[k]:10d}  "
                    f"rows {plans[k].rows:8d}"
                )
        if args.dagnet:
            dagnet_times(dag, name, orders, args.batch, args.repeat, rng)
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


def dagnet_times(dag, name, orders, batches, repeat, rng) -> None:
    """DagNet.predict on the same wiring: the engine (layer by layer) and ``schedule=`` each
    order (neuron orders run the ordered executor, the tiled edge order the edge executor)."""
    net = sd.DagNet(dag, activation="relu", seed=0)
    for batch in batches:
        x = rng.normal(size=(batch, net.num_inputs)).astype(np.float32)
        expected = net.predict(x)
        runs = {"engine": {}} | {k: {"schedule": o} for k, o in orders.items()}
        times = {}
        for k, kw in runs.items():
            assert np.allclose(net.predict(x, **kw), expected, rtol=1e-4, atol=1e-4)
            times[k] = best_time(lambda kw=kw, x=x: net.predict(x, **kw), repeat)
        base = times.get("layer")
        for k, t in times.items():
            ratio = f"{base / t:6.2f}x" if base else "     -"
            print(
                f"{name:16s} DagNet batch={batch:3d} {k:11s} {1000 * t:8.1f} ms  layer/this {ratio}"
            )


if __name__ == "__main__":
    main()
