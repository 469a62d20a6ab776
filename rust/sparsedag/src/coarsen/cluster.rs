//! Cluster assignment: every node joins the minimum-rank selected node within k hops. Coarse
//! node ids follow the selected nodes in increasing node id.

use rayon::prelude::*;

use super::kmis::min_passes;
use super::rank::Rank;
use super::undirected::UndirectedGraph;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};

/// `cluster[v]` is the index (into `selected`, ascending ids) of v's centre. Fails if some
/// node has no selected node within k hops, i.e. `selected` is not maximal.
pub fn assign_clusters(
    g: &UndirectedGraph,
    rank: &Rank,
    selected: &[u32],
    k: usize,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let n = g.num_nodes();
    let rank = rank.as_slice();
    let mut coarse_of_rank = vec![u32::MAX; n];
    let mut keys = vec![u32::MAX; n];
    for (i, &s) in selected.iter().enumerate() {
        coarse_of_rank[rank[s as usize] as usize] = i as u32;
        keys[s as usize] = rank[s as usize];
    }
    let mut scratch = vec![u32::MAX; n];
    min_passes(g, &mut keys, &mut scratch, k, None, cancel)?;
    drop(scratch);
    if let Some(v) = keys.iter().position(|&key| key == u32::MAX) {
        return invalid(format!(
            "node {v} has no selected node within {k} hops; the set is not maximal"
        ));
    }
    Ok(keys
        .par_iter()
        .with_min_len(super::kmis::MIN_LEN)
        .map(|&key| coarse_of_rank[key as usize])
        .collect())
}

/// Clusters from known centres (`centres[v]` is v's centre, a node of `selected`, which is
/// ascending): the index of each node's centre in `selected`.
pub fn clusters_from_centres(selected: &[u32], centres: &[u32]) -> Vec<u32> {
    let mut index = vec![0u32; centres.len()];
    for (i, &s) in selected.iter().enumerate() {
        index[s as usize] = i as u32;
    }
    centres.iter().map(|&c| index[c as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::coarsen::undirected::EdgeList;

    #[test]
    fn design_test_vector() {
        let e = EdgeList::new(&[0u32, 0, 1, 1, 2, 3], &[1, 4, 2, 4, 3, 4], None).unwrap();
        let g = UndirectedGraph::from_edges(&e);
        let rank = Rank::by_id(5);
        assert_eq!(
            assign_clusters(&g, &rank, &[0, 2], 1, never()).unwrap(),
            vec![0, 0, 1, 1, 0]
        );
        assert_eq!(
            assign_clusters(&g, &rank, &[0], 2, never()).unwrap(),
            vec![0; 5]
        );
        assert!(assign_clusters(&g, &rank, &[0], 1, never()).is_err());
    }
}
