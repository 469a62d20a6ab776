//! Sparse evolutionary training (SET) of multilayer perceptrons on the neural engine.
//!
//! A sparse MLP is a layered DAG, so it runs on [`crate::nn`] (same kernels, optimiser and
//! losses); the SET rules come from [`crate::sparse`] (Erdős–Rényi layers, evolution,
//! importance pruning). This module only moves a network between the two representations:
//!
//! - [`model`]: [`SetMlp`], the network as engine model plus its layer sizes; evolution and
//!   importance pruning rebuild the engine's in-edge CSR in O(nnz);
//! - [`wasap`]: WASAP-style data-parallel training: workers compute sparse updates on their
//!   shards, a parameter server applies them in a seeded order, then workers train and evolve
//!   locally and the server averages them and prunes back to the target connection count.

pub mod model;
pub mod wasap;

pub use model::{Memory, SetMlp, SetSpec};
pub use wasap::{DataParallel, LocalPhase, Shards};
