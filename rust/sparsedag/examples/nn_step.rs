//! Runs training steps on 4Ward's workload (random DAG n = 2000, p = 0.01, batch 128) in a loop,
//! for profiling: `cargo run --release --example nn_step -- 2000`.

use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{
    Data, Init, Loss, Model, Net, Optimizer, OptimizerKind, Plan, Targets, TrainOptions,
};
use sparsedag::{cancel, rng::Rng};

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let g = random_dag(2000, Some(0.01), None, 0).unwrap();
    let inputs: Vec<u32> = g
        .sources()
        .into_iter()
        .filter(|&v| g.out_degree(v) > 0)
        .collect();
    let outputs: Vec<u32> = g
        .sinks()
        .into_iter()
        .filter(|&v| g.in_degree(v) > 0)
        .collect();
    let layers = layer(&g, Method::FourWard, Options::default(), cancel::never()).unwrap();
    let plan = Plan::new(&g, &inputs, &outputs, &layers).unwrap();
    let mut codes = vec![1u8; g.num_nodes()];
    for &o in &outputs {
        codes[o as usize] = 0;
    }
    let net = Net::new(plan, &codes, 0.6, Init::KaimingUniform, 0, true).unwrap();
    let mut model = Model::new(net);
    let batch = 128;
    let mut rng = Rng::new(1);
    let x: Vec<f32> = (0..batch * inputs.len())
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    let y = vec![0.0f32; batch * outputs.len()];
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
    // Run inside a pool, as the Python bindings do, so parallel loops do not pay for
    // injecting jobs from outside the pool.
    let pool = rayon::ThreadPoolBuilder::new().build().unwrap();
    let start = std::time::Instant::now();
    pool.install(|| {
        for _ in 0..steps {
            model
                .train_batches(&data, &order, 0, 1, &options, cancel::never())
                .unwrap();
        }
    });
    println!(
        "{:.3} ms per step",
        start.elapsed().as_secs_f64() * 1e3 / steps as f64
    );
}
