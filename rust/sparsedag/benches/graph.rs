//! Criterion benches of the graph half: build, ASAP and the other layerings on random DAGs of
//! 100k and 1M nodes with average degree 10 (m = 5 n, since every edge has two endpoints).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sparsedag::graph::generators::random_dag;
use sparsedag::{layering, Dag, DuplicatePolicy};

const SIZES: [u64; 2] = [100_000, 1_000_000];

fn graph(n: u64) -> Dag {
    random_dag(n, None, Some(5 * n), 42).expect("valid generator arguments")
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    for n in SIZES {
        let (src, dst) = graph(n).edges();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| Dag::from_edges(&src, &dst, Some(n), DuplicatePolicy::Reject).unwrap())
        });
    }
    group.finish();
}

fn bench_layerings(c: &mut Criterion) {
    let mut group = c.benchmark_group("layering");
    group.sample_size(10);
    for n in SIZES {
        let g = graph(n);
        group.bench_with_input(BenchmarkId::new("asap", n), &g, |b, g| {
            b.iter(|| layering::asap(g))
        });
    }
    group.finish();
}

/// The width-bounded layerings: Coffman–Graham with a fixed bound and with sqrt(n), and MinWidth
/// with its default sweep over the bounds 1..=4.
fn bench_width_bounded(c: &mut Criterion) {
    let mut group = c.benchmark_group("layering_width");
    group.sample_size(10);
    for n in SIZES {
        let g = graph(n);
        let sqrt_n = (n as f64).sqrt() as usize;
        for (name, width) in [
            ("coffman_graham_w100", 100),
            ("coffman_graham_wsqrt", sqrt_n),
        ] {
            group.bench_with_input(BenchmarkId::new(name, n), &g, |b, g| {
                b.iter(|| layering::coffman_graham(g, width).unwrap())
            });
        }
        group.bench_with_input(BenchmarkId::new("min_width", n), &g, |b, g| {
            b.iter(|| layering::min_width(g, None))
        });
    }
    group.finish();
}

/// Network simplex at 100k nodes only: one 1M-node solve takes minutes (the pivot count and
/// the per-pivot work both grow with n), far beyond ten criterion samples; the example
/// `network_simplex` times it once.
fn bench_network_simplex(c: &mut Criterion) {
    let mut group = c.benchmark_group("network_simplex");
    group.sample_size(10);
    let n = 100_000;
    let g = graph(n);
    group.bench_with_input(BenchmarkId::from_parameter(n), &g, |b, g| {
        b.iter(|| layering::network_simplex(g, sparsedag::cancel::never()).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_build,
    bench_layerings,
    bench_width_bounded,
    bench_network_simplex
);
criterion_main!(benches);
