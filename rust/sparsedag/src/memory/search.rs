//! `min_memory`: the greedy portfolio, then beam search, then annealing from the best order so
//! far; on small graphs the exact search is tried first under a modest state budget. Every
//! candidate is scored by the exact evaluator and the best one is returned, so the result is
//! never worse than any greedy rule.

use super::anneal::anneal_order;
use super::beam::beam_order;
use super::evaluate::peak_unchecked;
use super::exact::{exact_order, MAX_EXACT_NODES};
use super::greedy::{greedy_order, GreedyRule};
use super::problem::Problem;
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
}

impl Effort {
    /// Beam width 8 x effort, 150 x n x effort annealing moves, and an exact search of up to
    /// 100,000 x effort scheduled sets on graphs small enough for it.
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
            });
        }
        Ok(Effort {
            beam_width: (8.0 * effort).ceil() as usize,
            beam_branching: 8,
            anneal_moves: (150.0 * effort * n as f64).min(1e9) as usize,
            exact_states: (100_000.0 * effort).min(1e7) as usize,
        })
    }
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
            Err(Error::InvalidArgument(_)) => {} // too many sets: search heuristically
            Err(other) => return Err(other),
        }
    }
    // The greedy orders are still offered after an exact solve: with floating-point sizes
    // an optimal order can evaluate a rounding error above an equally good greedy one.
    for rule in GreedyRule::ALL {
        offer(&mut best, greedy_order(problem, rule));
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
    Ok(best.map(|(_, o)| o).unwrap_or_default())
}
