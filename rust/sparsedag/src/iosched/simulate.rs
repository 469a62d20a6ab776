//! The exact I/O simulator of a schedule with furthest-next-use eviction.
//!
//! For a fixed order the access sequence is fixed, and evicting the value whose next use is
//! furthest away minimises the number of loads (Belady). A computed value is written back at
//! most once: only when it is evicted while still needed (or is an output), after which slow
//! memory holds it for good, because values never change once computed.

use std::collections::BinaryHeap;

use super::network::Network;
use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::order::check_order;

const NEVER: u32 = u32::MAX;

/// One transfer: at the step that computes the `step`-th node of the order, `node`'s value
/// moved from slow to fast memory (`load`) or back (`!load`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoEvent {
    pub step: u32,
    pub node: u32,
    pub load: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoCost {
    pub loads: u64,
    pub stores: u64,
    /// One per connection when weight reads are counted, else 0.
    pub weight_reads: u64,
    pub trace: Vec<IoEvent>,
}

impl IoCost {
    pub fn total(&self) -> u64 {
        self.loads + self.stores + self.weight_reads
    }
}

/// Checks the fast-memory size: one slot for the accumulator and one for an operand.
pub(crate) fn check_fast_memory(network: &Network, fast_memory: usize) -> Result<()> {
    let needed = if network.dag.num_edges() > 0 { 2 } else { 1 };
    if fast_memory < needed {
        return invalid(format!(
            "fast_memory = {fast_memory} is too small: processing an edge needs the \
             accumulator and the operand in fast memory at once, so fast_memory must be >= 2"
        ));
    }
    Ok(())
}

/// The I/O of computing the network in `order` (a topological order of all nodes; inputs
/// may sit anywhere in it, they are loaded when first needed).
pub fn io_cost(
    network: &Network,
    order: &[u32],
    fast_memory: usize,
    count_weights: bool,
    record: bool,
    cancel: &Cancel,
) -> Result<IoCost> {
    check_order(network.dag, order)?;
    check_fast_memory(network, fast_memory)?;
    simulate(network, order, fast_memory, count_weights, record, cancel)
}

/// Index of the next access of the same value after each access; accesses are, per computed
/// node in order, its creation and then one use per in-edge.
fn next_uses(network: &Network, order: &[u32]) -> Vec<u32> {
    let dag = network.dag;
    let computed = order.iter().filter(|&&v| !network.input(v));
    let events: usize = computed.map(|&v| 1 + dag.in_degree(v)).sum();
    let mut next = vec![NEVER; events];
    let mut seen = vec![NEVER; network.num_nodes()];
    let mut p = events;
    for &v in order.iter().rev() {
        if network.input(v) {
            continue;
        }
        for &u in dag.predecessors(v).iter().rev() {
            p -= 1;
            next[p] = seen[u as usize];
            seen[u as usize] = p as u32;
        }
        p -= 1;
        next[p] = seen[v as usize];
        seen[v as usize] = p as u32;
    }
    next
}

pub(crate) fn simulate(
    network: &Network,
    order: &[u32],
    fast_memory: usize,
    count_weights: bool,
    record: bool,
    cancel: &Cancel,
) -> Result<IoCost> {
    let dag = network.dag;
    let n = network.num_nodes();
    let next = next_uses(network, order);
    let mut cost = IoCost {
        weight_reads: if count_weights {
            dag.num_edges() as u64
        } else {
            0
        },
        ..IoCost::default()
    };
    let mut resident = vec![false; n];
    let mut dirty = vec![false; n];
    let mut next_use = vec![NEVER; n];
    let mut heap: BinaryHeap<(u32, u32)> = BinaryHeap::new();
    let mut occupied = 0usize;
    let mut p = 0usize;
    let mut pinned = NEVER;

    // Frees one slot: evicts the resident value used furthest in the future.
    macro_rules! make_room {
        ($step:expr) => {
            while occupied >= fast_memory {
                let (when, value) = heap
                    .pop()
                    .expect("a full fast memory has an evictable value");
                let w = value as usize;
                if !resident[w] || next_use[w] != when || value == pinned {
                    continue; // stale entry
                }
                if dirty[w] {
                    cost.stores += 1;
                    dirty[w] = false;
                    if record {
                        cost.trace.push(IoEvent {
                            step: $step,
                            node: value,
                            load: false,
                        });
                    }
                }
                resident[w] = false;
                occupied -= 1;
            }
        };
    }
    // A value with no further use leaves at once; an unsaved output is written first.
    macro_rules! retire_if_dead {
        ($value:expr, $step:expr) => {
            let w = $value as usize;
            if next_use[w] == NEVER {
                if dirty[w] && network.output($value) {
                    cost.stores += 1;
                    if record {
                        cost.trace.push(IoEvent {
                            step: $step,
                            node: $value,
                            load: false,
                        });
                    }
                }
                dirty[w] = false;
                resident[w] = false;
                occupied -= 1;
            }
        };
    }

    for (t, &v) in order.iter().enumerate() {
        if network.input(v) {
            continue;
        }
        if t % 65_536 == 0 {
            cancel.check()?;
        }
        let step = t as u32;
        let created_at = p;
        make_room!(step);
        resident[v as usize] = true;
        dirty[v as usize] = true;
        occupied += 1;
        pinned = v;
        p += 1;
        for &u in dag.predecessors(v) {
            let w = u as usize;
            if !resident[w] {
                make_room!(step);
                cost.loads += 1;
                if record {
                    cost.trace.push(IoEvent {
                        step,
                        node: u,
                        load: true,
                    });
                }
                resident[w] = true;
                occupied += 1;
            }
            next_use[w] = next[p];
            p += 1;
            if next_use[w] != NEVER {
                heap.push((next_use[w], u));
            } else {
                retire_if_dead!(u, step);
            }
        }
        pinned = NEVER;
        next_use[v as usize] = next[created_at];
        if next_use[v as usize] != NEVER {
            heap.push((next_use[v as usize], v));
        } else {
            retire_if_dead!(v, step);
        }
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::never;
    use crate::graph::{Dag, DuplicatePolicy};

    #[test]
    fn chain_fits_and_wide_fan_in_spills() {
        // inputs 0, 1 -> 2 -> 3 (output)
        let g = Dag::from_edges(&[0u32, 1, 2], &[2, 2, 3], None, DuplicatePolicy::Reject).unwrap();
        let net = Network::new(&g, None, None).unwrap();
        let c = io_cost(&net, &[0, 1, 2, 3], 3, false, true, never()).unwrap();
        assert_eq!((c.loads, c.stores), (2, 1));
        assert_eq!(c.trace.len(), 3);
        let c = io_cost(&net, &[0, 1, 2, 3], 2, true, false, never()).unwrap();
        assert_eq!((c.loads, c.stores, c.weight_reads), (2, 1, 3));
        assert!(io_cost(&net, &[0, 1, 2, 3], 1, false, false, never()).is_err());
    }
}
