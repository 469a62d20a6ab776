//! Edge-order schedules: the exact I/O simulator of a general order of edges, the checks of
//! such orders and the conversions from (source, target) pairs and from neuron orders.
//!
//! An edge id is the edge's index in `Dag::edges()` (sorted by source, then target). Processing
//! the edge (u, v) needs u's final value and v's accumulator in fast memory; the accumulator is
//! created (free, one slot) at v's first in-edge and is v's value after v's last in-edge. An
//! incomplete accumulator can leave fast memory only by being stored, and is loaded again at
//! v's next in-edge. The semantics and the bounds are in docs/io_model.md.

use std::collections::BinaryHeap;

use super::network::Network;
use super::simulate::{check_fast_memory, IoCost, IoEvent};
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::graph::Dag;

const NEVER: u32 = u32::MAX;

/// Source of every edge, indexed by edge id.
fn edge_sources(dag: &Dag) -> Vec<u32> {
    let (offsets, _) = dag.out_csr();
    let mut sources = Vec::with_capacity(dag.num_edges());
    for u in 0..dag.num_nodes() {
        sources.extend(std::iter::repeat_n(u as u32, offsets[u + 1] - offsets[u]));
    }
    sources
}

/// The edge id of each entry of the in-edge CSR (edges sorted by target, then source).
pub(crate) fn in_edge_ids(dag: &Dag) -> Vec<u32> {
    let (in_offsets, _) = dag.in_csr();
    let mut fill = in_offsets[..dag.num_nodes()].to_vec();
    let mut ids = vec![0u32; dag.num_edges()];
    let mut id = 0u32;
    for u in 0..dag.num_nodes() as u32 {
        for &v in dag.successors(u) {
            ids[fill[v as usize]] = id;
            fill[v as usize] += 1;
            id += 1;
        }
    }
    ids
}

/// Edge ids of the pairs `(src[i], dst[i])`; an error names the first pair that is not an
/// edge of the DAG.
pub fn edge_ids_of_pairs(dag: &Dag, src: &[u32], dst: &[u32]) -> Result<Vec<u32>> {
    if src.len() != dst.len() {
        return invalid(format!(
            "the edge order has {} sources but {} targets",
            src.len(),
            dst.len()
        ));
    }
    let (offsets, _) = dag.out_csr();
    let n = dag.num_nodes() as u32;
    src.iter()
        .zip(dst)
        .enumerate()
        .map(|(i, (&u, &v))| {
            if u >= n || v >= n {
                return invalid(format!(
                    "edge order entry {i} = ({u}, {v}) names a node outside 0..{n}"
                ));
            }
            match dag.successors(u).binary_search(&v) {
                Ok(k) => Ok((offsets[u as usize] + k) as u32),
                Err(_) => invalid(format!(
                    "edge order entry {i} = ({u}, {v}) is not an edge of the graph"
                )),
            }
        })
        .collect()
}

/// The edge order of a neuron order: each computed node's in-edges, in predecessor-id order.
pub fn edge_order_of_neurons(network: &Network, order: &[u32]) -> Vec<u32> {
    let dag = network.dag;
    let (in_offsets, _) = dag.in_csr();
    let ids = in_edge_ids(dag);
    let mut edges = Vec::with_capacity(dag.num_edges());
    for &v in order {
        edges.extend_from_slice(&ids[in_offsets[v as usize]..in_offsets[v as usize + 1]]);
    }
    edges
}

