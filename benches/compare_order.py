"""Peak memory of sparsedag's memory-minimising topological order against its peers on
Topoformer-style layered graphs (``sd.layered_graph``), in one run. From the repository root
after `pip install .`:

    python benches/compare_order.py               # 500/1000/2000 nodes x 20 seeds, 30-node optimum
    python benches/compare_order.py --seeds 3        # quicker
    python benches/compare_order.py --sizes 500 --seeds 5 --small-seeds 5
    python benches/compare_order.py --sizes --small-seeds 0 --network-sizes 1000 2000
    python benches/compare_order.py --lower-bound --small-seeds 0 --network-sizes  # + bound

Besides the layered graphs it runs the network DAGs of the engine benchmark
(benches/compare_dagnet.py: Erdős–Rényi G(n, 0.01), largest connected component, edges oriented
by a random node order) with unit sizes: every value is one activation row of a batch.

Peers: Kahn order; the best of 100 random topological orders (lexicographic by random keys);
the three greedy orders of PyTorch Inductor's reorder_for_peak_memory (LPMF, BFS, DFS,
reimplemented in benches/inductor_orders.py), and on the small instances the exact optimum
(dynamic programming). All peaks are evaluated by ``sd.peak_memory`` (model "coexist", the
same accounting as Inductor's estimate_peak_memory). Prints, per size, our peak over the best
peer's, the number of instances where we are at least as good, and our time per graph (wall
clock, and in brackets the process CPU time, which shared machines disturb less).

With ``--lower-bound`` it also computes ``sd.peak_memory_lower_bound`` (a bound on the peak of
*every* topological order, by minimum cuts) and prints its mean over the best peer's peak: no
order, however found, can average a lower ratio than that.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

import sparsedag as sd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_dagnet import er_dag
from inductor_orders import RULES, check


def random_best(dag, sizes, count: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    return min(
        sd.peak_memory(
            dag, sd.topological_order(dag, "lexicographic", key=rng.random(dag.num_nodes)), sizes
        )
        for _ in range(count)
    )


def layered_instance(n: int, seed: int) -> tuple[sd.Dag, np.ndarray]:
    graph = sd.layered_graph(n, seed=seed)
    return graph.dag, graph.sizes


def network_instance(n: int, seed: int, p: float = 0.01) -> tuple[sd.Dag, np.ndarray]:
    src, dst, nodes = er_dag(n, p, seed)
    return sd.Dag.from_edges(src, dst, nodes), np.ones(nodes)


def run_size(
    n: int,
    seeds: int,
    effort: float,
    random_orders: int,
    exact: bool,
    instance=layered_instance,
    lower_bound: bool = False,
) -> dict:
    ratios, wins, times, cpu_times, gaps, bounds = [], 0, [], [], [], []
    for seed in range(seeds):
        dag, sizes = instance(n, seed)
        peers = {"kahn": sd.peak_memory(dag, sd.topological_order(dag, "kahn"), sizes)}
        peers[f"random_best_of_{random_orders}"] = random_best(dag, sizes, random_orders, seed)
        for name, rule in RULES.items():
            peers[name] = sd.peak_memory(dag, check(dag, rule(dag, sizes)), sizes)
        start, cpu_start = time.perf_counter(), time.process_time()
        order = sd.topological_order(dag, "min_memory", sizes=sizes, effort=effort, seed=seed)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        assert sd.is_topological_order(dag, order)
        ours = sd.peak_memory(dag, order, sizes)
        best_peer = min(peers.values())
        ratios.append(ours / best_peer)
        wins += ours <= best_peer * (1 + 1e-9)  # summation order differs between orders
        if lower_bound:
            bounds.append(sd.peak_memory_lower_bound(dag, sizes) / best_peer)
        if exact:
            optimum = sd.peak_memory(dag, sd.topological_order(dag, "exact", sizes=sizes), sizes)
            gaps.append(ours / optimum - 1.0)
    return {
        "n": n,
        "seeds": seeds,
        "ratios": ratios,
        "mean_ratio": float(np.mean(ratios)),
        "worst_ratio": float(np.max(ratios)),
        "wins": wins,
        "mean_time": float(np.mean(times)),
        "max_time": float(np.max(times)),
        "mean_cpu": float(np.mean(cpu_times)),
        "max_cpu": float(np.max(cpu_times)),
        "gaps": gaps,
        "bounds": bounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 1000, 2000])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--small", type=int, default=30, help="node count of the exact instances")
    parser.add_argument("--small-seeds", type=int, default=20)
    parser.add_argument("--random-orders", type=int, default=100)
    parser.add_argument("--effort", type=float, default=1.0)
    parser.add_argument("--network-sizes", type=int, nargs="*", default=[1000, 2000])
    parser.add_argument("--network-p", type=float, default=0.01)
    parser.add_argument(
        "--lower-bound", action="store_true", help="also the min-cut lower bound over best peer"
    )
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"python {platform.python_version()}, sparsedag {sd.__version__}"
    )
    print(
        "#   n  seeds  ours/best-peer (mean)  worst  <=best peer  time/graph mean  max"
        "  (cpu/graph mean  max)"
    )
    for n in args.sizes:
        r = run_size(
            n, args.seeds, args.effort, args.random_orders, False, lower_bound=args.lower_bound
        )
        print(
            f"{n:5d}  {r['seeds']:5d}  {r['mean_ratio']:21.4f}  {r['worst_ratio']:.4f}  "
            f"{r['wins']:5d}/{r['seeds']:<5d}  {r['mean_time']:15.3f}s  {r['max_time']:.3f}s"
            f"  ({r['mean_cpu']:.3f}s  {r['max_cpu']:.3f}s)"
        )
        if r["bounds"]:
            b = np.array(r["bounds"])
            print(
                f"#      lower bound / best peer: mean {b.mean():.4f}, min {b.min():.4f}, "
                f"max {b.max():.4f} (above 0.95 on {int((b > 0.95).sum())}/{len(b)}); "
                f"ours / bound: mean {np.mean(np.array(r['ratios']) / b):.4f}"
            )
    for n in args.network_sizes:
        r = run_size(
            n,
            args.seeds,
            args.effort,
            args.random_orders,
            exact=False,
            instance=lambda n, seed: network_instance(n, seed, args.network_p),
        )
        print(
            f"{n:5d}  {r['seeds']:5d}  {r['mean_ratio']:21.4f}  {r['worst_ratio']:.4f}  "
            f"{r['wins']:5d}/{r['seeds']:<5d}  {r['mean_time']:15.3f}s  {r['max_time']:.3f}s"
            f"  ({r['mean_cpu']:.3f}s  {r['max_cpu']:.3f}s)"
            f"  (network DAG, G(n, {args.network_p}), unit sizes)"
        )
    if args.small_seeds:
        r = run_size(args.small, args.small_seeds, args.effort, args.random_orders, exact=True)
        gaps = np.array(r["gaps"])
        print(
            f"{args.small:5d}  {r['seeds']:5d}  {r['mean_ratio']:21.4f}  {r['worst_ratio']:.4f}  "
            f"{r['wins']:5d}/{r['seeds']:<5d}  {r['mean_time']:15.3f}s  {r['max_time']:.3f}s"
            f"  ({r['mean_cpu']:.3f}s  {r['max_cpu']:.3f}s)"
        )
        print(
            f"# {args.small}-node instances vs the exact optimum: "
            f"mean gap {100 * gaps.mean():.3f} %, worst {100 * gaps.max():.3f} %, "
            f"optimal on {int((gaps <= 1e-9).sum())}/{len(gaps)}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
