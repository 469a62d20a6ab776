//! `min_memory`: the greedy portfolio, then beam search, then annealing from the best order so
//! far, then window re-optimisation around the peak of the annealed order; on small graphs the
//! exact search is tried first under a modest state budget. Every candidate is scored by the
//! exact evaluator and the best one is returned, so the result is never worse than any greedy
//! rule.

use super::anneal::anneal_order;
use super::beam::beam_order;
use super::evaluate::peak_unchecked;
use super::exact::{exact_order, MAX_EXACT_NODES};
use super::greedy::{greedy_order_cancellable, GreedyRule};
use super::problem::Problem;
use super::window::polish;
use crate::cancel::Cancel;
use crate::error::{invalid, Error, Result};
use crate::order::{dfs, kahn};

/// How hard `min_memory` searches; `effort = 1` is the default, 0 keeps the greedy portfolio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effort {
    pub beam_width: usize,
    pub beam_branching: usize,
    pub anneal_moves: usize,
    /// State budget of the exact search tried first (0: skip it).
    pub exact_states: usize,
    /// Steps per re-optimised window around the peak (0: no window search).
    pub window_len: usize,
    /// Beam width of each window search.
    pub window_width: usize,
    /// Windows in a row that may fail to lower the peak before the window search stops.
    pub window_tries: usize,
}

impl Effort {
    /// At `effort = e` on `n` nodes: beam width `ceil(8 e)` (at most `max(8, 2^24 / n)`); `e * max(150 n, min(300 n,
    /// 300,000))` annealing moves (300 per node, at most 300,000, never fewer than 150 per
    /// node); windows of 40 steps re-ordered by a beam of width `ceil(128 e)` until
    /// `ceil(5 e)` windows in a row fail; and an exact search of up to `100,000 e` scheduled
    /// sets on graphs small enough for it. Work grows linearly with `e`.
    pub fn scaled(effort: f64, n: usize) -> Result<Self> {
        if !effort.is_finite() || effort < 0.0 {
            return invalid(format!("effort must be a finite number >= 0, got {effort}"));
        }
        if effort == 0.0 {
            return Ok(Effort {
                beam_width: 0,
                beam_branching: 0,
                anneal_moves: 0,
                exact_states: 0,
                window_len: 0,
                window_width: 0,
                window_tries: 0,
            });
        }
        Ok(Effort {
            beam_width: (8.0 * effort).ceil().min(max_beam_width(n) as f64) as usize,
            beam_branching: 8,
            anneal_moves: (effort * moves_per_unit_effort(n)).min(1e9) as usize,
            exact_states: (100_000.0 * effort).min(1e7) as usize,
            window_len: WINDOW_LEN,
            window_width: (128.0 * effort).ceil().min(1e6) as usize,
            window_tries: (5.0 * effort).ceil().min(1e6) as usize,
        })
    }
}

/// The widest beam on `n` nodes: every beam state holds O(n) data and the history n entries per
/// state, so an unbounded width (effort=1e9 asked for 8e9 states) would exhaust memory before
/// the search starts. About 2^24 node slots stay within a few hundred MB; the default width of
/// 8 is never cut.
fn max_beam_width(n: usize) -> usize {
    ((1usize << 24) / n.max(1)).max(8)
}

/// Steps of one re-optimised window: long enough to re-order about a layer of a
/// Topoformer-style graph, short enough for a beam of a few hundred subsets to stay cheap.
const WINDOW_LEN: usize = 40;

/// Annealing moves at `effort = 1`: the search improves slowly with more moves, so graphs of
/// up to 2,000 nodes get 300 per node (at most 300,000), larger ones 150 per node.
fn moves_per_unit_effort(n: usize) -> f64 {
    let n = n as f64;
    (150.0 * n).max((300.0 * n).min(300_000.0))
}

/// A memory-minimising topological order.
pub fn min_memory_order(
    problem: &Problem,
    effort: Effort,
    seed: u64,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let mut best: Option<(f64, Vec<u32>)> = None;
    let offer = |best: &mut Option<(f64, Vec<u32>)>, order: Vec<u32>| {
        let peak = peak_unchecked(problem, &order);
        if best.as_ref().is_none_or(|(p, _)| peak < *p) {
            *best = Some((peak, order));
        }
    };
    let mut solved = false;
    if effort.exact_states > 0 && problem.n() <= MAX_EXACT_NODES {
        match exact_order(problem, effort.exact_states, cancel) {
            Ok(optimal) => {
                offer(&mut best, optimal);
                solved = true;
            }
            // too many sets, or no memory for them: search heuristically
            Err(Error::InvalidArgument(_) | Error::OutOfMemory { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    // The greedy orders are still offered after an exact solve: with floating-point sizes
    // an optimal order can evaluate a rounding error above an equally good greedy one.
    for rule in GreedyRule::ALL {
        offer(&mut best, greedy_order_cancellable(problem, rule, cancel)?);
    }
    offer(&mut best, kahn(problem.dag));
    offer(&mut best, dfs(problem.dag));
    cancel.check()?;
    if effort.beam_width > 0 && !solved {
        offer(
            &mut best,
            beam_order(problem, effort.beam_width, effort.beam_branching, cancel)?,
        );
    }
    if effort.anneal_moves > 0 && !solved {
        let start = best.as_ref().map(|(_, o)| o.clone()).unwrap_or_default();
        offer(
            &mut best,
            anneal_order(problem, &start, effort.anneal_moves, seed, cancel)?,
        );
    }
    if effort.window_len > 1 && effort.window_tries > 0 && !solved {
        let start = best.as_ref().map(|(_, o)| o.clone()).unwrap_or_default();
        offer(
            &mut best,
            polish(
                problem,
                &start,
                effort.window_len,
                effort.window_width,
                effort.window_tries,
                seed,
                cancel,
            )?,
        );
    }
    Ok(best.map(|(_, o)| o).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_effort_keeps_the_beam_allocatable() {
        // effort=1e300 used to ask for a beam of 8e300 states (a capacity-overflow panic);
        // 1e9 for a history of 1.6e13 entries (an aborting allocation).
        for effort in [1e9, 1e300] {
            let e = Effort::scaled(effort, 2000).unwrap();
            assert_eq!(e.beam_width, (1 << 24) / 2000);
        }
        assert_eq!(Effort::scaled(1.0, 10_000_000).unwrap().beam_width, 8);
    }
}
