//! The execution plan of a DAG network: nodes relabelled so that the inputs come first and every
//! computed layer is a contiguous id range, and the in-edges of every node as a CSR over those
//! internal ids. Edges may skip layers: a node reads its sources wherever they are.
//!
//! The plan holds only structure (no weights), so executors other than the layer-by-layer one
//! can share it, and it can be rebuilt in O(n + m) after edges change.

use crate::error::{invalid, Result};
use crate::graph::Dag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    num_inputs: usize,
    /// Internal id -> node id of the user's graph.
    node_of: Vec<u32>,
    /// Node id -> internal id.
    internal_of: Vec<u32>,
    /// Internal ids of the outputs, in the caller's order.
    outputs: Vec<u32>,
    is_output: Vec<bool>,
    /// Computed layer k holds internal ids `layer_bounds[k]..layer_bounds[k + 1]`; the inputs
    /// (`0..num_inputs`) precede layer 0.
    layer_bounds: Vec<usize>,
    /// In-edges of internal node j are positions `in_offsets[j]..in_offsets[j + 1]`, sources
    /// ascending (so edges from inputs come first).
    in_offsets: Vec<usize>,
    in_sources: Vec<u32>,
}

fn check_nodes(values: &[u32], n: usize, what: &str) -> Result<()> {
    if values.is_empty() {
        return invalid(format!("the network needs at least one {what} node"));
    }
    let mut seen = vec![false; n];
    for (i, &v) in values.iter().enumerate() {
        if v as usize >= n {
            return invalid(format!(
                "{what}s[{i}] = {v} is not a node of the graph (ids 0..{n})"
            ));
        }
        if std::mem::replace(&mut seen[v as usize], true) {
            return invalid(format!("node {v} is listed twice among the {what}s"));
        }
    }
    Ok(())
}

impl Plan {
    /// Plans a network on `dag` whose input neurons are `inputs` (in the column order of X),
    /// whose outputs are `outputs`, with computed nodes grouped by `layers` (any valid layering:
    /// `layers[u] < layers[v]` on every edge between computed nodes).
    pub fn new(dag: &Dag, inputs: &[u32], outputs: &[u32], layers: &[u32]) -> Result<Plan> {
        Self::build(
            dag,
            inputs,
            outputs,
            layers,
            true,
            None::<fn(u32, u32) -> f32>,
        )
        .map(|(plan, _)| plan)
    }

    /// [`Plan::new`] that also fills one value per edge, `value(u, v)` for the edge u -> v, in
    /// the plan's in-edge order, while it places the edges (a network's initial weights, with
    /// no second pass over the edges). With `check_layering` false the layering is trusted to
    /// be valid, as every method of [`crate::layering`] guarantees; a given one must be checked.
    pub fn with_edge_values(
        dag: &Dag,
        inputs: &[u32],
        outputs: &[u32],
        layers: &[u32],
        check_layering: bool,
        value: impl FnMut(u32, u32) -> f32,
    ) -> Result<(Plan, Vec<f32>)> {
        Self::build(dag, inputs, outputs, layers, check_layering, Some(value))
    }

