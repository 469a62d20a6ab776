//! Exact minimum peak by dynamic programming over scheduled sets. The live values after a
//! prefix depend only on the set of scheduled nodes, and so does the memory of the next step,
//! so the best peak to reach a set is the minimum over its last node of the best peak of the
//! set without it and that last step. The number of sets (order ideals) can be exponential;
//! the search stops with an error past a state limit.

use std::collections::HashMap;

use super::problem::Problem;
use crate::cancel::Cancel;
use crate::error::{invalid, Error, Result};

/// Scheduled sets explored before giving up, unless the caller says otherwise.
pub const DEFAULT_MAX_STATES: usize = 2_000_000;

/// Sets are bit masks; the DP is meant for small graphs.
pub(crate) const MAX_EXACT_NODES: usize = 128;

#[derive(Clone, Copy)]
struct Entry {
    peak: f64,
    live: f64,
    /// The node scheduled last to reach this set with this peak.
    last: u32,
}

/// An order of minimum peak memory.
pub fn exact_order(problem: &Problem, max_states: usize, cancel: &Cancel) -> Result<Vec<u32>> {
    let dag = problem.dag;
    let n = problem.n();
    if n > MAX_EXACT_NODES {
        return invalid(format!(
            "method=\"exact\" handles at most {MAX_EXACT_NODES} nodes, the graph has {n}; \
             use method=\"min_memory\""
        ));
    }
    let bit = |v: u32| 1u128 << v;
    let preds: Vec<u128> = (0..n as u32)
        .map(|v| dag.predecessors(v).iter().fold(0, |m, &u| m | bit(u)))
        .collect();
    let succs: Vec<u128> = (0..n as u32)
        .map(|v| dag.successors(v).iter().fold(0, |m, &w| m | bit(w)))
        .collect();
    let mut levels: Vec<HashMap<u128, Entry>> = Vec::with_capacity(n + 1);
    levels.push(HashMap::from([(
        0u128,
        Entry {
            peak: 0.0,
            live: 0.0,
            last: u32::MAX,
        },
    )]));
    let mut total = 1usize;
    cancel.begin_stage("exact", n as u64);
    for step in 0..n {
        cancel.check()?;
        cancel.advance_to(step as u64);
        let current = levels.last().expect("levels start non-empty");
        // Expanding in sorted order makes the kept history (on equal peaks, the first found)
        // independent of hash-map iteration order.
        let mut sets: Vec<(&u128, &Entry)> = current.iter().collect();
        sets.sort_unstable_by_key(|(s, _)| **s);
        let mut next: HashMap<u128, Entry> = HashMap::new();
        for (&set, entry) in sets {
            for v in 0..n as u32 {
                if set & bit(v) != 0 || preds[v as usize] & !set != 0 {
                    continue;
                }
                let grown = set | bit(v);
                let freed: f64 = dag
                    .predecessors(v)
                    .iter()
                    .filter(|&&u| succs[u as usize] & !grown == 0)
                    .map(|&u| problem.size(u))
                    .sum();
                let (during, after) = problem.model.step(entry.live, problem.size(v), freed);
                let candidate = Entry {
                    peak: entry.peak.max(during),
                    live: after,
                    last: v,
                };
                match next.get_mut(&grown) {
                    Some(existing) if existing.peak <= candidate.peak => {}
                    Some(existing) => *existing = candidate,
                    None => {
                        total += 1;
                        if total > max_states {
                            return invalid(format!(
                                "method=\"exact\" gave up after {max_states} scheduled sets \
                                 (max_states); the graph has too many partial orders for the \
                                 exact search: use method=\"min_memory\" or raise max_states"
                            ));
                        }
                        // A large max_states lets the table outgrow memory; the growth must
                        // end in an error, not an abort.
                        next.try_reserve(1).map_err(|_| Error::OutOfMemory {
                            what: "the scheduled sets of the exact search",
                            bytes: (total as u128) * std::mem::size_of::<(u128, Entry)>() as u128,
                        })?;
                        next.insert(grown, candidate);
                    }
                }
            }
        }
        levels.push(next);
    }
    let mut order = Vec::with_capacity(n);
    let mut set: u128 = if n == 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    };
    for level in levels.iter().rev() {
        let Some(entry) = level.get(&set) else { break };
        if entry.last == u32::MAX {
            break;
        }
        order.push(entry.last);
        set &= !bit(entry.last);
    }
    order.reverse();
    Ok(order)
}
