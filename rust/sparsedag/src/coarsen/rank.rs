//! Node priorities for the k-MIS: `rank[v]` is v's position in the priority order (0 first).
//! A rank is always a permutation, so there are no ties left for the rounds to break; ties in
//! scores are broken here, by node id, which keeps every result deterministic.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::kmis::MIN_LEN;
use super::undirected::UndirectedGraph;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::rng::Rng;

/// Holds the rank, its inverse (the order: `order[r]` is the node of rank r), or both; the
/// missing one is derived on first use. Sorting produces the order and the sequential greedy
/// consumes the order, so a rank that is only walked in order is never inverted.
#[derive(Debug, Clone)]
pub struct Rank {
    rank: OnceLock<Vec<u32>>,
    order: OnceLock<Vec<u32>>,
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Rank {}

/// Score heuristics of Bacciu et al.: divide the scores by the k-hop ball size `(A+I)^k 1`
/// (`Greedy`) or by the k-hop score mass `(A+I)^k s` (`WeightedGreedy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heuristic {
    Greedy,
    WeightedGreedy,
}

impl std::str::FromStr for Heuristic {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "greedy" => Ok(Heuristic::Greedy),
            "w-greedy" | "w_greedy" | "wgreedy" => Ok(Heuristic::WeightedGreedy),
            other => invalid(format!(
                "heuristic must be \"greedy\" or \"w-greedy\", not {other:?}"
            )),
        }
    }
}

impl Rank {
    /// Node id order: node 0 first.
    pub fn by_id(n: usize) -> Self {
        Rank::from_valid_rank((0..n as u32).collect())
    }

    fn from_valid_rank(rank: Vec<u32>) -> Self {
        Rank {
            rank: OnceLock::from(rank),
            order: OnceLock::new(),
        }
    }

    pub(crate) fn from_valid_order(order: Vec<u32>) -> Self {
        Rank {
            rank: OnceLock::new(),
            order: OnceLock::from(order),
        }
    }

    /// A uniformly random priority order, fixed by `seed`.
    pub fn random(n: usize, seed: u64) -> Self {
        Rank::from_valid_rank(Rng::new(seed).permutation(n))
    }

    /// An explicit rank: `rank[v]` is v's priority position; must be a permutation of 0..n.
    pub fn from_permutation(rank: Vec<u32>, n: usize) -> Result<Self> {
        if rank.len() != n {
            return invalid(format!(
                "rank has {} entries but the graph has {n} nodes",
                rank.len()
            ));
        }
        let mut seen_at = vec![u32::MAX; n];
        for (v, &r) in rank.iter().enumerate() {
            if r as usize >= n {
                return invalid(format!(
                    "rank must be a permutation of 0..{n}, but rank[{v}] = {r}"
                ));
            }
            let slot = &mut seen_at[r as usize];
            if *slot != u32::MAX {
                return invalid(format!(
                    "rank must be a permutation of 0..{n}, but rank[{}] and rank[{v}] are both {r}",
                    *slot
                ));
            }
            *slot = v as u32;
        }
        // The check built the inverse already.
        Ok(Rank {
            rank: OnceLock::from(rank),
            order: OnceLock::from(seen_at),
        })
    }

    /// Higher score first; equal scores by node id. Scores must be finite.
    pub fn from_scores(scores: &[f64], n: usize) -> Result<Self> {
        check_scores(scores, n)?;
        Ok(rank_descending(scores))
    }

    /// The heuristic rank: scores (ones when `None`) divided by the k-hop walk count or mass.
    pub fn heuristic(
        g: &UndirectedGraph,
        heuristic: Heuristic,
        scores: Option<&[f64]>,
        k: usize,
    ) -> Result<Self> {
        Self::heuristic_cancellable(g, heuristic, scores, k, crate::cancel::never())
    }

