//! Maximal k-independent sets by the parallel greedy rounds of Bacciu, Conte and Landolfi.
//!
//! Each round lets every uncovered node learn the smallest rank among uncovered nodes within
//! k hops (k pull passes of a min over neighbours), selects the nodes that are their own
//! minimum, and covers everything within k hops of the selection (k pull passes of a BFS
//! distance). Every pass reads one array and writes another, so threads never share a write
//! and no atomics are needed; memory is O(n + m) and the k-th power graph is never built.
//!
//! The result equals the sequential greedy maximal independent set of G^k by rank. That also
//! makes a sequential finish exact: the uncovered rest can be handled in rank order with a
//! pruned BFS, which expands a node only when its distance to the selection shrinks, so it
//! costs O(k (n + m)) at most and usually about one sweep of the graph. A round costs 2k
//! sweeps spread over the threads, so the `Auto` strategy runs a round only while the last
//! one covered enough of the rest to pay for it (progress x threads > 2k; the first round is
//! assumed to cover half). On a few cores that is the sequential greedy from the start; on
//! many cores the rounds do the bulk and the finish mops up the tail (a rank that follows a
//! grid's ids would otherwise advance one diagonal per round). Every strategy returns the
//! same set; only the reported round count depends on the thread count under `Auto`.

use rayon::prelude::*;

use super::rank::Rank;
use super::undirected::{prefetch, Rows, UndirectedGraph};
use crate::cancel::Cancel;
use crate::error::{invalid, Result};

/// Nodes per parallel task in the passes: big enough that a pass over a large graph is a few
/// hundred tasks, not millions (the machine may be shared, and every task costs a steal).
pub(crate) const MIN_LEN: usize = 1 << 12;

/// How far ahead in rank order the sequential greedy prefetches (see `sequential_greedy`).
const AHEAD: usize = 8;

/// How far ahead in a BFS frontier the rows are prefetched.
const FRONTIER_AHEAD: usize = 4;

/// Marks "no value" in the min passes and "farther than k" in distances.
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Parallel rounds while they pay for themselves, then the exact sequential finish.
    #[default]
    Auto,
    /// Parallel rounds only, until every node is covered.
    Rounds,
    /// The sequential greedy in rank order with a pruned BFS.
    Sequential,
    /// At most this many parallel rounds, then the sequential finish.
    Mixed(usize),
}

