"""Times sparsedag's k-MIS coarsening against its peers in one run and prints the ratios.
Run from the repository root after `pip install .` (or `maturin develop --release`):

    python benches/compare_kmis.py                  # the README figures (a few minutes)
    python benches/compare_kmis.py --quick          # 1M-edge random graph only, k <= 2
    python benches/compare_kmis.py --memory         # also peak RSS per task (subprocesses)
    python benches/compare_kmis.py --threads 1      # sparsedag on one thread

Graphs: random graphs with 1M and 10M edges (average degree 8), a 1000 x 1000 grid, and a
road-like graph (a 1000 x 1000 grid with 15 % of its edges removed and 5 % local diagonals
added: long diameter, uneven degrees). Every implementation gets the same edge arrays and,
where it takes one, the same random rank, and every peer that computes the same greedy set
is checked to return exactly our answer.

Peers, in the same run: networkx `maximal_independent_set` (k = 1; randomised, so only its
time compares), a networkx greedy by rank (k = 1, 2), the same rounds in NumPy/SciPy
(benches/kmis_numpy.py) and torch-geometric-pool's KMISSelect when torch and tgp import
(skipped with a note otherwise). Times are the best of --repeat runs (slow peers run once).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import sparsedag as sd
from sparsedag.pyg import kmis_select

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kmis_numpy


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


# --- graphs ----------------------------------------------------------------------------------


def random_graph(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    n = m // 4
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    return src[keep], dst[keep], n


def grid(side: int) -> tuple[np.ndarray, np.ndarray, int]:
    idx = np.arange(side * side).reshape(side, side)
    src = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    dst = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    return src, dst, side * side


def road(side: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    src, dst, n = grid(side)
    rng = np.random.default_rng(seed)
    keep = rng.random(src.size) >= 0.15
    idx = np.arange(side * side).reshape(side, side)
    diag_src = idx[:-1, :-1].ravel()
    diag_dst = idx[1:, 1:].ravel()
    pick = rng.random(diag_src.size) < 0.05
    return (
        np.concatenate([src[keep], diag_src[pick]]),
        np.concatenate([dst[keep], diag_dst[pick]]),
        n,
    )


GRAPHS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray, int]]] = {
    "random 1M edges": lambda: random_graph(1_000_000),
    "random 10M edges": lambda: random_graph(10_000_000),
    "grid 1000x1000": lambda: grid(1000),
    "road 1000x1000": lambda: road(1000),
}


# --- peers -----------------------------------------------------------------------------------


def networkx_graph(src, dst, n):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    return g


def networkx_greedy(g, rank: np.ndarray, k: int) -> np.ndarray:
    """Sequential greedy by rank on networkx: the set every implementation here must find."""
    import networkx as nx

    blocked = bytearray(len(rank))
    chosen = []
    adj = g.adj
    for v in np.argsort(rank).tolist():
        if blocked[v]:
            continue
        chosen.append(v)
        blocked[v] = 1
        if k == 1:
            for u in adj[v]:
                blocked[u] = 1
        else:
            for u in nx.single_source_shortest_path_length(g, v, cutoff=k):
                blocked[u] = 1
    return np.sort(np.array(chosen, dtype=np.int64))


def pyg_edge_index(src, dst) -> np.ndarray:
    """The same graph in PyG's convention: a (2, 2m) int64 array with both directions."""
    return np.stack([np.r_[src, dst], np.r_[dst, src]])


def tgp_kmis(edge_index: np.ndarray, n: int, k: int, threads: int | None):
    """torch-geometric-pool's KMISSelect on CPU, or None when it cannot be imported. Like our
    side, it is timed from its native input (here the PyG edge_index, built untimed from the
    same arrays, shared with numpy without a copy) to the selected set and the clusters."""
    try:
        import torch
        from tgp.select import KMISSelect
    except ImportError:
        return None
    if threads:
        torch.set_num_threads(threads)
    edge_index = torch.from_numpy(edge_index)
    # constant scores + the greedy heuristic: tgp's default heuristic, no learned scorer
    select = KMISSelect(order_k=k, scorer="constant", score_heuristic="greedy")

    def run():
        with torch.no_grad():
            return select(edge_index=edge_index, num_nodes=n)

    return run


