"""SET training speed: sparsedag against the reference approach and PyTorch dense masks.

Main case of issue 4: a 500-4000-4000-4000-10 SET-MLP (epsilon 20, about 450k connections) on
``make_madelon_like`` data (20k training + 5k test samples, 500 features, 10 classes), batch
128, 3 epochs. Every contender uses the same settings: SGD with momentum 0.9, the same lr and
weight decay, no dropout, He-uniform init scaled by the layer width, ReLU hidden layers,
softmax cross-entropy, zeta 0.3 evolution of the hidden layers between epochs (not the output
layer), and the same thread count.

- ``sparsedag``: ``sd.SparseMLPClassifier`` (training and evolution in Rust);
- ``scipy+numba`` (peer a, the reference approach): SciPy CSR layers, dense@CSR products for
  the forward and backward passes, a Numba kernel for the weight gradient at the existing
  connections, SET evolution in NumPy (prune by magnitude per sign, regrow at random);
- ``torch-mask`` (peer b): PyTorch dense weights times a fixed 0/1 mask, masked gradients.

Peers are skipped with a message when numba or torch cannot be imported.

    python benches/compare_sparse.py [--epochs 3] [--threads 2] [--quick] [--skip-a] [--skip-b]
"""

from __future__ import annotations

import os
import sys


def _threads_from_argv() -> int:
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 2


# BLAS and OpenMP pools read these when numpy / torch / numba are first imported.
_THREADS = _threads_from_argv()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(_THREADS)

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import sparsedag as sd  # noqa: E402


# -- shared pieces ---------------------------------------------------------------------------
def er_density(n_in: int, n_out: int, epsilon: float) -> float:
    return min(1.0, epsilon * (n_in + n_out) / (n_in * n_out))


