//! The k = 1 greedy straight from the id arrays, for when it runs sequentially from the start
//! (one to four threads under `Auto`, or `Sequential`). It needs less than the general path:
//! the greedy only covers neighbours, which repeated edges cannot disturb, so the rows stay as
//! the counting sort left them (no compaction, u32 offsets); only the heuristic rank needs the
//! simple degrees, and it gets them from a duplicate check that moves nothing.

use super::kmis::one_hop_greedy;
use super::rank::{order_ascending, Heuristic, Rank};
use super::undirected::{checked_node_count, raw_rows, Counter, RawRows};
use super::{clusters_from_centres, Clustering, RankSpec};
use crate::cancel::Cancel;
use crate::error::Result;
use crate::graph::NodeId;

/// `Some(clustering)` when the spec is one this path handles (every rank but score
/// heuristics with explicit scores, whose float sums need the deduplicated rows).
pub(crate) fn clusters_from_ids<I: NodeId>(
    src: &[I],
    dst: &[I],
    num_nodes: Option<u64>,
    rank: &RankSpec,
    cancel: &Cancel,
) -> Result<Option<Clustering>> {
    if matches!(rank, RankSpec::Heuristic(_, Some(_))) {
        return Ok(None);
    }
    let n = checked_node_count(src, dst, num_nodes)?;
    if 2 * src.len() <= u32::MAX as usize {
        with_counter::<I, u32>(n, src, dst, rank, cancel).map(Some)
    } else {
        with_counter::<I, usize>(n, src, dst, rank, cancel).map(Some)
    }
}

fn with_counter<I: NodeId, C: Counter>(
    n: usize,
    src: &[I],
    dst: &[I],
    rank: &RankSpec,
    cancel: &Cancel,
) -> Result<Clustering> {
    let (offsets, neighbors) = raw_rows::<I, C>(n, src, dst, true)?;
    let rows = RawRows { offsets, neighbors };
    cancel.check()?;
    let rank = match rank {
        // Unit scores: both heuristics rank by the simple degree + 1, ascending, ties by id.
        RankSpec::Heuristic(Heuristic::Greedy | Heuristic::WeightedGreedy, None) => {
            Rank::from_valid_order(simple_degree_order(&rows))
        }
        other => other.clone().build_without_graph(n)?,
    };
    let centres = one_hop_greedy(&rows, rank.order(), cancel)?;
    drop(rows);
    let selected: Vec<u32> = (0..n as u32)
        .filter(|&v| centres[v as usize] == v)
        .collect();
    let cluster = clusters_from_centres(&selected, &centres);
    Ok(Clustering {
        sequential_picks: selected.len(),
        selected,
        cluster,
        rounds: 0,
    })
}

