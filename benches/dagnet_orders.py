"""DagNet inference in a chosen order: activation memory of ``predict(X, memory="low")`` against
the full activation buffer, and wall clock of ``predict(X, schedule=s)`` against the layer order.
From the repository root after `pip install .`:

    python benches/dagnet_orders.py memory            # ER network DAGs and a wide layered net
    python benches/dagnet_orders.py memory --large --batch 16   # plus two 100,000-node nets
    python benches/dagnet_orders.py speed             # 1M-neuron networks, batch 1 and 16
    python benches/dagnet_orders.py speed --neurons 200000 --repeat 3
    python benches/dagnet_orders.py speed --networks copies   # the 3x case alone

``memory``: per network, the activation rows each mode keeps (one row = batch x 4 bytes):
``full`` is the layer-by-layer buffer (one row per node; the engine's workspace holds three such
buffers: pre-activations, activations and gradients), ``layer slots`` is the layer order with
rows freed after their last use, ``low`` the memory-minimising order of ``memory="low"``. Also
the time to find the order and the wall clock of both predictions at batch 256.

``speed``: wall clock (best of ``--repeat``) of the layer-by-layer engine, of the ordered
executor in the layer order, and in I/O-aware orders, on one thread so the orders are compared
on the same footing. Networks: an I/O-efficient network (``sd.io_efficient_network``, its
generation order is the I/O-aware schedule), ``--copies`` such networks side by side (the
layer order interleaves them and keeps every copy's window alive; generation and greedy orders
keep one), a random layered network and many independent small MLPs side by side (greedy
``sd.io_schedule``). Every run checks that the outputs equal the layer-by-layer ones; the
ratio is the layer order's time over the order's, in the same executor.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

import sparsedag as sd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_dagnet import er_dag
from io_execute import side_by_side


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def wide_layered(widths: list[int], degree: int, seed: int) -> sd.Dag:
    """Consecutive layers joined by `degree` random in-edges per neuron (a sparse MLP)."""
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(widths)])
    src, dst = [], []
    for k in range(1, len(widths)):
        targets = np.repeat(np.arange(starts[k], starts[k + 1]), degree)
        sources = starts[k - 1] + rng.integers(0, widths[k - 1], targets.size)
        src.append(sources)
        dst.append(targets)
    s, d = np.concatenate(src), np.concatenate(dst)
    pairs = np.unique(np.stack([s, d]), axis=1)
    src_ids, dst_ids = np.ascontiguousarray(pairs[0]), np.ascontiguousarray(pairs[1])
    return sd.Dag.from_edges(src_ids, dst_ids, int(starts[-1]))


def many_mlps(count: int, widths: list[int], degree: int, seed: int) -> sd.Dag:
    """`count` independent sparse MLPs side by side (ParallelMLPs-style): the layer order keeps
    a layer of every model alive at once, an order that finishes one model before the next
    keeps only one model's."""
    one = wide_layered(widths, degree, seed)
    src, dst = one.edges()
    size = one.num_nodes
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(widths)])
    srcs, dsts = [], []
    for c in range(count):
        # Fresh sources per model: each edge keeps its target and draws a source in the same
        # layer as the template's source (duplicates merged below).
        layer = np.searchsorted(starts, src, side="right") - 1
        fresh = starts[layer] + rng.integers(0, np.array(widths)[layer])
        srcs.append(fresh + c * size)
        dsts.append(dst + c * size)
    s, d = np.concatenate(srcs), np.concatenate(dsts)
    pairs = np.unique(np.stack([s, d]), axis=1)
    src_ids, dst_ids = np.ascontiguousarray(pairs[0]), np.ascontiguousarray(pairs[1])
    return sd.Dag.from_edges(src_ids, dst_ids, count * size)


def memory_rows(name: str, g: sd.Dag, batch: int) -> None:
    net = sd.DagNet(g, seed=0)
    layer_order = net._core.execution_order()
    start = time.perf_counter()
    low = net.activation_rows("low")
    order_time = time.perf_counter() - start
    full = net.activation_rows("full")
    layer = net.activation_rows(schedule=layer_order)
    X = np.random.default_rng(0).normal(size=(batch, net.num_inputs)).astype(np.float32)
    expected = net.predict(X)
    assert np.array_equal(net.predict(X, memory="low"), expected)
    t_full = best_time(lambda: net.predict(X), 5)
    t_low = best_time(lambda: net.predict(X, memory="low"), 5)
    mib = batch * 4 / 2**20
    print(
        f"{name:34s} {g.num_nodes:7d} {g.num_edges:8d} {net.num_inputs:6d} {full:7d} "
        f"{layer:7d} {low:7d} {low / full:6.3f} {full * mib:8.2f} {low * mib:7.2f} "
        f"{order_time:7.2f}s {1e3 * t_full:8.2f} {1e3 * t_low:8.2f}"
    )


