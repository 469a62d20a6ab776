//! I/O-aware scheduling of sparse feed-forward inference (after Gleinig, Ben-Nun and Hoefler,
//! 2023). The model, the bounds and their proofs are written out in `docs/io_model.md`.
//!
//! A machine has a fast memory of `M` values and an unbounded slow memory; a value (an input,
//! a neuron's activation or a neuron's partial sum, each over one batch tile) can be used only
//! in fast memory, and moving one value between the memories is one I/O. Inputs start in slow
//! memory and outputs must end there. A schedule is an order of the neurons (a neuron's
//! in-edges are processed together, in predecessor-id order, while its accumulator stays in
//! fast memory) or a general order of the edges (`edges`; partial sums may then be stored and
//! reloaded). Processing the edge (u, v) needs u's value and v's accumulator in fast memory.

mod anneal;
mod bounds;
mod edges;
mod execute;
mod execute_edges;
mod generator;
mod network;
mod orders;
mod schedule;
mod simulate;
mod tiled;

pub use anneal::{anneal_schedule, AnnealTrace};
pub use bounds::{io_bounds, IoBounds};
pub use edges::{check_edge_order, edge_ids_of_pairs, edge_order_of_neurons, io_cost_edges};
pub use execute::{assign_rows, execute, BoundPlan, ExecutionPlan};
#[cfg(target_arch = "x86_64")]
pub(crate) use execute_edges::{avx2, avx512};
pub(crate) use execute_edges::{wide, EdgeProgram, Entry, Final, Finish};
pub use execute_edges::{BoundEdgePlan, EdgeExecutionPlan};
pub use generator::{io_efficient_network, io_efficient_network_cancellable};
pub use network::Network;
pub use orders::{constructive_order, Constructive};
pub use schedule::{io_schedule, Method, Schedule, TILED_BASES};
pub use simulate::{io_cost, IoCost, IoEvent};
pub use tiled::tiled_edge_order;