    /// [`Rank::heuristic`], stopping with `Interrupted` once `cancel` is requested: each hop
    /// is a pass over the edges, and k = 2**62 asked for that many.
    pub fn heuristic_cancellable(
        g: &UndirectedGraph,
        heuristic: Heuristic,
        scores: Option<&[f64]>,
        k: usize,
        cancel: &Cancel,
    ) -> Result<Self> {
        let n = g.num_nodes();
        if scores.is_none() {
            // Unit scores: both heuristics rank by the walk count alone, an integer.
            if let Some(order) = walk_count_order(g, k, cancel)? {
                return Ok(Rank::from_valid_order(order));
            }
        }
        let ones;
        let scores = match scores {
            Some(s) => {
                check_scores(s, n)?;
                s
            }
            None => {
                ones = vec![1.0; n];
                &ones
            }
        };
        if heuristic == Heuristic::WeightedGreedy {
            if let Some(v) = scores.iter().position(|&s| s <= 0.0) {
                return invalid(format!(
                    "the w-greedy heuristic divides by k-hop score sums, so scores must be \
                     positive, but scores[{v}] = {}",
                    scores[v]
                ));
            }
        }
        let start = match heuristic {
            Heuristic::Greedy => vec![1.0; n],
            Heuristic::WeightedGreedy => scores.to_vec(),
        };
        let mass = walk_mass(g, start, k, cancel)?;
        let keys: Vec<f64> = scores.par_iter().zip(&mass).map(|(&s, &m)| s / m).collect();
        Ok(rank_descending(&keys))
    }

    /// `rank[v]` is v's position in the priority order.
    pub fn as_slice(&self) -> &[u32] {
        self.rank
            .get_or_init(|| invert(self.order.get().map_or(&[], |o| &o[..])))
    }

    /// `order[r]` is the node of rank r.
    pub fn order(&self) -> &[u32] {
        self.order
            .get_or_init(|| invert(self.rank.get().map_or(&[], |r| &r[..])))
    }

