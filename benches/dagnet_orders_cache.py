"""One order of the ordered DagNet executor, for a cache simulator: builds 416 sparse MLPs
16-64-64-64-32 side by side (100k neurons), plans ``predict(X, schedule=order)`` at batch 16 and
runs it 4 times. Run it under callgrind with collection limited to the executor:

    valgrind --tool=callgrind --cache-sim=yes --D1=32768,8,64 --LL=2097152,16,64 \\
        --collect-atstart=no \\
        --toggle-collect=sparsedag::nn::ordered::OrderedForward::predict \\
        python benches/dagnet_orders_cache.py layer      # or: greedy
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import sparsedag as sd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dagnet_orders import many_mlps


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "greedy"
    if which not in ("layer", "greedy"):
        raise SystemExit("usage: dagnet_orders_cache.py layer|greedy")
    sd.set_num_threads(1)
    g = many_mlps(416, [16, 64, 64, 64, 32], 8, 2)
    net = sd.DagNet(g, seed=0)
    if which == "layer":
        order = net._core.execution_order()
    else:
        order = sd.io_schedule(g, fast_memory=4096, method="greedy").order
    X = np.random.default_rng(0).normal(size=(16, net.num_inputs)).astype(np.float32)
    for _ in range(4):
        net.predict(X, schedule=order)
    print(which, "activation rows", net.activation_rows(schedule=order))


if __name__ == "__main__":
    main()
