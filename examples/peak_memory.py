"""Topological orders that keep the peak memory low (the Topoformer problem): the peak of
several orders of a layered graph with value sizes, against a lower bound on every order.

    python examples/peak_memory.py [--nodes 1000] [--plot profile.png]
"""

from __future__ import annotations

import argparse

import sparsedag as sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--plot", help="save the memory profile to this image (needs matplotlib)")
    args = ap.parse_args()

    g, _, sizes = sd.layered_graph(args.nodes, seed=0)
    bound = sd.peak_memory_lower_bound(g, sizes)
    print(f"{g.num_nodes:,} nodes, {g.num_edges:,} edges; no order can peak below {bound:,.0f}")
    for method in ("kahn", "dfs", "least_peak", "memory_dfs", "min_memory"):
        order = sd.topological_order(g, method, sizes=sizes if method in
                                     sd.MEMORY_ORDER_METHODS else None, seed=0)  # fmt: skip
        peak = sd.peak_memory(g, order, sizes)
        print(f"{method:<12} peak {peak:>12,.0f}   {peak / bound:.3f} x the lower bound")
    if args.plot:
        from sparsedag import plot

        order = sd.topological_order(g, "min_memory", sizes=sizes, seed=0)
        plot.plot_memory_profile(g, order, sizes, lower_bound=True).figure.savefig(args.plot)
        print(f"memory profile plotted to {args.plot}")


if __name__ == "__main__":
    main()