    pub fn len(&self) -> usize {
        match (self.rank.get(), self.order.get()) {
            (Some(r), _) => r.len(),
            (_, Some(o)) => o.len(),
            (None, None) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The inverse of a permutation.
fn invert(permutation: &[u32]) -> Vec<u32> {
    let mut inverse = vec![0u32; permutation.len()];
    for (i, &p) in permutation.iter().enumerate() {
        inverse[p as usize] = i as u32;
    }
    inverse
}

fn check_scores(scores: &[f64], n: usize) -> Result<()> {
    if scores.len() != n {
        return invalid(format!(
            "scores has {} entries but the graph has {n} nodes",
            scores.len()
        ));
    }
    if let Some(v) = scores.iter().position(|s| !s.is_finite()) {
        return invalid(format!(
            "scores must be finite, but scores[{v}] = {}",
            scores[v]
        ));
    }
    Ok(())
}

/// Rank by decreasing key, ties by increasing id. Keys are finite; +0.0 and -0.0 are equal.
/// Sorting (key bits, id) pairs in place, instead of ids through a comparator that looks the
/// keys up, keeps every comparison in cache: about twice as fast on 250k nodes.
fn rank_descending(keys: &[f64]) -> Rank {
    let n = keys.len();
    let mut pairs: Vec<(u64, u32)> = keys
        .par_iter()
        .enumerate()
        .map(|(v, &key)| (descending_bits(key), v as u32))
        .collect();
    pairs.par_sort_unstable();
    let mut rank = vec![0u32; n];
    for (r, &(_, v)) in pairs.iter().enumerate() {
        rank[v as usize] = r as u32;
    }
    Rank::from_valid_rank(rank)
}

/// Maps a finite f64 to a u64 whose ascending order is the float's descending order.
fn descending_bits(key: f64) -> u64 {
    // Adding +0.0 turns -0.0 into +0.0, so the two zeros tie (and fall back to the id).
    let bits = (key + 0.0).to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    !ascending
}

/// Walk counts at or beyond this are left to the float path: below it they, their f64 sums
/// and their f64 reciprocals are all exact or strictly ordered, so ranking by the integer
/// count (ascending, ties by id) gives the same rank as ranking `1 / count` as a float.
const EXACT_COUNTS: u64 = 1 << 52;

/// The node order by increasing `(A+I)^k 1` (ties by id), or `None` if some count reaches
/// [`EXACT_COUNTS`]. The first step is the degree plus one, read off the CSR offsets, so k = 1
/// needs no pass over the edges; the sort is a stable counting sort (a radix sort for wide
/// counts) instead of a comparison sort of float keys.
fn walk_count_order(g: &UndirectedGraph, k: usize, cancel: &Cancel) -> Result<Option<Vec<u32>>> {
    let n = g.num_nodes();
    let offsets = g.offsets();
    if k == 0 {
        return Ok(Some((0..n as u32).collect()));
    }
    if k == 1 {
        let max = (0..n)
            .map(|v| offsets[v + 1] - offsets[v])
            .max()
            .unwrap_or(0) as u64
            + 1;
        if max >= EXACT_COUNTS {
            return Ok(None);
        }
        return Ok(Some(order_ascending(n, max, |v| {
            (offsets[v + 1] - offsets[v]) as u64 + 1
        })));
    }
    let mut x: Vec<u64> = (0..n)
        .map(|v| (offsets[v + 1] - offsets[v]) as u64 + 1)
        .collect();
    let mut next = vec![0u64; n];
    let mut max = x.iter().copied().max().unwrap_or(0);
    for _ in 1..k {
        cancel.check()?;
        max = next
            .par_iter_mut()
            .enumerate()
            .with_min_len(MIN_LEN)
            .map(|(v, out)| {
                let mut total = x[v];
                for &u in g.neighbors(v as u32) {
                    total = total.saturating_add(x[u as usize]);
                }
                *out = total;
                total
            })
            .max()
            .unwrap_or(0);
        std::mem::swap(&mut x, &mut next);
        if max >= EXACT_COUNTS {
            return Ok(None);
        }
        // Counts only grow where there are edges; once none changed (an edgeless graph),
        // every further hop gives the same counts.
        if x == next {
            break;
        }
    }
    drop(next);
    Ok(Some(order_ascending(n, max, |v| x[v])))
}

/// Nodes `0..n` sorted by `key` ascending, ties by id (every key at most `max`): one stable
/// counting sort when the keys are narrow, else an LSD radix sort of 11-bit digits.
pub(crate) fn order_ascending(n: usize, max: u64, key: impl Fn(usize) -> u64) -> Vec<u32> {
    const DIGIT_BITS: u32 = 11;
    let mut order = vec![0u32; n];
    if max < 1 << DIGIT_BITS {
        let mut next = vec![0usize; max as usize + 2];
        for v in 0..n {
            next[key(v) as usize + 1] += 1;
        }
        for b in 1..next.len() {
            next[b] += next[b - 1];
        }
        for v in 0..n {
            let slot = &mut next[key(v) as usize];
            order[*slot] = v as u32;
            *slot += 1;
        }
        return order;
    }
    let passes = (64 - max.leading_zeros()).div_ceil(DIGIT_BITS);
    let mut from: Vec<u32> = (0..n as u32).collect();
    for pass in 0..passes {
        let shift = pass * DIGIT_BITS;
        let digit = |v: u32| ((key(v as usize) >> shift) & ((1 << DIGIT_BITS) - 1)) as usize;
        let mut next = vec![0usize; (1 << DIGIT_BITS) + 1];
        for &v in &from {
            next[digit(v) + 1] += 1;
        }
        for b in 1..next.len() {
            next[b] += next[b - 1];
        }
        for &v in &from {
            let slot = &mut next[digit(v)];
            order[*slot] = v;
            *slot += 1;
        }
        std::mem::swap(&mut from, &mut order);
    }
    from
}

/// `(A+I)^k x` by k pull passes. After each pass the vector is rescaled by a power of two so
/// that long walks on dense graphs cannot overflow; a common factor does not change the rank,
/// and a power of two changes no mantissa bit.
fn walk_mass(g: &UndirectedGraph, mut x: Vec<f64>, k: usize, cancel: &Cancel) -> Result<Vec<f64>> {
    let mut next = vec![0.0f64; x.len()];
    for _ in 0..k {
        cancel.check()?;
        next.par_iter_mut()
            .enumerate()
            .with_min_len(MIN_LEN)
            .for_each(|(v, out)| {
                let mut total = x[v];
                for &u in g.neighbors(v as u32) {
                    total += x[u as usize];
                }
                *out = total;
            });
        std::mem::swap(&mut x, &mut next);
        let max = x.par_iter().copied().reduce(|| 0.0, f64::max);
        if max > 1e100 {
            let scale = 2f64.powi(-(max.log2().floor() as i32));
            x.par_iter_mut().for_each(|value| *value *= scale);
        }
        // A pass that changed nothing (an edgeless graph, or a walk vector that has
        // converged to its rescaled fixed point) will change nothing again.
        if x == next {
            break;
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coarsen::undirected::EdgeList;

    #[test]
    fn heuristic_walks_stop_when_cancelled() {
        let edges = EdgeList::new(&[0u32, 1, 2], &[1, 2, 3], None).unwrap();
        let g = UndirectedGraph::from_edges(&edges);
        let cancel = Cancel::new();
        cancel.request();
        for h in [Heuristic::Greedy, Heuristic::WeightedGreedy] {
            let r = Rank::heuristic_cancellable(&g, h, Some(&[1.0; 4]), usize::MAX, &cancel);
            assert!(matches!(r, Err(crate::error::Error::Interrupted)));
        }
    }

    #[test]
    fn scores_higher_first_ties_by_id() {
        let r = Rank::from_scores(&[1.0, 3.0, 3.0, -0.0, 0.0], 5).unwrap();
        assert_eq!(r.as_slice(), &[2, 0, 1, 3, 4]);
        assert_eq!(r.order(), &[1, 2, 0, 3, 4]);
        assert!(Rank::from_scores(&[1.0, f64::NAN], 2).is_err());
        assert!(Rank::from_scores(&[1.0], 2).is_err());
    }

    #[test]
    fn permutation_checked() {
        assert!(Rank::from_permutation(vec![1, 0, 2], 3).is_ok());
        let err = Rank::from_permutation(vec![1, 1, 2], 3).unwrap_err();
        assert!(err.to_string().contains("rank[0] and rank[1] are both 1"));
        assert!(Rank::from_permutation(vec![0, 3, 1], 3).is_err());
        assert!(Rank::from_permutation(vec![0, 1], 3).is_err());
    }

    #[test]
    fn greedy_prefers_small_balls() {
        // star with centre 0 and a pendant path 3-4: leaves have the smallest 1-hop balls
        let e = EdgeList::new(&[0u32, 0, 0, 3], &[1, 2, 3, 4], None).unwrap();
        let g = UndirectedGraph::from_edges(&e);
        let r = Rank::heuristic(&g, Heuristic::Greedy, None, 1).unwrap();
        // ball sizes: 0:4, 1:2, 2:2, 3:3, 4:2
        assert_eq!(r.as_slice(), &[4, 0, 1, 3, 2]);
        let w = Rank::heuristic(&g, Heuristic::WeightedGreedy, Some(&[1.0; 5]), 1).unwrap();
        assert_eq!(w, r);
        assert!(Rank::heuristic(
            &g,
            Heuristic::WeightedGreedy,
            Some(&[1.0, 0.0, 1.0, 1.0, 1.0]),
            1
        )
        .is_err());
    }

    #[test]
    fn order_ascending_is_a_stable_sort() {
        let mut rng = crate::rng::Rng::new(9);
        for (n, bound) in [
            (0usize, 1u64),
            (50, 3),
            (3000, 2047),
            (3000, 5000),
            (4000, 1 << 40),
        ] {
            let keys: Vec<u64> = (0..n).map(|_| rng.below(bound)).collect();
            let max = keys.iter().copied().max().unwrap_or(0);
            let mut expected: Vec<u32> = (0..n as u32).collect();
            expected.sort_by_key(|&v| (keys[v as usize], v));
            assert_eq!(order_ascending(n, max, |v| keys[v]), expected);
        }
    }

    #[test]
    fn huge_walk_counts_take_the_float_path() {
        // a clique of 60: (A+I)^k 1 = 60^k, beyond 2^52 from k = 9 on
        let n = 60u32;
        let src: Vec<u32> = (0..n).flat_map(|a| (a + 1..n).map(move |_| a)).collect();
        let dst: Vec<u32> = (0..n).flat_map(|a| a + 1..n).collect();
        // plus a pendant path so the counts differ
        let (mut src, mut dst) = (src, dst);
        src.extend([0, 60, 61]);
        dst.extend([60, 61, 62]);
        let g = UndirectedGraph::from_edges(&EdgeList::new(&src, &dst, None).unwrap());
        for k in [1, 2, 8, 9, 12] {
            let fast = Rank::heuristic(&g, Heuristic::Greedy, None, k).unwrap();
            let float = Rank::heuristic(&g, Heuristic::Greedy, Some(&[1.0; 63]), k).unwrap();
            assert_eq!(fast, float, "k = {k}");
            assert_eq!(
                walk_count_order(&g, k, crate::cancel::never())
                    .unwrap()
                    .is_some(),
                k < 9,
                "k = {k}"
            );
        }
    }

    #[test]
    fn walk_mass_does_not_overflow() {
        let n = 400u32;
        let src: Vec<u32> = (0..n).flat_map(|a| (a + 1..n).map(move |_| a)).collect();
        let dst: Vec<u32> = (0..n).flat_map(|a| a + 1..n).collect();
        let g = UndirectedGraph::from_edges(&EdgeList::new(&src, &dst, None).unwrap());
        let mass = walk_mass(&g, vec![1.0; n as usize], 200, crate::cancel::never()).unwrap();
        assert!(mass.iter().all(|m| m.is_finite() && *m > 0.0));
    }
}
