//! Times network simplex layering on random DAGs of average degree 10 (m = 5 n):
//! `cargo run --release -p sparsedag --example network_simplex [n ...]`.

use std::time::Instant;

use sparsedag::graph::generators::random_dag;
use sparsedag::{cancel, layering};

fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("node counts must be integers"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    for n in sizes {
        let g = random_dag(n, None, Some(5 * n), 42).expect("valid generator arguments");
        let start = Instant::now();
        let layer = layering::network_simplex(&g, cancel::never()).expect("not cancelled");
        let elapsed = start.elapsed();
        let ns = layering::layering_metrics(&g, &layer).expect("a valid layering");
        let asap = layering::layering_metrics(&g, &layering::asap(&g)).expect("valid");
        println!(
            "n={n:>8} m={:>8} network_simplex {:>9.3} s  total span {} (asap {}), height {}",
            g.num_edges(),
            elapsed.as_secs_f64(),
            ns.total_span,
            asap.total_span,
            ns.height
        );
    }
}
