//! sparsedag core: sparse directed acyclic graphs and the algorithms that make DAG-shaped
//! neural networks fast. Pure Rust; the Python bindings live in a separate crate.

pub mod cancel;
pub mod coarsen;
pub mod error;
pub mod graph;
pub mod iosched;
pub mod layering;
pub mod memory;
pub mod nn;
pub mod order;
pub mod rng;
pub mod sparse;

pub use cancel::Cancel;
pub use error::{Error, Result};
pub use graph::{Dag, DuplicatePolicy};
pub mod set_mlp;
