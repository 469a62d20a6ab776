//! Seeded random DAG generators. The same seed gives the same graph on every machine.

use std::collections::HashSet;

use super::{check_node_count, Dag, DuplicatePolicy};
use crate::cancel::Cancel;
use crate::error::{ensure_allocatable, invalid, Error, Result};
use crate::rng::Rng;

/// The most edges a generated graph may have.
const MAX_EDGES: u64 = u32::MAX as u64 * 4;

fn build(n: usize, src: &[u32], dst: &[u32]) -> Result<Dag> {
    Dag::from_edges(src, dst, Some(n as u64), DuplicatePolicy::Reject)
}

/// Maps the index of an unordered pair {i < j} in the row-major enumeration
/// (0,1), (0,2), ..., (0,n-1), (1,2), ... back to (i, j).
fn pair_from_index(n: u64, index: u64) -> (u64, u64) {
    // Row i starts at i*n - i*(i+1)/2 - ... ; solve the quadratic then correct rounding.
    let total_rows = n - 1;
    let nf = n as f64;
    let k = index as f64;
    let disc = (2.0 * nf - 1.0) * (2.0 * nf - 1.0) - 8.0 * k;
    let mut i = (((2.0 * nf - 1.0) - disc.max(0.0).sqrt()) / 2.0).floor() as u64;
    i = i.min(total_rows - 1);
    let row_start = |i: u64| i * (2 * n - i - 1) / 2;
    while i > 0 && row_start(i) > index {
        i -= 1;
    }
    while i + 1 < total_rows && row_start(i + 1) <= index {
        i += 1;
    }
    (i, i + 1 + (index - row_start(i)))
}

/// Erdős–Rényi DAG: every pair is joined with probability `p` (or exactly `m` distinct pairs
/// are drawn), each edge oriented along a random permutation of the nodes. Runs in O(n + m)
/// through geometric skipping over the pairs.
pub fn random_dag(n: u64, p: Option<f64>, m: Option<u64>, seed: u64) -> Result<Dag> {
    let n = check_node_count(n)?;
    let pairs = (n as u64) * (n as u64).saturating_sub(1) / 2;
    // Arguments are checked before anything is drawn: a dense p on a large n asks for more
    // edges than can ever be stored, and sampling them first would exhaust memory instead.
    let expected_edges = match (p, m) {
        (Some(p), None) => {
            if !(0.0..=1.0).contains(&p) {
                return invalid(format!("p must be a probability in [0, 1], got {p}"));
            }
            (pairs as f64 * p) as u64
        }
        (None, Some(m)) => {
            if m > pairs {
                return invalid(format!(
                    "m = {m} edges asked for, but {n} nodes have only {pairs} pairs"
                ));
            }
            m
        }
        _ => return invalid("give exactly one of p (edge probability) and m (edge count)"),
    };
    let too_many_edges = |value: u64| Error::TooLarge {
        what: "the number of edges",
        value,
        limit: MAX_EDGES,
    };
    if expected_edges > MAX_EDGES {
        return Err(too_many_edges(expected_edges));
    }
    // The sampled pair indices, the edge arrays and the graph: about 40 bytes an edge, 28 a node.
    ensure_allocatable(
        expected_edges as u128 * 40 + n as u128 * 28,
        "the random graph's edges and nodes",
    )?;
    let mut rng = Rng::new(seed);
    let rank = rng.permutation(n);
    let chosen: Vec<u64> = match p {
        Some(p) => sample_pairs_bernoulli(pairs, p, &mut rng),
        None => sample_pairs_exact(pairs, expected_edges, &mut rng),
    };
    if chosen.len() as u64 > MAX_EDGES {
        return Err(too_many_edges(chosen.len() as u64));
    }
    // Pair (i, j), i < j, becomes the edge rank[i] -> rank[j]: acyclic by construction.
    let mut src = Vec::with_capacity(chosen.len());
    let mut dst = Vec::with_capacity(chosen.len());
    for index in chosen {
        let (i, j) = pair_from_index(n as u64, index);
        src.push(rank[i as usize]);
        dst.push(rank[j as usize]);
    }
    build(n, &src, &dst)
}

