//! Times the phases of one training step (forward, loss, backward + SGD) on 4Ward's workload,
//! best of many runs each, for work on the engine's kernels:
//! `cargo run --release --example nn_phases -- [edge file] [batch]`. The edge file holds the
//! node count on its first line, then one `source target` pair per line (for instance the
//! graph of `benches/compare_dagnet.py`); without it, `random_dag(2000, p = 0.01)`. `OPT=momentum`
//! times SET's optimiser instead of plain SGD.

use std::time::Instant;

use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::loss::{evaluate_batch, Stats};
use sparsedag::nn::net::Sink;
use sparsedag::nn::optim::{State, Step};
use sparsedag::nn::{
    Data, Init, Level, Loss, Model, Net, Optimizer, OptimizerKind, Plan, Simd, Targets,
    TrainOptions, Workspace,
};
use sparsedag::{cancel, rng::Rng, Dag, DuplicatePolicy};

fn load(path: &str) -> Dag {
    let text = std::fs::read_to_string(path).expect("readable edge file");
    let mut lines = text.lines();
    let n: u64 = lines.next().unwrap().trim().parse().unwrap();
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let mut it = line.split_whitespace().map(|v| v.parse::<u32>().unwrap());
        src.push(it.next().unwrap());
        dst.push(it.next().unwrap());
    }
    Dag::from_edges(&src, &dst, Some(n), DuplicatePolicy::Reject).unwrap()
}

fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    best * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let g = match args.get(1) {
        Some(path) if path != "-" => load(path),
        _ => random_dag(2000, Some(0.01), None, 0).unwrap(),
    };
    let batch: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(128);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let inputs: Vec<u32> = g.sources();
    let outputs: Vec<u32> = g.sinks();
    let layers = layer(&g, Method::FourWard, Options::default(), cancel::never()).unwrap();
    let plan = Plan::new(&g, &inputs, &outputs, &layers).unwrap();
    let mut codes = vec![1u8; g.num_nodes()];
    for &o in &outputs {
        codes[o as usize] = 0;
    }
    let mut net = Net::new(plan, &codes, 0.6, Init::KaimingUniform, 0, true).unwrap();
    println!(
        "{} nodes, {} edges, {} layers, {} inputs, {} outputs, batch {batch}",
        g.num_nodes(),
        g.num_edges(),
        net.plan().num_layers(),
        inputs.len(),
        outputs.len()
    );
    let mut rng = Rng::new(1);
    let x: Vec<f32> = (0..batch * inputs.len())
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    let y = vec![0.0f32; batch * outputs.len()];
    let targets = Targets::Values {
        values: &y,
        width: outputs.len(),
    };
    let samples: Vec<u32> = (0..batch as u32).collect();
    // SIMD=avx2+fma (or sse2, scalar) picks a lower level than the machine's best.
    let simd = match std::env::var("SIMD") {
        Ok(name) => Level::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .and_then(Simd::with_level)
            .expect("a supported level: scalar, sse2, avx2+fma or avx512"),
        Err(_) => Simd::detect(),
    };
    // OPT=momentum times SET's optimiser (momentum 0.9, weight decay) instead of plain SGD.
    let optimizer = match std::env::var("OPT").as_deref() {
        Ok("momentum") => Optimizer {
            kind: OptimizerKind::Momentum { momentum: 0.9 },
            lr: 1e-6,
            weight_decay: 2e-4,
        },
        _ => Optimizer {
            kind: OptimizerKind::Sgd,
            lr: 1e-6,
            weight_decay: 0.0,
        },
    };
    let mut state = State::new(
        optimizer.kind,
        net.plan().num_edges(),
        net.plan().num_nodes(),
    );
    let mut ws = Workspace::default();
    ws.prepare(net.plan().num_nodes(), batch);
    ws.fill_inputs(&x, inputs.len(), &samples);
    let fwd = best(runs, || net.forward(&mut ws, None, simd));
    let internal_outputs = net.plan().outputs().to_vec();
    let loss = best(runs, || {
        ws.clear_gradients(&internal_outputs);
        let (act, grad) = ws.activations_and_gradients();
        let mut stats = Stats::new(1);
        evaluate_batch(
            Loss::Mse,
            act,
            Some(grad),
            &internal_outputs,
            1,
            batch,
            &samples,
            &targets,
            &mut stats,
        );
    });
    let bwd = best(runs, || {
        let step = Step::new(optimizer, 0);
        net.backward(
            &mut ws,
            None,
            simd,
            Sink::Apply {
                step,
                state: &mut state,
            },
        );
    });
    let fill = best(runs, || {
        ws.prepare(net.plan().num_nodes(), batch);
        ws.fill_inputs(&x, inputs.len(), &samples);
    });
    let mut model = Model::new(net);
    model.set_simd(simd);
    let data = Data {
        x: &x,
        features: inputs.len(),
        targets,
    };
    let options = TrainOptions {
        loss: Loss::Mse,
        optimizer,
        batch_size: batch,
        dropout: 0.0,
        seed: 0,
        groups: 1,
    };
    let pool = rayon::ThreadPoolBuilder::new().build().unwrap();
    let step = pool.install(|| {
        best(runs, || {
            model
                .train_batches(&data, &samples, 0, 1, &options, cancel::never())
                .unwrap();
        })
    });
    println!(
        "best of {runs} ({}), ms: inputs {fill:.4}, forward {fwd:.4}, loss {loss:.4}, \
         backward+sgd {bwd:.4}; whole step {step:.4}",
        simd.level().name()
    );
}
