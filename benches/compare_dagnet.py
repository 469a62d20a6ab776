# Timed closures capture loop variables on purpose: each is called before the loop moves on.
# ruff: noqa: B023
"""Times sparsedag's DagNet against 4Ward's algorithm in one run and prints the ratios.

The workload is the 4Ward paper's (Boccato et al. 2022): Erdős–Rényi graphs G(n, p), largest
connected component, edges oriented by a random node order; inputs are the sources, outputs the
sinks; the 4Ward layering. Timed separately: construction, forward, and one training step
(forward + MSE + backward + SGD), at batch sizes 1, 128 and 1024.

The peer implements 4Ward's algorithm in NumPy: per layer, gather all predecessors from one
activation buffer and multiply by a dense masked weight matrix (and in PyTorch CPU when torch is
installed). Both use the same thread count (--threads, default 2). Run from the repository root
after `pip install .`:

    python benches/compare_dagnet.py                  # the README grid (n x p x batch)
    python benches/compare_dagnet.py --quick          # n=2000, p=0.01 only
    python benches/compare_dagnet.py --section flops  # forward FLOP rate vs numpy SGEMM
    python benches/compare_dagnet.py --section memory # peak RSS per connection (subprocess)
    python benches/compare_dagnet.py --section layering  # which layering trains fastest
"""

from __future__ import annotations

import argparse
import os
import sys

# BLAS threads must be fixed before numpy is imported.
_threads = "2"
for _i, _a in enumerate(sys.argv):
    if _a == "--threads" and _i + 1 < len(sys.argv):
        _threads = sys.argv[_i + 1]
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = _threads

import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import sparsedag as sd  # noqa: E402


def best_time(fn: Callable[[], Any], repeat: int, budget: float = 2.0) -> float:
    """Best of `repeat` runs, stopping early once `budget` seconds are spent."""
    best, spent = float("inf"), 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        if spent > budget:
            break
    return best