def er_mask_keys(n_in: int, n_out: int, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted flat keys ``i * n_out + j`` of an Erdős–Rényi layer."""
    p = er_density(n_in, n_out, epsilon)
    if p >= 1.0:
        return np.arange(n_in * n_out, dtype=np.int64)
    count = rng.binomial(n_in * n_out, p)
    return np.sort(rng.choice(n_in * n_out, size=count, replace=False)).astype(np.int64)


def he_uniform(n_in: int, size: int, rng: np.random.Generator) -> np.ndarray:
    limit = math.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, size).astype(np.float32)


def prune_keep(w: np.ndarray, zeta: float) -> np.ndarray:
    """Boolean mask of surviving weights: drop floor(zeta * n+) smallest positive, the
    floor(zeta * n-) negative closest to zero, and exact zeros."""
    keep = np.zeros(w.size, dtype=bool)
    for side in (np.flatnonzero(w > 0), np.flatnonzero(w < 0)):
        k = math.floor(zeta * side.size)
        mags = np.abs(w[side])
        if k > 0:
            survivors = side[np.argpartition(mags, k - 1)[k:]] if k < side.size else side[:0]
        else:
            survivors = side
        keep[survivors] = True
    return keep


def regrow_keys(existing: np.ndarray, total: int, count: int, rng: np.random.Generator):
    """``count`` distinct random flat keys in [0, total) not in ``existing`` (sorted)."""
    chosen = np.empty(0, dtype=np.int64)
    while chosen.size < count:
        need = count - chosen.size
        cand = np.unique(rng.integers(0, total, size=int(need * 1.1) + 16, dtype=np.int64))
        cand = cand[~np.isin(cand, existing, assume_unique=True)]
        cand = cand[~np.isin(cand, chosen, assume_unique=True)]
        chosen = np.concatenate([chosen, rng.permutation(cand)[:need]])
    return chosen


def load_data(train: int, test: int, seed: int) -> tuple[np.ndarray, ...]:
    X, y = sd.datasets.make_madelon_like(
        n_samples=train + test,
        n_features=500,
        n_informative=50,
        n_redundant=50,
        n_classes=10,
        n_clusters_per_class=2,
        seed=seed,
    )
    X = X.astype(np.float32)
    mean, std = X[:train].mean(axis=0), X[:train].std(axis=0)
    X = ((X - mean) / np.where(std > 0, std, 1)).astype(np.float32)
    y = y.astype(np.int64)
    return X[:train], y[:train], X[train:], y[train:]


# -- peer (a): SciPy CSR + Numba -------------------------------------------------------------
def make_grad_kernel():
    import numba

    @numba.njit(parallel=True, fastmath=True, cache=False)
    def grad_at_connections(indptr, indices, a_t, d_t, out):
        # Layer CSR is by input row i; connection k = (i, indices[k]).
        # gradient = sum over the batch of a[b, i] * delta[b, j].
        n_rows = indptr.size - 1
        batch = a_t.shape[1]
        for i in numba.prange(n_rows):
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                s = np.float32(0.0)
                for b in range(batch):
                    s += a_t[i, b] * d_t[j, b]
                out[k] = s

    return grad_at_connections


class ScipyNumbaSet:
    """The reference SET approach: CSR weights (n_in x n_out), momentum SGD, NumPy evolution."""

    def __init__(self, sizes, epsilon, seed, grad_kernel):
        self.rng = np.random.default_rng(seed)
        self.sizes = sizes
        self.kernel = grad_kernel
        self.W, self.V, self.b, self.vb = [], [], [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            keys = er_mask_keys(n_in, n_out, epsilon, self.rng)
            w = he_uniform(n_in, keys.size, self.rng)
            self.W.append(self._csr(keys, w, n_in, n_out))
            self.V.append(np.zeros(keys.size, dtype=np.float32))
            self.b.append(np.zeros(n_out, dtype=np.float32))
            self.vb.append(np.zeros(n_out, dtype=np.float32))

    @staticmethod
    def _csr(keys, data, n_in, n_out):
        rows, cols = keys // n_out, keys % n_out
        indptr = np.zeros(n_in + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_in), out=indptr[1:])
        return sp.csr_matrix((data, cols.astype(np.int32), indptr), shape=(n_in, n_out))

    @property
    def n_connections(self) -> int:
        return sum(w.nnz for w in self.W)

    def forward(self, x):
        acts = [x]
        for li, (W, b) in enumerate(zip(self.W, self.b)):
            z = np.asarray(acts[-1] @ W) + b  # dense @ CSR -> dense
            if li < len(self.W) - 1:
                np.maximum(z, 0, out=z)
            acts.append(z.astype(np.float32, copy=False))
        return acts

    def train_batch(self, x, y, lr, momentum, wd):
        acts = self.forward(x)
        logits = acts[-1]
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(y.size), y] + 1e-12).sum()
        delta = p
        delta[np.arange(y.size), y] -= 1.0
        delta /= y.size
        for li in range(len(self.W) - 1, -1, -1):
            W = self.W[li]
            a = acts[li]
            grad = np.empty(W.nnz, dtype=np.float32)
            self.kernel(
                W.indptr,
                W.indices,
                np.ascontiguousarray(a.T),
                np.ascontiguousarray(delta.T),
                grad,
            )
            gb = delta.sum(axis=0)
            if li > 0:
                back = np.asarray(delta @ W.T)  # dense @ CSR^T
                back *= a > 0
                next_delta = back.astype(np.float32, copy=False)
            grad += wd * W.data
            self.V[li] *= momentum
            self.V[li] -= lr * grad
            W.data += self.V[li]
            self.vb[li] *= momentum
            self.vb[li] -= lr * gb
            self.b[li] += self.vb[li]
            if li > 0:
                delta = next_delta
        return loss, int((acts[-1].argmax(axis=1) == y).sum())

    def evolve(self, zeta):
        for li in range(len(self.W) - 1):  # the output layer does not evolve
            W = self.W[li]
            n_in, n_out = W.shape
            rows = np.repeat(np.arange(n_in, dtype=np.int64), np.diff(W.indptr))
            keys = rows * n_out + W.indices
            keep = prune_keep(W.data, zeta)
            kept_keys = keys[keep]
            new_keys = regrow_keys(kept_keys, n_in * n_out, keys.size - kept_keys.size, self.rng)
            all_keys = np.concatenate([kept_keys, new_keys])
            w = np.concatenate([W.data[keep], he_uniform(n_in, new_keys.size, self.rng)])
            v = np.concatenate([self.V[li][keep], np.zeros(new_keys.size, dtype=np.float32)])
            order = np.argsort(all_keys, kind="stable")
            self.W[li] = self._csr(all_keys[order], w[order], n_in, n_out)
            self.V[li] = v[order]

    def predict(self, x, batch=1024):
        return np.concatenate(
            [self.forward(x[s : s + batch])[-1].argmax(axis=1) for s in range(0, len(x), batch)]
        )


# -- peer (b): PyTorch dense masks ------------------------------------------------------------
class TorchMaskSet:
    def __init__(self, sizes, epsilon, seed, lr, momentum, wd):
        import torch

        self.torch = torch
        self.rng = np.random.default_rng(seed)
        self.W, self.M, self.b = [], [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            keys = er_mask_keys(n_in, n_out, epsilon, self.rng)
            dense = np.zeros(n_in * n_out, dtype=np.float32)
            dense[keys] = he_uniform(n_in, keys.size, self.rng)
            mask = np.zeros(n_in * n_out, dtype=np.float32)
            mask[keys] = 1.0
            self.W.append(torch.tensor(dense.reshape(n_in, n_out), requires_grad=True))
            self.M.append(torch.tensor(mask.reshape(n_in, n_out)))
            self.b.append(torch.zeros(n_out, requires_grad=True))
        self.opt = torch.optim.SGD(
            self.W + self.b, lr=lr, momentum=momentum, weight_decay=wd, foreach=True
        )

    @property
    def n_connections(self) -> int:
        return int(sum(int(m.sum().item()) for m in self.M))

    def forward(self, x):
        h = x
        for li, (W, b) in enumerate(zip(self.W, self.b)):
            h = h @ W + b
            if li < len(self.W) - 1:
                h = self.torch.relu(h)
        return h

    def train_batch(self, x, y):
        torch = self.torch
        self.opt.zero_grad(set_to_none=False)
        out = self.forward(x)
        loss = torch.nn.functional.cross_entropy(out, y)
        loss.backward()
        with torch.no_grad():
            for W, M in zip(self.W, self.M):
                W.grad.mul_(M)  # momentum and weights stay zero off the mask
        self.opt.step()
        return float(loss.item()) * y.numel(), int((out.argmax(1) == y).sum().item())

    def evolve(self, zeta):
        torch = self.torch
        with torch.no_grad():
            for li in range(len(self.W) - 1):
                W, M = self.W[li], self.M[li]
                n_in = W.shape[0]
                flat_w, flat_m = W.view(-1), M.view(-1)
                live = torch.nonzero(flat_m, as_tuple=True)[0]
                w = flat_w[live].numpy()
                keep = prune_keep(w, zeta)
                removed = live[torch.from_numpy(~keep)]
                flat_m[removed] = 0.0
                empty = torch.nonzero(flat_m == 0, as_tuple=True)[0]
                gen = torch.Generator().manual_seed(int(self.rng.integers(2**62)))
                grown = empty[torch.randperm(empty.numel(), generator=gen)[: removed.numel()]]
                flat_w[removed] = 0.0
                flat_m[grown] = 1.0
                flat_w[grown] = torch.from_numpy(he_uniform(n_in, grown.numel(), self.rng))
                state = self.opt.state.get(W)
                if state and state.get("momentum_buffer") is not None:
                    buf = state["momentum_buffer"].view(-1)
                    buf[removed] = 0.0
                    buf[grown] = 0.0

    def predict(self, x):
        with self.torch.no_grad():
            return self.forward(self.torch.from_numpy(x)).argmax(1).numpy()


# -- runs ------------------------------------------------------------------------------------
def run_ours(args, data, sizes):
    X, y, Xt, yt = data
    clf = sd.SparseMLPClassifier(
        hidden=tuple(sizes[1:-1]),
        epsilon=args.epsilon,
        zeta=args.zeta,
        activation="relu",
        dropout=0.0,
        lr=args.lr,
        momentum=0.9,
        weight_decay=args.weight_decay,
        batch_size=args.batch,
        epochs=args.epochs,
        init="he_uniform",
        seed=args.seed,
        n_jobs=args.threads,
        standardize=False,
    )
    clf.fit(X, y)
    h = clf.history_
    acc = float(np.mean(clf.predict(Xt) == yt))
    return list(h["time_train"]), list(h["time_evolve"])[1:], acc, clf.n_connections_


def run_epochs(model, args, data, train_batch, to_batch):
    X, y, Xt, yt = data
    rng = np.random.default_rng(args.seed)
    t_train, t_evolve = [], []
    for epoch in range(args.epochs):
        if epoch > 0 and args.zeta > 0:
            started = time.perf_counter()
            model.evolve(args.zeta)
            t_evolve.append(time.perf_counter() - started)
        order = rng.permutation(len(X))
        started = time.perf_counter()
        loss, hits = 0.0, 0
        for s in range(0, len(X), args.batch):
            idx = order[s : s + args.batch]
            batch_loss, batch_hits = train_batch(*to_batch(X[idx], y[idx]))
            loss += batch_loss
            hits += batch_hits
        t_train.append(time.perf_counter() - started)
        print(
            f"    epoch {epoch + 1}: loss {loss / len(X):.4f} train acc {hits / len(X):.4f} "
            f"train {t_train[-1]:.2f}s",
            flush=True,
        )
    acc = float(np.mean(model.predict(Xt) == yt))
    return t_train, t_evolve, acc, model.n_connections


def run_scipy(args, data, sizes):
    try:
        import numba
    except ImportError:
        print("  skipped scipy+numba: numba is not importable (pip install numba)")
        return None
    numba.set_num_threads(args.threads)
    kernel = make_grad_kernel()
    model = ScipyNumbaSet(sizes, args.epsilon, args.seed, kernel)
    tiny = data[0][:2].copy(), data[1][:2].copy()
    model.train_batch(*tiny, 0.0, 0.9, 0.0)  # compile the kernel outside the timing
    model = ScipyNumbaSet(sizes, args.epsilon, args.seed, kernel)
    return run_epochs(
        model,
        args,
        data,
        lambda x, y: model.train_batch(x, y, args.lr, 0.9, args.weight_decay),
        lambda x, y: (x, y),
    )


def run_torch(args, data, sizes):
    try:
        import torch
    except ImportError:
        print("  skipped torch-mask: torch is not importable")
        return None
    torch.set_num_threads(args.threads)
    model = TorchMaskSet(sizes, args.epsilon, args.seed, args.lr, 0.9, args.weight_decay)
    return run_epochs(
        model,
        args,
        data,
        model.train_batch,
        lambda x, y: (torch.from_numpy(x), torch.from_numpy(y)),
    )


def blas_note() -> str:
    try:
        from threadpoolctl import threadpool_info

        pools = [f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()]
        return "threadpools " + (", ".join(pools) if pools else "none")
    except ImportError:
        return f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']} (threadpoolctl absent)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=4000)
    ap.add_argument("--train", type=int, default=20000)
    ap.add_argument("--test", type=int, default=5000)
    ap.add_argument("--epsilon", type=float, default=20.0)
    ap.add_argument("--zeta", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=2e-4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="hidden 1000, 4k train, 2 epochs")
    ap.add_argument("--skip-a", action="store_true", help="skip the scipy+numba peer")
    ap.add_argument("--skip-b", action="store_true", help="skip the torch-mask peer")
    args = ap.parse_args()
    if args.quick:
        args.hidden, args.train, args.test, args.epochs = 1000, 4000, 1000, 2
    sd.set_num_threads(args.threads)
    sizes = [500, args.hidden, args.hidden, args.hidden, 10]
    data = load_data(args.train, args.test, args.seed)
    print(
        f"case {'-'.join(map(str, sizes))}, epsilon {args.epsilon}, zeta {args.zeta}, "
        f"{args.train} train + {args.test} test, batch {args.batch}, {args.epochs} epochs, "
        f"lr {args.lr}, momentum 0.9, weight decay {args.weight_decay}, relu, dropout 0, "
        f"he_uniform; threads {args.threads}; {blas_note()}; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    runs = {}
    contenders = [("sparsedag", run_ours)]
    if not args.skip_a:
        contenders.append(("scipy+numba", run_scipy))
    if not args.skip_b:
        contenders.append(("torch-mask", run_torch))
    for name, fn in contenders:
        print(f"  running {name} ...", flush=True)
        result = fn(args, data, sizes)
        if result is not None:
            runs[name] = result
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(
        f"\n{'contender':<12} {'connections':>11} {'train s/ep':>10} {'evolve s/step':>13} "
        f"{'total s/ep':>10} {'test acc':>8}"
    )
    totals = {}
    for name, (t_train, t_evolve, acc, conns) in runs.items():
        total = (sum(t_train) + sum(t_evolve)) / len(t_train)
        totals[name] = total
        evolve = f"{np.mean(t_evolve):.3f}" if t_evolve else "-"
        print(
            f"{name:<12} {conns:>11} {np.mean(t_train):>10.2f} {evolve:>13} "
            f"{total:>10.2f} {acc:>8.4f}"
        )
    ours = totals["sparsedag"]
    for name, target in (("scipy+numba", 10.0), ("torch-mask", 3.0)):
        if name in totals:
            ratio = totals[name] / ours
            verdict = "met" if ratio >= target else "missed"
            print(f"{name} / sparsedag per epoch: {ratio:.1f}x (target >= {target:g}x: {verdict})")


if __name__ == "__main__":
    main()
