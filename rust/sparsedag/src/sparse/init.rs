//! Weight initialisers of sparse layers: uniform on [-limit, limit).

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// He-uniform scaled by the full layer width: limit = sqrt(6 / n_in). The published SET
    /// setting; with sparse rows its weights are far too small for wide layers.
    HeUniform,
    /// He-uniform scaled by each neuron's real fan-in k: limit = sqrt(6 / k), so the variance of
    /// a neuron's input does not shrink with the density.
    HeUniformNeuron,
    /// Xavier (Glorot) uniform: limit = sqrt(6 / (n_in + n_out)).
    XavierUniform,
}

impl Init {
    pub const ALL: [Init; 3] = [Init::HeUniform, Init::HeUniformNeuron, Init::XavierUniform];

    pub fn name(self) -> &'static str {
        match self {
            Init::HeUniform => "he_uniform",
            Init::HeUniformNeuron => "he_uniform_neuron",
            Init::XavierUniform => "xavier_uniform",
        }
    }

    /// The half-width of the uniform distribution for a neuron with `fan_in` connections in a
    /// layer of `n_in` inputs and `n_out` outputs.
    pub fn limit(self, n_in: usize, n_out: usize, fan_in: usize) -> f64 {
        match self {
            Init::HeUniform => (6.0 / n_in as f64).sqrt(),
            Init::HeUniformNeuron => (6.0 / fan_in.max(1) as f64).sqrt(),
            Init::XavierUniform => (6.0 / (n_in + n_out) as f64).sqrt(),
        }
    }

    /// One weight, uniform on [-limit, limit).
    pub(crate) fn draw(limit: f64, rng: &mut Rng) -> f32 {
        rng.uniform(-limit, limit) as f32
    }
}

impl FromStr for Init {
    type Err = Error;

    fn from_str(name: &str) -> Result<Init> {
        Init::ALL
            .into_iter()
            .find(|init| init.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Init::ALL.iter().map(|i| i.name()).collect();
                Error::InvalidArgument(format!(
                    "unknown init {name:?}; choose one of {}",
                    names.join(", ")
                ))
            })
    }
}
