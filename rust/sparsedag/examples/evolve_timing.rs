//! Times one SET evolution step on an n x n Erdős–Rényi layer at epsilon 20, repeatedly, for
//! profiling: `cargo run --release -p sparsedag --example evolve_timing -- 10000 50`. With 0 steps
//! it only builds the layer, so `perf stat -e task-clock` of both runs gives the CPU time of the
//! steps alone.

use std::time::Instant;

use sparsedag::cancel::never;
use sparsedag::sparse::{erdos_renyi_layer, evolve, EvolveOptions, Init};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let steps: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let mut layer = erdos_renyi_layer(n, n, 20.0, Init::HeUniform, 1, never()).expect("layer");
    let start = Instant::now();
    for seed in 0..steps {
        let options = EvolveOptions {
            seed,
            ..Default::default()
        };
        evolve(&mut layer.view_mut(), &options, never()).expect("evolve");
    }
    if steps == 0 {
        println!("{n} x {n}: {} connections, no evolution step", layer.nnz());
        return;
    }
    let per_step = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "{n} x {n}: {} connections, {:.2} ms per step, {:.1} ns per connection",
        layer.nnz(),
        per_step * 1e3,
        per_step * 1e9 / layer.nnz() as f64
    );
}