/// Nodes by increasing simple degree (distinct neighbours), ties by id.
///
/// A repeated edge {v, w} repeats w in row v exactly as often as it repeats v in row w, so
/// only the entries w > v are checked, and each repeat found lowers both degrees. The marks
/// keep the low 16 bits of the last row that saw w (`marks[w] == v as u16` once w was seen
/// in row v): half the footprint of full ids, so they stay in L2. A row that matches an older
/// row's mark is only a false alarm that the exact check of its upper entries clears; a real
/// repeat always matches. The loop has no unpredictable branch.
fn simple_degree_order<C: Counter>(rows: &RawRows<C>) -> Vec<u32> {
    let n = rows.offsets.len() - 1;
    let mut marks = vec![u16::MAX; n];
    let mut repeated = Vec::new();
    for v in 0..n {
        let row = &rows.neighbors[rows.offsets[v].to_usize()..rows.offsets[v + 1].to_usize()];
        let v32 = v as u32;
        let tag = v as u16;
        // Counted with arithmetic, not branches: a branch on `upper` is a coin flip, and one
        // on the probe would wait for the cache miss.
        let mut hits = 0u32;
        for &w in row {
            let upper = w > v32;
            // The other entries probe v's own mark, in cache and never read again: rows
            // come in increasing order and only rows below v look at it as an upper entry.
            let slot = if upper { w as usize } else { v };
            let mark = &mut marks[slot];
            hits += u32::from(*mark == tag) & u32::from(upper);
            *mark = tag;
        }
        if hits > 0 {
            let mut upper: Vec<u32> = row.iter().copied().filter(|&w| w > v32).collect();
            upper.sort_unstable();
            for pair in upper.windows(2) {
                if pair[0] == pair[1] {
                    repeated.push(v32);
                    repeated.push(pair[0]);
                }
            }
        }
    }
    drop(marks);
    let mut degree: Vec<u32> = (0..n)
        .map(|v| (rows.offsets[v + 1].to_usize() - rows.offsets[v].to_usize()) as u32)
        .collect();
    for &v in &repeated {
        degree[v as usize] -= 1;
    }
    let max = degree.iter().copied().max().unwrap_or(0);
    order_ascending(n, max as u64 + 1, |v| degree[v] as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::coarsen::clusters_from_centres;
    use crate::coarsen::kmis::{kmis, Strategy};
    use crate::coarsen::undirected::UndirectedGraph;
    use crate::rng::Rng;

    /// The general path: the deduplicated CSR, its rank and the sequential greedy's centres.
    fn reference(n: usize, src: &[u32], dst: &[u32], spec: &RankSpec) -> (Vec<u32>, Vec<u32>) {
        let g = UndirectedGraph::from_ids(src, dst, Some(n as u64)).unwrap();
        let rank = spec.clone().build(&g, 1).unwrap();
        let found = kmis(&g, &rank, 1, Strategy::Sequential, never()).unwrap();
        let cluster = clusters_from_centres(&found.selected, &found.centres.unwrap());
        (found.selected, cluster)
    }

    #[test]
    fn marks_that_share_low_bits_are_only_false_alarms() {
        // Rows v and v + 2^16 share an upper neighbour that no other row has, so the second
        // row matches the first one's 16-bit mark without repeating an edge; other rows get
        // random edges, some of them repeated for real.
        let n = (1usize << 16) + 6000;
        let mut rng = Rng::new(5);
        let (mut src, mut dst) = (Vec::new(), Vec::new());
        for v in 0..3000u32 {
            let w = (1 << 16) + 3000 + v;
            src.extend([v, v + (1 << 16)]);
            dst.extend([w, w]);
            let u = rng.below(n as u64) as u32;
            src.push(v);
            dst.push(u);
            if rng.below(4) == 0 {
                src.push(u);
                dst.push(v);
            }
        }
        let spec = RankSpec::Heuristic(Heuristic::Greedy, None);
        let got = clusters_from_ids(&src, &dst, Some(n as u64), &spec, never())
            .unwrap()
            .unwrap();
        let (selected, cluster) = reference(n, &src, &dst, &spec);
        assert_eq!(got.selected, selected);
        assert_eq!(got.cluster, cluster);
    }

    #[test]
    fn matches_the_general_path_on_multigraphs() {
        let mut rng = Rng::new(3);
        for case in 0..300 {
            let n = 1 + rng.below(60) as usize;
            let m = rng.below(4 * n as u64 + 1) as usize;
            // Few distinct pairs, so many edges repeat (in both directions), plus self-loops.
            let span = 1 + rng.below(n as u64);
            let (mut src, mut dst) = (Vec::with_capacity(m), Vec::with_capacity(m));
            for _ in 0..m {
                let a = rng.below(span) as u32;
                let b = if rng.below(8) == 0 {
                    a
                } else {
                    rng.below(n as u64) as u32
                };
                src.push(a);
                dst.push(b);
            }
            for spec in [
                RankSpec::Heuristic(Heuristic::Greedy, None),
                RankSpec::Id,
                RankSpec::Random(case),
            ] {
                let got = clusters_from_ids(&src, &dst, Some(n as u64), &spec, never())
                    .unwrap()
                    .unwrap();
                let (selected, cluster) = reference(n, &src, &dst, &spec);
                assert_eq!(got.selected, selected, "case {case} {spec:?}");
                assert_eq!(got.cluster, cluster, "case {case} {spec:?}");
            }
        }
    }
}