def run_memory(args) -> None:
    print(
        f"# batch {args.batch}: rows x {args.batch} x 4 bytes; times best of 5 "
        f"({sd.get_num_threads()} threads)"
    )
    print(
        "# network                            nodes    edges inputs    full  layer*     low "
        "low/full  full MiB low MiB   order  full ms   low ms"
    )
    for n in (1000, 2000):
        for seed in range(args.seeds):
            src, dst, nodes = er_dag(n, 0.01, seed)
            memory_rows(
                f"ER G({n}, 0.01) seed {seed}", sd.Dag.from_edges(src, dst, nodes), args.batch
            )
    memory_rows(
        "layered 784-4x2000-10, 20 in-edges",
        wide_layered([784] + [2000] * 4 + [10], 20, 0),
        args.batch,
    )
    if args.large:
        memory_rows("layered 10x10000, 16 in-edges", wide_layered([10000] * 10, 16, 0), args.batch)
        memory_rows(
            "416 MLPs 16-64-64-64-32", many_mlps(416, [16, 64, 64, 64, 32], 8, 2), args.batch
        )
    print("# layer*: the layer order with rows freed after their last use")


def run_speed(args) -> None:
    sd.set_num_threads(1)
    n = args.neurons
    print(
        f"# {n} neurons, 1 thread, best of {args.repeat}; ms per predict call; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        "# network          order            batch 1  batch 16  layer/this (1, 16)  rows"
        "   (check: outputs equal)"
    )
    networks = []
    if "copies" in args.networks:
        g, generation = side_by_side(n, args.copies, 16, 4096)
        greedy = sd.io_schedule(g, fast_memory=4096, method="greedy").order
        orders = {"generation": generation, "greedy (M=4096)": greedy}
        networks.append((f"{args.copies} I/O-eff.", g, orders))
    if "efficient" in args.networks:
        g, generation = sd.io_efficient_network(64, n, 16, 4096, seed=0)
        networks.append(("I/O-efficient", g, {"generation": generation}))
    if "layered" in args.networks:
        width = n // 20
        layered = wide_layered([width] * 20, 16, 1)
        greedy = sd.io_schedule(layered, fast_memory=4096, method="greedy").order
        networks.append((f"layered w={width}", layered, {"greedy (M=4096)": greedy}))
    if "mlps" in args.networks:
        widths = [16, 64, 64, 64, 32]
        models = many_mlps(n // sum(widths), widths, 8, 2)
        greedy = sd.io_schedule(models, fast_memory=4096, method="greedy").order
        networks.append((f"{n // sum(widths)} MLPs", models, {"greedy (M=4096)": greedy}))
    for name, g, orders in networks:
        net = sd.DagNet(g, seed=0)
        orders = {"layer": net._core.execution_order(), **orders}
        rng = np.random.default_rng(0)
        xs = {b: rng.normal(size=(b, net.num_inputs)).astype(np.float32) for b in (1, 16)}
        expected = {b: net.predict(x) for b, x in xs.items()}
        t = [best_time(lambda x=x, net=net: net.predict(x), args.repeat) for x in xs.values()]
        print(f"{name:18s} {'engine (layers)':16s} {1e3 * t[0]:8.1f} {1e3 * t[1]:9.1f}  {n:26d}")
        base = None
        for label, order in orders.items():
            for b, x in xs.items():
                assert np.array_equal(net.predict(x, schedule=order), expected[b])
            t = [
                best_time(lambda x=x, net=net, o=order: net.predict(x, schedule=o), args.repeat)
                for x in xs.values()
            ]
            base = base or t
            rows = net.activation_rows(schedule=order)
            print(
                f"{name:18s} {label:16s} {1e3 * t[0]:8.1f} {1e3 * t[1]:9.1f}  "
                f"{base[0] / t[0]:7.2f}x {base[1] / t[1]:6.2f}x {rows:9d}"
            )
    print(f"# load average at the end {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["memory", "speed"])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="memory: also 100,000-node nets")
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--networks", nargs="+", default=["copies", "efficient", "layered", "mlps"])
    parser.add_argument("--copies", type=int, default=256, help="speed: networks side by side")
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"sparsedag {sd.__version__}"
    )
    if args.what == "memory":
        run_memory(args)
    else:
        run_speed(args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
