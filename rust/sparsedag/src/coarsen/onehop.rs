//! The k = 1 greedy straight from the id arrays, for when it runs sequentially from the start
//! (one to four threads under `Auto`, or `Sequential`).
//!
//! It stores every edge once, in the row of its lower id (the upper half of the adjacency):
//! half the scattered writes of full rows, and the duplicate check that gives the heuristic
//! its simple degrees reads half as much (a repeated edge repeats within that one row). The
//! greedy walks the nodes in rank order and needs, for a node s, its lowest-rank selected
//! neighbour, if any (then s is covered and that is its centre; else s is selected). It
//! gets the upper neighbours' part by reading s's own row against a bitmap of selected nodes
//! (pull), and the lower neighbours' part from their pushes: a selected node marks its upper
//! neighbours covered, the first (lowest-rank) one recording itself as their centre. Every
//! selected neighbour of lower rank than s has been processed by then, so both parts are
//! complete. Repeated edges and self-loops change nothing.

use super::kmis::{claim, is_set, set};
use super::rank::{order_ascending, Heuristic, Rank};
use super::undirected::{bad_edge, checked_node_count, counts_to_row_ends, prefetch, Counter};
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
    // The rows hold each edge once and the count check caps the edges at u32::MAX, so u32
    // offsets always suffice.
    with_counter::<I, u32>(n, src, dst, rank, cancel).map(Some)
}

