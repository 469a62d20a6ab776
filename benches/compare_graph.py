"""Times sparsedag's graph half against networkx, rustworkx, scipy's HiGHS and graphviz in
one run and prints the ratios. Run from the repository root after `pip install .`:

    python benches/compare_graph.py                    # 100k nodes, 500k edges (the README table)
    python benches/compare_graph.py --nodes 10000      # quicker
    python benches/compare_graph.py --memory           # also peak RSS per task (subprocesses)

Peers that are not installed are skipped with a note. Times are the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Optional

import numpy as np

import sparsedag as sd


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def layers_from_generations(n: int, generations) -> np.ndarray:
    layers = np.empty(n, dtype=np.int64)
    for level, nodes in enumerate(generations):
        layers[list(nodes)] = level
    return layers


# --- the implementations, by task --------------------------------------------------------


def ours_asap_end_to_end(src, dst, n):
    return sd.layering(sd.Dag.from_edges(src, dst, n), "longest_path")


def rustworkx_build(src, dst, n):
    import rustworkx as rx

    g = rx.PyDiGraph(multigraph=False)
    g.add_nodes_from(range(n))
    g.add_edges_from_no_data(list(zip(src.tolist(), dst.tolist())))
    return g


def rustworkx_asap_end_to_end(src, dst, n):
    import rustworkx as rx

    return layers_from_generations(n, rx.topological_generations(rustworkx_build(src, dst, n)))


def networkx_build(src, dst, n):
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    return g


def networkx_asap_end_to_end(src, dst, n):
    import networkx as nx

    return layers_from_generations(n, nx.topological_generations(networkx_build(src, dst, n)))


def highs_min_span(src, dst, n) -> np.ndarray:
    """The minimum-total-span layering LP solved by scipy's HiGHS: minimise sum(y_v - y_u)
    subject to y_v - y_u >= 1 and y >= 0."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    m = len(src)
    cost = np.bincount(dst, minlength=n) - np.bincount(src, minlength=n)
    rows = np.concatenate([np.arange(m), np.arange(m)])
    cols = np.concatenate([src, dst])
    vals = np.concatenate([np.ones(m), -np.ones(m)])
    a_ub = sp.csr_array((vals, (rows, cols)), shape=(m, n))
    res = linprog(cost, A_ub=a_ub, b_ub=-np.ones(m), bounds=(0, None), method="highs")
    if not res.success:
        raise RuntimeError(res.message)
    return np.rint(res.x).astype(np.int64)


def dot_ranks(src, dst, n) -> np.ndarray:
    """graphviz dot's ranks (its network-simplex ranking, run as part of a full layout)."""
    lines = ["digraph G {"] + [f"{u} -> {v};" for u, v in zip(src.tolist(), dst.tolist())]
    lines += [f"{v};" for v in range(n)] + ["}"]
    with tempfile.NamedTemporaryFile("w", suffix=".dot") as f:
        f.write("\n".join(lines))
        f.flush()
        out = subprocess.run(
            ["dot", "-Tplain", f.name], capture_output=True, text=True, check=True
        ).stdout
    y = np.zeros(n)
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            y[int(parts[1])] = float(parts[3])
    # dot draws rank 0 at the top (largest y); ranks are the distinct y levels.
    levels = np.unique(-y)
    return np.searchsorted(levels, -y).astype(np.int64)


def total_span(src, dst, layers) -> int:
    return int((layers[dst] - layers[src]).sum())


# --- the run -------------------------------------------------------------------------------


def have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def report(rows: list[dict], title: str) -> None:
    print(f"\n## {title}")
    print(f"{'task':<34}{'impl':<22}{'seconds':>10}{'ratio (peer/ours)':>20}  note")
    for row in rows:
        ratio = row.get("ratio")
        ratio_s = f"{ratio:>19.1f}x" if ratio is not None else " " * 20
        note = row.get("note", "")
        print(f"{row['task']:<34}{row['impl']:<22}{row['seconds']:>10.4f}{ratio_s}  {note}")


