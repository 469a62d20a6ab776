//! The `Dag` type: `n` nodes with ids `0..n` and edges stored twice, as a CSR by source
//! (out-edges) and a CSR by target (in-edges). Both rows are sorted by neighbour id, which makes
//! every traversal below deterministic.

mod build;
pub(crate) mod csr;
pub mod generators;

pub use build::{DuplicatePolicy, NodeId};

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Largest node count a `Dag` can hold: ids are u32.
pub const MAX_NODES: u64 = u32::MAX as u64;

/// `n` as a node count, or the error for a count beyond [`MAX_NODES`] (ids are u32).
pub(crate) fn check_node_count(n: u64) -> crate::error::Result<usize> {
    if n > MAX_NODES {
        return Err(crate::error::Error::TooLarge {
            what: "the number of nodes",
            value: n,
            limit: MAX_NODES,
        });
    }
    Ok(n as usize)
}

#[derive(Debug, Clone)]
pub struct Dag {
    num_nodes: usize,
    out_offsets: Vec<usize>,
    out_targets: Vec<u32>,
    in_offsets: Vec<usize>,
    in_sources: Vec<u32>,
    /// The length of the longest path from each node to a sink: the acyclicity check (Kahn
    /// from the sinks) finds it for free, and it is the ALAP and 4Ward layerings.
    depth_to_sink: Vec<u32>,
    /// One topological order (Kahn from the sources in id order), made on first use and
    /// reused by every algorithm that needs an order; building a network needs none.
    topo: OnceLock<Vec<u32>>,
}

/// Graphs are equal when their edges are; the cached order and depths follow from those.
impl PartialEq for Dag {
    fn eq(&self, other: &Dag) -> bool {
        self.num_nodes == other.num_nodes
            && self.out_offsets == other.out_offsets
            && self.out_targets == other.out_targets
    }
}

impl Eq for Dag {}

impl Dag {
    /// Builds a DAG from parallel source and target id arrays, validating everything.
    pub fn from_edges<I: NodeId>(
        src: &[I],
        dst: &[I],
        num_nodes: Option<u64>,
        duplicates: DuplicatePolicy,
    ) -> Result<Dag> {
        build::from_edges(src, dst, num_nodes, duplicates)
    }

    pub fn num_nodes(&self) -> usize {
        self.num_nodes
    }

    pub fn num_edges(&self) -> usize {
        self.out_targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.num_nodes == 0
    }

    /// Targets of the out-edges of `v`, ascending.
    #[inline]
    pub fn successors(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.out_targets[self.out_offsets[v]..self.out_offsets[v + 1]]
    }

    /// Sources of the in-edges of `v`, ascending.
    #[inline]
    pub fn predecessors(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.in_sources[self.in_offsets[v]..self.in_offsets[v + 1]]
    }

    #[inline]
    pub fn out_degree(&self, v: u32) -> usize {
        let v = v as usize;
        self.out_offsets[v + 1] - self.out_offsets[v]
    }

    #[inline]
    pub fn in_degree(&self, v: u32) -> usize {
        let v = v as usize;
        self.in_offsets[v + 1] - self.in_offsets[v]
    }

    /// Out-edge CSR: row offsets (length n + 1) and targets.
    pub fn out_csr(&self) -> (&[usize], &[u32]) {
        (&self.out_offsets, &self.out_targets)
    }

    /// In-edge CSR: row offsets (length n + 1) and sources.
    pub fn in_csr(&self) -> (&[usize], &[u32]) {
        (&self.in_offsets, &self.in_sources)
    }

    /// A topological order: Kahn's, with a FIFO queue seeded by the sources in id order (made
    /// on the first call, then kept).
    pub fn topological_order(&self) -> &[u32] {
        self.topo.get_or_init(|| {
            build::kahn_order(
                self.num_nodes,
                &self.out_offsets,
                &self.out_targets,
                &self.in_offsets,
            )
        })
    }

    /// The length of the longest path from each node to a sink (0 for sinks).
    pub fn depth_to_sink(&self) -> &[u32] {
        &self.depth_to_sink
    }

    /// Edges as (sources, targets), sorted by source then target.
    pub fn edges(&self) -> (Vec<u32>, Vec<u32>) {
        let mut src = Vec::with_capacity(self.num_edges());
        for v in 0..self.num_nodes {
            let degree = self.out_offsets[v + 1] - self.out_offsets[v];
            src.extend(std::iter::repeat_n(v as u32, degree));
        }
        (src, self.out_targets.clone())
    }

    /// Iterates over all edges (u, v) in source-then-target order.
    pub fn edge_iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.num_nodes as u32)
            .flat_map(move |u| self.successors(u).iter().map(move |&v| (u, v)))
    }

    pub fn sources(&self) -> Vec<u32> {
        (0..self.num_nodes as u32)
            .filter(|&v| self.in_degree(v) == 0)
            .collect()
    }

    pub fn sinks(&self) -> Vec<u32> {
        (0..self.num_nodes as u32)
            .filter(|&v| self.out_degree(v) == 0)
            .collect()
    }

    /// Checks that `values` has one entry per node; `what` names the array in the error.
    pub fn check_per_node<T>(&self, values: &[T], what: &str) -> Result<()> {
        if values.len() != self.num_nodes {
            return Err(Error::InvalidArgument(format!(
                "{what} has {} entries but the graph has {} nodes",
                values.len(),
                self.num_nodes
            )));
        }
        Ok(())
    }
}
