//! Lower and upper bounds on the I/O of any schedule, from the network's counts and M.
//! Proofs: docs/io_model.md.

use super::network::Network;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoBounds {
    /// No schedule (order, eviction and write-back choices) does fewer I/Os.
    pub lower: u64,
    /// The same bound from the counts alone: inputs, outputs, neurons, connections and M.
    pub lower_from_counts: u64,
    /// Every order simulated with furthest-next-use eviction does at most this many I/Os.
    pub upper: u64,
    /// No edge order (with any eviction and write-back choices) does fewer I/Os. Neuron
    /// orders are edge orders, so this is also a lower bound for them (weaker than `lower`).
    pub lower_edges: u64,
    /// Every edge order simulated with furthest-next-use eviction does at most this many.
    pub upper_edges: u64,
    pub inputs_used: u64,
    pub outputs_written: u64,
    pub neurons: u64,
    pub connections: u64,
}

pub fn io_bounds(network: &Network, fast_memory: usize, count_weights: bool) -> IoBounds {
    let dag = network.dag;
    let n = network.num_nodes();
    let m = fast_memory as u64;
    let nodes = 0..n as u32;
    let inputs_used = nodes
        .clone()
        .filter(|&v| network.input(v) && dag.out_degree(v) > 0)
        .count() as u64;
    let outputs_written = nodes
        .clone()
        .filter(|&v| network.output(v) && !network.input(v))
        .count() as u64;
    let neurons = nodes.clone().filter(|&v| !network.input(v)).count() as u64;
    let connections = dag.num_edges() as u64;
    // Values that must be written back at most once: computed values with a consumer, and
    // outputs.
    let storable = nodes
        .clone()
        .filter(|&v| !network.input(v) && (dag.out_degree(v) > 0 || network.output(v)))
        .count() as u64;
    let spill: u64 = nodes
        .filter(|&v| !network.input(v))
        .map(|v| (dag.in_degree(v) as u64).saturating_sub(m.saturating_sub(1)))
        .sum();
    let spill_from_counts = connections.saturating_sub(neurons * m.saturating_sub(1));
    let weights = if count_weights { connections } else { 0 };
    // Neurons with at least one in-edge: their partial sums can be stored and reloaded at
    // most d(v) - 1 times each.
    let accumulating = (0..n as u32)
        .filter(|&v| !network.input(v) && dag.in_degree(v) > 0)
        .count() as u64;
    let everything_fits = n as u64 <= m;
    let upper = if everything_fits {
        inputs_used + outputs_written
    } else {
        connections + storable
    };
    let upper_edges = if everything_fits {
        inputs_used + outputs_written
    } else {
        connections + 2 * (connections - accumulating) + storable
    };
    IoBounds {
        lower: outputs_written + inputs_used.max(spill) + weights,
        lower_from_counts: outputs_written + inputs_used.max(spill_from_counts) + weights,
        upper: upper + weights,
        lower_edges: outputs_written + inputs_used + weights,
        upper_edges: upper_edges + weights,
        inputs_used,
        outputs_written,
        neurons,
        connections,
    }
}
