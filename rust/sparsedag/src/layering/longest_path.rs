//! Minimum-height layerings in O(n + m): ASAP (longest path from the sources), ALAP (longest
//! path to the sinks) and the 4Ward variant (ALAP with every source pulled up to layer 0).

use crate::graph::Dag;

/// ASAP: layer(v) = length of the longest path ending at v. Sources sit in layer 0; this is
/// networkx's `topological_generations`.
pub fn asap(dag: &Dag) -> Vec<u32> {
    let mut layer = vec![0u32; dag.num_nodes()];
    for &v in dag.topological_order() {
        let below = layer[v as usize] + 1;
        for &w in dag.successors(v) {
            let l = &mut layer[w as usize];
            if *l < below {
                *l = below;
            }
        }
    }
    layer
}

/// Length of the longest path from each node to a sink (0 for sinks).
/// The graph found it while checking acyclicity.
pub fn longest_path_to_sink(dag: &Dag) -> Vec<u32> {
    dag.depth_to_sink().to_vec()
}

/// ALAP: every node as low as the minimum height allows; all sinks in the last layer.
pub fn alap(dag: &Dag) -> Vec<u32> {
    let depth = dag.depth_to_sink();
    let height = depth.iter().copied().max().unwrap_or(0);
    depth.iter().map(|&d| height - d).collect()
}

/// The 4Ward library's layering: ALAP, then every source moved to layer 0 so that all network
/// inputs are available in the first layer.
pub fn fourward(dag: &Dag) -> Vec<u32> {
    let mut layer = alap(dag);
    for v in 0..dag.num_nodes() as u32 {
        if dag.in_degree(v) == 0 {
            layer[v as usize] = 0;
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;

    #[test]
    fn depths_match_a_pass_in_reverse_topological_order() {
        for seed in 0..5 {
            let g = crate::graph::generators::random_dag(500, Some(0.02), None, seed).unwrap();
            let mut depth = vec![0u32; g.num_nodes()];
            for &v in g.topological_order().iter().rev() {
                for &w in g.successors(v) {
                    depth[v as usize] = depth[v as usize].max(depth[w as usize] + 1);
                }
            }
            assert_eq!(longest_path_to_sink(&g), depth);
        }
    }

    #[test]
    fn three_variants_on_a_small_dag() {
        // 0 -> 1 -> 2 -> 3 and a lone source 4 -> 3
        let g = Dag::from_edges(
            &[0u32, 1, 2, 4],
            &[1, 2, 3, 3],
            None,
            DuplicatePolicy::Reject,
        )
        .unwrap();
        assert_eq!(asap(&g), vec![0, 1, 2, 3, 0]);
        assert_eq!(alap(&g), vec![0, 1, 2, 3, 2]);
        assert_eq!(fourward(&g), vec![0, 1, 2, 3, 0]);
    }
}