fn sample_pairs_bernoulli(pairs: u64, p: f64, rng: &mut Rng) -> Vec<u64> {
    if p <= 0.0 || pairs == 0 {
        return Vec::new();
    }
    if p >= 1.0 {
        return (0..pairs).collect();
    }
    let log_q = (1.0 - p).ln();
    let mut chosen = Vec::with_capacity((pairs as f64 * p * 1.05) as usize + 16);
    let mut index: i128 = -1;
    loop {
        let r = 1.0 - rng.next_f64(); // in (0, 1]
        let skip = (r.ln() / log_q).floor();
        index += 1 + if skip.is_finite() {
            skip as i128
        } else {
            pairs as i128
        };
        if index >= pairs as i128 {
            return chosen;
        }
        chosen.push(index as u64);
    }
}

fn sample_pairs_exact(pairs: u64, m: u64, rng: &mut Rng) -> Vec<u64> {
    // Draw the smaller of the chosen set and its complement by rejection; both stay sparse.
    let take_complement = m > pairs / 2;
    let draws = if take_complement { pairs - m } else { m };
    let mut set = HashSet::with_capacity(draws as usize);
    while (set.len() as u64) < draws {
        set.insert(rng.below(pairs));
    }
    let mut chosen: Vec<u64> = if take_complement {
        (0..pairs).filter(|i| !set.contains(i)).collect()
    } else {
        set.into_iter().collect()
    };
    chosen.sort_unstable();
    chosen
}

/// A DAG whose nodes come with a planted layer, as returned by the layered generators.
#[derive(Debug, Clone)]
pub struct LayeredDag {
    pub dag: Dag,
    /// The layer each node was generated in.
    pub layer: Vec<u32>,
    /// Per-node output size (memory), where the generator defines one; empty otherwise.
    pub sizes: Vec<f64>,
}

/// Splits `n` nodes into `layers` layers of at least one node each, proportional to `weights`
/// by largest remainder.
fn layer_sizes(n: usize, weights: &[f64]) -> Vec<usize> {
    let layers = weights.len();
    let spare = n - layers;
    let total: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / total * spare as f64).collect();
    let mut sizes: Vec<usize> = exact.iter().map(|e| 1 + e.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..layers).collect();
    by_remainder.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let missing = n - sizes.iter().sum::<usize>();
    for &i in by_remainder.iter().take(missing) {
        sizes[i] += 1;
    }
    sizes
}

/// Joins consecutive layers with edge probability `density`, making sure every node past the
/// first layer has a predecessor in the layer just before it (so its planted layer is its
/// longest-path layer) and every node before the last has a successor in the next layer.
fn consecutive_layer_edges(
    starts: &[usize],
    density: f64,
    rng: &mut Rng,
    src: &mut Vec<u32>,
    dst: &mut Vec<u32>,
    cancel: &Cancel,
) -> Result<()> {
    for l in 0..starts.len().saturating_sub(2) {
        let (a0, a1, b1) = (starts[l], starts[l + 1], starts[l + 2]);
        let mut has_out = vec![false; a1 - a0];
        for v in a1..b1 {
            // Every pair of adjacent-layer nodes is visited, whatever the density: poll here
            // so that a graph of two huge layers can still be stopped.
            cancel.check()?;
            let mut has_in = false;
            for u in a0..a1 {
                if rng.next_f64() < density {
                    src.push(u as u32);
                    dst.push(v as u32);
                    has_in = true;
                    has_out[u - a0] = true;
                }
            }
            if !has_in {
                let u = a0 + rng.below((a1 - a0) as u64) as usize;
                src.push(u as u32);
                dst.push(v as u32);
                has_out[u - a0] = true;
            }
        }
        for (offset, _) in has_out.iter().enumerate().filter(|(_, &h)| !h) {
            let v = a1 + rng.below((b1 - a1) as u64) as usize;
            src.push((a0 + offset) as u32);
            dst.push(v as u32);
        }
    }
    Ok(())
}

