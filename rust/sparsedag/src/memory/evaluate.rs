//! The exact O(n + m) evaluator of an order's memory profile.

use super::problem::{Model, Problem};
use crate::error::Result;
use crate::order::check_order;

/// Live memory after each step: `after[t]` sums the sizes of the nodes computed at or before
/// step t that are outputs or still have a consumer after step t. `order` must be valid.
pub(crate) fn live_after(problem: &Problem, order: &[u32]) -> Vec<f64> {
    let n = problem.n();
    let mut position = vec![0usize; n];
    for (t, &v) in order.iter().enumerate() {
        position[v as usize] = t;
    }
    let mut change = vec![0.0f64; n];
    for (t, &v) in order.iter().enumerate() {
        let size = problem.size(v);
        change[t] += size;
        if let Some(last) = problem
            .dag
            .successors(v)
            .iter()
            .map(|&w| position[w as usize])
            .max()
        {
            change[last] -= size;
        }
    }
    let mut live = 0.0;
    change
        .into_iter()
        .map(|delta| {
            live += delta;
            live
        })
        .collect()
}

/// Memory during each step from the live memory after each step.
pub(crate) fn profile_from_live(problem: &Problem, order: &[u32], after: &[f64]) -> Vec<f64> {
    match problem.model {
        Model::FreeInputsFirst => after.to_vec(),
        Model::Coexist => order
            .iter()
            .enumerate()
            .map(|(t, &v)| {
                let before = if t == 0 { 0.0 } else { after[t - 1] };
                before + problem.size(v)
            })
            .collect(),
    }
}

/// The memory in use during each step of `order` (checked to be a topological order).
pub fn profile(problem: &Problem, order: &[u32]) -> Result<Vec<f64>> {
    check_order(problem.dag, order)?;
    Ok(profile_unchecked(problem, order))
}

pub(crate) fn profile_unchecked(problem: &Problem, order: &[u32]) -> Vec<f64> {
    let after = live_after(problem, order);
    profile_from_live(problem, order, &after)
}

/// The peak of the memory profile of `order` (0 for an empty graph).
pub fn peak_memory(problem: &Problem, order: &[u32]) -> Result<f64> {
    check_order(problem.dag, order)?;
    Ok(peak_unchecked(problem, order))
}

pub(crate) fn peak_unchecked(problem: &Problem, order: &[u32]) -> f64 {
    profile_unchecked(problem, order)
        .into_iter()
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Dag, DuplicatePolicy};

    #[test]
    fn diamond_profiles() {
        // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3
        let g = Dag::from_edges(
            &[0u32, 0, 1, 2],
            &[1, 2, 3, 3],
            None,
            DuplicatePolicy::Reject,
        )
        .unwrap();
        let sizes = [1.0, 2.0, 4.0, 8.0];
        let order = [0, 1, 2, 3];
        let co = Problem::new(&g, &sizes, Model::Coexist).unwrap();
        // steps: {0}=1, {0,1}=3, {0,1,2}=7 (0 freed after), {1,2,3}=14
        assert_eq!(profile(&co, &order).unwrap(), vec![1.0, 3.0, 7.0, 14.0]);
        let fif = Problem::new(&g, &sizes, Model::FreeInputsFirst).unwrap();
        // steps: 1, 3, {1,2}=6, {3}=8
        assert_eq!(profile(&fif, &order).unwrap(), vec![1.0, 3.0, 6.0, 8.0]);
        assert_eq!(peak_memory(&co, &order).unwrap(), 14.0);
        assert!(peak_memory(&co, &[1, 0, 2, 3]).is_err());
    }
}
