//! Times building a DAG network end to end from unsorted edge arrays, as the Python constructor
//! does: `cargo run --release --example nn_construct_full [edges.bin]` (two int64 rows, src then
//! dst, e.g. written by numpy's `tofile`); without a file, 4Ward's ER workload shuffled.

use std::time::Instant;

use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{Init, Net};
use sparsedag::{cancel, Dag, DuplicatePolicy};

fn best<T>(mut f: impl FnMut() -> T) -> f64 {
    (0..2000)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed().as_secs_f64() * 1e6
        })
        .fold(f64::INFINITY, f64::min)
}

fn edges() -> (Vec<i64>, Vec<i64>) {
    if let Some(path) = std::env::args().nth(1) {
        let bytes = std::fs::read(path).expect("readable edge file");
        let all: Vec<i64> = bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let m = all.len() / 2;
        return (all[..m].to_vec(), all[m..].to_vec());
    }
    let g = random_dag(2000, Some(0.01), None, 0).unwrap();
    let (s, d) = g.edges();
    // A fixed shuffle, so the rows are not presorted.
    let m = s.len();
    let perm: Vec<usize> = (0..m).map(|i| (i * 7919) % m).collect();
    (
        perm.iter().map(|&i| i64::from(s[i])).collect(),
        perm.iter().map(|&i| i64::from(d[i])).collect(),
    )
}

fn main() {
    let (src, dst) = edges();
    let n = 1 + *src.iter().chain(&dst).max().unwrap() as u64;
    let build = || Dag::from_edges(&src, &dst, Some(n), DuplicatePolicy::Reject).unwrap();
    let net_of = |g: &Dag| {
        let inputs: Vec<u32> = (0..g.num_nodes() as u32)
            .filter(|&v| g.in_degree(v) == 0 && g.out_degree(v) > 0)
            .collect();
        let outputs: Vec<u32> = (0..g.num_nodes() as u32)
            .filter(|&v| g.out_degree(v) == 0 && g.in_degree(v) > 0)
            .collect();
        let layers = layer(g, Method::FourWard, Options::default(), cancel::never()).unwrap();
        let codes = vec![1u8; g.num_nodes()];
        Net::build(
            g,
            &inputs,
            &outputs,
            &layers,
            false,
            &codes,
            0.6,
            Init::KaimingUniform,
            0,
            true,
        )
        .unwrap()
    };
    let g = build();
    println!("{} nodes, {} edges", g.num_nodes(), g.num_edges());
    println!("build dag   {:8.1} us", best(build));
    println!(
        "layering    {:8.1} us",
        best(|| layer(&g, Method::FourWard, Options::default(), cancel::never()).unwrap())
    );
    println!("net on dag  {:8.1} us", best(|| net_of(&g)));
    let mut stages = [f64::INFINITY; 5];
    for _ in 0..2000 {
        let t0 = Instant::now();
        let g = build();
        let t1 = Instant::now();
        let inputs: Vec<u32> = (0..g.num_nodes() as u32)
            .filter(|&v| g.in_degree(v) == 0 && g.out_degree(v) > 0)
            .collect();
        let outputs: Vec<u32> = (0..g.num_nodes() as u32)
            .filter(|&v| g.out_degree(v) == 0 && g.in_degree(v) > 0)
            .collect();
        let layers = layer(&g, Method::FourWard, Options::default(), cancel::never()).unwrap();
        let t2 = Instant::now();
        let codes = vec![1u8; g.num_nodes()];
        let t3 = Instant::now();
        let net = Net::build(
            &g,
            &inputs,
            &outputs,
            &layers,
            false,
            &codes,
            0.6,
            Init::KaimingUniform,
            0,
            true,
        )
        .unwrap();
        let t4 = Instant::now();
        drop(std::hint::black_box((g, net)));
        let t5 = Instant::now();
        for (k, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]
            .iter()
            .enumerate()
        {
            stages[k] = stages[k].min((*b - *a).as_secs_f64() * 1e6);
        }
    }
    println!(
        "stages in sequence: dag {:.1}, io+layering {:.1}, codes {:.1}, plan+net {:.1}, drop {:.1} us",
        stages[0], stages[1], stages[2], stages[3], stages[4]
    );
    println!(
        "all         {:8.1} us",
        best(|| {
            let g = build();
            net_of(&g)
        })
    );
}