    fn build<F: FnMut(u32, u32) -> f32>(
        dag: &Dag,
        inputs: &[u32],
        outputs: &[u32],
        layers: &[u32],
        check_layering: bool,
        mut value: Option<F>,
    ) -> Result<(Plan, Vec<f32>)> {
        let n = dag.num_nodes();
        dag.check_per_node(layers, "layers")?;
        check_nodes(inputs, n, "input")?;
        check_nodes(outputs, n, "output")?;
        let mut is_input = vec![false; n];
        for &v in inputs {
            if dag.in_degree(v) > 0 {
                return invalid(format!(
                    "input node {v} has incoming edges (from node {}); inputs take their values \
                     from X, so they must be sources",
                    dag.predecessors(v)[0]
                ));
            }
            is_input[v as usize] = true;
        }
        for &v in outputs {
            if is_input[v as usize] {
                return invalid(format!("node {v} is both an input and an output"));
            }
        }
        if check_layering {
            check_layering_valid(dag, layers, &is_input)?;
        } else {
            debug_assert!(check_layering_valid(dag, layers, &is_input).is_ok());
        }
        // With every source that has out-edges among the inputs, each node with an in-edge has
        // an input ancestor: only outputs without in-edges can be unreachable. Otherwise search.
        let all_sources_are_inputs = (0..n as u32)
            .all(|v| is_input[v as usize] || dag.in_degree(v) > 0 || dag.out_degree(v) == 0);
        if all_sources_are_inputs {
            if let Some(&o) = outputs.iter().find(|&&o| dag.in_degree(o) == 0) {
                unreachable_output(o)?;
            }
        } else {
            check_reachable(dag, inputs, outputs, &is_input)?;
        }

        let computed = computed_in_layer_order(layers, &is_input);
        let mut node_of = Vec::with_capacity(n);
        node_of.extend_from_slice(inputs);
        node_of.extend_from_slice(&computed);
        let mut internal_of = vec![0u32; n];
        for (i, &v) in node_of.iter().enumerate() {
            internal_of[v as usize] = i as u32;
        }
        let mut layer_bounds = vec![inputs.len()];
        for k in 1..computed.len() {
            if layers[computed[k] as usize] != layers[computed[k - 1] as usize] {
                layer_bounds.push(inputs.len() + k);
            }
        }
        layer_bounds.push(n);
        if computed.is_empty() {
            layer_bounds.truncate(1);
        }
        let mut in_offsets = Vec::with_capacity(n + 1);
        in_offsets.push(0);
        for &v in &node_of {
            in_offsets.push(in_offsets.last().copied().unwrap_or(0) + dag.in_degree(v));
        }
        // Visiting sources in internal order fills every row already sorted: no sort needed.
        let mut cursor: Vec<usize> = in_offsets[..n].to_vec();
        let mut in_sources = vec![0u32; dag.num_edges()];
        let mut values = Vec::new();
        if let Some(value) = value.as_mut() {
            values.resize(dag.num_edges(), 0.0f32);
            let (out_offsets, out_targets) = dag.out_csr();
            for (s, &u) in node_of.iter().enumerate() {
                let row = &out_targets[out_offsets[u as usize]..out_offsets[u as usize + 1]];
                for &v in row {
                    let w = value(u, v);
                    // SAFETY: a Dag's ids lie below n, the length of `internal_of` and `cursor`,
                    // and `internal_of` is a permutation of 0..n. Row j's cursor starts at
                    // in_offsets[j] and moves once per in-edge of node_of[j], so every slot
                    // lies below in_offsets[j + 1] <= m, the length of both outputs. (This is
                    // the hot loop of building a network; the checks cost a fifth of it.)
                    unsafe {
                        let j = *internal_of.get_unchecked(v as usize) as usize;
                        let cell = cursor.get_unchecked_mut(j);
                        let slot = *cell;
                        *cell = slot + 1;
                        *in_sources.get_unchecked_mut(slot) = s as u32;
                        *values.get_unchecked_mut(slot) = w;
                    }
                }
            }
        } else {
            for (s, &u) in node_of.iter().enumerate() {
                for &v in dag.successors(u) {
                    let slot = &mut cursor[internal_of[v as usize] as usize];
                    in_sources[*slot] = s as u32;
                    *slot += 1;
                }
            }
        }
        let outputs: Vec<u32> = outputs.iter().map(|&v| internal_of[v as usize]).collect();
        let mut is_output = vec![false; n];
        for &o in &outputs {
            is_output[o as usize] = true;
        }
        let plan = Plan {
            num_inputs: inputs.len(),
            node_of,
            internal_of,
            outputs,
            is_output,
            layer_bounds,
            in_offsets,
            in_sources,
        };
        Ok((plan, values))
    }

    pub fn num_nodes(&self) -> usize {
        self.node_of.len()
    }

