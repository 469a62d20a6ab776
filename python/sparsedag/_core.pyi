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
    "kmis",
    "contract_edges",
    "pool",
    "peak_memory",
    "memory_order",
    "memory_order_methods",
    "peak_memory_lower_bound",
    "io_cost",
    "io_cost_edges",
    "edge_ids",
    "io_bounds",
    "io_schedule",
    "io_efficient_network",
    "erdos_renyi_probability",
    "erdos_renyi_layer",
    "evolve_layer",
    "importance_prune",
    "percentile_linear",
    "all_relu_slope",
    "all_relu",
    "all_relu_derivative",
    "sparse_inits",
    "DagNetCore",
    "simd_levels",
    "activation_names",
    "shuffle_order",
    "prune_to_count",
    "IoPlan",
    "IoBoundPlan",
    "IoEdgePlan",
    "IoEdgeBoundPlan",
    "SetMlpCore",
    "OrderedForward",
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
    def __reduce__(
        self,
    ) -> tuple[Any, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]]: ...

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
    dag: Dag,
    method: str = "longest_path",
    width: Optional[int] = None,
    promote: bool = False,
    progress_after: Optional[float] = None,
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
def kmis(
    src: npt.NDArray[np.integer],
    dst: npt.NDArray[np.integer],
    num_nodes: Optional[int] = None,
    k: int = 1,
    rank: Optional[npt.NDArray[np.integer]] = None,
    scores: Optional[npt.NDArray[np.float64]] = None,
    heuristic: Optional[str] = None,
    seed: Optional[int] = None,
    strategy: str = "auto",
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int, int]: ...
def contract_edges(
    src: npt.NDArray[np.integer],
    dst: npt.NDArray[np.integer],
    cluster: npt.NDArray[np.integer],
    num_clusters: int,
    weights: Optional[npt.NDArray[np.float64]] = None,
    reduce: str = "sum",
    undirected: bool = True,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def pool(
    features: npt.NDArray[np.floating],
    cluster: npt.NDArray[np.integer],
    num_clusters: int,
    reduce: str = "sum",
) -> npt.NDArray[np.floating]: ...
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
    progress_after: Optional[float] = None,
) -> npt.NDArray[np.int64]: ...
def memory_order_methods() -> list[str]: ...
def peak_memory_lower_bound(
    dag: Dag,
    sizes: npt.NDArray[np.float64],
    model: str = "coexist",
    progress_after: Optional[float] = None,
) -> float: ...
def io_cost(
    dag: Dag,
    order: npt.NDArray[np.integer],
    fast_memory: int,
    inputs: Optional[npt.NDArray[np.integer]] = None,
    outputs: Optional[npt.NDArray[np.integer]] = None,
    count_weights: bool = False,
    trace: bool = False,
) -> dict[str, Any]: ...
def io_cost_edges(
    dag: Dag,
    order: npt.NDArray[np.integer],
    fast_memory: int,
    inputs: Optional[npt.NDArray[np.integer]] = None,
    outputs: Optional[npt.NDArray[np.integer]] = None,
    count_weights: bool = False,
    trace: bool = False,
) -> dict[str, Any]: ...
def edge_ids(
    dag: Dag, src: npt.NDArray[np.integer], dst: npt.NDArray[np.integer]
) -> npt.NDArray[np.int64]: ...
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
    progress_after: Optional[float] = None,
) -> dict[str, Any]: ...
def io_efficient_network(
    inputs: int, neurons: int, degree: int, fast_memory: int, seed: int = 0
) -> tuple[Dag, npt.NDArray[np.int64]]: ...

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

