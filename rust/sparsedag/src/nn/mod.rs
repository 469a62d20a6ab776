//! The neural engine: networks whose neurons are the nodes of any DAG and whose connections are
//! its edges, one f32 weight each, never a dense mask.
//!
//! - [`plan`]: relabelling by a layering and the in-edge CSR (structure only);
//! - [`net`]: weights, biases, activations; forward and backward over neuron-major buffers;
//! - [`kernels`]: the per-connection SIMD kernels, chosen at run time;
//! - [`activation`], [`loss`], [`optim`]: the pieces of a training step;
//! - [`train`]: mini-batch training, evaluation and prediction with cancellation;
//! - [`ordered`]: inference in any topological order with activation rows reused.

pub mod activation;
pub mod kernels;
pub mod loss;
pub mod net;
pub mod optim;
pub mod ordered;
pub mod ordered_edges;
pub mod plan;
pub mod train;

pub use activation::{all_relu_slope, Activation};
pub use kernels::{Level, Simd};
pub use loss::{Loss, Stats, Targets};
pub use net::{Init, Net, Workspace};
pub use optim::{Kind as OptimizerKind, Optimizer};
pub use ordered::OrderedForward;
pub use ordered_edges::EdgeOrderedForward;
pub use plan::Plan;
pub use train::{shuffled_order, Data, Model, TrainOptions};
