//! Times the pieces of building a DAG network (4Ward's workload, n = 2000, p = 0.01):
//! `cargo run --release --example nn_construct`.

use std::time::Instant;

use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{Init, Net, Plan};
use sparsedag::{cancel, Dag, DuplicatePolicy};

fn best<T>(mut f: impl FnMut() -> T) -> f64 {
    (0..200)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64() * 1e6
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let g = random_dag(2000, Some(0.01), None, 0).unwrap();
    let (src, dst) = g.edges();
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
    let codes = vec![1u8; g.num_nodes()];
    println!(
        "build dag   {:8.1} us",
        best(|| Dag::from_edges(&src, &dst, Some(2000), DuplicatePolicy::Reject).unwrap())
    );
    println!(
        "layering    {:8.1} us",
        best(|| layer(&g, Method::FourWard, Options::default(), cancel::never()).unwrap())
    );
    println!(
        "plan        {:8.1} us",
        best(|| Plan::new(&g, &inputs, &outputs, &layers).unwrap())
    );
    let plan = Plan::new(&g, &inputs, &outputs, &layers).unwrap();
    println!("edge order  {:8.1} us", best(|| plan.user_edge_positions()));
    println!(
        "net (init)  {:8.1} us",
        best(|| Net::new(plan.clone(), &codes, 0.6, Init::KaimingUniform, 0, true).unwrap())
    );
    println!("plan clone  {:8.1} us", best(|| plan.clone()));
}
