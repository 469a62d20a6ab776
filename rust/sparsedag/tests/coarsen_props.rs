//! k-MIS coarsening against a brute-force sequential reference: the greedy maximal
//! independent set of the explicitly built k-th power graph, clusters by exhaustive search,
//! contraction and pooling by hash maps; plus the invariants the paper proves.

#![allow(clippy::needless_range_loop)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::OnceLock;

use proptest::prelude::*;
use sparsedag::cancel::never;
use sparsedag::coarsen::{
    assign_clusters, contract, kmis, kmis_clusters_from_ids, pool, EdgeList, Heuristic, PoolReduce,
    Rank, RankSpec, Reduce, Strategy as KmisStrategy, UndirectedGraph,
};

/// A random multigraph with self-loops and repeated edges allowed (the builder must cope).
fn any_graph() -> impl Strategy<Value = (usize, Vec<u32>, Vec<u32>)> {
    (0usize..24).prop_flat_map(|n| {
        let ids = 0..n.max(1) as u32;
        let m = if n == 0 { 0..1 } else { 0..3 * n + 1 };
        (
            Just(n),
            proptest::collection::vec((ids.clone(), ids), m)
                .prop_map(|pairs| pairs.into_iter().unzip::<u32, u32, Vec<u32>, Vec<u32>>()),
        )
            .prop_map(|(n, (s, d))| (n, s, d))
    })
}

/// Hop distances from `s` in the simple undirected graph (usize::MAX when unreachable).
fn bfs(n: usize, adj: &[Vec<u32>], s: usize) -> Vec<usize> {
    let mut dist = vec![usize::MAX; n];
    dist[s] = 0;
    let mut queue = VecDeque::from([s]);
    while let Some(u) = queue.pop_front() {
        for &w in &adj[u] {
            if dist[w as usize] == usize::MAX {
                dist[w as usize] = dist[u] + 1;
                queue.push_back(w as usize);
            }
        }
    }
    dist
}

fn adjacency(n: usize, src: &[u32], dst: &[u32]) -> Vec<Vec<u32>> {
    let mut adj = vec![Vec::new(); n];
    for (&a, &b) in src.iter().zip(dst) {
        if a != b {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
    }
    adj
}

fn all_distances(n: usize, adj: &[Vec<u32>]) -> Vec<Vec<usize>> {
    (0..n).map(|s| bfs(n, adj, s)).collect()
}

/// Sequential greedy MIS of G^k by rank, with G^k built explicitly.
fn reference_kmis(dist: &[Vec<usize>], rank: &[u32], k: usize) -> Vec<u32> {
    let n = rank.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&v| rank[v]);
    let mut blocked = vec![false; n];
    let mut selected = Vec::new();
    for v in order {
        if !blocked[v] {
            selected.push(v as u32);
            for u in 0..n {
                if dist[v][u] <= k {
                    blocked[u] = true;
                }
            }
        }
    }
    selected.sort_unstable();
    selected
}

fn rank_of(n: usize, kind: u8, seed: u64, g: &UndirectedGraph, k: usize) -> Rank {
    match kind % 4 {
        0 => Rank::by_id(n),
        1 => Rank::random(n, seed),
        2 => Rank::heuristic(g, Heuristic::Greedy, None, k).unwrap(),
        _ => {
            let scores: Vec<f64> = (0..n).map(|v| ((v as u64 * 7 + seed) % 5) as f64).collect();
            Rank::from_scores(&scores, n).unwrap()
        }
    }
}