/// Refuses a layered graph whose edges could not be stored, before any is drawn: about
/// `density` of the node pairs of adjacent layers (times `extra` for skip edges) plus one
/// fallback edge per node; the drawn edges, the graph and the layers cost about 40 bytes an
/// edge and 40 a node.
fn check_layered_size(starts: &[usize], density: f64, extra: f64) -> Result<()> {
    let n = starts.last().copied().unwrap_or(0);
    let pairs: f64 = starts
        .windows(3)
        .map(|w| (w[1] - w[0]) as f64 * (w[2] - w[1]) as f64)
        .sum();
    let expected = (pairs * density + n as f64) * extra;
    if expected > MAX_EDGES as f64 {
        return Err(Error::TooLarge {
            what: "the expected number of edges",
            value: expected as u64,
            limit: MAX_EDGES,
        });
    }
    ensure_allocatable(
        expected as u128 * 40 + n as u128 * 40,
        "the layered graph's edges and nodes",
    )
}

/// Topoformer-style layered graph (Gagrani et al., NeurIPS 2022): L = ceil(sqrt(n (1/W - 1)))
/// layers with W ~ U(0.25, 0.5), layer sizes spread ±75 % around n / L, consecutive-layer edge
/// density 0.2, skip edges adding 14 % more, and node sizes from a Gaussian mixture.
pub fn layered_graph(n: u64, seed: u64) -> Result<LayeredDag> {
    layered_graph_cancellable(n, seed, crate::cancel::never())
}

/// [`layered_graph`], stopping with `Interrupted` once `cancel` is requested.
pub fn layered_graph_cancellable(n: u64, seed: u64, cancel: &Cancel) -> Result<LayeredDag> {
    let n = check_node_count(n)?;
    // The layer weights and node arrays: about 40 bytes a node.
    ensure_allocatable(n as u128 * 40, "the layered graph's nodes")?;
    let mut rng = Rng::new(seed);
    if n == 0 {
        return Ok(LayeredDag {
            dag: build(0, &[], &[])?,
            layer: Vec::new(),
            sizes: Vec::new(),
        });
    }
    let w = rng.uniform(0.25, 0.5);
    let layers = ((n as f64 * (1.0 / w - 1.0)).sqrt().ceil() as usize).clamp(1, n);
    let weights: Vec<f64> = (0..layers).map(|_| rng.uniform(0.25, 1.75)).collect();
    let starts = layer_starts(&layer_sizes(n, &weights));
    check_layered_size(&starts, 0.2, 1.14)?;
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    consecutive_layer_edges(&starts, 0.2, &mut rng, &mut src, &mut dst, cancel)?;

    if layers >= 3 {
        let skip_edges = (0.14 * src.len() as f64).round() as usize;
        let mut present: HashSet<(u32, u32)> = HashSet::with_capacity(skip_edges);
        let mut attempts = 0;
        while present.len() < skip_edges && attempts < 20 * skip_edges + 100 {
            attempts += 1;
            let la = rng.below(layers as u64 - 2) as usize;
            let lb = la + 2 + rng.below((layers - la - 2) as u64) as usize;
            let u = starts[la] + rng.below((starts[la + 1] - starts[la]) as u64) as usize;
            let v = starts[lb] + rng.below((starts[lb + 1] - starts[lb]) as u64) as usize;
            if present.insert((u as u32, v as u32)) {
                src.push(u as u32);
                dst.push(v as u32);
            }
        }
    }

    const MEANS: [f64; 4] = [0.5, 1.0, 3.0, 5.0];
    const STDS: [f64; 4] = [0.5, 1.0, 1.0, 1.0];
    let sizes = (0..n)
        .map(|_| {
            let c = rng.below(4) as usize;
            (MEANS[c] + STDS[c] * rng.normal()).max(0.0)
        })
        .collect();
    Ok(LayeredDag {
        dag: build(n, &src, &dst)?,
        layer: planted_layers(&starts),
        sizes,
    })
}

fn layer_starts(sizes: &[usize]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(sizes.len() + 1);
    starts.push(0);
    for s in sizes {
        starts.push(starts.last().unwrap() + s);
    }
    starts
}

fn planted_layers(starts: &[usize]) -> Vec<u32> {
    let mut layer = vec![0u32; *starts.last().unwrap_or(&0)];
    for l in 0..starts.len().saturating_sub(1) {
        layer[starts[l]..starts[l + 1]].fill(l as u32);
    }
    layer
}

