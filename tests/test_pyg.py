"""The batch vector of PyG-style pooling is checked against the edges it comes with."""

from __future__ import annotations

import numpy as np
import pytest

from sparsedag.pyg import kmis_pool

# Two graphs of a batch: a path 0-1-2 and a path 3-4, both directions of every edge.
EDGE_INDEX = np.array([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
BATCH = np.array([0, 0, 0, 1, 1])


def test_each_coarse_node_keeps_its_graph():
    out = kmis_pool(EDGE_INDEX, np.arange(10.0).reshape(5, 2), batch=BATCH, k=1)
    assert np.array_equal(out.batch, BATCH[out.selected])
    assert np.array_equal(out.batch[out.cluster], BATCH)  # no cluster spans two graphs


@pytest.mark.parametrize(
    "batch, error, message",
    [
        (np.array([0, 0, 1, 1, 1]), ValueError, r"edge 2 \(1, 2\) joins graph 0 and graph 1"),
        (np.array([0, 0, 0, -1, -1]), ValueError, r"batch\[3\] = -1"),
        (np.array([0.0, 0, 0, 1, 1]), TypeError, "integer graph ids"),
        (np.array([0, 0, 0, 1]), ValueError, r"shape \(5,\)"),
    ],
)
def test_bad_batch_vectors_are_rejected(batch, error, message):
    with pytest.raises(error, match=message):
        kmis_pool(EDGE_INDEX, batch=batch, k=1)