/// Checks that `order` names every edge once and processes all in-edges of a node before any
/// of its out-edges.
pub fn check_edge_order(dag: &Dag, order: &[u32]) -> Result<()> {
    let m = dag.num_edges();
    if order.len() != m {
        return invalid(format!(
            "the edge order has {} entries but the graph has {m} edges",
            order.len()
        ));
    }
    let sources = edge_sources(dag);
    let targets = dag.out_csr().1;
    let mut seen = vec![false; m];
    let mut remaining: Vec<usize> = (0..dag.num_nodes() as u32)
        .map(|v| dag.in_degree(v))
        .collect();
    for (i, &e) in order.iter().enumerate() {
        let Some(flag) = seen.get_mut(e as usize) else {
            return invalid(format!(
                "edge order entry {i} = {e} is not an edge id; ids must lie in 0..{m}"
            ));
        };
        let (u, v) = (sources[e as usize], targets[e as usize]);
        if *flag {
            return invalid(format!(
                "edge {e} = ({u}, {v}) appears twice in the edge order (again at entry {i})"
            ));
        }
        *flag = true;
        if remaining[u as usize] > 0 {
            return invalid(format!(
                "invalid edge order: edge {e} = ({u}, {v}) at entry {i} comes before all \
                 in-edges of {u} are processed ({} remaining), so {u}'s value is not final",
                remaining[u as usize]
            ));
        }
        remaining[v as usize] -= 1;
    }
    Ok(())
}

/// The I/O of computing the network in the edge order `order` (edge ids).
pub fn io_cost_edges(
    network: &Network,
    order: &[u32],
    fast_memory: usize,
    count_weights: bool,
    record: bool,
    cancel: &Cancel,
) -> Result<IoCost> {
    check_edge_order(network.dag, order)?;
    check_fast_memory(network, fast_memory)?;
    simulate_edges(network, order, fast_memory, count_weights, record, cancel)
}

