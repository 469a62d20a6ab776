//! Networks of maximal I/O efficiency: every neuron reads only values among the last M - 1
//! that entered fast memory (inputs enter when first read), so in generation order the working
//! set always fits and inference costs exactly the lower bound (each input loaded once, each
//! output written once, nothing spilled), for `degree <= M - 1` connections per neuron.

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
    for k in 0..neurons {
        let v = inputs + k;
        chosen.clear();
        if k < inputs {
            stream.push(k);
            chosen.push(k);
        }
        let recent = &stream[stream.len().saturating_sub(window)..];
        let want = degree.min(recent.len());
        while chosen.len() < want {
            let u = recent[rng.below(recent.len() as u64) as usize];
            if !chosen.contains(&u) {
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
