"""Ctrl-C during DagNet.fit stops after the current batch and leaves the model usable."""

from __future__ import annotations

from conftest import interrupt_child

CHILD = """
import numpy as np
import sparsedag as sd
g = sd.random_dag(3000, p=0.01, seed=1)
net = sd.DagNet(g, seed=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(20000, net.num_inputs))
y = rng.normal(size=(20000, net.num_outputs))
before = net.weights
print("ready", flush=True)
try:
    net.fit(X, y, epochs=1000, batch_size=128, lr=1e-3, progress=False)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
w = net.weights
print("changed", bool((w != before).any()), "finite", bool(np.isfinite(w).all()), flush=True)
print("predict ok", bool(np.isfinite(net.predict(X[:5])).all()), flush=True)
net.partial_fit(X[:256], y[:256])
print("still trains", len(net.history_["loss"]) >= 1, flush=True)
"""


def test_ctrl_c_stops_training_cleanly():
    out, err = interrupt_child(CHILD, after=1.5, timeout=120)
    assert "interrupted" in out, (out, err)
    assert "changed True finite True" in out, (out, err)
    assert "predict ok True" in out, (out, err)
    assert "still trains True" in out, (out, err)