    pub fn num_edges(&self) -> usize {
        self.in_sources.len()
    }

    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }

    /// Internal ids of the outputs, in the caller's order.
    pub fn outputs(&self) -> &[u32] {
        &self.outputs
    }

    pub fn is_output(&self, internal: usize) -> bool {
        self.is_output[internal]
    }

    pub fn node_of(&self) -> &[u32] {
        &self.node_of
    }

    pub fn internal_of(&self) -> &[u32] {
        &self.internal_of
    }

    /// Number of computed layers (the inputs are not counted).
    pub fn num_layers(&self) -> usize {
        self.layer_bounds.len() - 1
    }

    /// Internal id range of computed layer `k`.
    pub fn layer(&self, k: usize) -> std::ops::Range<usize> {
        self.layer_bounds[k]..self.layer_bounds[k + 1]
    }

    /// The computed layer that holds internal node `j` (inputs: `None`).
    pub fn layer_index(&self, j: usize) -> Option<usize> {
        if j < self.num_inputs {
            return None;
        }
        Some(self.layer_bounds.partition_point(|&b| b <= j) - 1)
    }

    /// Positions of the in-edges of internal node `j`.
    #[inline]
    pub fn in_range(&self, j: usize) -> std::ops::Range<usize> {
        self.in_offsets[j]..self.in_offsets[j + 1]
    }

    pub fn in_offsets(&self) -> &[usize] {
        &self.in_offsets
    }

    pub fn in_sources(&self) -> &[u32] {
        &self.in_sources
    }

    /// The in-edge position of every edge in the user's order (edges sorted by source node id,
    /// then target node id: the order of `Dag::edges`). Computed on demand in O(n + m), so
    /// that the plan keeps nothing per connection beyond the source index.
    pub fn user_edge_positions(&self) -> Vec<u32> {
        // Two stable counting sorts (radix sort on the node ids): by target, then by source.
        let n = self.num_nodes();
        let m = self.num_edges();
        let mut by_target = Vec::with_capacity(m);
        for v in 0..n {
            let j = self.internal_of[v] as usize;
            by_target.extend(self.in_range(j).map(|p| p as u32));
        }
        let source_of = |p: u32| self.node_of[self.in_sources[p as usize] as usize] as usize;
        let mut start = vec![0u32; n + 1];
        for &p in &by_target {
            start[source_of(p) + 1] += 1;
        }
        for v in 0..n {
            start[v + 1] += start[v];
        }
        let mut positions = vec![0u32; m];
        for &p in &by_target {
            let slot = &mut start[source_of(p)];
            positions[*slot as usize] = p;
            *slot += 1;
        }
        positions
    }
}

impl Plan {
    /// The plan of a layered network whose node ids are already in execution order: nodes
    /// `0..sizes[0]` are the inputs, the next `sizes[1]` nodes form computed layer 0, and so on;
    /// the last layer holds the outputs. `in_offsets` (one entry per node plus one) and
    /// `in_sources` are the in-edge CSR; every source must lie in an earlier layer and each
    /// node's sources must be strictly ascending. O(n + m), no relabelling: this is how a
    /// sparse MLP swaps in the topology that evolution or neuron pruning produced.
    pub fn layered(sizes: &[usize], in_offsets: Vec<usize>, in_sources: Vec<u32>) -> Result<Plan> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return invalid(format!(
                "a layered network needs an input layer and at least one computed layer, none                  empty; got sizes {sizes:?}"
            ));
        }
        let n: usize = sizes.iter().sum();
        if n > u32::MAX as usize {
            return invalid(format!("{n} nodes do not fit 32-bit ids"));
        }
        if in_offsets.len() != n + 1
            || in_offsets[0] != 0
            || in_offsets[n] != in_sources.len()
            || in_offsets.windows(2).any(|w| w[1] < w[0])
        {
            return invalid("in_offsets must start at 0, never decrease and end at the edge count");
        }
        let mut layer_bounds = Vec::with_capacity(sizes.len());
        let mut start = sizes[0];
        layer_bounds.push(start);
        for &size in &sizes[1..] {
            start += size;
            layer_bounds.push(start);
        }
        let num_inputs = sizes[0];
        if in_offsets[num_inputs] != 0 {
            return invalid("input nodes cannot have in-edges");
        }
        for k in 0..sizes.len() - 1 {
            let first = layer_bounds[k];
            for j in first..layer_bounds[k + 1] {
                let sources = &in_sources[in_offsets[j]..in_offsets[j + 1]];
                if sources.windows(2).any(|w| w[1] <= w[0])
                    || sources.last().is_some_and(|&s| s as usize >= first)
                {
                    return invalid(format!(
                        "the in-edges of node {j} must come from earlier layers (ids below \
                         {first}), strictly ascending"
                    ));
                }
            }
        }
        let node_of: Vec<u32> = (0..n as u32).collect();
        let outputs: Vec<u32> = (layer_bounds[layer_bounds.len() - 2] as u32..n as u32).collect();
        let mut is_output = vec![false; n];
        for &o in &outputs {
            is_output[o as usize] = true;
        }
        Ok(Plan {
            num_inputs,
            internal_of: node_of.clone(),
            node_of,
            outputs,
            is_output,
            layer_bounds,
            in_offsets,
            in_sources,
        })
    }
}

