//! The inputs every memory algorithm shares: the graph, validated sizes and the model.

use crate::error::{invalid, Result};
use crate::graph::Dag;

/// How a step is accounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// During a step, its inputs and its freshly allocated output are all live.
    Coexist,
    /// Inputs whose last use is this step are freed before the output is allocated.
    FreeInputsFirst,
}

impl Model {
    pub const ALL: [Model; 2] = [Model::Coexist, Model::FreeInputsFirst];

    pub fn name(self) -> &'static str {
        match self {
            Model::Coexist => "coexist",
            Model::FreeInputsFirst => "free_inputs_first",
        }
    }

    /// Memory during a step and live memory after it, given the live memory before it, the
    /// size of the node computed and the total size of the inputs it frees.
    #[inline]
    pub fn step(self, live_before: f64, size: f64, freed: f64) -> (f64, f64) {
        let after = live_before + size - freed;
        match self {
            Model::Coexist => (live_before + size, after),
            Model::FreeInputsFirst => (after, after),
        }
    }
}

impl std::str::FromStr for Model {
    type Err = crate::error::Error;
    fn from_str(name: &str) -> Result<Self> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == name.to_ascii_lowercase())
            .map_or_else(
                || {
                    invalid(format!(
                        "unknown memory model {name:?}; choose \"coexist\" or \"free_inputs_first\""
                    ))
                },
                Ok,
            )
    }
}

/// A graph with one checked, finite, non-negative size per node.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    pub dag: &'a Dag,
    pub sizes: &'a [f64],
    pub model: Model,
}

impl<'a> Problem<'a> {
    pub fn new(dag: &'a Dag, sizes: &'a [f64], model: Model) -> Result<Self> {
        dag.check_per_node(sizes, "sizes")?;
        if let Some(v) = sizes.iter().position(|s| !s.is_finite()) {
            return invalid(format!(
                "sizes[{v}] = {} is not finite; sizes must be finite and >= 0",
                sizes[v]
            ));
        }
        if let Some(v) = sizes.iter().position(|&s| s < 0.0) {
            return invalid(format!(
                "sizes[{v}] = {} is negative; sizes must be finite and >= 0",
                sizes[v]
            ));
        }
        // Every step memory is a partial sum of the sizes. If the total overflows, peaks
        // become inf and differences inf - inf = NaN, which no comparison orders: the searches
        // would rank orders arbitrarily or never finish (min_memory with sizes of 1e308 ran
        // without end).
        let total: f64 = sizes.iter().sum();
        if !total.is_finite() {
            return invalid(format!(
                "the sizes sum to {total}, beyond the largest float; scale them down \
                 (a peak is a sum of sizes and must stay finite)"
            ));
        }
        Ok(Problem { dag, sizes, model })
    }

    #[inline]
    pub fn n(&self) -> usize {
        self.dag.num_nodes()
    }

    #[inline]
    pub fn size(&self, v: u32) -> f64 {
        self.sizes[v as usize]
    }

    /// Sinks are the graph outputs: their values are never freed.
    #[inline]
    pub fn is_output(&self, v: u32) -> bool {
        self.dag.out_degree(v) == 0
    }
}
