//! The tiled edge order: blocks of target accumulators stay in fast memory while every source
//! that feeds the block streams through once.
//!
//! The neurons, in a base neuron order (the layer order, or another constructive order), are
//! cut into consecutive blocks of `B`. A block processes
//! all the in-edges of its members: first those from sources outside the block, source by
//! source (each source is then needed once per block it feeds, instead of once per consumer),
//! then those from sources inside the block, by the sources' place in the layer order (each
//! is final by then: its own in-edges come from outside the block or from earlier members).
//! Outside sources are streamed in ascending order in even blocks and descending order in odd
//! blocks (with `B > 1`), so the sources streamed last in one block, which may still be
//! resident, are the first the next block asks for. With `B = 1` this is the base order itself.

use super::edges::in_edge_ids;
use super::network::Network;

/// The tiled edge order (edge ids) with blocks of `block` neurons of `base`, a topological
/// order of the nodes (checked by the caller).
pub fn tiled_edge_order(network: &Network, base: &[u32], block: usize) -> Vec<u32> {
    let dag = network.dag;
    let n = network.num_nodes();
    let block = block.max(1);
    let neurons: Vec<u32> = base
        .iter()
        .copied()
        .filter(|&v| !network.input(v))
        .collect();
    let mut rank = vec![u32::MAX; n];
    for (i, &v) in neurons.iter().enumerate() {
        rank[v as usize] = i as u32;
    }
    let (in_offsets, in_sources) = dag.in_csr();
    let ids = in_edge_ids(dag);
    let mut order = Vec::with_capacity(dag.num_edges());
    // (outside?, key, target rank, edge id); sorting groups the edges by source.
    let mut edges: Vec<(bool, u32, u32, u32)> = Vec::new();
    for (b, members) in neurons.chunks(block).enumerate() {
        let first = (b * block) as u32;
        let descending = block > 1 && b % 2 == 1;
        edges.clear();
        for &v in members {
            for k in in_offsets[v as usize]..in_offsets[v as usize + 1] {
                let u = in_sources[k];
                let inside = rank[u as usize] != u32::MAX && rank[u as usize] >= first;
                let key = if inside {
                    rank[u as usize]
                } else if descending {
                    u32::MAX - u
                } else {
                    u
                };
                edges.push((inside, key, rank[v as usize], ids[k]));
            }
        }
        edges.sort_unstable();
        order.extend(edges.iter().map(|&(_, _, _, e)| e));
    }
    order
}

/// Block sizes tried by `io_schedule(method = tiled)` for a fast memory of `m` values: all of
/// fast memory but one streaming slot, a little slack for sources to stay between blocks, half
/// of it, and one (the layer order), deduplicated.
pub(crate) fn block_candidates(m: usize) -> Vec<usize> {
    let top = m.saturating_sub(1).max(1);
    let mut sizes = vec![top, top * 7 / 8, top * 3 / 4, top / 2, 1];
    sizes.retain(|&b| b >= 1);
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes.dedup();
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::generators::random_dag;
    use crate::iosched::edges::{check_edge_order, edge_order_of_neurons, io_cost_edges};
    use crate::iosched::{constructive_order, io_cost, Constructive};

    #[test]
    fn tiled_orders_are_valid_and_block_one_is_the_base_order() {
        for seed in 0..5 {
            let dag = random_dag(200, None, Some(1200), seed).unwrap();
            let net = Network::new(&dag, None, None).unwrap();
            for c in Constructive::ALL {
                let base = constructive_order(&net, c, 16, never()).unwrap();
                for block in [1, 2, 7, 31, 500] {
                    check_edge_order(&dag, &tiled_edge_order(&net, &base, block)).unwrap();
                }
                let single = tiled_edge_order(&net, &base, 1);
                assert_eq!(single, edge_order_of_neurons(&net, &base));
                let a = io_cost(&net, &base, 16, false, false, never()).unwrap();
                let b = io_cost_edges(&net, &single, 16, false, false, never()).unwrap();
                assert_eq!(a.total(), b.total());
            }
        }
        assert_eq!(block_candidates(2), vec![1]);
        assert_eq!(block_candidates(65), vec![64, 56, 48, 32, 1]);
    }
}
