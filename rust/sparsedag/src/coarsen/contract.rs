//! The coarsened graph A' = S^T A S without its diagonal: every edge (u, v) becomes an edge
//! (c(u), c(v)); edges inside one cluster vanish and parallel edges merge with a reduction.
//! Reductions accumulate in input edge order, so float sums do not depend on thread count.

use rayon::prelude::*;

use super::group::group_pairs;
use super::undirected::{map_row_ranges, EdgeList};
use crate::error::{invalid, Error, Result};
use crate::graph::MAX_NODES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduce {
    #[default]
    Sum,
    Mean,
    Max,
    Min,
}

impl std::str::FromStr for Reduce {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sum" | "add" => Ok(Reduce::Sum),
            "mean" => Ok(Reduce::Mean),
            "max" => Ok(Reduce::Max),
            "min" => Ok(Reduce::Min),
            other => invalid(format!(
                "reduce must be \"sum\", \"mean\", \"max\" or \"min\", not {other:?}"
            )),
        }
    }
}

/// Coarse edges sorted by (src, dst), one per distinct pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoarseEdges {
    pub src: Vec<u32>,
    pub dst: Vec<u32>,
    pub weight: Vec<f64>,
}

/// Contracts `edges` along `cluster` (values below `num_clusters`). Missing weights count as
/// one each, so `Sum` then gives edge multiplicities. With `undirected`, the pair (a, b) and
/// (b, a) are the same coarse edge, reported once with a < b; otherwise direction is kept
/// (matrix semantics: an edge list holding both directions yields both directions).
pub fn contract(
    edges: &EdgeList,
    weights: Option<&[f64]>,
    cluster: &[u32],
    num_clusters: usize,
    reduce: Reduce,
    undirected: bool,
) -> Result<CoarseEdges> {
    check_cluster(cluster, edges.num_nodes(), num_clusters)?;
    if let Some(w) = weights {
        if w.len() != edges.num_edges() {
            return invalid(format!(
                "weights has {} entries but there are {} edges",
                w.len(),
                edges.num_edges()
            ));
        }
        if let Some(i) = w.iter().position(|x| !x.is_finite()) {
            return invalid(format!(
                "weights must be finite, but weights[{i}] = {}",
                w[i]
            ));
        }
    }
    let (src, dst) = (edges.src(), edges.dst());
    // Coarse endpoints per edge, looked up once (two random reads of `cluster` per edge);
    // an edge inside one cluster gets `DROPPED` as its head.
    const DROPPED: u32 = u32::MAX;
    let mut heads = vec![DROPPED; edges.num_edges()];
    let mut tails = vec![0u32; edges.num_edges()];
    heads
        .par_iter_mut()
        .zip(tails.par_iter_mut())
        .enumerate()
        .with_min_len(1 << 14)
        .for_each(|(i, (head, tail))| {
            let (a, b) = (cluster[src[i] as usize], cluster[dst[i] as usize]);
            if a != b {
                (*head, *tail) = if undirected && a > b { (b, a) } else { (a, b) };
            }
        });
    let (offsets, mut rows) = group_pairs(num_clusters, edges.num_edges(), |range| {
        heads[range.clone()]
            .iter()
            .zip(range)
            .filter(|(&a, _)| a != DROPPED)
            .map(|(&a, i)| (a, i as u32))
    });
    drop(heads);
    let weight = |i: u32| weights.map_or(1.0, |w| w[i as usize]);
    // Row ranges in parallel, one reusable buffer per range instead of one per row.
    let pieces = map_row_ranges(&offsets, &mut rows, 4, |lo, hi, slice| {
        let base = offsets[lo];
        let mut piece = CoarseEdges::default();
        let mut row: Vec<(u32, u32)> = Vec::new();
        for a in lo..hi {
            row.clear();
            row.extend(
                slice[offsets[a] - base..offsets[a + 1] - base]
                    .iter()
                    .map(|&i| (tails[i as usize], i)),
            );
            // Stable: equal targets keep input edge order for the reduction.
            row.sort_by_key(|&(b, _)| b);
            let mut start = 0;
            while start < row.len() {
                let b = row[start].0;
                let mut end = start + 1;
                while end < row.len() && row[end].0 == b {
                    end += 1;
                }
                let values = row[start..end].iter().map(|&(_, i)| weight(i));
                let value = match reduce {
                    Reduce::Sum => values.sum(),
                    Reduce::Mean => values.sum::<f64>() / (end - start) as f64,
                    Reduce::Max => values.fold(f64::NEG_INFINITY, f64::max),
                    Reduce::Min => values.fold(f64::INFINITY, f64::min),
                };
                piece.src.push(a as u32);
                piece.dst.push(b);
                piece.weight.push(value);
                start = end;
            }
        }
        piece
    });
    let total: usize = pieces.iter().map(|p| p.src.len()).sum();
    let mut result = CoarseEdges {
        src: Vec::with_capacity(total),
        dst: Vec::with_capacity(total),
        weight: Vec::with_capacity(total),
    };
    for piece in pieces {
        result.src.extend_from_slice(&piece.src);
        result.dst.extend_from_slice(&piece.dst);
        result.weight.extend_from_slice(&piece.weight);
    }
    Ok(result)
}

/// A cluster array must give every node a cluster below `num_clusters`.
pub fn check_cluster(cluster: &[u32], n: usize, num_clusters: usize) -> Result<()> {
    if cluster.len() != n {
        return invalid(format!(
            "cluster has {} entries but the graph has {n} nodes",
            cluster.len()
        ));
    }
    // Cluster ids are u32 node ids of the coarse graph.
    if num_clusters as u64 > MAX_NODES {
        return Err(Error::TooLarge {
            what: "the number of clusters",
            value: num_clusters as u64,
            limit: MAX_NODES,
        });
    }
    if let Some(v) = cluster.iter().position(|&c| c as usize >= num_clusters) {
        return invalid(format!(
            "cluster[{v}] = {} but cluster ids must lie in 0..{num_clusters}",
            cluster[v]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_and_reduces() {
        // 0-1, 0-4, 1-2, 1-4, 2-3, 3-4 with clusters [0,0,1,1,0]: inside edges vanish,
        // 1-2 and 3-4 (as 1-0) both join clusters 0 and 1.
        let e = EdgeList::new(&[0u32, 0, 1, 1, 2, 3], &[1, 4, 2, 4, 3, 4], None).unwrap();
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let c = [0u32, 0, 1, 1, 0];
        let run = |r, undirected| contract(&e, Some(&w), &c, 2, r, undirected).unwrap();
        let sum = run(Reduce::Sum, true);
        assert_eq!(
            (sum.src, sum.dst, sum.weight),
            (vec![0], vec![1], vec![9.0])
        );
        assert_eq!(run(Reduce::Mean, true).weight, vec![4.5]);
        assert_eq!(run(Reduce::Max, true).weight, vec![6.0]);
        assert_eq!(run(Reduce::Min, true).weight, vec![3.0]);
        let directed = run(Reduce::Sum, false);
        assert_eq!(directed.src, vec![0, 1]);
        assert_eq!(directed.dst, vec![1, 0]);
        assert_eq!(directed.weight, vec![3.0, 6.0]);
        let counts = contract(&e, None, &c, 2, Reduce::Sum, true).unwrap();
        assert_eq!(counts.weight, vec![2.0]);
        assert!(contract(&e, None, &[0, 0, 1, 2, 0], 2, Reduce::Sum, true).is_err());
        assert!(contract(&e, Some(&[f64::NAN; 6]), &c, 2, Reduce::Sum, true).is_err());
    }
}