/// The computed (non-input) nodes sorted by (layer, id): a counting sort when the layer
/// numbers are compact, as every layering method's are.
fn computed_in_layer_order(layers: &[u32], is_input: &[bool]) -> Vec<u32> {
    let n = layers.len();
    let top = layers.iter().copied().max().unwrap_or(0) as usize;
    if top > 2 * n {
        let mut computed: Vec<u32> = (0..n as u32).filter(|&v| !is_input[v as usize]).collect();
        computed.sort_unstable_by_key(|&v| (layers[v as usize], v));
        return computed;
    }
    let mut start = vec![0u32; top + 2];
    for (&layer, &input) in layers.iter().zip(is_input) {
        start[layer as usize + 1] += u32::from(!input);
    }
    for k in 0..=top {
        start[k + 1] += start[k];
    }
    let mut computed = vec![0u32; start[top + 1] as usize];
    for (v, (&layer, &input)) in layers.iter().zip(is_input).enumerate() {
        if !input {
            let slot = &mut start[layer as usize];
            computed[*slot as usize] = v as u32;
            *slot += 1;
        }
    }
    computed
}

fn check_reachable(dag: &Dag, inputs: &[u32], outputs: &[u32], is_input: &[bool]) -> Result<()> {
    let mut reached = is_input.to_vec();
    let mut stack: Vec<u32> = inputs.to_vec();
    while let Some(u) = stack.pop() {
        for &v in dag.successors(u) {
            if !std::mem::replace(&mut reached[v as usize], true) {
                stack.push(v);
            }
        }
    }
    match outputs.iter().find(|&&o| !reached[o as usize]) {
        Some(&o) => unreachable_output(o),
        None => Ok(()),
    }
}

fn unreachable_output(o: u32) -> Result<()> {
    invalid(format!(
        "output node {o} cannot be reached from any input node: there is no path from the \
         inputs to this output, so it could never learn"
    ))
}

/// `layers[u] < layers[v]` on every edge between computed nodes, scanning the in-CSR row by
/// row (sequential reads of the edge array).
fn check_layering_valid(dag: &Dag, layers: &[u32], is_input: &[bool]) -> Result<()> {
    let (offsets, sources) = dag.in_csr();
    for v in 0..dag.num_nodes() {
        if is_input[v] {
            continue;
        }
        let lv = layers[v];
        let row = &sources[offsets[v]..offsets[v + 1]];
        if row
            .iter()
            .any(|&u| layers[u as usize] >= lv && !is_input[u as usize])
        {
            let u = *row
                .iter()
                .find(|&&u| layers[u as usize] >= lv && !is_input[u as usize])
                .expect("found above");
            return invalid(format!(
                "the layering is not valid: edge {u} -> {v} goes from layer {} to layer {lv}",
                layers[u as usize]
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;

    fn dag(src: &[u32], dst: &[u32], n: u64) -> Dag {
        Dag::from_edges(src, dst, Some(n), DuplicatePolicy::Reject).unwrap()
    }

    #[test]
    fn relabels_inputs_first_and_layers_contiguous() {
        // 0 -> 2 -> 3, 1 -> 3, 0 -> 3 (skip edge)
        let g = dag(&[0, 2, 1, 0], &[2, 3, 3, 3], 4);
        let plan = Plan::new(&g, &[1, 0], &[3], &[0, 0, 1, 2]).unwrap();
        assert_eq!(plan.node_of(), &[1, 0, 2, 3]);
        assert_eq!(plan.num_layers(), 2);
        assert_eq!(plan.layer(0), 2..3);
        assert_eq!(plan.layer(1), 3..4);
        assert_eq!(plan.in_sources(), &[1, 0, 1, 2]);
        assert_eq!(plan.outputs(), &[3]);
        // user order: (0,2) (0,3) (1,3) (2,3)
        assert_eq!(plan.user_edge_positions(), vec![0, 2, 1, 3]);
        assert_eq!(plan.layer_index(3), Some(1));
        assert_eq!(plan.layer_index(0), None);
    }

    #[test]
    fn rejects_bad_node_sets_and_layerings() {
        let g = dag(&[0, 1], &[1, 2], 3);
        let layers = [0, 1, 2];
        assert!(Plan::new(&g, &[1], &[2], &layers).is_err()); // input with in-edges
        assert!(Plan::new(&g, &[0], &[0], &layers).is_err()); // input and output
        assert!(Plan::new(&g, &[0], &[5], &layers).is_err()); // out of range
        assert!(Plan::new(&g, &[], &[2], &layers).is_err());
        assert!(Plan::new(&g, &[0], &[2, 2], &layers).is_err());
        assert!(Plan::new(&g, &[0], &[2], &[0, 1, 1]).is_err()); // invalid layering
        let h = dag(&[0, 2], &[1, 3], 4);
        let err = Plan::new(&h, &[0], &[3], &[0, 1, 0, 1]).unwrap_err();
        assert!(err.to_string().contains("cannot be reached"));
    }
}
