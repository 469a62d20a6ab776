//! Building blocks of truly sparse training (SET, Mocanu et al. 2018; Curci, Mocanu,
//! Pechenizkiy 2021) as pure functions over plain arrays, so that any engine can call them:
//!
//! - [`layer`]: a sparse layer stored as CSR by output neuron, with optimiser state beside the
//!   weights;
//! - [`init`]: weight initialisers (He-uniform by layer width or by real fan-in, Xavier);
//! - [`erdos_renyi`]: the Erdős–Rényi initial topology, sampled in O(nnz);
//! - [`evolve`]: one SET step (magnitude pruning of the positive and negative weights closest to
//!   zero, then uniform regrowth), O(nnz);
//! - [`importance`]: importance pruning of hidden neurons (and of their outgoing connections);
//! - [`magnitude`]: magnitude pruning down to a connection count (WASAP's final step);
//! - [`percentile`]: the percentile rule importance pruning uses (NumPy's default, "linear");
//! - [`all_relu`]: the All-ReLU activation and its derivative.

pub mod all_relu;
pub mod erdos_renyi;
pub mod evolve;
pub mod importance;
pub mod init;
pub mod layer;
pub mod magnitude;
pub mod percentile;
mod regrow;
mod seeds;

pub use all_relu::{all_relu, all_relu_backprop, all_relu_derivative, all_relu_slope};
pub use erdos_renyi::{erdos_renyi_layer, erdos_renyi_probability};
pub use evolve::{evolve, EvolveOptions, EvolveStats};
pub use importance::{importance_prune, PruneOutcome};
pub use init::Init;
pub use layer::{LayerMut, SparseLayer};
pub use magnitude::prune_to_count;
pub use percentile::percentile_linear;
