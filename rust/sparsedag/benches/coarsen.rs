//! Criterion benches of k-MIS coarsening: the symmetric CSR, the k-MIS under each strategy
//! for k in {1, 2, 4, 8}, clusters, contraction and pooling, on a random graph with 1M edges
//! (250k nodes) and a 1000 x 1000 grid. Run: `cargo bench -p sparsedag --bench coarsen`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sparsedag::cancel::never;
use sparsedag::coarsen::{
    assign_clusters, contract, kmis, pool, EdgeList, PoolReduce, Rank, Reduce, Strategy,
    UndirectedGraph,
};
use sparsedag::rng::Rng;

fn random_graph() -> EdgeList {
    let (n, m) = (250_000u64, 1_000_000usize);
    let mut rng = Rng::new(42);
    let src: Vec<u32> = (0..m).map(|_| rng.below(n) as u32).collect();
    let dst: Vec<u32> = (0..m).map(|_| rng.below(n) as u32).collect();
    EdgeList::new(&src, &dst, Some(n)).unwrap()
}

fn grid(side: u32) -> EdgeList {
    let mut src = Vec::new();
    let mut dst = Vec::new();
    for r in 0..side {
        for c in 0..side {
            let v = r * side + c;
            if c + 1 < side {
                src.push(v);
                dst.push(v + 1);
            }
            if r + 1 < side {
                src.push(v);
                dst.push(v + side);
            }
        }
    }
    EdgeList::new(&src, &dst, Some(u64::from(side * side))).unwrap()
}

fn graphs() -> Vec<(&'static str, EdgeList)> {
    vec![
        ("random_1M_edges", random_graph()),
        ("grid_1000", grid(1000)),
    ]
}

fn bench_kmis(c: &mut Criterion) {
    let mut group = c.benchmark_group("kmis");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2));
    for (name, edges) in graphs() {
        group.bench_function(BenchmarkId::new("symmetric_csr", name), |b| {
            b.iter(|| UndirectedGraph::from_edges(&edges))
        });
        let g = UndirectedGraph::from_edges(&edges);
        let rank = Rank::random(g.num_nodes(), 7);
        for k in [1usize, 2, 4, 8] {
            for strategy in [Strategy::Auto, Strategy::Rounds, Strategy::Sequential] {
                let id = format!("{name}/k{k}/{strategy:?}");
                group.bench_function(BenchmarkId::new("select", id), |b| {
                    b.iter(|| kmis(&g, &rank, k, strategy, never()).unwrap())
                });
            }
        }
    }
    group.finish();
}

fn bench_coarsen(c: &mut Criterion) {
    let mut group = c.benchmark_group("coarsen");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2));
    for (name, edges) in graphs() {
        let g = UndirectedGraph::from_edges(&edges);
        let rank = Rank::random(g.num_nodes(), 7);
        for k in [1usize, 2] {
            let sel = kmis(&g, &rank, k, Strategy::Auto, never())
                .unwrap()
                .selected;
            let id = format!("{name}/k{k}");
            group.bench_function(BenchmarkId::new("clusters", &id), |b| {
                b.iter(|| assign_clusters(&g, &rank, &sel, k, never()).unwrap())
            });
            let cluster = assign_clusters(&g, &rank, &sel, k, never()).unwrap();
            group.bench_function(BenchmarkId::new("contract", &id), |b| {
                b.iter(|| contract(&edges, None, &cluster, sel.len(), Reduce::Sum, true).unwrap())
            });
            let x = vec![0.5f32; g.num_nodes() * 16];
            group.bench_function(BenchmarkId::new("pool_mean_d16", &id), |b| {
                b.iter(|| pool(&x, 16, &cluster, sel.len(), PoolReduce::Mean).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_kmis, bench_coarsen);
criterion_main!(benches);
