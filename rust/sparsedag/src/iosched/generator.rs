//! Networks of maximal I/O efficiency: every neuron reads only values among the last M - 1
//! that entered fast memory (inputs enter when first read), so in generation order the working
//! set always fits and inference costs exactly the lower bound (each input loaded once, each
//! output written once, nothing spilled), for `degree <= M - 1` connections per neuron.

use crate::cancel::Cancel;
use crate::error::{ensure_allocatable, invalid, Error, Result};
use crate::graph::{Dag, DuplicatePolicy};
use crate::rng::Rng;

/// `inputs` inputs (ids `0..inputs`) and `neurons` neurons (the ids after), neuron k with
/// `degree` in-edges (fewer only where fewer earlier values exist) drawn from the last
/// `fast_memory - 1` values of the stream in which input k enters just before neuron k (and
/// is one of its inputs). Returns the DAG and its generation order (ids ascending).
pub fn io_efficient_network(
    inputs: usize,
    neurons: usize,
    degree: usize,
    fast_memory: usize,
    seed: u64,
) -> Result<(Dag, Vec<u32>)> {
    io_efficient_network_cancellable(
        inputs,
        neurons,
        degree,
        fast_memory,
        seed,
        crate::cancel::never(),
    )
}

/// [`io_efficient_network`], stopping with `Interrupted` once `cancel` is requested.
pub fn io_efficient_network_cancellable(
    inputs: usize,
    neurons: usize,
    degree: usize,
    fast_memory: usize,
    seed: u64,
    cancel: &Cancel,
) -> Result<(Dag, Vec<u32>)> {
    if fast_memory < 2 {
        return invalid(format!("fast_memory must be >= 2, got {fast_memory}"));
    }
    if degree == 0 || degree > fast_memory - 1 {
        return invalid(format!(
            "degree must lie in 1..={} (fast_memory - 1), got {degree}",
            fast_memory - 1
        ));
    }
    if inputs == 0 {
        return invalid("the network needs at least one input");
    }
    // Checked: two counts near 2**63 would wrap to a small node count in release builds.
    let n = match inputs.checked_add(neurons) {
        Some(n) if n as u64 <= u32::MAX as u64 => n,
        _ => {
            return invalid(format!(
                "{inputs} inputs and {neurons} neurons do not fit in u32 ids"
            ))
        }
    };
    let window = fast_memory - 1;
    // Each neuron reads at most `degree` of the last `window` values: refuse edge lists that
    // could not be stored before drawing them (the arrays and the graph, about 40 bytes an
    // edge and 40 a node).
    let edges = neurons as u128 * degree.min(window).min(n) as u128;
    if edges > u32::MAX as u128 * 4 {
        return Err(Error::TooLarge {
            what: "the number of edges",
            value: u64::try_from(edges).unwrap_or(u64::MAX),
            limit: u32::MAX as u64 * 4,
        });
    }
    ensure_allocatable(edges * 40 + n as u128 * 40, "the network's edges and nodes")?;
    let mut rng = Rng::new(seed);
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    // The stream of values in the order they enter fast memory: input k is loaded just before
    // the k-th neuron, which reads it, so every input is used (when there are enough neurons).
    let mut stream: Vec<usize> = Vec::with_capacity(n);
    // A neuron reads at most the values before it, whatever `degree` asks for.
    let mut chosen: Vec<usize> = Vec::with_capacity(degree.min(n));
    // Membership of `chosen`, so that a rejected draw costs O(1), not O(degree): with the
    // degree near the window, each neuron makes ~degree * ln(degree) draws.
    let mut is_chosen = vec![false; n];
    for k in 0..neurons {
        cancel.check()?;
        let v = inputs + k;
        for &u in &chosen {
            is_chosen[u] = false;
        }
        chosen.clear();
        if k < inputs {
            stream.push(k);
            chosen.push(k);
            is_chosen[k] = true;
        }
        let recent = &stream[stream.len().saturating_sub(window)..];
        let want = degree.min(recent.len());
        while chosen.len() < want {
            let u = recent[rng.below(recent.len() as u64) as usize];
            if !is_chosen[u] {
                is_chosen[u] = true;
                chosen.push(u);
            }
        }
        chosen.sort_unstable();
        for &u in &chosen {
            src.push(u as u32);
            dst.push(v as u32);
        }
        stream.push(v);
    }
    let dag = Dag::from_edges(&src, &dst, Some(n as u64), DuplicatePolicy::Reject)?;
    Ok((dag, (0..n as u32).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn generation_stops_when_cancelled() {
        // The draw loop used to ignore the cancel flag (and took O(degree) per rejected draw).
        let cancel = Cancel::new();
        cancel.request();
        let result = io_efficient_network_cancellable(100, 20_000, 2_000, 2_001, 0, &cancel);
        assert!(matches!(result, Err(Error::Interrupted)));
        let (dag, _) = io_efficient_network(3, 40, 50, 60, 5).unwrap();
        // neuron k reads every value before it: inputs 0..=k and neurons 0..k, then all
        let expected: usize =
            (0..3).map(|k| 2 * k + 1).sum::<usize>() + (3..40).map(|k| k + 3).sum::<usize>();
        assert_eq!(dag.num_edges(), expected);
    }
}
