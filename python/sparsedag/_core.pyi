# Hand-written stubs of the Rust extension module; checked against it by mypy.stubtest.
from typing import Any, Optional

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
    "peak_memory",
    "memory_order",
    "memory_order_methods",
    "io_cost",
    "io_bounds",
    "io_schedule",
    "io_efficient_network",
    "IoPlan",
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
def peak_memory(
    dag: Dag,
    order: npt.NDArray[np.integer],
    sizes: npt.NDArray[np.float64],
    model: str = "coexist",
    profile: bool = False,
) -> tuple[float, Optional[npt.NDArray[np.float64]]]: ...
def memory_order(
    dag: Dag,
    method: str,
    sizes: npt.NDArray[np.float64],
    model: str = "coexist",
    effort: float = 1.0,
    seed: int = 0,
    max_states: int = 2000000,
) -> npt.NDArray[np.int64]: ...
def memory_order_methods() -> list[str]: ...
def io_cost(
    dag: Dag,
    order: npt.NDArray[np.integer],
    fast_memory: int,
    inputs: Optional[npt.NDArray[np.integer]] = None,
    outputs: Optional[npt.NDArray[np.integer]] = None,
    count_weights: bool = False,
    trace: bool = False,
) -> dict[str, Any]: ...
def io_bounds(
    dag: Dag,
    fast_memory: int,
    inputs: Optional[npt.NDArray[np.integer]] = None,
    outputs: Optional[npt.NDArray[np.integer]] = None,
    count_weights: bool = False,
) -> dict[str, int]: ...
def io_schedule(
    dag: Dag,
    fast_memory: int,
    method: str = "anneal",
    steps: int = 0,
    seed: int = 0,
    inputs: Optional[npt.NDArray[np.integer]] = None,
    outputs: Optional[npt.NDArray[np.integer]] = None,
    count_weights: bool = False,
    checkpoints: int = 16,
) -> dict[str, Any]: ...
def io_efficient_network(
    inputs: int, neurons: int, degree: int, fast_memory: int, seed: int = 0
) -> tuple[Dag, npt.NDArray[np.int64]]: ...

@final
class IoPlan:
    def __new__(
        cls,
        dag: Dag,
        order: npt.NDArray[np.integer],
        input_ids: Optional[npt.NDArray[np.integer]] = None,
        output_ids: Optional[npt.NDArray[np.integer]] = None,
    ) -> IoPlan: ...
    @property
    def rows(self) -> int: ...
    def run(
        self, weights: npt.NDArray[np.float32], inputs: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]: ...
