"""I/O scheduling of sparse inference (Gleinig, Ben-Nun, Hoefler): how many values move
between a fast memory of M values and slow memory, for each scheduling method, against the
proven lower and upper bounds; then inference in the best order.

    python examples/io_scheduling.py [--fast-memory 256] [--plot anneal.png]
"""

from __future__ import annotations

import argparse

import numpy as np

import sparsedag as sd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast-memory", type=int, default=256)
    ap.add_argument("--plot", help="save the annealing trace to this image (needs matplotlib)")
    args = ap.parse_args()
    m = args.fast_memory

    g = sd.random_dag(20_000, m=160_000, seed=1)  # sources are the inputs, sinks the outputs
    bounds = sd.io_bounds(g, m)
    print(f"{g.num_nodes:,} neurons, {g.num_edges:,} connections, fast memory M = {m}")
    print(f"neuron orders: lower bound {bounds['lower']:,}, upper bound {bounds['upper']:,}")
    schedules = {
        method: sd.io_schedule(g, fast_memory=m, method=method, seed=0)
        for method in ("layer", "greedy", "two_approx", "anneal", "tiled")
    }
    layer_io = schedules["layer"].io
    print(f"{'method':<12}{'kind':<9}{'I/Os':>10}{'/ lower':>9}{'layer / this':>14}")
    for method, s in schedules.items():
        print(f"{method:<12}{s.kind:<9}{s.io:>10,}{s.io / s.lower:>9.2f}{layer_io / s.io:>14.2f}")

    best = min(schedules, key=lambda method: schedules[method].io)
    weights = np.random.default_rng(0).uniform(-1, 1, g.num_edges).astype(np.float32)
    X = np.ones((4, int((g.in_degree() == 0).sum())), np.float32)
    y_best = sd.IoPlan(g, schedules[best]).run(weights, X)
    y_layer = sd.IoPlan(g, schedules["layer"]).run(weights, X)
    difference = float(np.abs(y_best - y_layer).max())
    print(f"inference in the {best} order matches the layer order (max difference {difference})")
    if args.plot:
        from sparsedag import plot

        plot.plot_anneal_trace(schedules["anneal"]).figure.savefig(args.plot)
        print(f"annealing trace plotted to {args.plot}")


if __name__ == "__main__":
    main()
