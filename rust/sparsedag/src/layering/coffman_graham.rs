//! Coffman–Graham layering with a width bound W: no layer holds more than W real nodes, and the
//! height is at most (2 - 2/W) times the smallest height any layering of width W achieves
//! (Lam and Sethi, 1977) for W >= 2.
//!
//! The textbook runs the labelling on the transitive reduction. Computing that costs far more
//! than the layering itself on large graphs, so the labelling here runs on the edges as given;
//! transitive edges only add entries to the label lists that are compared, and every result is a
//! valid width-bounded layering either way.

use std::collections::{BinaryHeap, VecDeque};

use crate::error::{invalid, Result};
use crate::graph::Dag;

/// Coffman–Graham layering with at most `width` real nodes per layer. Sources end up near layer
/// 0 and every edge goes to a higher layer; layer 0 is never empty. Errors if `width` is 0.
///
/// Runs in O((n + m) log n): the labelling sorts each node's predecessor labels once and
/// compares lists only among nodes freed by the same label (each comparison costs at most the
/// shorter list), and the layer filling is a heap sweep.
pub fn coffman_graham(dag: &Dag, width: usize) -> Result<Vec<u32>> {
    if width == 0 {
        return invalid("the width bound of the Coffman-Graham layering must be at least 1");
    }
    let label = labels(dag);
    Ok(fill_layers(dag, &label, width))
}

/// Phase 1: label the nodes 0..n so that each next label goes to the ready node (all
/// predecessors labelled) whose predecessor labels, sorted decreasingly, are lexicographically
/// smallest (a proper prefix counts as smaller). Ties go to the smaller node id.
///
/// A node's list is fixed once it becomes ready, and its largest entry is the label given at
/// that moment, which is larger than every label before it. So nodes that become ready later
/// always compare larger, and the ready set is a FIFO of groups: the nodes freed by label t,
/// sorted among themselves once, queue behind every node freed earlier. Lists are only built
/// for groups of two or more, which keeps the common case at the cost of a topological sort.
fn labels(dag: &Dag) -> Vec<u32> {
    let n = dag.num_nodes();
    let mut waiting: Vec<u32> = (0..n as u32).map(|v| dag.in_degree(v) as u32).collect();
    let mut label = vec![0u32; n];

    let mut ready: VecDeque<u32> = (0..n as u32)
        .filter(|&v| waiting[v as usize] == 0)
        .collect();
    let mut freed: Vec<u32> = Vec::new();
    // Scratch for the group being sorted: each member's list and where it starts.
    let mut lists: Vec<u32> = Vec::new();
    let mut members: Vec<(u32, usize, usize)> = Vec::new();
    let mut next = 0u32;
    while let Some(v) = ready.pop_front() {
        label[v as usize] = next;
        next += 1;
        for &w in dag.successors(v) {
            let slot = &mut waiting[w as usize];
            *slot -= 1;
            if *slot == 0 {
                freed.push(w);
            }
        }
        if freed.len() > 1 {
            lists.clear();
            members.clear();
            for &w in &freed {
                let start = lists.len();
                lists.extend(dag.predecessors(w).iter().map(|&u| label[u as usize]));
                lists[start..].sort_unstable_by(|a, b| b.cmp(a));
                members.push((w, start, lists.len()));
            }
            members
                .sort_unstable_by(|a, b| lists[a.1..a.2].cmp(&lists[b.1..b.2]).then(a.0.cmp(&b.0)));
            ready.extend(members.iter().map(|m| m.0));
            freed.clear();
        } else {
            ready.extend(freed.drain(..));
        }
    }
    label
}