/// A DAG with a known optimal layering: `layers` layers of random sizes whose edges join
/// consecutive layers only, every node reachable from the layer before. Its planted layering
/// has every edge span 1, so it minimises height, total span and dummies at once; node ids are
/// shuffled so that algorithms cannot read the answer off the ids.
pub fn planted_layered(n: u64, layers: u64, density: f64, seed: u64) -> Result<LayeredDag> {
    planted_layered_cancellable(n, layers, density, seed, crate::cancel::never())
}

/// [`planted_layered`], stopping with `Interrupted` once `cancel` is requested.
pub fn planted_layered_cancellable(
    n: u64,
    layers: u64,
    density: f64,
    seed: u64,
    cancel: &Cancel,
) -> Result<LayeredDag> {
    let n = check_node_count(n)?;
    if layers == 0 || layers as usize > n.max(1) {
        return invalid(format!(
            "layers must be between 1 and the node count ({n}), got {layers}"
        ));
    }
    if !(0.0..=1.0).contains(&density) {
        return invalid(format!("density must be in [0, 1], got {density}"));
    }
    // The layer weights, the relabelling and the node arrays: about 40 bytes a node.
    ensure_allocatable(n as u128 * 40, "the layered graph's nodes")?;
    let mut rng = Rng::new(seed);
    if n == 0 {
        return Ok(LayeredDag {
            dag: build(0, &[], &[])?,
            layer: Vec::new(),
            sizes: Vec::new(),
        });
    }
    let weights: Vec<f64> = (0..layers).map(|_| rng.uniform(0.25, 1.75)).collect();
    let starts = layer_starts(&layer_sizes(n, &weights));
    check_layered_size(&starts, density, 1.0)?;
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    consecutive_layer_edges(&starts, density, &mut rng, &mut src, &mut dst, cancel)?;
    let by_position = planted_layers(&starts);
    let relabel = rng.permutation(n);
    let mut layer = vec![0u32; n];
    for (position, &id) in relabel.iter().enumerate() {
        layer[id as usize] = by_position[position];
    }
    let src: Vec<u32> = src.iter().map(|&u| relabel[u as usize]).collect();
    let dst: Vec<u32> = dst.iter().map(|&v| relabel[v as usize]).collect();
    Ok(LayeredDag {
        dag: build(n, &src, &dst)?,
        layer,
        sizes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_index_roundtrip() {
        for n in 2..30u64 {
            let mut index = 0;
            for i in 0..n {
                for j in i + 1..n {
                    assert_eq!(pair_from_index(n, index), (i, j), "n={n}");
                    index += 1;
                }
            }
        }
    }

    #[test]
    fn random_dag_is_seeded_and_sized() {
        let a = random_dag(1000, None, Some(5000), 3).unwrap();
        let b = random_dag(1000, None, Some(5000), 3).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.num_edges(), 5000);
        let c = random_dag(1000, Some(0.01), None, 3).unwrap();
        let expected = 0.01 * 1000.0 * 999.0 / 2.0;
        assert!((c.num_edges() as f64 - expected).abs() < 5.0 * expected.sqrt());
        assert_eq!(random_dag(5, Some(1.0), None, 0).unwrap().num_edges(), 10);
        assert!(random_dag(5, None, Some(11), 0).is_err());
        assert!(random_dag(5, None, None, 0).is_err());
    }

    #[test]
    fn layered_graph_respects_its_layers() {
        let g = layered_graph(500, 1).unwrap();
        assert_eq!(g.dag.num_nodes(), 500);
        assert_eq!(g.sizes.len(), 500);
        assert!(g.sizes.iter().all(|&s| s >= 0.0));
        for (u, v) in g.dag.edge_iter() {
            assert!(g.layer[u as usize] < g.layer[v as usize]);
        }
    }

    #[test]
    fn planted_edges_span_one_layer() {
        let g = planted_layered(300, 12, 0.1, 5).unwrap();
        for (u, v) in g.dag.edge_iter() {
            assert_eq!(g.layer[u as usize] + 1, g.layer[v as usize]);
        }
        assert_eq!(*g.layer.iter().max().unwrap(), 11);
    }
}
