//! The k = 1 greedy straight from the id arrays, for when it runs sequentially from the start
//! (one to four threads under `Auto`, or `Sequential`). It needs less than the general path:
//! the greedy only covers neighbours, which repeated edges cannot disturb, so the rows stay as
//! the counting sort left them (no compaction, u32 offsets); only the heuristic rank needs the
//! simple degrees, and it gets them from a duplicate check that moves nothing.

use super::kmis::one_hop_greedy;
use super::rank::{order_ascending, Heuristic, Rank};
use super::undirected::{checked_node_count, has_repeat_marked, raw_rows, Counter, RawRows};
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
fn simple_degree_order<C: Counter>(rows: &RawRows<C>) -> Vec<u32> {
    let n = rows.offsets.len() - 1;
    let mut degree: Vec<u32> = Vec::with_capacity(n);
    let mut marks = vec![u32::MAX; n];
    let mut max = 0;
    for v in 0..n {
        let row = &rows.neighbors[rows.offsets[v].to_usize()..rows.offsets[v + 1].to_usize()];
        let mut d = row.len();
        if has_repeat_marked(row, v as u32, &mut marks) {
            let mut distinct = row.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            d = distinct.len();
        }
        max = max.max(d);
        degree.push(d as u32);
    }
    drop(marks);
    order_ascending(n, max as u64 + 1, |v| degree[v] as u64 + 1)
}
