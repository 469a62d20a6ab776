//! Criterion benches of the neural engine: construction, forward and one SGD training step on
//! 4Ward's workload (random DAG, n = 2000, p = 0.01, 4Ward layering) at batch 1, 128 and 1024,
//! and the forward pass of a wide layered network (4 x 4000 neurons, 1 % density, batch 256).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{
    Data, Init, Loss, Model, Net, Optimizer, OptimizerKind, Plan, Targets, TrainOptions,
};
use sparsedag::rng::Rng;
use sparsedag::{cancel, Dag, DuplicatePolicy};

fn endpoints(g: &Dag) -> (Vec<u32>, Vec<u32>) {
    let inputs = g
        .sources()
        .into_iter()
        .filter(|&v| g.out_degree(v) > 0)
        .collect();
    let outputs = g
        .sinks()
        .into_iter()
        .filter(|&v| g.in_degree(v) > 0)
        .collect();
    (inputs, outputs)
}

fn build(g: &Dag, inputs: &[u32], outputs: &[u32], method: Method) -> Net {
    let layers = layer(g, method, Options::default(), cancel::never()).unwrap();
    let plan = Plan::new(g, inputs, outputs, &layers).unwrap();
    let mut codes = vec![1u8; g.num_nodes()];
    for &o in outputs {
        codes[o as usize] = 0;
    }
    Net::new(plan, &codes, 0.6, Init::KaimingUniform, 0, true).unwrap()
}

fn random_values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.uniform(-1.0, 1.0) as f32).collect()
}

/// The engine's parallel loops run inside a pool, as the Python bindings run them (one
/// `install` per call), not by injecting every loop from outside.
fn pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().build().unwrap()
}

fn bench_fourward_workload(c: &mut Criterion) {
    let pool = pool();
    let g = random_dag(2000, Some(0.01), None, 0).unwrap();
    let (inputs, outputs) = endpoints(&g);
    let (src, dst) = g.edges();
    let mut group = c.benchmark_group("dagnet_n2000_p0.01");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    group.bench_function("construction", |b| {
        b.iter(|| {
            let g = Dag::from_edges(&src, &dst, Some(2000), DuplicatePolicy::Reject).unwrap();
            build(&g, &inputs, &outputs, Method::FourWard)
        })
    });
    for batch in [1usize, 128, 1024] {
        let mut model = Model::new(build(&g, &inputs, &outputs, Method::FourWard));
        let x = random_values(batch * inputs.len(), 1);
        let y = random_values(batch * outputs.len(), 2);
        group.bench_with_input(BenchmarkId::new("forward", batch), &batch, |b, _| {
            b.iter(|| pool.install(|| model.predict(&x, inputs.len(), cancel::never()).unwrap()))
        });
        let data = Data {
            x: &x,
            features: inputs.len(),
            targets: Targets::Values {
                values: &y,
                width: outputs.len(),
            },
        };
        let order: Vec<u32> = (0..batch as u32).collect();
        let options = TrainOptions {
            loss: Loss::Mse,
            optimizer: Optimizer {
                kind: OptimizerKind::Sgd,
                lr: 1e-3,
                weight_decay: 0.0,
            },
            batch_size: batch,
            dropout: 0.0,
            seed: 0,
            groups: 1,
        };
        group.bench_with_input(BenchmarkId::new("train_step", batch), &batch, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    model
                        .train_batches(&data, &order, 0, 1, &options, cancel::never())
                        .unwrap()
                })
            })
        });
    }
    group.finish();
}

fn bench_wide_layered(c: &mut Criterion) {
    let (width, depth, density, batch) = (4000u32, 4u32, 0.01, 256usize);
    let mut rng = Rng::new(3);
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for k in 0..depth - 1 {
        for i in 0..width {
            for j in 0..width {
                if rng.next_f64() < density {
                    src.push(k * width + i);
                    dst.push((k + 1) * width + j);
                }
            }
        }
    }
    let g = Dag::from_edges(
        &src,
        &dst,
        Some((width * depth) as u64),
        DuplicatePolicy::Reject,
    )
    .unwrap();
    let inputs: Vec<u32> = (0..width).collect();
    let outputs: Vec<u32> = ((depth - 1) * width..depth * width).collect();
    let mut model = Model::new(build(&g, &inputs, &outputs, Method::LongestPath));
    let x = random_values(batch * width as usize, 4);
    let pool = pool();
    let mut group = c.benchmark_group("wide_4x4000_1pct");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    group.bench_function("forward_batch256", |b| {
        b.iter(|| pool.install(|| model.predict(&x, width as usize, cancel::never()).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench_fourward_workload, bench_wide_layered);
criterion_main!(benches);
