//! Topological orders: Kahn (FIFO, deterministic), DFS reverse post-order, lexicographic by a
//! key, and generations (the ASAP layers as groups).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::error::{invalid, Result};
use crate::graph::Dag;
use crate::layering::asap;

/// Kahn's algorithm, FIFO, sources in id order and successors in id order.
pub fn kahn(dag: &Dag) -> Vec<u32> {
    dag.topological_order().to_vec()
}

/// Reverse post-order of an iterative depth-first search started at the sources in id order.
/// It keeps chains together, which tends to keep few values alive at once.
pub fn dfs(dag: &Dag) -> Vec<u32> {
    let n = dag.num_nodes();
    let mut visited = vec![false; n];
    let mut post = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if visited[root as usize] || dag.in_degree(root) != 0 {
            continue;
        }
        visited[root as usize] = true;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            let successors = dag.successors(v);
            if let Some(&w) = successors.get(next) {
                top.1 += 1;
                if !visited[w as usize] {
                    visited[w as usize] = true;
                    stack.push((w, 0));
                }
            } else {
                post.push(v);
                stack.pop();
            }
        }
    }
    post.reverse();
    post
}

/// The topological order that always takes the ready node with the smallest key (ties by id).
/// With `key = None` the key is the node id.
pub fn lexicographic(dag: &Dag, key: Option<&[f64]>) -> Result<Vec<u32>> {
    let key_of = |v: u32| -> OrderedKey { OrderedKey(key.map_or(v as f64, |k| k[v as usize])) };
    if let Some(k) = key {
        dag.check_per_node(k, "the key")?;
        if let Some(v) = k.iter().position(|x| x.is_nan()) {
            return invalid(format!("the key of node {v} is NaN"));
        }
    }
    let n = dag.num_nodes();
    let mut remaining: Vec<usize> = (0..n as u32).map(|v| dag.in_degree(v)).collect();
    let mut heap: BinaryHeap<Reverse<(OrderedKey, u32)>> = (0..n as u32)
        .filter(|&v| remaining[v as usize] == 0)
        .map(|v| Reverse((key_of(v), v)))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse((_, v))) = heap.pop() {
        order.push(v);
        for &w in dag.successors(v) {
            remaining[w as usize] -= 1;
            if remaining[w as usize] == 0 {
                heap.push(Reverse((key_of(w), w)));
            }
        }
    }
    Ok(order)
}

/// Total order on non-NaN f64 keys.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedKey(f64);
impl Eq for OrderedKey {}
impl PartialOrd for OrderedKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Topological generations as CSR: `offsets` (length height + 1) into `nodes`, each
/// generation sorted by id. Generation g holds the nodes whose longest incoming path has g edges.
pub fn generations(dag: &Dag) -> (Vec<usize>, Vec<u32>) {
    let layer = asap(dag);
    let height = layer.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut offsets = vec![0usize; height + 1];
    for &l in &layer {
        offsets[l as usize + 1] += 1;
    }
    for g in 0..height {
        offsets[g + 1] += offsets[g];
    }
    let mut cursor = offsets[..height].to_vec();
    let mut nodes = vec![0u32; layer.len()];
    for (v, &l) in layer.iter().enumerate() {
        nodes[cursor[l as usize]] = v as u32;
        cursor[l as usize] += 1;
    }
    (offsets, nodes)
}

/// Checks that `order` is a permutation of the nodes that respects every edge.
pub fn check_order(dag: &Dag, order: &[u32]) -> Result<()> {
    dag.check_per_node(order, "the order")?;
    let mut position = vec![usize::MAX; dag.num_nodes()];
    for (i, &v) in order.iter().enumerate() {
        match position.get_mut(v as usize) {
            Some(slot) if *slot == usize::MAX => *slot = i,
            Some(_) => return invalid(format!("node {v} appears twice in the order")),
            None => return invalid(format!("the order names node {v}, which does not exist")),
        }
    }
    if let Some((u, v)) = dag
        .edge_iter()
        .find(|&(u, v)| position[u as usize] > position[v as usize])
    {
        return invalid(format!(
            "not a topological order: the edge {u} -> {v} points backwards ({v} is at \
             position {}, its predecessor {u} at position {})",
            position[v as usize], position[u as usize]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;

    fn diamond() -> Dag {
        Dag::from_edges(
            &[0u32, 0, 1, 2],
            &[1, 2, 3, 3],
            Some(5),
            DuplicatePolicy::Reject,
        )
        .unwrap()
    }

    #[test]
    fn orders_are_valid() {
        let g = diamond();
        for order in [kahn(&g), dfs(&g), lexicographic(&g, None).unwrap()] {
            check_order(&g, &order).unwrap();
        }
        assert_eq!(kahn(&g), vec![0, 4, 1, 2, 3]);
        assert_eq!(dfs(&g), vec![4, 0, 2, 1, 3]);
        assert_eq!(lexicographic(&g, None).unwrap(), vec![0, 1, 2, 3, 4]);
        let key = [0.0, 5.0, 1.0, 0.0, -1.0];
        assert_eq!(lexicographic(&g, Some(&key)).unwrap(), vec![4, 0, 2, 1, 3]);
    }

    #[test]
    fn generations_group_asap_layers() {
        let (offsets, nodes) = generations(&diamond());
        assert_eq!(offsets, vec![0, 2, 4, 5]);
        assert_eq!(nodes, vec![0, 4, 1, 2, 3]);
    }
}

/// Order algorithms selectable by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Kahn,
    Dfs,
    Lexicographic,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Kahn, Method::Dfs, Method::Lexicographic];

    pub fn name(self) -> &'static str {
        match self {
            Method::Kahn => "kahn",
            Method::Dfs => "dfs",
            Method::Lexicographic => "lexicographic",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = crate::error::Error;
    fn from_str(name: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == name.to_ascii_lowercase())
            .map_or_else(
                || {
                    let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                    invalid(format!(
                        "unknown order method {name:?}; choose one of {}",
                        names.join(", ")
                    ))
                },
                Ok,
            )
    }
}

/// Runs the chosen order algorithm; `key` is only read by `Lexicographic`.
pub fn order(dag: &Dag, method: Method, key: Option<&[f64]>) -> Result<Vec<u32>> {
    if key.is_some() && method != Method::Lexicographic {
        return invalid(format!(
            "a key only applies to the lexicographic order, not to {:?}",
            method.name()
        ));
    }
    match method {
        Method::Kahn => Ok(kahn(dag)),
        Method::Dfs => Ok(dfs(dag)),
        Method::Lexicographic => lexicographic(dag, key),
    }
}
