"""Peak memory of sparsedag's memory-minimising topological order against its peers on
Topoformer-style layered graphs (``sd.layered_graph``), in one run. From the repository root
after `pip install .`:

    python benches/compare_order.py               # 500/1000/2000 nodes x 20 seeds, 30-node optimum
    python benches/compare_order.py --seeds 3        # quicker
    python benches/compare_order.py --sizes 500 --seeds 5 --small-seeds 5

Peers: Kahn order; the best of 100 random topological orders (lexicographic by random keys);
the three greedy orders of PyTorch Inductor's reorder_for_peak_memory (LPMF, BFS, DFS,
reimplemented in benches/inductor_orders.py), and on the small instances the exact optimum
(dynamic programming). All peaks are evaluated by ``sd.peak_memory`` (model "coexist", the
same accounting as Inductor's estimate_peak_memory). Prints, per size, our peak over the best
peer's, the number of instances where we are at least as good, and our time per graph.
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
from inductor_orders import RULES, check


def random_best(dag, sizes, count: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    return min(
        sd.peak_memory(
            dag, sd.topological_order(dag, "lexicographic", key=rng.random(dag.num_nodes)), sizes
        )
        for _ in range(count)
    )


def run_size(n: int, seeds: int, effort: float, random_orders: int, exact: bool) -> dict:
    ratios, wins, times, gaps = [], 0, [], []
    for seed in range(seeds):
        graph = sd.layered_graph(n, seed=seed)
        dag, sizes = graph.dag, graph.sizes
        peers = {"kahn": sd.peak_memory(dag, sd.topological_order(dag, "kahn"), sizes)}
        peers[f"random_best_of_{random_orders}"] = random_best(dag, sizes, random_orders, seed)
        for name, rule in RULES.items():
            peers[name] = sd.peak_memory(dag, check(dag, rule(dag, sizes)), sizes)
        start = time.perf_counter()
        order = sd.topological_order(dag, "min_memory", sizes=sizes, effort=effort, seed=seed)
        times.append(time.perf_counter() - start)
        assert sd.is_topological_order(dag, order)
        ours = sd.peak_memory(dag, order, sizes)
        best_peer = min(peers.values())
        ratios.append(ours / best_peer)
        wins += ours <= best_peer * (1 + 1e-9)  # summation order differs between orders
        if exact:
            optimum = sd.peak_memory(dag, sd.topological_order(dag, "exact", sizes=sizes), sizes)
            gaps.append(ours / optimum - 1.0)
    return {
        "n": n,
        "seeds": seeds,
        "mean_ratio": float(np.mean(ratios)),
        "worst_ratio": float(np.max(ratios)),
        "wins": wins,
        "mean_time": float(np.mean(times)),
        "max_time": float(np.max(times)),
        "gaps": gaps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--small", type=int, default=30, help="node count of the exact instances")
    parser.add_argument("--small-seeds", type=int, default=20)
    parser.add_argument("--random-orders", type=int, default=100)
    parser.add_argument("--effort", type=float, default=1.0)
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {sd.get_num_threads()} threads, "
        f"python {platform.python_version()}, sparsedag {sd.__version__}"
    )
    print("#   n  seeds  ours/best-peer (mean)  worst  <=best peer  time/graph mean  max")
    for n in args.sizes:
        r = run_size(n, args.seeds, args.effort, args.random_orders, exact=False)
        print(
            f"{n:5d}  {r['seeds']:5d}  {r['mean_ratio']:21.4f}  {r['worst_ratio']:.4f}  "
            f"{r['wins']:5d}/{r['seeds']:<5d}  {r['mean_time']:15.3f}s  {r['max_time']:.3f}s"
        )
    if args.small_seeds:
        r = run_size(args.small, args.small_seeds, args.effort, args.random_orders, exact=True)
        gaps = np.array(r["gaps"])
        print(
            f"{args.small:5d}  {r['seeds']:5d}  {r['mean_ratio']:21.4f}  {r['worst_ratio']:.4f}  "
            f"{r['wins']:5d}/{r['seeds']:<5d}  {r['mean_time']:15.3f}s  {r['max_time']:.3f}s"
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