def peak_rss_of(code: str) -> tuple[float, float]:
    """(peak RSS MiB after building the inputs, peak RSS MiB after the task) in a subprocess."""
    script = (
        "import resource, sys, numpy as np\n"
        f"sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
        "import compare_kmis as c, sparsedag as sd, kmis_numpy\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        f"{code}\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[-2]), float(out[-1])


# --- the run ---------------------------------------------------------------------------------


def run_graph(name: str, args, rows: list[dict[str, Any]]) -> None:
    src, dst, n = GRAPHS[name]()
    m = src.size
    print(f"\n## {name}: {n:,} nodes, {m:,} edges")
    rank = np.random.default_rng(1).permutation(n)
    ks = [1, 2, 4, 8] + ([16, 32, 64] if name.startswith("road") else [])
    if args.quick:
        ks = [1, 2]
    big = m > 5_000_000
    nx_graph = None
    if name == "random 1M edges" and not args.no_networkx:
        t0 = time.perf_counter()
        nx_graph = networkx_graph(src, dst, n)
        print(f"networkx graph construction: {time.perf_counter() - t0:.2f} s (not counted)")
    header = (
        f"{'k':>3} {'ours kmis':>10} {'ours coarsen':>12} {'rounds':>6} {'kept':>8} "
        f"{'NumPy':>8} {'x':>6} {'nx greedy':>9} {'x':>6} {'nx MIS':>8} {'x':>7}"
    )
    print(header)
    for k in ks:
        ours_t, ours = best_time(lambda k=k: sd.kmis(src, dst, n, k=k, rank=rank), args.repeat)
        coarse_t, coarse = best_time(
            lambda k=k: sd.coarsen(src, dst, n, k=k, rank=rank), args.repeat
        )
        pure = sd.coarsen(src, dst, n, k=k, rank=rank, strategy="rounds")
        assert (pure.selected == ours.selected).all() and (coarse.cluster == ours.cluster).all()
        row: dict[str, Any] = {
            "graph": name,
            "k": k,
            "ours_kmis_s": ours_t,
            "ours_coarsen_s": coarse_t,
            "rounds": pure.rounds,
            "auto_rounds": coarse.rounds,
            "selected": int(ours.selected.size),
            "reduction": ours.selected.size / n,
            "coarse_edges": int(coarse.src.size),
        }
        numpy_cell = ratio_cell = "-"
        if not big or args.numpy_big:
            np_t, (np_sel, np_cluster, np_rounds) = best_time(
                lambda k=k: kmis_numpy.kmis(src, dst, n, k, rank), 1
            )
            assert (np_sel == ours.selected).all() and (np_cluster == ours.cluster).all()
            assert np_rounds == pure.rounds
            row["numpy_s"] = np_t
            numpy_cell, ratio_cell = f"{np_t:.3f}", f"{np_t / ours_t:.1f}"
        nxg_cell = nxg_ratio = nxm_cell = nxm_ratio = "-"
        if nx_graph is not None and k <= 2:
            g_t, g_sel = best_time(lambda k=k: networkx_greedy(nx_graph, rank, k), 1)
            assert (g_sel == ours.selected).all()
            row["networkx_greedy_s"] = g_t
            nxg_cell, nxg_ratio = f"{g_t:.2f}", f"{g_t / ours_t:.0f}"
        if nx_graph is not None and k == 1:
            import networkx as nx

            mis_t, mis = best_time(lambda: nx.maximal_independent_set(nx_graph, seed=0), 1)
            row["networkx_mis_s"] = mis_t
            row["networkx_mis_size"] = len(mis)
            nxm_cell, nxm_ratio = f"{mis_t:.1f}", f"{mis_t / ours_t:.0f}"
        print(
            f"{k:>3} {ours_t:>10.3f} {coarse_t:>12.3f} {pure.rounds:>6} "
            f"{row['reduction']:>8.4f} {numpy_cell:>8} {ratio_cell:>6} {nxg_cell:>9} "
            f"{nxg_ratio:>6} {nxm_cell:>8} {nxm_ratio:>7}"
        )
        if name == "random 1M edges" and k <= 2:
            edge_index = pyg_edge_index(src, dst)
            tgp = tgp_kmis(edge_index, n, k, args.threads)
            if tgp is None:
                print("    torch-geometric-pool: not importable here (needs torch); skipped")
            else:
                t_t, _ = best_time(tgp, args.repeat)
                g_t, _ = best_time(
                    lambda k=k: sd.kmis(src, dst, n, k=k, heuristic="greedy"), args.repeat
                )
                # Ours on tgp's very input too: every edge listed in both directions.
                p_t, _ = best_time(
                    lambda k=k, e=edge_index: kmis_select(e, n, k=k, heuristic="greedy"),
                    args.repeat,
                )
                row["tgp_s"], row["ours_greedy_s"], row["ours_greedy_pyg_s"] = t_t, g_t, p_t
                print(
                    f"    torch-geometric-pool KMISSelect (greedy heuristic): {t_t:.3f} s, "
                    f"ours {g_t:.3f} s ({t_t / g_t:.1f}x); ours from the same PyG "
                    f"edge_index (sparsedag.pyg.kmis_select): {p_t:.3f} s ({t_t / p_t:.1f}x)"
                )
        rows.append(row)
    if args.memory:
        measure_memory(name, ks[:2], rows, big and not args.numpy_big, (src, dst, rank))


