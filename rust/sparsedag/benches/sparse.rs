//! Criterion benches of the sparse-training building blocks: Erdős–Rényi initialisation, one
//! SET evolution step (zeta 0.3) on 1000 x 1000 and 10000 x 10000 layers at epsilon 20, and
//! importance pruning (q = 20) of the 500-4000-4000-4000-10 network at epsilon 20. Throughput
//! is in connections, so criterion's time per iteration divided by the count is ns/connection.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use sparsedag::cancel::never;
use sparsedag::sparse::{erdos_renyi_layer, evolve, importance_prune, EvolveOptions, Init};

const EPSILON: f64 = 20.0;
const SQUARE_SIZES: [usize; 2] = [1_000, 10_000];

fn bench_erdos_renyi(c: &mut Criterion) {
    let mut group = c.benchmark_group("erdos_renyi");
    group.sample_size(10);
    for n in SQUARE_SIZES {
        let nnz = erdos_renyi_layer(n, n, EPSILON, Init::HeUniform, 1, never())
            .unwrap()
            .nnz();
        group.throughput(Throughput::Elements(nnz as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| erdos_renyi_layer(n, n, EPSILON, Init::HeUniform, 1, never()).unwrap())
        });
    }
    group.finish();
}

fn bench_evolve(c: &mut Criterion) {
    let mut group = c.benchmark_group("evolve");
    group.sample_size(10);
    for n in SQUARE_SIZES {
        let layer = erdos_renyi_layer(n, n, EPSILON, Init::HeUniform, 1, never()).unwrap();
        group.throughput(Throughput::Elements(layer.nnz() as u64));
        let mut seed = 0u64;
        group.bench_with_input(BenchmarkId::from_parameter(n), &layer, |b, layer| {
            b.iter_batched(
                || layer.clone(),
                |mut l| {
                    seed += 1;
                    let options = EvolveOptions {
                        seed,
                        ..Default::default()
                    };
                    evolve(&mut l.view_mut(), &options, never()).unwrap();
                    l
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn bench_importance_prune(c: &mut Criterion) {
    let mut group = c.benchmark_group("importance_prune");
    group.sample_size(10);
    let sizes = [500, 4000, 4000, 4000, 10];
    let layers: Vec<_> = sizes
        .windows(2)
        .enumerate()
        .map(|(l, w)| erdos_renyi_layer(w[0], w[1], EPSILON, Init::HeUniform, l as u64, never()))
        .collect::<Result<_, _>>()
        .unwrap();
    let nnz: usize = layers.iter().map(|l| l.nnz()).sum();
    group.throughput(Throughput::Elements(nnz as u64));
    group.bench_function("500-4000-4000-4000-10", |b| {
        b.iter_batched(
            || layers.clone(),
            |mut ls| {
                importance_prune(&mut ls, 20.0, never()).unwrap();
                ls
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_erdos_renyi,
    bench_evolve,
    bench_importance_prune
);
criterion_main!(benches);