/// Furthest-next-use simulation of an edge order already checked. Accesses are, per edge
/// `i = (u, v)`, the accumulator `v` (index `2 i`) and the operand `u` (index `2 i + 1`).
pub(crate) fn simulate_edges(
    network: &Network,
    order: &[u32],
    fast_memory: usize,
    count_weights: bool,
    record: bool,
    cancel: &Cancel,
) -> Result<IoCost> {
    let dag = network.dag;
    let n = network.num_nodes();
    let sources = edge_sources(dag);
    let targets = dag.out_csr().1;
    let ends = |e: u32| (sources[e as usize], targets[e as usize]);

    let mut next = vec![NEVER; 2 * order.len()];
    let mut seen = vec![NEVER; n];
    for (i, &e) in order.iter().enumerate().rev() {
        let (u, v) = ends(e);
        for (p, x) in [(2 * i + 1, u), (2 * i, v)] {
            next[p] = seen[x as usize];
            seen[x as usize] = p as u32;
        }
    }

    let mut cost = IoCost {
        weight_reads: if count_weights {
            dag.num_edges() as u64
        } else {
            0
        },
        ..IoCost::default()
    };
    let mut resident = vec![false; n];
    // Created (a computed value or a partial sum exists); inputs exist from the start.
    let mut born: Vec<bool> = (0..n as u32).map(|v| network.input(v)).collect();
    let mut dirty = vec![false; n];
    let mut next_use = vec![NEVER; n];
    let mut heap: BinaryHeap<(u32, u32)> = BinaryHeap::new();
    let mut occupied = 0usize;

    let event = |cost: &mut IoCost, step: u32, node: u32, load: bool| {
        if load {
            cost.loads += 1;
        } else {
            cost.stores += 1;
        }
        if record {
            cost.trace.push(IoEvent { step, node, load });
        }
    };

    for (i, &e) in order.iter().enumerate() {
        if i % 65_536 == 0 {
            cancel.check()?;
        }
        let step = i as u32;
        let (u, v) = ends(e);
        // New next uses make the heap entries of u and v stale: neither can be evicted while
        // this edge is processed.
        next_use[v as usize] = next[2 * i];
        next_use[u as usize] = next[2 * i + 1];
        for x in [v, u] {
            let w = x as usize;
            if resident[w] {
                continue;
            }
            while occupied >= fast_memory {
                let (when, y) = heap
                    .pop()
                    .expect("a full fast memory has an evictable value");
                let k = y as usize;
                if !resident[k] || next_use[k] != when {
                    continue; // stale entry
                }
                if dirty[k] {
                    event(&mut cost, step, y, false);
                    dirty[k] = false;
                }
                resident[k] = false;
                occupied -= 1;
            }
            if born[w] {
                event(&mut cost, step, x, true);
            } else {
                // A new accumulator, or a neuron without in-edges computed where first used.
                born[w] = true;
                dirty[w] = true;
            }
            resident[w] = true;
            occupied += 1;
        }
        dirty[v as usize] = true;
        for x in [u, v] {
            let w = x as usize;
            if next_use[w] != NEVER {
                heap.push((next_use[w], x));
            } else {
                if dirty[w] && network.output(x) {
                    event(&mut cost, step, x, false);
                }
                dirty[w] = false;
                resident[w] = false;
                occupied -= 1;
            }
        }
    }
    // Neurons that no edge touches: an output among them is computed and stored.
    let last = order.len() as u32;
    for x in 0..n as u32 {
        if !born[x as usize] && network.output(x) {
            event(&mut cost, last, x, false);
        }
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::DuplicatePolicy;
    use crate::iosched::io_cost;

    #[test]
    fn partial_sums_are_stored_and_reloaded() {
        // inputs 0, 1, 2; neurons 3 and 4 both read all three inputs.
        let src = [0u32, 1, 2, 0, 1, 2];
        let dst = [3u32, 3, 3, 4, 4, 4];
        let g = Dag::from_edges(&src, &dst, None, DuplicatePolicy::Reject).unwrap();
        let net = Network::new(&g, None, None).unwrap();
        // edge ids: (0,3)=0 (0,4)=1 (1,3)=2 (1,4)=3 (2,3)=4 (2,4)=5
        // Source by source: each input loaded once, both accumulators resident (M = 3).
        let c = io_cost_edges(&net, &[0, 1, 2, 3, 4, 5], 3, false, true, never()).unwrap();
        assert_eq!((c.loads, c.stores), (3, 2));
        // Neuron by neuron with M = 3: 3 loads, then 3 reloads minus what stayed.
        let neurons = io_cost(&net, &[0, 1, 2, 3, 4], 3, false, false, never()).unwrap();
        let as_edges = edge_order_of_neurons(&net, &[0, 1, 2, 3, 4]);
        assert_eq!(as_edges, vec![0, 2, 4, 1, 3, 5]);
        let c = io_cost_edges(&net, &as_edges, 3, false, false, never()).unwrap();
        assert_eq!((c.loads, c.stores), (neurons.loads, neurons.stores));
        // M = 2: source by source must store and reload a partial sum.
        let c = io_cost_edges(&net, &[0, 1, 2, 3, 4, 5], 2, false, false, never()).unwrap();
        // 3 input loads + 4 reloads of partial sums; 4 partial stores + 2 outputs.
        assert_eq!((c.loads, c.stores), (7, 6));
    }

    #[test]
    fn invalid_orders_are_rejected() {
        let g = Dag::from_edges(&[0u32, 1], &[1u32, 2], None, DuplicatePolicy::Reject).unwrap();
        let msg = |r: Result<()>| r.unwrap_err().to_string();
        assert!(msg(check_edge_order(&g, &[1, 0])).contains("edge 1 = (1, 2)"));
        assert!(msg(check_edge_order(&g, &[0, 0])).contains("twice"));
        assert!(msg(check_edge_order(&g, &[0, 5])).contains("not an edge id"));
        assert!(msg(check_edge_order(&g, &[0])).contains("2 edges"));
        assert!(check_edge_order(&g, &[0, 1]).is_ok());
        assert_eq!(edge_ids_of_pairs(&g, &[1, 0], &[2, 1]).unwrap(), vec![1, 0]);
        assert!(edge_ids_of_pairs(&g, &[0], &[2]).is_err());
    }
}