impl std::str::FromStr for Strategy {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Strategy::Auto),
            "rounds" => Ok(Strategy::Rounds),
            "sequential" => Ok(Strategy::Sequential),
            other => invalid(format!(
                "strategy must be \"auto\", \"rounds\" or \"sequential\", not {other:?}"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kmis {
    /// Selected node ids, ascending.
    pub selected: Vec<u32>,
    /// Parallel rounds run.
    pub rounds: usize,
    /// Nodes selected by the sequential finish.
    pub sequential_picks: usize,
    /// When the sequential greedy found the whole set: the centre of every node, i.e. its
    /// minimum-rank selected node within k hops (the first selected node to reach it).
    pub centres: Option<Vec<u32>>,
}

pub fn kmis(
    g: &UndirectedGraph,
    rank: &Rank,
    k: usize,
    strategy: Strategy,
    cancel: &Cancel,
) -> Result<Kmis> {
    let n = g.num_nodes();
    if rank.len() != n {
        return invalid(format!(
            "the rank has {} entries but the graph has {n} nodes",
            rank.len()
        ));
    }
    if k == 0 {
        return Ok(Kmis {
            selected: (0..n as u32).collect(),
            rounds: 0,
            sequential_picks: 0,
            centres: Some((0..n as u32).collect()),
        });
    }
    let k32 = u32::try_from(k).unwrap_or(u32::MAX - 1).min(u32::MAX - 1);
    let wants_round = |rounds: usize, progress: f64| wants_round(strategy, k, rounds, progress);
    if n == 0 || sequential_from_start(strategy, k) {
        let (selected, centres) = sequential_greedy(g, rank.order(), k32, cancel)?;
        return Ok(Kmis {
            sequential_picks: selected.len(),
            selected,
            rounds: 0,
            centres: Some(centres),
        });
    }
    let order = rank;
    let rank = rank.as_slice();
    // Distance to the nearest selected node when at most k, else NONE: 0 means selected.
    let mut dist = vec![NONE; n];
    let mut uncovered = n;
    let mut rounds = 0;
    let mut progress = 0.5f64;
    // Allocated by the first round: the sequential path never needs them.
    let mut scratch = Vec::new();
    let mut keys = Vec::new();
    while uncovered > 0 && wants_round(rounds, progress) {
        cancel.check()?;
        rounds += 1;
        scratch.resize(n, NONE);
        keys.resize(n, NONE);
        keys.par_iter_mut()
            .enumerate()
            .with_min_len(MIN_LEN)
            .for_each(|(v, key)| {
                *key = if dist[v] == NONE { rank[v] } else { NONE };
            });
        min_passes(g, &mut keys, &mut scratch, k, Some(&dist), cancel)?;
        dist.par_iter_mut()
            .enumerate()
            .with_min_len(MIN_LEN)
            .for_each(|(v, d)| {
                if *d == NONE && keys[v] == rank[v] {
                    *d = 0;
                }
            });
        distance_passes(g, &mut dist, &mut scratch, k32, cancel)?;
        let before = uncovered;
        uncovered = dist
            .par_iter()
            .with_min_len(MIN_LEN)
            .filter(|&&d| d == NONE)
            .count();
        progress = (before - uncovered) as f64 / before as f64;
    }
    drop(scratch);
    drop(keys);
    let mut sequential_picks = 0;
    if uncovered > 0 {
        sequential_picks = sequential_finish(g, order.order(), &mut dist, k32, cancel)?;
    }
    let selected = (0..n as u32).filter(|&v| dist[v as usize] == 0).collect();
    Ok(Kmis {
        selected,
        rounds,
        sequential_picks,
        centres: None,
    })
}

/// The whole greedy in rank order, from nothing covered: returns the selected nodes
/// (ascending) and every node's centre. The centre is the first selected node to reach a node,
/// which is its minimum-rank selected node within k hops: the pruned BFS of a selected node s
/// reaches every node within k hops of s that no earlier selected node covers (a path from s
/// is cut only at a node that an earlier selection covers within fewer hops, and then so are
/// the path's remaining nodes).
fn sequential_greedy(
    g: &UndirectedGraph,
    order: &[u32],
    k: u32,
    cancel: &Cancel,
) -> Result<(Vec<u32>, Vec<u32>)> {
    let n = order.len();
    if k == 1 {
        let centre = one_hop_greedy(g, order, cancel)?;
        let selected = (0..n as u32).filter(|&v| centre[v as usize] == v).collect();
        return Ok((selected, centre));
    }
    let mut centre = vec![NONE; n];
    let ahead = |i: usize, centre: &[u32]| prefetch_ahead(g, order, i, centre);
    {
        let mut dist = vec![NONE; n];
        let mut frontier = Vec::new();
        let mut next = Vec::new();
        for (i, &s) in order.iter().enumerate() {
            if i % 4096 == 0 {
                cancel.check()?;
            }
            ahead(i, &centre);
            if dist[s as usize] != NONE {
                continue;
            }
            dist[s as usize] = 0;
            centre[s as usize] = s;
            frontier.clear();
            frontier.push(s);
            for level in 1..=k {
                next.clear();
                for (j, &u) in frontier.iter().enumerate() {
                    if let Some(&x) = frontier.get(j + FRONTIER_AHEAD) {
                        g.prefetch_row(x);
                    }
                    for &w in g.neighbors(u) {
                        let d = &mut dist[w as usize];
                        if *d > level {
                            if *d == NONE {
                                centre[w as usize] = s;
                            }
                            *d = level;
                            if level < k {
                                g.prefetch_bounds(w);
                            }
                            next.push(w);
                        }
                    }
                }
                if next.is_empty() {
                    break;
                }
                std::mem::swap(&mut frontier, &mut next);
            }
        }
    }
    let selected = (0..n as u32).filter(|&v| centre[v as usize] == v).collect();
    Ok((selected, centre))
}

/// k passes of `keys[v] = min(keys[v], keys of v's neighbours)`, stopping early at a fixpoint.
/// Afterwards `keys[v]` is the minimum over the k-hop ball of v, for every v when `wanted`
/// is `None`, else for the nodes with `wanted[v] == NONE` (the last pass skips the others,
/// which in late rounds are almost all nodes).
pub(crate) fn min_passes(
    g: &UndirectedGraph,
    keys: &mut Vec<u32>,
    scratch: &mut Vec<u32>,
    k: usize,
    wanted: Option<&[u32]>,
    cancel: &Cancel,
) -> Result<()> {
    for pass in 0..k {
        cancel.check()?;
        let input = &keys[..];
        let last = pass + 1 == k;
        let changed: usize = scratch
            .par_iter_mut()
            .enumerate()
            .with_min_len(MIN_LEN)
            .map(|(v, out)| {
                let own = input[v];
                if last && wanted.is_some_and(|w| w[v] != NONE) {
                    *out = own;
                    return 0;
                }
                let mut best = own;
                for &u in g.neighbors(v as u32) {
                    best = best.min(input[u as usize]);
                }
                *out = best;
                usize::from(best != own)
            })
            .sum();
        std::mem::swap(keys, scratch);
        if changed == 0 {
            break;
        }
    }
    Ok(())
}

/// k passes of `dist[v] = min(dist[v], 1 + dist of v's neighbours)`, capped: values beyond k
/// stay NONE. Starting from exact capped distances plus new zeros, the result is exact again.
fn distance_passes(
    g: &UndirectedGraph,
    dist: &mut Vec<u32>,
    scratch: &mut Vec<u32>,
    k: u32,
    cancel: &Cancel,
) -> Result<()> {
    for _ in 0..k {
        cancel.check()?;
        let input = &dist[..];
        let changed: usize = scratch
            .par_iter_mut()
            .enumerate()
            .with_min_len(MIN_LEN)
            .map(|(v, out)| {
                let own = input[v];
                let mut best = own;
                if own > 1 {
                    for &u in g.neighbors(v as u32) {
                        let via = input[u as usize].saturating_add(1);
                        if via < best {
                            best = via;
                        }
                    }
                    if best > k {
                        best = NONE;
                    }
                }
                *out = best;
                usize::from(best != own)
            })
            .sum();
        std::mem::swap(dist, scratch);
        if changed == 0 {
            break;
        }
    }
    Ok(())
}

/// Whether another parallel round should run, after `rounds` of them, the last one covering
/// the fraction `progress` of the nodes it started with.
fn wants_round(strategy: Strategy, k: usize, rounds: usize, progress: f64) -> bool {
    let threads = rayon::current_num_threads().max(1) as f64;
    match strategy {
        Strategy::Rounds => true,
        Strategy::Sequential => false,
        Strategy::Mixed(limit) => rounds < limit,
        Strategy::Auto => progress * threads > 2.0 * k as f64,
    }
}

/// Whether the greedy runs sequentially from the start (the first round is assumed to cover
/// half the nodes).
pub(crate) fn sequential_from_start(strategy: Strategy, k: usize) -> bool {
    k > 0 && !wants_round(strategy, k, 0, 0.5)
}

/// Prefetches run ahead in rank order: bounds and centre two strides ahead, then the row one
/// stride ahead if the node is still uncovered (it will most likely be selected).
#[inline(always)]
fn prefetch_ahead<R: Rows>(rows: &R, order: &[u32], i: usize, centre: &[u32]) {
    if let Some(&v) = order.get(i + 2 * AHEAD) {
        rows.prefetch_bounds(v);
        prefetch(centre.as_ptr().wrapping_add(v as usize));
    }
    if let Some(&v) = order.get(i + AHEAD) {
        if centre[v as usize] == NONE {
            rows.prefetch_row(v);
        }
    }
}

/// The greedy for k = 1 in rank order: returns every node's centre (selected nodes are their
/// own centre). Covered means having a centre, so no distances are needed, and rows may
/// repeat neighbours.
///
/// Coverage is read from a bitmap (n / 8 bytes, in L1/L2), never from the centres, so the
/// centres are only written: a neighbour that is already covered sends its write to a spare
/// slot past the end instead of branching on a coin flip.
pub(crate) fn one_hop_greedy<R: Rows>(
    rows: &R,
    order: &[u32],
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let n = order.len();
    let mut covered = vec![0u64; n.div_ceil(64)];
    let mut centre = vec![NONE; n + 1];
    for (i, &s) in order.iter().enumerate() {
        if i % 4096 == 0 {
            cancel.check()?;
        }
        if let Some(&v) = order.get(i + 2 * AHEAD) {
            rows.prefetch_bounds(v);
        }
        if let Some(&v) = order.get(i + AHEAD) {
            if !is_set(&covered, v) {
                rows.prefetch_row(v);
            }
        }
        if is_set(&covered, s) {
            continue;
        }
        set(&mut covered, s);
        centre[s as usize] = s;
        claim(&mut covered, &mut centre, rows.row(s), s);
    }
    centre.truncate(n);
    Ok(centre)
}

#[inline(always)]
pub(super) fn is_set(bits: &[u64], v: u32) -> bool {
    bits[v as usize / 64] & (1u64 << (v % 64)) != 0
}

#[inline(always)]
pub(super) fn set(bits: &mut [u64], v: u32) {
    bits[v as usize / 64] |= 1u64 << (v % 64);
}

/// Makes the newly selected `s` the centre of every neighbour in `row` not covered yet, and
/// marks them covered. Without a branch per entry: a neighbour already covered writes its
/// centre to the spare slot `centre[n]` (`centre` holds one more entry than `covered` bits).
#[inline(always)]
pub(super) fn claim(covered: &mut [u64], centre: &mut [u32], row: &[u32], s: u32) {
    let spare = centre.len() - 1;
    for &w in row {
        let word = &mut covered[w as usize / 64];
        let bit = 1u64 << (w % 64);
        let slot = if *word & bit == 0 { w as usize } else { spare };
        *word |= bit;
        centre[slot] = s;
    }
}

/// The greedy in rank order over the uncovered nodes; returns how many it selected.
fn sequential_finish(
    g: &UndirectedGraph,
    order: &[u32],
    dist: &mut [u32],
    k: u32,
    cancel: &Cancel,
) -> Result<usize> {
    let mut picks = 0;
    let mut frontier = Vec::new();
    let mut next = Vec::new();
    for (i, &s) in order.iter().enumerate() {
        if i % 4096 == 0 {
            cancel.check()?;
        }
        if dist[s as usize] != NONE {
            continue;
        }
        picks += 1;
        dist[s as usize] = 0;
        frontier.clear();
        frontier.push(s);
        for level in 1..=k {
            next.clear();
            for &u in &frontier {
                for &w in g.neighbors(u) {
                    // A node already this close to some selected node passes nothing new on:
                    // everything it reaches within the remaining hops is covered already.
                    if dist[w as usize] > level {
                        dist[w as usize] = level;
                        next.push(w);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            std::mem::swap(&mut frontier, &mut next);
        }
    }
    Ok(picks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::coarsen::undirected::EdgeList;

    fn design_vector() -> UndirectedGraph {
        let e = EdgeList::new(&[0u32, 0, 1, 1, 2, 3], &[1, 4, 2, 4, 3, 4], None).unwrap();
        UndirectedGraph::from_edges(&e)
    }

    #[test]
    fn design_test_vector_every_strategy() {
        let g = design_vector();
        let rank = Rank::by_id(5);
        for strategy in [
            Strategy::Auto,
            Strategy::Rounds,
            Strategy::Sequential,
            Strategy::Mixed(1),
        ] {
            let run = |k| kmis(&g, &rank, k, strategy, never()).unwrap().selected;
            assert_eq!(run(0), vec![0, 1, 2, 3, 4]);
            assert_eq!(run(1), vec![0, 2]);
            assert_eq!(run(2), vec![0]);
        }
    }

    #[test]
    fn cancelled_between_rounds() {
        let g = design_vector();
        let cancel = Cancel::new();
        cancel.request();
        let err = kmis(&g, &Rank::by_id(5), 1, Strategy::Rounds, &cancel).unwrap_err();
        assert_eq!(err, crate::Error::Interrupted);
    }
}