/// Runs `f` on a shared pool of 1, 2 or 8 threads (8 makes `Auto` run parallel rounds
/// before its sequential finish).
fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    static POOLS: OnceLock<Vec<rayon::ThreadPool>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| {
        [1, 2, 8]
            .iter()
            .map(|&t| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap()
            })
            .collect()
    });
    let pool = pools
        .iter()
        .find(|p| p.current_num_threads() == threads)
        .expect("a pool of 1, 2 or 8 threads");
    pool.install(f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn kmis_matches_greedy_on_power_graph(
        (n, src, dst) in any_graph(), k in 0usize..5, kind in 0u8..4, seed in any::<u64>()
    ) {
        let edges = EdgeList::new(&src, &dst, Some(n as u64)).unwrap();
        let g = UndirectedGraph::from_edges(&edges);
        let rank = rank_of(n, kind, seed, &g, k);
        let adj = adjacency(n, &src, &dst);
        let dist = all_distances(n, &adj);
        let expected = reference_kmis(&dist, rank.as_slice(), k);
        for strategy in [
            KmisStrategy::Auto,
            KmisStrategy::Rounds,
            KmisStrategy::Sequential,
            KmisStrategy::Mixed(1),
            KmisStrategy::Mixed(2),
        ] {
            for threads in [1, 2, 8] {
                let got = in_pool(threads, || kmis(&g, &rank, k, strategy, never()).unwrap());
                prop_assert_eq!(&got.selected, &expected, "{:?} threads={}", strategy, threads);
            }
        }
        // k-independent and maximal
        for (i, &s) in expected.iter().enumerate() {
            for &t in &expected[i + 1..] {
                prop_assert!(dist[s as usize][t as usize] > k);
            }
        }
        for v in 0..n {
            prop_assert!(expected.iter().any(|&s| dist[s as usize][v] <= k));
        }
        // clusters: the minimum-rank selected node within k hops
        let cluster = assign_clusters(&g, &rank, &expected, k, never()).unwrap();
        for v in 0..n {
            let best = expected
                .iter()
                .enumerate()
                .filter(|(_, &s)| dist[s as usize][v] <= k)
                .min_by_key(|(_, &s)| rank.as_slice()[s as usize])
                .map(|(i, _)| i as u32)
                .unwrap();
            prop_assert_eq!(cluster[v], best);
        }
        // the centres the sequential greedy records are the same clusters
        let sequential = kmis(&g, &rank, k, KmisStrategy::Sequential, never()).unwrap();
        let centres = sequential.centres.expect("the sequential greedy records centres");
        for v in 0..n {
            prop_assert_eq!(centres[v], expected[cluster[v] as usize]);
        }
        // the one-call pipeline from the id arrays, on every thread count
        let spec = match kind % 4 {
            // the same ranks as `rank_of`, built by the pipeline itself
            0 => RankSpec::Id,
            1 => RankSpec::Random(seed),
            2 => RankSpec::Heuristic(Heuristic::Greedy, None),
            _ => RankSpec::Explicit(rank.as_slice().to_vec()),
        };
        for (threads, strategy) in [(1, KmisStrategy::Auto), (2, KmisStrategy::Sequential), (8, KmisStrategy::Auto)] {
            let src64: Vec<i64> = src.iter().map(|&v| v as i64).collect();
            let dst64: Vec<i64> = dst.iter().map(|&v| v as i64).collect();
            let got = in_pool(threads, || {
                kmis_clusters_from_ids(&src64, &dst64, Some(n as u64), k, spec.clone(), strategy, never()).unwrap()
            });
            prop_assert_eq!(&got.selected, &expected);
            prop_assert_eq!(&got.cluster, &cluster);
        }
        // coarse edges join centres at distance in [k + 1, 2k + 1]
        let coarse = contract(&edges, None, &cluster, expected.len(), Reduce::Sum, true).unwrap();
        for (&a, &b) in coarse.src.iter().zip(&coarse.dst) {
            let d = dist[expected[a as usize] as usize][expected[b as usize] as usize];
            prop_assert!(a < b && d > k && d <= 2 * k + 1, "distance {}", d);
        }
    }

    #[test]
    fn heuristic_rank_matches_float_reference((n, src, dst) in any_graph(), k in 0usize..6) {
        let edges = EdgeList::new(&src, &dst, Some(n as u64)).unwrap();
        let g = UndirectedGraph::from_edges(&edges);
        // (A+I)^k 1 on the simple graph, then 1 / count as a float, higher first, ties by id
        let mut adj = adjacency(n, &src, &dst);
        for row in &mut adj {
            row.sort_unstable();
            row.dedup();
        }
        let mut walks = vec![1.0f64; n];
        for _ in 0..k {
            walks = (0..n).map(|v| walks[v] + adj[v].iter().map(|&u| walks[u as usize]).sum::<f64>()).collect();
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| (1.0 / walks[b]).total_cmp(&(1.0 / walks[a])).then(a.cmp(&b)));
        let mut expected = vec![0u32; n];
        for (r, &v) in order.iter().enumerate() {
            expected[v] = r as u32;
        }
        let ones = vec![1.0; n];
        for (h, scores) in [
            (Heuristic::Greedy, None),
            (Heuristic::WeightedGreedy, None),
            (Heuristic::Greedy, Some(&ones[..])),
            (Heuristic::WeightedGreedy, Some(&ones[..])),
        ] {
            let rank = Rank::heuristic(&g, h, scores, k).unwrap();
            prop_assert_eq!(rank.as_slice(), &expected[..], "{:?} {:?}", h, scores.is_some());
            let order_u32: Vec<u32> = order.iter().map(|&v| v as u32).collect();
            prop_assert_eq!(rank.order(), &order_u32[..]);
        }
    }

    #[test]
    fn contract_matches_hash_map(
        (n, src, dst) in any_graph(), clusters in 1usize..6, seed in any::<u64>(),
        undirected in any::<bool>(), reduce in 0u8..4
    ) {
        let edges = EdgeList::new(&src, &dst, Some(n as u64)).unwrap();
        let cluster: Vec<u32> = (0..n).map(|v| ((v as u64 ^ seed) % clusters as u64) as u32).collect();
        let weights: Vec<f64> = (0..src.len()).map(|i| ((i as u64 * 31 + seed) % 17) as f64 - 8.0).collect();
        let reduce = [Reduce::Sum, Reduce::Mean, Reduce::Max, Reduce::Min][reduce as usize];
        let got = in_pool(2, || contract(&edges, Some(&weights), &cluster, clusters, reduce, undirected).unwrap());
        let mut groups: BTreeMap<(u32, u32), Vec<f64>> = BTreeMap::new();
        for i in 0..src.len() {
            let (mut a, mut b) = (cluster[src[i] as usize], cluster[dst[i] as usize]);
            if a == b { continue; }
            if undirected && a > b { std::mem::swap(&mut a, &mut b); }
            groups.entry((a, b)).or_default().push(weights[i]);
        }
        let expected: Vec<(u32, u32, f64)> = groups.into_iter().map(|((a, b), w)| {
            let v = match reduce {
                Reduce::Sum => w.iter().sum(),
                Reduce::Mean => w.iter().sum::<f64>() / w.len() as f64,
                Reduce::Max => w.iter().copied().fold(f64::MIN, f64::max),
                Reduce::Min => w.iter().copied().fold(f64::MAX, f64::min),
            };
            (a, b, v)
        }).collect();
        let got: Vec<(u32, u32, f64)> = (0..got.src.len()).map(|i| (got.src[i], got.dst[i], got.weight[i])).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn pool_matches_loops(n in 0usize..30, dim in 0usize..4, clusters in 1usize..6, seed in any::<u64>()) {
        let cluster: Vec<u32> = (0..n).map(|v| ((v as u64).wrapping_mul(seed | 1) >> 3) as u32 % clusters as u32).collect();
        let x: Vec<f32> = (0..n * dim).map(|i| ((i as u64 * 13 + seed) % 23) as f32 - 11.0).collect();
        for (reduce, name) in [(PoolReduce::Sum, 0), (PoolReduce::Mean, 1), (PoolReduce::Max, 2)] {
            let got = in_pool(2, || pool(&x, dim, &cluster, clusters, reduce).unwrap());
            for c in 0..clusters {
                let members: Vec<usize> = (0..n).filter(|&v| cluster[v] as usize == c).collect();
                for j in 0..dim {
                    let values: Vec<f32> = members.iter().map(|&v| x[v * dim + j]).collect();
                    let expected = if values.is_empty() { 0.0 } else {
                        match name {
                            0 => values.iter().sum(),
                            1 => values.iter().sum::<f32>() / values.len() as f32,
                            _ => values.iter().copied().fold(f32::MIN, f32::max),
                        }
                    };
                    prop_assert_eq!(got[c * dim + j], expected);
                }
            }
        }
    }
}

/// The paper's stretch bound on a few larger graphs: for selected s, t in one component,
/// d_H(s, t) <= d_G(s, t) <= (2k + 1) d_H(s, t), and components are preserved.
#[test]
fn distances_and_components_preserved() {
    for (seed, k) in [(1u64, 1usize), (2, 2), (3, 3)] {
        let n = 150usize;
        let mut src = Vec::new();
        let mut dst = Vec::new();
        let mut state = seed;
        for _ in 0..170 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (state >> 33) as usize % n;
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let b = (state >> 33) as usize % n;
            src.push(a as u32);
            dst.push(b as u32);
        }
        let edges = EdgeList::new(&src, &dst, Some(n as u64)).unwrap();
        let g = UndirectedGraph::from_edges(&edges);
        let rank = Rank::random(n, seed);
        let sel = kmis(&g, &rank, k, KmisStrategy::Auto, never())
            .unwrap()
            .selected;
        let cluster = assign_clusters(&g, &rank, &sel, k, never()).unwrap();
        let coarse = contract(&edges, None, &cluster, sel.len(), Reduce::Sum, true).unwrap();
        let dg = all_distances(n, &adjacency(n, &src, &dst));
        let dh = all_distances(sel.len(), &adjacency(sel.len(), &coarse.src, &coarse.dst));
        for (i, &s) in sel.iter().enumerate() {
            for (j, &t) in sel.iter().enumerate() {
                let g_d = dg[s as usize][t as usize];
                let h_d = dh[i][j];
                assert_eq!(g_d == usize::MAX, h_d == usize::MAX, "components differ");
                if g_d != usize::MAX {
                    assert!(
                        h_d <= g_d && g_d <= (2 * k + 1) * h_d,
                        "{s} {t}: {g_d} vs {h_d}"
                    );
                }
            }
        }
        for v in 0..n {
            for u in 0..n {
                let same_h = dh[cluster[u] as usize][cluster[v] as usize] != usize::MAX;
                assert_eq!(dg[u][v] != usize::MAX, same_h);
            }
        }
    }
}