def run(
    nodes: int, degree: float, repeat: int, seed: int, dot_nodes: int, lp_nodes: list[int]
) -> list[dict]:
    g = sd.random_dag(nodes, m=int(nodes * degree / 2), seed=seed)
    src, dst = g.edges()
    n = g.num_nodes
    rows: list[dict] = []

    def add(task, impl, seconds, ours_seconds, note=""):
        ratio = None if impl.startswith("sparsedag") else seconds / ours_seconds
        rows.append({"task": task, "impl": impl, "seconds": seconds, "ratio": ratio, "note": note})

    # ASAP, end to end: numpy edge arrays in, an array of layers out.
    task = f"ASAP end to end (n={n})"
    ours_s, ours_layers = best_time(lambda: ours_asap_end_to_end(src, dst, n), repeat)
    add(task, "sparsedag", ours_s, ours_s)
    if have("rustworkx"):
        t, layers = best_time(lambda: rustworkx_asap_end_to_end(src, dst, n), repeat)
        assert (layers == ours_layers).all(), "rustworkx disagrees"
        add(task, "rustworkx", t, ours_s)
    else:
        rows.append(
            {"task": task, "impl": "rustworkx", "seconds": float("nan"), "note": "not installed"}
        )
    t, layers = best_time(lambda: networkx_asap_end_to_end(src, dst, n), max(1, repeat // 3))
    assert (layers == ours_layers).all(), "networkx disagrees"
    add(task, "networkx", t, ours_s)

    # The layering step alone, on graphs already built.
    task = f"ASAP layering step (n={n})"
    ours_s, _ = best_time(lambda: sd.layering(g, "longest_path"), repeat)
    add(task, "sparsedag", ours_s, ours_s)
    if have("rustworkx"):
        import rustworkx as rx

        rg = rustworkx_build(src, dst, n)
        t, _ = best_time(lambda: rx.topological_generations(rg), repeat)
        add(task, "rustworkx", t, ours_s, "returns lists of lists")
    import networkx as nx

    ng = networkx_build(src, dst, n)
    t, _ = best_time(lambda: list(nx.topological_generations(ng)), max(1, repeat // 3))
    add(task, "networkx", t, ours_s)

    if "network_simplex" in sd.LAYERING_METHODS:
        for lp_n in lp_nodes:
            lp_g = g if lp_n == n else sd.random_dag(lp_n, m=int(lp_n * degree / 2), seed=seed)
            lp_src, lp_dst = lp_g.edges()
            task = f"min total span (n={lp_n})"
            ours_s, ns_layers = best_time(partial(sd.layering, lp_g, "network_simplex"), repeat)
            ours_span = total_span(lp_src, lp_dst, ns_layers)
            add(task, "sparsedag", ours_s, ours_s, f"span {ours_span}")
            t, lp_layers = best_time(partial(highs_min_span, lp_src, lp_dst, lp_n), 1)
            lp_span = total_span(lp_src, lp_dst, lp_layers)
            verdict = "equal" if lp_span == ours_span else "DIFFERENT"
            add(task, "scipy HiGHS LP", t, ours_s, f"span {lp_span} ({verdict})")

    if shutil.which("dot") and dot_nodes:
        small = sd.random_dag(dot_nodes, m=int(dot_nodes * degree / 2), seed=seed)
        s_src, s_dst = small.edges()
        task = f"dot comparison (n={dot_nodes})"
        method = "network_simplex" if "network_simplex" in sd.LAYERING_METHODS else "longest_path"
        ours_s, ours_layers = best_time(lambda: sd.layering(small, method), repeat)
        ours_span = total_span(s_src, s_dst, ours_layers)
        add(task, f"sparsedag {method}", ours_s, ours_s, f"span {ours_span}")
        t, ranks = best_time(lambda: dot_ranks(s_src, s_dst, dot_nodes), 1)
        add(task, "graphviz dot", t, ours_s, f"span {total_span(s_src, s_dst, ranks)}; full layout")
    elif dot_nodes:
        rows.append(
            {
                "task": "dot comparison",
                "impl": "graphviz dot",
                "seconds": float("nan"),
                "note": "dot not installed (apt-get install graphviz)",
            }
        )
    return rows


def peak_rss_of(task: str, edges_file: str) -> Optional[float]:
    """Peak resident memory (MiB) one task adds on top of its input arrays, measured in a
    fresh interpreter. Linux carries the parent's RSS high-water mark into a forked child,
    so the child resets it (clear_refs 5) and reads VmHWM from /proc."""
    code = f"""
import sys
import numpy as np

def status_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))

sys.path.insert(0, {__file__.rsplit("/", 1)[0]!r})
import compare_graph as c
data = np.load({edges_file!r})
src, dst, n = data["src"], data["dst"], int(data["n"])
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status_kib("VmRSS:")
c.{task}(src, dst, n)
print((status_kib("VmHWM:") - before) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(out.stdout.strip()) if out.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--degree", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--dot-nodes", type=int, default=500, help="graph size for the dot comparison (0 skips)"
    )
    parser.add_argument(
        "--lp-nodes",
        default="1000,10000",
        help="graph sizes for network simplex vs the HiGHS LP, comma-separated (HiGHS needs"
        " tens of minutes at 100k nodes)",
    )
    parser.add_argument("--memory", action="store_true", help="also measure peak RSS per task")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}, sparsedag {sd.__version__}"
    )
    lp_nodes = [int(x) for x in args.lp_nodes.split(",") if x]
    rows = run(args.nodes, args.degree, args.repeat, args.seed, args.dot_nodes, lp_nodes)
    report(rows, f"random DAG, {args.nodes} nodes, average degree {args.degree:g}")
    if args.memory:
        print("\n## peak RSS added by one end-to-end ASAP run (MiB)")
        g = sd.random_dag(args.nodes, m=int(args.nodes * args.degree / 2), seed=args.seed)
        src, dst = g.edges()
        with tempfile.TemporaryDirectory() as tmp:
            edges_file = f"{tmp}/edges.npz"
            np.savez(edges_file, src=src, dst=dst, n=g.num_nodes)
            for task in (
                "ours_asap_end_to_end",
                "rustworkx_asap_end_to_end",
                "networkx_asap_end_to_end",
            ):
                print(f"{task:<34}{peak_rss_of(task, edges_file)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
