"""The three greedy orders that PyTorch Inductor's ``reorder_for_peak_memory`` tries
(torch/_inductor/memory.py), reimplemented on a plain DAG for benchmarking: least peak memory
first (LPMF), BFS by the steps of a node's inputs, and DFS by the size of a node's reads plus
its output. Inductor keeps the best of the three by its peak estimate (which is the
``coexist`` model of ``sparsedag.peak_memory``). Written from the description of the rules, not
copied.
"""

from __future__ import annotations

import heapq

import numpy as np


def _neighbours(dag):
    n = dag.num_nodes
    src, dst = dag.edges()
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for u, v in zip(src.tolist(), dst.tolist()):
        preds[v].append(u)
        succs[u].append(v)
    return preds, succs


def lpmf(dag, sizes) -> list[int]:
    """Least peak memory first: among ready nodes, pick the one that keeps max(live + size,
    peak so far) lowest, then the one with the smallest size minus memory freed."""
    preds, succs = _neighbours(dag)
    n = dag.num_nodes
    size = sizes.tolist()
    waiting = [len(p) for p in preds]
    # a value is freed once its last consumer runs; sinks are outputs and stay live
    open_users = [len(s) + (1 if not s else 0) for s in succs]
    to_free = [0.0] * n
    for u in range(n):
        if open_users[u] == 1 and succs[u]:
            to_free[succs[u][0]] += size[u]
    ready = {v for v in range(n) if waiting[v] == 0}
    live = 0.0
    peak = 0.0
    order: list[int] = []
    while ready:
        v = min(ready, key=lambda w: (max(live + size[w], peak), size[w] - to_free[w], w))
        ready.remove(v)
        order.append(v)
        live += size[v]
        peak = max(peak, live)
        live -= to_free[v]
        for w in succs[v]:
            waiting[w] -= 1
            if waiting[w] == 0:
                ready.add(w)
        for u in preds[v]:
            open_users[u] -= 1
            if open_users[u] == 1:
                for w in succs[u]:
                    if waiting[w] > 0 or w in ready:
                        to_free[w] += size[u]
    return order


def bfs(dag, sizes) -> list[int]:
    """FIFO by inputs: the ready node whose sorted list of input steps is smallest."""
    preds, succs = _neighbours(dag)
    n = dag.num_nodes
    waiting = [len(p) for p in preds]
    step = [0] * n
    heap = [([], v) for v in range(n) if waiting[v] == 0]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        _, v = heapq.heappop(heap)
        step[v] = len(order)
        order.append(v)
        for w in succs[v]:
            waiting[w] -= 1
            if waiting[w] == 0:
                heapq.heappush(heap, (sorted(step[u] for u in preds[w]), w))
    return order


def dfs(dag, sizes) -> list[int]:
    """Post-order DFS over inputs, visiting nodes (and each node's inputs) in ascending order
    of output size plus input sizes."""
    preds, _ = _neighbours(dag)
    n = dag.num_nodes
    size = sizes.tolist()
    weight = [size[v] + sum(size[u] for u in preds[v]) for v in range(n)]
    seen = [False] * n
    order: list[int] = []
    for root in sorted(range(n), key=lambda v: (weight[v], v)):
        if seen[root]:
            continue
        seen[root] = True
        stack = [(root, iter(sorted(preds[root], key=lambda u: (weight[u], u))))]
        while stack:
            v, inputs = stack[-1]
            for u in inputs:
                if not seen[u]:
                    seen[u] = True
                    stack.append((u, iter(sorted(preds[u], key=lambda x: (weight[x], x)))))
                    break
            else:
                stack.pop()
                order.append(v)
    return order


RULES = {"inductor_lpmf": lpmf, "inductor_bfs": bfs, "inductor_dfs": dfs}


def check(dag, order) -> np.ndarray:
    array = np.asarray(order, dtype=np.int64)
    assert len(array) == dag.num_nodes
    return array
