"""Command line: ``python -m sparsedag demo`` and ``python -m sparsedag info``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Optional

from . import __version__, get_num_threads
from ._generators import random_dag
from ._layering import LAYERING_METHODS, layering, layering_metrics

#: What each layering is for, shown beside its figures in the demo.
LAYERING_PURPOSE = {
    "longest_path": "ASAP: minimum height; sources in layer 0. The default for running networks.",
    "alap": "ALAP: minimum height; every node as late as possible, sinks in the last layer.",
    "4ward": "4Ward's rule: ALAP with inputs (sources) in layer 0, so outputs finish together.",
    "coffman_graham": "At most `width` nodes per layer; height <= (2 - 2/W) x optimal.",
    "network_simplex": "Exact minimum total edge span = fewest dummy nodes (Gansner et al.).",
    "min_width": "MinWidth heuristic: narrow layers counting dummies (Tarassov et al.).",
}


def _width_for(method: str, num_nodes: int) -> Optional[int]:
    return max(1, int(num_nodes**0.5)) if method == "coffman_graham" else None


def demo(nodes: int, degree: float, seed: int) -> int:
    print(f"sparsedag {__version__}: layering demo")
    start = time.perf_counter()
    g = random_dag(nodes, m=int(nodes * degree / 2), seed=seed)
    build_s = time.perf_counter() - start
    print(
        f"random DAG: {g.num_nodes:,} nodes, {g.num_edges:,} edges "
        f"(average degree {degree:g}, seed {seed}); generated and validated in "
        f"{build_s * 1e3:.1f} ms\n"
    )
    header = (
        f"{'method':<21}{'time ms':>10}{'height':>9}{'width':>9}"
        f"{'w+dummies':>11}{'dummies':>16}{'total span':>16}"
    )
    print(header)
    print("-" * len(header))
    for method in LAYERING_METHODS:
        width = _width_for(method, g.num_nodes)
        start = time.perf_counter()
        layers = layering(g, method=method, width=width)
        elapsed = time.perf_counter() - start
        m = layering_metrics(g, layers)
        label = method if width is None else f"{method}({width})"
        print(
            f"{label:<21}{elapsed * 1e3:>10.1f}{m['height']:>9,}{m['width']:>9,}"
            f"{m['width_with_dummies']:>11,}{m['dummies']:>16,}{m['total_span']:>16,}"
        )
    print("\nwhat each method is good for:")
    for method in LAYERING_METHODS:
        print(f"  {method:<16}{LAYERING_PURPOSE.get(method, '')}")
    return 0


def demo_network(nodes: int, seed: int, epochs: int = 8) -> int:
    """Trains a network wired as a random DAG (4Ward's workload) to imitate a teacher network on
    the same wiring, with a progress bar."""
    import numpy as np

    from ._net import DagNet

    print(f"\nneural engine: a network wired as a random DAG ({nodes:,} neurons, p = 0.005)")
    start = time.perf_counter()
    g = random_dag(nodes, p=0.005, seed=seed)
    student = DagNet(g, activation="tanh", init="xavier_uniform", seed=seed, layering="4ward")
    build_s = time.perf_counter() - start
    print(
        f"{g.num_edges:,} connections; {student.num_inputs} inputs (sources), "
        f"{student.num_outputs} outputs (sinks), {student.num_layers} layers (4ward layering); "
        f"built in {build_s * 1e3:.1f} ms; kernels: {student.simd_level}"
    )
    teacher = DagNet(g, activation="tanh", init="xavier_uniform", seed=seed + 1, layering="4ward")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(6000, student.num_inputs)).astype(np.float32)
    y = teacher.forward(X)
    y = (y - y.mean(axis=0)) / (y.std(axis=0) + 1e-6)
    train, test = slice(0, 5000), slice(5000, None)
    print(
        f"task: imitate a teacher network with the same wiring and other weights "
        f"(5000 training rows, 1000 test rows); Adam, batch 128, {epochs} epochs"
    )
    start = time.perf_counter()
    history = student.fit(
        X[train], y[train], epochs=epochs, batch_size=128, lr=3e-3, optimizer="adam",
        validation_data=(X[test], y[test]), progress=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    print(
        f"trained in {elapsed:.2f} s; test loss {history['val_loss'][0]:.3f} -> "
        f"{history['val_loss'][-1]:.3f}; test R² {student.score(X[test], y[test]):.3f}; "
        f"{student.bytes_per_connection('adam')} bytes per connection with Adam"
    )
    return 0


def demo_set(seed: int, epochs: int = 8) -> int:
    """Trains a SET-MLP (sparse evolutionary training) on a Madelon-like problem with a progress
    bar, and prints accuracy, connections and time per epoch."""
    import numpy as np

    from ._set_estimators import SparseMLPClassifier
    from .datasets import make_madelon_like

    X, y = make_madelon_like(
        n_samples=6000, n_features=200, n_informative=20, n_redundant=20, n_classes=4,
        n_clusters_per_class=2, seed=seed,
    )  # fmt: skip
    train, test = slice(0, 5000), slice(5000, None)
    clf = SparseMLPClassifier(hidden=(1000, 1000), epochs=epochs, seed=seed, progress=True)
    print(
        "\nsparse evolutionary training (SET): a 200-1000-1000-4 MLP with Erdős–Rényi layers "
        f"(epsilon {clf.epsilon}), zeta {clf.zeta}, All-ReLU; Madelon-like data, 5000 training "
        "rows, 1000 test rows"
    )
    clf.fit(X[train], y[train])
    h = clf.history_
    print(f"{'epoch':>5}  {'train acc':>9}  {'connections':>11}  {'train s':>7}  {'evolve s':>8}")
    for e in range(len(h["loss"])):
        print(
            f"{e + 1:>5}  {h['accuracy'][e]:>9.3f}  {h['connections'][e]:>11,}  "
            f"{h['time_train'][e]:>7.3f}  {h['time_evolve'][e]:>8.4f}"
        )
    dense = 200 * 1000 + 1000 * 1000 + 1000 * 4
    print(
        f"test accuracy {clf.score(X[test], y[test]):.3f} with {clf.n_connections_:,} connections "
        f"({clf.n_connections_ / dense:.1%} of the dense MLP's {dense:,}); "
        f"{np.sum(h['connections_replaced']):,} connections rewired in total"
    )
    return 0


def info() -> int:
    print(f"sparsedag {__version__}")
    print(f"python {sys.version.split()[0]}")
    env_threads = os.environ.get("RAYON_NUM_THREADS", "unset")
    print(f"threads: {get_num_threads()} (RAYON_NUM_THREADS={env_threads})")
    print(f"cpus: {os.cpu_count()}")
    print(f"layering methods: {', '.join(LAYERING_METHODS)}")
    return 0


def _check_demo_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    # parser.error prints the usage and exits with status 2, like argparse's own checks.
    if args.nodes < 2:
        parser.error(f"--nodes must be at least 2, got {args.nodes}")
    if not (0 < args.degree <= args.nodes - 1):
        parser.error(f"--degree must be in (0, nodes - 1 = {args.nodes - 1}], got {args.degree}")
    if args.net_nodes < 20:
        parser.error(f"--net-nodes must be at least 20, got {args.net_nodes}")
    if args.seed < 0:
        parser.error(f"--seed must be non-negative, got {args.seed}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparsedag", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="layer a random DAG every way, then train a DAG network"
    )
    demo_parser.add_argument("--nodes", type=int, default=100_000, help="node count (100000)")
    demo_parser.add_argument("--degree", type=float, default=10.0, help="average degree (10)")
    demo_parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo_parser.add_argument(
        "--net-nodes", type=int, default=2000, help="neurons of the demo network (2000)"
    )
    commands.add_parser("info", help="version and environment")
    args = parser.parse_args(argv)
    if args.command == "demo":
        _check_demo_args(demo_parser, args)
    try:
        if args.command == "demo":
            status = demo(args.nodes, args.degree, args.seed)
            status = status or demo_network(args.net_nodes, args.seed)
            return status or demo_set(args.seed)
        return info()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
