//! Peak memory of topological orders and orders that minimise it (the Topoformer problem).
//!
//! Every node `v` produces one value of size `s(v)`. The value is allocated at the step that
//! computes `v` and stays live until the step of its last consumer; values of sinks (the graph
//! outputs) stay live to the end. Two accountings of a step are offered ([`Model`]):
//! `Coexist` keeps a step's inputs and its output live together, `FreeInputsFirst` frees the
//! inputs whose last use is this step before the output is allocated.

mod anneal;
mod beam;
mod bound;
mod evaluate;
mod exact;
mod greedy;
mod partial;
mod problem;
mod search;
mod window;

pub use bound::peak_lower_bound;
pub use evaluate::{peak_memory, profile};
pub use exact::{exact_order, DEFAULT_MAX_STATES};
pub use greedy::{greedy_order, greedy_order_cancellable, GreedyRule};
pub use problem::{Model, Problem};
pub use search::{min_memory_order, Effort};