/// Phase 2: fill layers from the sinks up. A node qualifies for the current layer once all its
/// successors sit in layers already closed; the largest label among the qualified goes next.
fn fill_layers(dag: &Dag, label: &[u32], width: usize) -> Vec<u32> {
    let n = dag.num_nodes();
    // The heap holds labels with the node id in the low half, so no lookup back is needed.
    let key = |v: usize| (u64::from(label[v]) << 32) | v as u64;
    let mut unplaced_succ: Vec<u32> = (0..n as u32).map(|v| dag.out_degree(v) as u32).collect();
    let mut qualified: BinaryHeap<u64> =
        (0..n).filter(|&v| unplaced_succ[v] == 0).map(key).collect();
    let mut from_bottom = vec![0u32; n];
    let mut current: Vec<u32> = Vec::with_capacity(width.min(n));
    let mut level = 0u32;
    let mut placed = 0usize;
    while placed < n {
        if current.len() < width {
            if let Some(k) = qualified.pop() {
                let v = k as u32;
                from_bottom[v as usize] = level;
                current.push(v);
                placed += 1;
                continue;
            }
        }
        if current.is_empty() {
            // Unreachable on an acyclic graph: when a layer opens, the unplaced nodes have a
            // sink among themselves, and it qualifies. Stopping beats looping forever.
            break;
        }
        // Only closing the layer releases the predecessors, so a node never lands in the same
        // layer as one of its successors.
        for &v in &current {
            for &u in dag.predecessors(v) {
                let u = u as usize;
                unplaced_succ[u] -= 1;
                if unplaced_succ[u] == 0 {
                    qualified.push(key(u));
                }
            }
        }
        current.clear();
        level += 1;
    }
    let top = if current.is_empty() {
        level.saturating_sub(1)
    } else {
        level
    };
    from_bottom.into_iter().map(|b| top - b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;
    use crate::layering::{alap, check_layering, layering_metrics};

    fn dag(n: u64, edges: &[(u32, u32)]) -> Dag {
        let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
        let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
        Dag::from_edges(&src, &dst, Some(n), DuplicatePolicy::Reject).unwrap()
    }

    #[test]
    fn width_zero_is_rejected() {
        let g = dag(2, &[(0, 1)]);
        assert!(matches!(
            coffman_graham(&g, 0),
            Err(crate::Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(coffman_graham(&dag(0, &[]), 3).unwrap(), Vec::<u32>::new());
        assert_eq!(coffman_graham(&dag(1, &[]), 1).unwrap(), vec![0]);
    }

    #[test]
    fn labels_follow_the_lexicographic_rule() {
        // Sources 0, 1 get labels 0, 1. Node 2 (preds {0}) and node 3 (preds {1, 0}) and node 4
        // (preds {1}): after label 1 both 3 and 4 are freed; 3 has list (1, 0) and 4 has (1), so
        // 4 is smaller. Node 2 was freed by label 0 and comes first.
        let g = dag(5, &[(0, 2), (0, 3), (1, 3), (1, 4)]);
        assert_eq!(labels(&g), vec![0, 1, 2, 4, 3]);
    }

    #[test]
    fn respects_the_width_and_the_edges() {
        // Four independent chains of length 3: width 2 needs 6 layers.
        let edges: Vec<(u32, u32)> = (0..4u32)
            .flat_map(|c| [(3 * c, 3 * c + 1), (3 * c + 1, 3 * c + 2)])
            .collect();
        let g = dag(12, &edges);
        let layer = coffman_graham(&g, 2).unwrap();
        check_layering(&g, &layer).unwrap();
        let m = layering_metrics(&g, &layer).unwrap();
        assert!(m.width <= 2);
        assert_eq!(m.height, 6);
        assert_eq!(*layer.iter().min().unwrap(), 0);
    }

    #[test]
    fn width_one_is_a_topological_order() {
        let g = dag(4, &[(0, 1), (0, 2), (2, 3)]);
        let layer = coffman_graham(&g, 1).unwrap();
        check_layering(&g, &layer).unwrap();
        let mut sorted = layer.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3]);
    }

    #[test]
    fn unbounded_width_is_alap() {
        let g = dag(6, &[(0, 1), (1, 2), (3, 2), (4, 5)]);
        assert_eq!(coffman_graham(&g, 6).unwrap(), alap(&g));
    }
}