def measure_memory(name: str, ks: list[int], rows, skip_numpy: bool, arrays) -> None:
    """Peak RSS of one call in a fresh process that only loads the inputs first, so the
    increase over the post-load peak is the call's own working memory."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for key, array in zip(("src", "dst", "rank"), arrays):
            paths[key] = os.path.join(tmp, f"{key}.npy")
            np.save(paths[key], array)
        files = [paths["src"], paths["dst"], paths["rank"]]
        load = f"src, dst, rank = (np.load(p) for p in {files!r})\nn = rank.size\nbase = peak()\n"
        report = "\nprint(base, peak())"
        for k in ks:
            ours = peak_rss_of(load + f"sd.coarsen(src, dst, n, k={k}, rank=rank)" + report)
            line = (
                f"    peak RSS k={k}: after loading the inputs {ours[0]:.0f} MiB; "
                f"ours (coarsen) +{ours[1] - ours[0]:.0f} MiB"
            )
            row = {"graph": name, "k": k, "peak_inputs_mib": ours[0], "peak_ours_mib": ours[1]}
            if not skip_numpy:
                npy = peak_rss_of(load + f"kmis_numpy.kmis(src, dst, n, {k}, rank)" + report)
                line += f"; NumPy (kmis only) +{npy[1] - npy[0]:.0f} MiB"
                row["peak_numpy_mib"] = npy[1]
            print(line)
            rows.append(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1M-edge random graph, k <= 2")
    parser.add_argument("--graphs", nargs="*", default=None, choices=list(GRAPHS))
    parser.add_argument("--memory", action="store_true", help="peak RSS (subprocesses)")
    parser.add_argument("--numpy-big", action="store_true", help="NumPy peer on 10M edges too")
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument(
        "--threads", type=int, help="sparsedag and torch threads (default: all CPUs)"
    )
    args = parser.parse_args()
    if args.threads:
        sd.set_num_threads(args.threads)
    graphs = args.graphs or (["random 1M edges"] if args.quick else list(GRAPHS))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"sparsedag {sd.__version__}, {sd.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load:.1f}, numpy {np.__version__}"
    )
    print("times in seconds from edge arrays; x = peer time / ours (kmis); rounds = parallel")
    print("rounds needed without the sequential finish; kept = selected / nodes")
    rows: list[dict[str, Any]] = []
    for name in graphs:
        run_graph(name, args, rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
