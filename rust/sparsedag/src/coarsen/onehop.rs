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
/// only the entries w > v are checked (marks: `marks[w] == v` once w was seen in row v), and
/// each repeat found lowers both degrees. The loop has no unpredictable branch.
fn simple_degree_order<C: Counter>(rows: &RawRows<C>) -> Vec<u32> {
    let n = rows.offsets.len() - 1;
    let mut marks = vec![u32::MAX; n];
    let mut repeated = Vec::new();
    for v in 0..n {
        let row = &rows.neighbors[rows.offsets[v].to_usize()..rows.offsets[v + 1].to_usize()];
        let v32 = v as u32;
        // Counted with arithmetic, not branches: a branch on `upper` is a coin flip, and one
        // on the probe would wait for the cache miss.
        let mut hits = 0u32;
        for &w in row {
            let upper = w > v32;
            // The other entries probe v's own mark, in cache and never read again: rows
            // come in increasing order and only rows below v look at it as an upper entry.
            let slot = if upper { w as usize } else { v };
            let mark = &mut marks[slot];
            hits += u32::from(*mark == v32) & u32::from(upper);
            *mark = v32;
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