def er_dag(n: int, p: float, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """G(n, p), largest connected component, edges oriented by a random node order."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    iu, ju = np.triu_indices(n, k=1)
    keep = rng.random(iu.size) < p
    a, b = iu[keep], ju[keep]
    adj = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    largest = np.bincount(comp).argmax()
    nodes = np.flatnonzero(comp == largest)
    relabel = -np.ones(n, dtype=np.int64)
    relabel[nodes] = np.arange(nodes.size)
    inside = (comp[a] == largest) & (comp[b] == largest)
    a, b = relabel[a[inside]], relabel[b[inside]]
    rank = rng.permutation(nodes.size)
    forward = rank[a] < rank[b]
    src = np.where(forward, a, b)
    dst = np.where(forward, b, a)
    return src.astype(np.int64), dst.astype(np.int64), nodes.size


# --- the peer: 4Ward's algorithm in NumPy -------------------------------------------------


class FourWardNumpy:
    """4Ward: layers by longest path to the sinks with sources moved to layer 0; per layer a
    dense weight matrix over (all predecessors of the layer) x (the layer's nodes) times a
    0/1 mask, applied to predecessors gathered from one activation buffer."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, n: int, seed: int = 0) -> None:
        succ: list[list[int]] = [[] for _ in range(n)]
        preds: list[list[int]] = [[] for _ in range(n)]
        for u, v in zip(src.tolist(), dst.tolist()):
            succ[u].append(v)
            preds[v].append(u)
        # longest path to a sink, in reverse topological order (Kahn on the reversed graph)
        out_left = [len(s) for s in succ]
        stack = [v for v in range(n) if out_left[v] == 0]
        height = [0] * n
        while stack:
            v = stack.pop()
            for u in preds[v]:
                height[u] = max(height[u], height[v] + 1)
                out_left[u] -= 1
                if out_left[u] == 0:
                    stack.append(u)
        top = max(height)
        layer = np.array([top - h for h in height])
        is_source = np.array([len(p) == 0 for p in preds])
        layer[is_source] = 0
        self.inputs = np.flatnonzero(is_source & np.array([len(s) > 0 for s in succ]))
        self.outputs = np.flatnonzero(~is_source & np.array([len(s) == 0 for s in succ]))
        self.n = n
        rng = np.random.default_rng(seed)
        self.layers = []
        for k in range(1, layer.max() + 1):
            nodes = np.flatnonzero(layer == k)
            if nodes.size == 0:
                continue
            mask_rows = [preds[v] for v in nodes]
            gathered = np.unique(np.concatenate([np.asarray(r, dtype=np.int64) for r in mask_rows]))
            position = {u: i for i, u in enumerate(gathered.tolist())}
            mask = np.zeros((gathered.size, nodes.size), dtype=np.float32)
            for j, r in enumerate(mask_rows):
                mask[[position[u] for u in r], j] = 1.0
            bound = 1.0 / np.sqrt(gathered.size)
            weight = rng.uniform(-bound, bound, size=mask.shape).astype(np.float32)
            bias = np.zeros(nodes.size, dtype=np.float32)
            last = np.isin(nodes, self.outputs)
            self.layers.append([nodes, gathered, weight, mask, bias, last])

    def forward(self, x: np.ndarray, keep: bool = False):
        buffer = np.zeros((x.shape[0], self.n), dtype=np.float32)
        buffer[:, self.inputs] = x
        saved = []
        for nodes, gathered, weight, mask, bias, last in self.layers:
            inp = buffer[:, gathered]
            z = inp @ (weight * mask) + bias
            a = np.where(last, z, np.maximum(z, 0))
            buffer[:, nodes] = a
            if keep:
                saved.append((inp, z))
        return buffer, saved

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        buffer, saved = self.forward(x, keep=True)
        out = buffer[:, self.outputs]
        diff = out - y
        grad = np.zeros_like(buffer)
        grad[:, self.outputs] = 2 * diff / diff.size
        for (nodes, gathered, weight, mask, bias, last), (inp, z) in zip(
            reversed(self.layers), reversed(saved)
        ):
            dz = grad[:, nodes] * np.where(last, 1.0, z > 0)
            masked = weight * mask
            grad[:, gathered] += dz @ masked.T
            weight -= lr * (inp.T @ dz) * mask
            bias -= lr * dz.sum(axis=0)
        return float((diff**2).mean())


class FourWardTorch:
    """The same algorithm in PyTorch (CPU), used only when torch is importable."""

    def __init__(self, peer: FourWardNumpy, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.peer = peer
        self.layers = [
            (
                torch.from_numpy(nodes),
                torch.from_numpy(gathered),
                torch.nn.Parameter(torch.from_numpy(weight.copy())),
                torch.from_numpy(mask),
                torch.nn.Parameter(torch.from_numpy(bias.copy())),
                torch.from_numpy(last),
            )
            for nodes, gathered, weight, mask, bias, last in peer.layers
        ]
        self.params = [p for layer in self.layers for p in (layer[2], layer[4])]
        self.opt = torch.optim.SGD(self.params, lr=0.01)

    def forward(self, x):
        torch = self.torch
        buffer = torch.zeros(x.shape[0], self.peer.n)
        buffer[:, torch.from_numpy(self.peer.inputs)] = x
        for nodes, gathered, weight, mask, bias, last in self.layers:
            z = buffer[:, gathered] @ (weight * mask) + bias
            buffer = buffer.index_copy(1, nodes, torch.where(last, z, torch.relu(z)))
        return buffer[:, torch.from_numpy(self.peer.outputs)]

    def train_step(self, x, y):
        self.opt.zero_grad()
        loss = ((self.forward(x) - y) ** 2).mean()
        loss.backward()
        self.opt.step()


# --- sections ---------------------------------------------------------------------------


#: Minimum tries per side when timing construction.
CONSTRUCTION_TRIES = 100


def grid(args) -> None:
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("PyTorch is not installed: the torch peer is skipped.")
    sizes = [(2000, 0.01)] if args.quick else [
        (n, p) for n in (1000, 2000, 5000) for p in (0.005, 0.01, 0.05, 0.1)
    ]  # fmt: skip
    batches = (1, 128, 1024)
    print(
        f"\n{'n':>5} {'p':>6} {'nodes':>6} {'edges':>8} {'layers':>6} | construction ms "
        f"{'ours':>8} {'numpy':>9} {'ratio':>7}"
    )
    rows = []
    for n, p in sizes:
        src, dst, m = er_dag(n, p, seed=0)
        # Construction is short and noisy: both sides get the same number of tries, at least
        # 100 (a 10 s budget bounds the slow peer on the big graphs), and the best counts.
        tries = max(args.repeat, CONSTRUCTION_TRIES)
        t_ours = best_time(
            lambda: sd.DagNet(sd.Dag.from_edges(src, dst, m), layering="4ward"), tries, budget=10
        )
        t_peer = best_time(lambda: FourWardNumpy(src, dst, m), tries, budget=10)
        net = sd.DagNet(sd.Dag.from_edges(src, dst, m), layering="4ward")
        peer = FourWardNumpy(src, dst, m)
        assert np.array_equal(peer.inputs, net.inputs) and np.array_equal(peer.outputs, net.outputs)
        print(
            f"{n:>5} {p:>6} {m:>6} {src.size:>8} {net.num_layers:>6} |                 "
            f"{t_ours * 1e3:>8.3f} {t_peer * 1e3:>9.1f} {t_peer / t_ours:>6.0f}x"
        )
        rows.append((n, p, m, src.size, net, peer))
    print(
        f"\n{'n':>5} {'p':>6} {'batch':>6} | forward ms {'ours':>8} {'numpy':>9} {'ratio':>7}"
        f" | train step ms {'ours':>8} {'numpy':>9} {'ratio':>7}"
        + ("  torch fwd / step ms" if have_torch else "")
    )
    rng = np.random.default_rng(1)
    for n, p, _, _, net, peer in rows:
        for batch in batches:
            X = rng.normal(size=(batch, net.num_inputs)).astype(np.float32)
            y = rng.normal(size=(batch, net.num_outputs)).astype(np.float32)
            repeat = args.repeat
            f_ours = best_time(lambda: net._core.predict(X), repeat)
            f_peer = best_time(lambda: peer.forward(X), repeat)
            order = np.arange(batch, dtype=np.int64)

            def step():
                net._core.train(X, y, order, 0, 1, batch, "mse", "sgd", 1e-3)

            s_ours = best_time(step, repeat)
            s_peer = best_time(lambda: peer.train_step(X, y, 1e-3), repeat)
            extra = ""
            if have_torch:
                import torch

                tp = FourWardTorch(peer, int(_threads))
                tx, ty = torch.from_numpy(X), torch.from_numpy(y)
                with torch.no_grad():
                    f_t = best_time(lambda: tp.forward(tx), repeat)
                s_t = best_time(lambda: tp.train_step(tx, ty), repeat)
                extra = f"  {f_t * 1e3:.2f} / {s_t * 1e3:.2f}"
            print(
                f"{n:>5} {p:>6} {batch:>6} |            {f_ours * 1e3:>8.3f} {f_peer * 1e3:>9.2f} "
                f"{f_peer / f_ours:>6.1f}x |               {s_ours * 1e3:>8.3f} "
                f"{s_peer * 1e3:>9.2f} {s_peer / s_ours:>6.1f}x{extra}"
            )


def layered_stack(width: int, depth: int, density: float, seed: int) -> sd.Dag:
    rng = np.random.default_rng(seed)
    src, dst = [], []
    for k in range(depth - 1):
        count = rng.binomial(width * width, density)
        flat = rng.choice(width * width, size=count, replace=False)
        src.append(flat // width + k * width)
        dst.append(flat % width + (k + 1) * width)
    return sd.Dag.from_edges(np.concatenate(src), np.concatenate(dst), width * depth)


def flops(args) -> None:
    width, depth, density, batch = 4000, 4, 0.01, 256
    g = layered_stack(width, depth, density, seed=0)
    net = sd.DagNet(
        g, inputs=np.arange(width), outputs=np.arange((depth - 1) * width, depth * width)
    )
    X = np.random.default_rng(0).normal(size=(batch, width)).astype(np.float32)
    t = best_time(lambda: net._core.predict(X), max(args.repeat, 5), budget=5)
    sparse_rate = 2 * g.num_edges * batch / t
    a = np.random.default_rng(1).normal(size=(batch, width)).astype(np.float32)
    w = np.random.default_rng(2).normal(size=(width, width)).astype(np.float32)
    td = best_time(lambda: a @ w, max(args.repeat, 5), budget=5)
    dense_rate = 2 * width * width * batch / td
    print(
        f"\nforward of {depth} layers x {width} neurons, {density:.0%} density "
        f"({g.num_edges:,} connections), batch {batch}, kernels {net.simd_level}:"
    )
    print(f"  sparsedag forward: {t * 1e3:.2f} ms = {sparse_rate / 1e9:.2f} GFLOP/s (useful flops)")
    print(
        f"  numpy.matmul SGEMM ({batch}x{width} @ {width}x{width}): {dense_rate / 1e9:.1f} GFLOP/s"
    )
    print(f"  fraction of dense SGEMM rate: {sparse_rate / dense_rate:.1%}")
    print(
        f"  time vs a dense forward of the same shape ({depth - 1} SGEMMs): "
        f"{(depth - 1) * td / t:.1f}x faster"
    )


MEMORY_CHILD = """
import resource, sys, json
import numpy as np
import sparsedag as sd
n, m, optimizer, batch = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
g = sd.random_dag(n, m=m, seed=0)
X = np.random.default_rng(0).normal(size=(batch, 1)).astype(np.float32)
import os
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
base = resident()
net = sd.DagNet(g, layering="4ward")
built = resident()
X = np.random.default_rng(0).normal(size=(batch, net.num_inputs)).astype(np.float32)
y = np.zeros((batch, net.num_outputs), dtype=np.float32)
net._core.train(X, y, np.arange(batch), 0, 1, batch, "mse", optimizer, 1e-3)
trained = resident()
print(json.dumps({"edges": g.num_edges, "nodes": n, "build": built - base,
                  "step": trained - built, "peak": peak()}))
"""


def memory(args) -> None:
    n, m, batch = 200_000, 4_000_000, 128
    print(f"\npeak RSS, random DAG {n:,} nodes / {m:,} edges, batch {batch} (one subprocess each):")
    for optimizer in ("sgd", "momentum", "adam"):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, str(n), str(m), optimizer, str(batch)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        r = json.loads(out.stdout)
        kept = sd.DagNet.bytes_per_connection(sd.DagNet.__new__(sd.DagNet), optimizer)
        activations = 3 * 4 * n * batch
        print(
            f"  {optimizer:<9} resident after building the DagNet: +{r['build'] / r['edges']:.1f} "
            f"bytes per connection (kept: index + weight = 8, plus per-node arrays); after one "
            f"training step: +{r['step'] / 2**20:.0f} MiB = {r['step'] / r['edges']:.1f} bytes "
            f"per connection, of which activations (z, a, grad: 12 bytes x nodes x batch) are "
            f"{activations / 2**20:.0f} MiB and optimiser state {kept - 8} bytes per "
            f"connection; process peak RSS {r['peak'] / 2**20:.0f} MiB"
        )


def layering(args) -> None:
    n, p, batch = 2000, 0.01, 128
    src, dst, m = er_dag(n, p, seed=0)
    g = sd.Dag.from_edges(src, dst, m)
    rng = np.random.default_rng(0)
    print(f"\ntraining step by layering method (ER n={n}, p={p}, LCC {m} nodes, batch {batch}):")
    print(f"  {'method':<16}{'layers':>7}{'max width':>10}{'step ms':>9}{'forward ms':>11}")
    for method in sd.LAYERING_METHODS:
        net = sd.DagNet(g, layering=method)
        X = rng.normal(size=(batch, net.num_inputs)).astype(np.float32)
        y = rng.normal(size=(batch, net.num_outputs)).astype(np.float32)
        order = np.arange(batch, dtype=np.int64)
        step = best_time(
            lambda: net._core.train(X, y, order, 0, 1, batch, "mse", "sgd", 1e-3), args.repeat * 2
        )
        fwd = best_time(lambda: net._core.predict(X), args.repeat * 2)
        print(
            f"  {method:<16}{net.num_layers:>7}{net.layer_sizes().max():>10}"
            f"{step * 1e3:>9.3f}{fwd * 1e3:>11.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="only n=2000, p=0.01")
    parser.add_argument(
        "--section", choices=["grid", "flops", "memory", "layering", "all"], default="all"
    )
    args = parser.parse_args()
    sd.set_num_threads(args.threads)
    print(
        f"sparsedag {sd.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cpus, threads {args.threads}"
    )
    if args.section in ("grid", "all"):
        grid(args)
    if args.section in ("flops", "all"):
        flops(args)
    if args.section in ("layering", "all"):
        layering(args)
    if args.section in ("memory", "all"):
        memory(args)


if __name__ == "__main__":
    main()
