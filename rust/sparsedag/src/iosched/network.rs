//! A DAG with designated inputs and outputs: the shape of a sparse network for I/O purposes.

use crate::error::{invalid, Result};
use crate::graph::Dag;

#[derive(Debug, Clone)]
pub struct Network<'a> {
    pub dag: &'a Dag,
    pub is_input: Vec<bool>,
    pub is_output: Vec<bool>,
}

impl<'a> Network<'a> {
    /// `inputs`/`outputs` default to the sources/sinks. Inputs must be sources: an input's
    /// value is given, never computed.
    pub fn new(dag: &'a Dag, inputs: Option<&[u32]>, outputs: Option<&[u32]>) -> Result<Self> {
        let n = dag.num_nodes();
        let mark = |ids: &[u32], what: &str| -> Result<Vec<bool>> {
            let mut flags = vec![false; n];
            for &v in ids {
                match flags.get_mut(v as usize) {
                    Some(f) => *f = true,
                    None => {
                        return invalid(format!(
                            "{what} names node {v}, but ids must lie in 0..{n}"
                        ))
                    }
                }
            }
            Ok(flags)
        };
        let is_input = match inputs {
            Some(ids) => mark(ids, "inputs")?,
            None => (0..n as u32).map(|v| dag.in_degree(v) == 0).collect(),
        };
        let is_output = match outputs {
            Some(ids) => mark(ids, "outputs")?,
            None => (0..n as u32).map(|v| dag.out_degree(v) == 0).collect(),
        };
        if let Some(v) = (0..n as u32).find(|&v| is_input[v as usize] && dag.in_degree(v) > 0) {
            return invalid(format!(
                "node {v} is marked as an input but has incoming edges; inputs must be sources"
            ));
        }
        Ok(Network {
            dag,
            is_input,
            is_output,
        })
    }

    pub fn num_nodes(&self) -> usize {
        self.dag.num_nodes()
    }

    #[inline]
    pub fn input(&self, v: u32) -> bool {
        self.is_input[v as usize]
    }

    #[inline]
    pub fn output(&self, v: u32) -> bool {
        self.is_output[v as usize]
    }
}