@final
class DagNetCore:
    def __new__(
        cls,
        dag: Dag,
        inputs: npt.NDArray[np.integer] | None,
        outputs: npt.NDArray[np.integer] | None,
        layers: str | npt.NDArray[np.integer],
        activations: int | npt.NDArray[np.integer],
        all_relu_alpha: float = 0.6,
        init: str = "kaiming_uniform",
        seed: int = 0,
        bias: bool = True,
        output_activation: int | None = None,
    ) -> DagNetCore: ...
    def node_layers(self) -> npt.NDArray[np.int64]: ...
    def activation_codes(self) -> npt.NDArray[np.int64]: ...
    def input_nodes(self) -> npt.NDArray[np.int64]: ...
    def output_nodes(self) -> npt.NDArray[np.int64]: ...
    @property
    def num_nodes(self) -> int: ...
    @property
    def num_edges(self) -> int: ...
    @property
    def num_inputs(self) -> int: ...
    @property
    def num_outputs(self) -> int: ...
    @property
    def num_layers(self) -> int: ...
    @property
    def simd_level(self) -> str: ...
    def layer_sizes(self) -> npt.NDArray[np.int64]: ...
    def execution_order(self) -> npt.NDArray[np.int64]: ...
    def weights(self) -> npt.NDArray[np.float32]: ...
    def set_weights(self, weights: npt.NDArray[np.float32]) -> None: ...
    def biases(self) -> npt.NDArray[np.float32]: ...
    def set_biases(self, biases: npt.NDArray[np.float32]) -> None: ...
    def predict(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def train(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[np.float32] | npt.NDArray[np.int64],
        order: npt.NDArray[np.integer],
        first_batch: int,
        num_batches: int,
        batch_size: int,
        loss: str = "mse",
        optimizer: str = "sgd",
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        dropout: float = 0.0,
        seed: int = 0,
        groups: int = 1,
    ) -> tuple[list[float], list[int], int]: ...
    def evaluate(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[np.float32] | npt.NDArray[np.int64],
        loss: str = "mse",
        groups: int = 1,
    ) -> tuple[list[float], list[int], int]: ...
    def gradients(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[np.float32] | npt.NDArray[np.int64],
        loss: str = "mse",
        groups: int = 1,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]: ...
    def reset_optimizer(self) -> None: ...
    def set_simd_level(self, level: str) -> None: ...
    @staticmethod
    def bytes_per_connection(optimizer: str) -> int: ...

def simd_levels() -> list[str]: ...
def activation_names() -> list[str]: ...
def shuffle_order(rows: int, seed: int, epoch: int) -> npt.NDArray[np.int64]: ...
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
    def bind(self, weights: npt.NDArray[np.float32]) -> IoBoundPlan: ...

@final
class IoBoundPlan:
    def run(self, inputs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

@final
class IoEdgePlan:
    def __new__(
        cls,
        dag: Dag,
        edge_order: npt.NDArray[np.integer],
        input_ids: Optional[npt.NDArray[np.integer]] = None,
        output_ids: Optional[npt.NDArray[np.integer]] = None,
    ) -> IoEdgePlan: ...
    @property
    def rows(self) -> int: ...
    @property
    def accumulators(self) -> int: ...
    @property
    def runs(self) -> int: ...
    def run(
        self, weights: npt.NDArray[np.float32], inputs: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]: ...
    def bind(self, weights: npt.NDArray[np.float32]) -> IoEdgeBoundPlan: ...

@final
class IoEdgeBoundPlan:
    def run(self, inputs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

@final
class SetMlpCore:
    def __new__(
        cls,
        sizes: list[int],
        epsilon: float = 20.0,
        init: str = "he_uniform_neuron",
        activation: str = "all_relu",
        alpha: float = 0.6,
        seed: int = 0,
    ) -> SetMlpCore: ...
    @staticmethod
    def from_layers(
        layers: list[
            tuple[
                int,
                int,
                npt.NDArray[np.int64],
                npt.NDArray[np.int64],
                npt.NDArray[np.float32],
            ]
        ],
        biases: npt.NDArray[np.float32],
        init: str = "he_uniform_neuron",
        activation: str = "all_relu",
        alpha: float = 0.6,
    ) -> SetMlpCore: ...
    def sizes(self) -> npt.NDArray[np.int64]: ...
    def layer_connections(self) -> npt.NDArray[np.int64]: ...
    @property
    def num_connections(self) -> int: ...
    @property
    def num_hidden_neurons(self) -> int: ...
    def memory(self) -> tuple[int, int, int]: ...
    def release_workspace(self) -> None: ...
    def layer(
        self, l: int
    ) -> tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float32],
        npt.NDArray[np.float32],
    ]: ...
    def biases(self) -> npt.NDArray[np.float32]: ...
    def train(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[Any],
        order: npt.NDArray[np.int64],
        first_batch: int,
        num_batches: int,
        batch_size: int,
        loss: str,
        lr: float,
        momentum: float,
        weight_decay: float,
        dropout: float,
        seed: int,
    ) -> tuple[list[float], list[int], int]: ...
    def evolve(self, zeta: float, evolve_output_layer: bool, seed: int) -> int: ...
    def importance_prune(self, percentile: float) -> int: ...
    def evaluate(
        self, x: npt.NDArray[np.float32], y: npt.NDArray[Any], loss: str
    ) -> tuple[list[float], list[int], int]: ...
    def predict(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def start_data_parallel(self, rows: int, workers: int, seed: int) -> None: ...
    def shared_rounds(self, batch_size: int) -> int: ...
    def train_shared(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[Any],
        epoch: int,
        first_round: int,
        num_rounds: int,
        batch_size: int,
        loss: str,
        lr: float,
        momentum: float,
        weight_decay: float,
        dropout: float,
        seed: int,
    ) -> tuple[list[float], list[int], int]: ...
    def train_local(
        self,
        x: npt.NDArray[np.float32],
        y: npt.NDArray[Any],
        epoch: int,
        batch_size: int,
        loss: str,
        lr: float,
        momentum: float,
        weight_decay: float,
        dropout: float,
        seed: int,
        evolve: bool,
        zeta: float,
        evolve_output_layer: bool,
    ) -> tuple[list[float], list[int], int]: ...
    def finish_data_parallel(self) -> bool: ...
    def abandon_data_parallel(self) -> None: ...

@final
class OrderedForward:
    def __new__(cls, net: DagNetCore, order: npt.NDArray[np.integer]) -> OrderedForward: ...
    @staticmethod
    def from_edges(net: DagNetCore, edge_ids: npt.NDArray[np.integer]) -> OrderedForward: ...
    @property
    def rows(self) -> int: ...
    @property
    def parameter_bytes(self) -> int: ...
    def release_parameters(self) -> None: ...
    def predict(self, net: DagNetCore, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
