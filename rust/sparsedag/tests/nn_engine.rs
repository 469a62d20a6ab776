//! The neural engine end to end: gradients against finite differences, training reduces the
//! loss, and results do not depend on the thread count or the SIMD tile split.

use proptest::prelude::*;
use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{
    shuffled_order, Data, Init, Level, Loss, Model, Net, Optimizer, OptimizerKind, Plan, Simd,
    Targets, TrainOptions,
};
use sparsedag::rng::Rng;
use sparsedag::{cancel, Dag};

fn model(g: &Dag, activation: u8, seed: u64, method: Method) -> Model {
    let layers = layer(g, method, Options::default(), cancel::never()).unwrap();
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
    let plan = Plan::new(g, &inputs, &outputs, &layers).unwrap();
    let mut codes = vec![activation; g.num_nodes()];
    for &o in &outputs {
        codes[o as usize] = 0;
    }
    Model::new(Net::new(plan, &codes, 0.6, Init::HeUniform, seed, true).unwrap())
}

fn data(rows: usize, features: usize, outputs: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let x = (0..rows * features)
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    let y = (0..rows * outputs)
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    (x, y)
}

fn loss_of(m: &mut Model, d: &Data) -> f64 {
    let s = m.evaluate(d, Loss::Mse, 1, cancel::never()).unwrap();
    s.loss_sum[0] / s.samples as f64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn gradients_match_central_differences(n in 6u64..30, seed in 0u64..1000, act in prop::sample::select(vec![3u8, 4, 0])) {
        let g = random_dag(n, Some(0.3), None, seed).unwrap();
        prop_assume!(!g.sources().iter().all(|&v| g.out_degree(v) == 0));
        let inputs = g.sources().into_iter().filter(|&v| g.out_degree(v) > 0).count();
        let outputs = g.sinks().into_iter().filter(|&v| g.in_degree(v) > 0).count();
        prop_assume!(inputs > 0 && outputs > 0 && g.num_edges() > 0);
        let mut m = model(&g, act, seed, Method::LongestPath);
        let (x, y) = data(5, inputs, outputs, seed);
        let d = Data { x: &x, features: inputs, targets: Targets::Values { values: &y, width: outputs } };
        let (gw, _) = m.gradients(&d, Loss::Mse, 1).unwrap();
        let w0 = m.net().weights_user_order();
        // f32 central differences: h = 1e-2 keeps rounding noise near 1e-5 while the
        // truncation error of these smooth activations stays below 1e-3.
        let h = 1e-2f32;
        for e in 0..w0.len().min(12) {
            let mut w = w0.clone();
            w[e] = w0[e] + h;
            m.net_mut().set_weights_user_order(&w).unwrap();
            let up = loss_of(&mut m, &d);
            w[e] = w0[e] - h;
            m.net_mut().set_weights_user_order(&w).unwrap();
            let down = loss_of(&mut m, &d);
            let fd = (up - down) / (2.0 * h as f64);
            prop_assert!((fd - gw[e] as f64).abs() <= 2e-3 + 2e-2 * fd.abs(), "edge {} fd {} analytic {}", e, fd, gw[e]);
        }
    }
}

/// Three layers of 128 neurons, 60 % dense: at batch 200 each layer step is above the
/// engine's parallel threshold, so every parallel path runs (and the test stays quick in debug
/// builds).
fn wide_layered() -> Dag {
    let mut rng = Rng::new(4);
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for k in 0..2u32 {
        for i in 0..128u32 {
            for j in 0..128u32 {
                if rng.next_f64() < 0.6 {
                    src.push(k * 128 + i);
                    dst.push((k + 1) * 128 + j);
                }
            }
        }
    }
    Dag::from_edges(&src, &dst, Some(384), sparsedag::DuplicatePolicy::Reject).unwrap()
}

fn train(threads: usize, level: Level, optimizer: &str, wide: bool) -> Vec<f32> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let g = if wide {
            wide_layered()
        } else {
            random_dag(600, Some(0.03), None, 3).unwrap()
        };
        let mut m = model(&g, 1, 7, Method::FourWard);
        m.set_simd(Simd::with_level(level).unwrap());
        let inputs = m.net().plan().num_inputs();
        let outputs = m.net().plan().outputs().len();
        let (x, y) = data(300, inputs, outputs, 11);
        let d = Data {
            x: &x,
            features: inputs,
            targets: Targets::Values {
                values: &y,
                width: outputs,
            },
        };
        let options = TrainOptions {
            loss: Loss::Mse,
            optimizer: Optimizer {
                kind: OptimizerKind::parse(optimizer, 0.9).unwrap(),
                lr: 0.01,
                weight_decay: 1e-4,
            },
            batch_size: 200,
            dropout: 0.2,
            seed: 5,
            groups: 1,
        };
        let before = loss_of(&mut m, &d);
        for epoch in 0..2 {
            let order = shuffled_order(300, 1, epoch);
            m.train_batches(&d, &order, 0, 10, &options, cancel::never())
                .unwrap();
        }
        let after = loss_of(&mut m, &d);
        assert!(after < before, "{after} >= {before}");
        m.net().weights_user_order()
    })
}

#[test]
fn one_and_two_threads_train_identical_weights() {
    for level in Level::ALL.into_iter().filter(|l| l.is_supported()) {
        for optimizer in ["sgd", "adam"] {
            for wide in [false, true] {
                assert_eq!(
                    train(1, level, optimizer, wide),
                    train(2, level, optimizer, wide),
                    "{level:?} {optimizer} wide={wide}"
                );
            }
        }
    }
}
