//! Beam search over scheduled sets. A state is a set of scheduled nodes (a downward-closed set);
//! two histories that reach the same set leave the same live values, so only the one with the
//! lower peak matters and the other is dropped. Sets are recognised by a Zobrist hash.

use std::collections::HashSet;

use super::greedy::lexicographic_less;
use super::partial::PartialSchedule;
use super::problem::Problem;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::rng::Rng;

/// Fixed seed of the Zobrist keys: the search itself is deterministic and takes no seed.
const ZOBRIST_SEED: u64 = 0x5A0B_2157_0000_0001;

struct Candidate {
    peak: f64,
    live: f64,
    hash: u64,
    parent: usize,
    node: u32,
}

/// Best order found by a beam of `width` states, each expanded by its `branching` most
/// promising ready nodes (ranked by peak, then live memory, after the step).
pub(crate) fn beam_order(
    problem: &Problem,
    width: usize,
    branching: usize,
    cancel: &Cancel,
) -> Result<Vec<u32>> {
    let n = problem.n();
    let width = width.max(1);
    let branching = branching.max(1);
    let mut rng = Rng::new(ZOBRIST_SEED);
    let zobrist: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    // History arena: (parent entry, node); `u32::MAX` marks the root.
    let mut history: Vec<(u32, u32)> = Vec::with_capacity(n * width);
    let mut beam: Vec<(PartialSchedule, u32)> = vec![(PartialSchedule::new(problem), u32::MAX)];
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut per_state: Vec<(f64, f64, u32)> = Vec::new();
    cancel.begin_stage("beam", n as u64);
    for step in 0..n {
        cancel.check()?;
        cancel.advance_to(step as u64);
        candidates.clear();
        for (parent, (state, _)) in beam.iter().enumerate() {
            per_state.clear();
            per_state.extend(state.ready().iter().map(|&v| {
                let (during, after) = state.preview(problem, v);
                (during.max(state.peak), after, v)
            }));
            if per_state.len() > branching {
                per_state.select_nth_unstable_by(branching - 1, |a, b| {
                    a.0.total_cmp(&b.0)
                        .then(a.1.total_cmp(&b.1))
                        .then(a.2.cmp(&b.2))
                });
                per_state.truncate(branching);
            }
            candidates.extend(per_state.iter().map(|&(peak, live, node)| Candidate {
                peak,
                live,
                hash: state.hash ^ zobrist[node as usize],
                parent,
                node,
            }));
        }
        candidates.sort_by(|a, b| {
            if lexicographic_less((a.peak, a.live), (b.peak, b.live)) {
                std::cmp::Ordering::Less
            } else if lexicographic_less((b.peak, b.live), (a.peak, a.live)) {
                std::cmp::Ordering::Greater
            } else {
                a.parent.cmp(&b.parent).then(a.node.cmp(&b.node))
            }
        });
        seen.clear();
        let mut next: Vec<(PartialSchedule, u32)> = Vec::with_capacity(width);
        for c in &candidates {
            if next.len() == width {
                break;
            }
            if !seen.insert(c.hash) {
                continue;
            }
            let (parent_state, parent_entry) = &beam[c.parent];
            let mut child = parent_state.clone();
            child.schedule(problem, c.node, &zobrist);
            history.push((*parent_entry, c.node));
            next.push((child, (history.len() - 1) as u32));
        }
        beam = next;
    }
    let best = beam
        .iter()
        .min_by(|a, b| a.0.peak.total_cmp(&b.0.peak))
        .map(|(_, entry)| *entry)
        .unwrap_or(u32::MAX);
    let mut order = Vec::with_capacity(n);
    let mut entry = best;
    while entry != u32::MAX {
        let (parent, node) = history[entry as usize];
        order.push(node);
        entry = parent;
    }
    order.reverse();
    Ok(order)
}