fn with_counter<I: NodeId, C: Counter>(
    n: usize,
    src: &[I],
    dst: &[I],
    spec: &RankSpec,
    cancel: &Cancel,
) -> Result<Clustering> {
    // Unit scores: both heuristics rank by the simple degree + 1, ascending, ties by id.
    let heuristic = matches!(
        spec,
        RankSpec::Heuristic(Heuristic::Greedy | Heuristic::WeightedGreedy, None)
    );
    let rows = UpperRows::<C>::build(n, src, dst, heuristic)?;
    cancel.check()?;
    let rank = if heuristic {
        Rank::from_valid_order(simple_degree_order(&rows))
    } else {
        spec.clone().build_without_graph(n)?
    };
    let centres = push_pull_greedy(&rows, &rank, cancel)?;
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

/// Row v holds the w > v with an edge {v, w}, once per edge, in edge order; `lower[v]` counts
/// the edges to ids below v (only when the degrees are wanted, else it is empty).
struct UpperRows<C> {
    offsets: Vec<C>,
    neighbors: Vec<u32>,
    lower: Vec<u32>,
}

impl<C: Counter> UpperRows<C> {
    /// Counts, then fills the rows backwards so each ends up in edge order; checks every id
    /// during the count, so the first bad edge stops it and is the one reported.
    fn build<I: NodeId>(n: usize, src: &[I], dst: &[I], degrees: bool) -> Result<Self> {
        let mut cursor = vec![C::from_usize(0); n + 1];
        let mut lower = if degrees { vec![0u32; n] } else { Vec::new() };
        let bump = |c: &mut C| *c = C::from_usize(c.to_usize() + 1);
        for (i, (&s, &d)) in src.iter().zip(dst).enumerate() {
            let (s, d) = (s.to_i64() as u64, d.to_i64() as u64);
            if s >= n as u64 || d >= n as u64 {
                return Err(bad_edge(src, dst, i, n as u64));
            }
            if s != d {
                let (lo, hi) = (s.min(d) as usize, s.max(d) as usize);
                bump(&mut cursor[lo]);
                if degrees {
                    lower[hi] += 1;
                }
            }
        }
        let total = counts_to_row_ends(&mut cursor);
        let mut neighbors = vec![0u32; total];
        for (&s, &d) in src.iter().zip(dst).rev() {
            let (s, d) = (s.to_i64() as usize, d.to_i64() as usize);
            if s != d {
                let (lo, hi) = (s.min(d), s.max(d));
                let at = cursor[lo].to_usize() - 1;
                cursor[lo] = C::from_usize(at);
                neighbors[at] = hi as u32;
            }
        }
        Ok(UpperRows {
            offsets: cursor,
            neighbors,
            lower,
        })
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline(always)]
    fn row(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.neighbors[self.offsets[v].to_usize()..self.offsets[v + 1].to_usize()]
    }

    #[inline(always)]
    fn prefetch_bounds(&self, v: u32) {
        prefetch(self.offsets.as_ptr().wrapping_add(v as usize));
    }

    #[inline(always)]
    fn prefetch_row(&self, v: u32) {
        let start = self.offsets[v as usize].to_usize();
        prefetch(self.neighbors.as_ptr().wrapping_add(start));
    }
}

/// Nodes by increasing simple degree (distinct neighbours), ties by id.
///
/// A repeated edge {v, w} (v < w) repeats w in row v, so each row is checked for repeats on
/// its own, and each repeat found lowers both degrees. The marks keep the low 16 bits of the
/// last row that saw w (`marks[w] == v as u16` once w was seen in row v): half the footprint
/// of full ids, so they stay in L2. A row that matches an older row's mark is only a false
/// alarm that the exact check of the row clears; a real repeat always matches. The loop has
/// no unpredictable branch.
fn simple_degree_order<C: Counter>(rows: &UpperRows<C>) -> Vec<u32> {
    let n = rows.len();
    let mut marks = vec![u16::MAX; n];
    let mut repeated = Vec::new();
    for v in 0..n as u32 {
        let row = rows.row(v);
        let tag = v as u16;
        let mut hits = 0u32;
        for &w in row {
            let mark = &mut marks[w as usize];
            hits += u32::from(*mark == tag);
            *mark = tag;
        }
        if hits > 0 {
            let mut sorted = row.to_vec();
            sorted.sort_unstable();
            for pair in sorted.windows(2) {
                if pair[0] == pair[1] {
                    repeated.push(v);
                    repeated.push(pair[0]);
                }
            }
        }
    }
    drop(marks);
    let mut degree: Vec<u32> = (0..n)
        .map(|v| {
            let upper = rows.offsets[v + 1].to_usize() - rows.offsets[v].to_usize();
            upper as u32 + rows.lower[v]
        })
        .collect();
    for &v in &repeated {
        degree[v as usize] -= 1;
    }
    let max = degree.iter().copied().max().unwrap_or(0);
    order_ascending(n, max as u64 + 1, |v| degree[v] as u64 + 1)
}

/// Marks "no centre yet" and "no selected neighbour" (as a rank).
const NONE: u32 = u32::MAX;

/// How far ahead in rank order the greedy prefetches rows.
const AHEAD: usize = 8;

/// The greedy in rank order over the upper rows (see the module notes): returns every node's
/// centre, selected nodes being their own.
fn push_pull_greedy<C: Counter>(
    rows: &UpperRows<C>,
    rank: &Rank,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let order = rank.order();
    let position = rank.as_slice();
    let n = order.len();
    // The rank of each selected node, NONE for the others: one read per row entry.
    let mut selected_rank = vec![NONE; n];
    let mut covered = vec![0u64; n.div_ceil(64)];
    // One spare slot past the end takes the pushes to nodes already covered.
    let mut centre = vec![NONE; n + 1];
    for (i, &s) in order.iter().enumerate() {
        if i % 4096 == 0 {
            cancel.check()?;
        }
        if let Some(&v) = order.get(i + 2 * AHEAD) {
            rows.prefetch_bounds(v);
        }
        if let Some(&v) = order.get(i + AHEAD) {
            rows.prefetch_row(v);
        }
        let row = rows.row(s);
        // The lowest rank among selected upper neighbours, without a branch per entry.
        let mut best = NONE;
        for &w in row {
            best = best.min(selected_rank[w as usize]);
        }
        if is_set(&covered, s) {
            best = best.min(position[centre[s as usize] as usize]);
        }
        // Settled either way: later pushes (from higher-rank selected nodes) must not
        // overwrite s's centre.
        set(&mut covered, s);
        if best != NONE {
            centre[s as usize] = order[best as usize];
            continue;
        }
        selected_rank[s as usize] = i as u32;
        centre[s as usize] = s;
        claim(&mut covered, &mut centre, row, s);
    }
    centre.truncate(n);
    Ok(centre)
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
