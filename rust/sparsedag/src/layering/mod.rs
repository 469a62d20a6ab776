//! Layerings: an assignment of a layer to every node such that every edge u -> v goes from a
//! lower to a higher layer (layer(v) - layer(u) >= 1). Layers are numbered from 0 at the top
//! (sources) down.

mod coffman_graham;
mod longest_path;
mod metrics;
mod min_width;
mod network_simplex;
mod promotion;

pub use coffman_graham::coffman_graham;
pub use longest_path::{alap, asap, fourward, longest_path_to_sink};
pub use metrics::{check_layering, layering_metrics, LayeringMetrics};
pub use min_width::min_width;
pub use network_simplex::network_simplex;
pub use promotion::{promote, promote_cancellable, MAX_PROMOTION_PASSES};

pub mod method;
