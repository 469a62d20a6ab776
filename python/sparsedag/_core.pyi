# Hand-written stubs of the Rust extension module; checked against it by mypy.stubtest.
from typing import Optional

import numpy as np
import numpy.typing as npt
from typing_extensions import final

__all__ = [
    "__version__",
    "GraphError",
    "CycleError",
    "NodeIdError",
    "SelfLoopError",
    "DuplicateEdgeError",
    "Dag",
    "random_dag",
    "layered_graph",
    "planted_layered_dag",
    "layering",
    "layering_methods",
    "promote_layering",
    "layering_metrics",
    "topological_order",
    "order_methods",
    "topological_generations",
    "check_order",
    "set_num_threads",
    "get_num_threads",
    "erdos_renyi_probability",
    "erdos_renyi_layer",
    "evolve_layer",
    "importance_prune",
    "percentile_linear",
    "all_relu_slope",
    "all_relu",
    "all_relu_derivative",
    "sparse_inits",
    "prune_to_count",
]

__version__: str

class GraphError(ValueError): ...

class CycleError(GraphError):
    cycle: list[int]

class NodeIdError(GraphError): ...
class SelfLoopError(GraphError): ...
class DuplicateEdgeError(GraphError): ...

@final
class Dag:
    @staticmethod
    def from_edges(
        src: npt.NDArray[np.integer],
        dst: npt.NDArray[np.integer],
        num_nodes: Optional[int] = None,
        duplicates: str = "reject",
    ) -> Dag: ...
    @property
    def num_nodes(self) -> int: ...
    @property
    def num_edges(self) -> int: ...
    def edges(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def out_csr(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def in_degree(self) -> npt.NDArray[np.int64]: ...
    def out_degree(self) -> npt.NDArray[np.int64]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def random_dag(
    n: int, p: Optional[float] = None, m: Optional[int] = None, seed: int = 0
) -> Dag: ...
def layered_graph(
    n: int, seed: int = 0
) -> tuple[Dag, npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def planted_layered_dag(
    n: int, layers: int, density: float = 0.1, seed: int = 0
) -> tuple[Dag, npt.NDArray[np.int64]]: ...
def layering(
    dag: Dag, method: str = "longest_path", width: Optional[int] = None, promote: bool = False
) -> npt.NDArray[np.int64]: ...
def promote_layering(dag: Dag, layers: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]: ...
def layering_methods() -> list[str]: ...
def layering_metrics(dag: Dag, layers: npt.NDArray[np.integer]) -> dict[str, int]: ...
def topological_order(
    dag: Dag, method: str = "kahn", key: Optional[npt.NDArray[np.float64]] = None
) -> npt.NDArray[np.int64]: ...
def order_methods() -> list[str]: ...
def topological_generations(
    dag: Dag,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def check_order(dag: Dag, order: npt.NDArray[np.integer]) -> None: ...
def set_num_threads(threads: int) -> None: ...
def get_num_threads() -> int: ...

# sparse training building blocks (sparse.rs)
def erdos_renyi_probability(n_in: int, n_out: int, epsilon: float) -> float: ...
def erdos_renyi_layer(
    n_in: int, n_out: int, epsilon: float = 20.0, init: str = "he_uniform", seed: int = 0
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32], npt.NDArray[np.float32]
]: ...
def evolve_layer(
    n_in: int,
    n_out: int,
    offsets: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float32],
    momentum: npt.NDArray[np.float32],
    zeta: float = 0.3,
    seed: int = 0,
    init: str = "he_uniform",
    input_alive: Optional[npt.NDArray[np.bool_]] = None,
    output_alive: Optional[npt.NDArray[np.bool_]] = None,
) -> dict[str, int]: ...
def importance_prune(
    layers: list[
        tuple[
            int,
            int,
            npt.NDArray[np.int64],
            npt.NDArray[np.int32],
            npt.NDArray[np.float32],
            npt.NDArray[np.float32],
        ]
    ],
    percentile: float,
) -> tuple[
    list[
        tuple[
            npt.NDArray[np.int64],
            npt.NDArray[np.int32],
            npt.NDArray[np.float32],
            npt.NDArray[np.float32],
        ]
    ],
    list[npt.NDArray[np.int64]],
    list[npt.NDArray[np.float64]],
    list[Optional[float]],
    int,
]: ...
def percentile_linear(values: npt.NDArray[np.float64], q: float) -> float: ...
def all_relu_slope(layer: int, alpha: float) -> float: ...
def all_relu(
    z: npt.NDArray[np.float32], layer: int, alpha: float = 0.6
) -> npt.NDArray[np.float32]: ...
def all_relu_derivative(
    z: npt.NDArray[np.float32], layer: int, alpha: float = 0.6
) -> npt.NDArray[np.float32]: ...
def sparse_inits() -> list[str]: ...
def prune_to_count(
    layer: tuple[
        int,
        int,
        npt.NDArray[np.int64],
        npt.NDArray[np.int32],
        npt.NDArray[np.float32],
        npt.NDArray[np.float32],
    ],
    target: int,
) -> tuple[
    tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int32],
        npt.NDArray[np.float32],
        npt.NDArray[np.float32],
    ],
    int,
]: ...
