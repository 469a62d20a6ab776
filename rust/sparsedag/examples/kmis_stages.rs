//! Times each stage of k-MIS coarsening on a random graph:
//! `cargo run --release -p sparsedag --example kmis_stages -- [nodes] [edges] [k]`.

use std::time::Instant;

use sparsedag::cancel::never;
use sparsedag::coarsen::{
    assign_clusters, contract, kmis, pool, EdgeList, PoolReduce, Rank, Reduce, Strategy,
    UndirectedGraph,
};
use sparsedag::rng::Rng;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let n = args.first().copied().unwrap_or(250_000);
    let m = args.get(1).copied().unwrap_or(1_000_000);
    let k = args.get(2).copied().unwrap_or(1);
    let mut rng = Rng::new(1);
    let src: Vec<i64> = (0..m).map(|_| rng.below(n as u64) as i64).collect();
    let dst: Vec<i64> = (0..m).map(|_| rng.below(n as u64) as i64).collect();
    let t = std::cell::Cell::new(Instant::now());
    let lap = |what: &str| {
        println!(
            "{what:>24}: {:8.2} ms",
            t.get().elapsed().as_secs_f64() * 1e3
        );
        t.set(Instant::now());
    };
    let edges = EdgeList::new(&src, &dst, Some(n as u64)).unwrap();
    lap("validate edges");
    let g = UndirectedGraph::from_edges(&edges);
    lap("symmetric CSR");
    let rank = Rank::random(n, 7);
    lap("random rank");
    for strategy in [Strategy::Rounds, Strategy::Sequential, Strategy::Auto] {
        let found = kmis(&g, &rank, k, strategy, never()).unwrap();
        lap(&format!("kmis {strategy:?} ({} r)", found.rounds));
    }
    let found = kmis(&g, &rank, k, Strategy::Auto, never()).unwrap();
    t.set(Instant::now());
    let cluster = assign_clusters(&g, &rank, &found.selected, k, never()).unwrap();
    lap("clusters");
    let coarse = contract(
        &edges,
        None,
        &cluster,
        found.selected.len(),
        Reduce::Sum,
        true,
    )
    .unwrap();
    lap("contract");
    let x = vec![1.0f32; n * 16];
    lap("allocate features");
    pool(&x, 16, &cluster, found.selected.len(), PoolReduce::Mean).unwrap();
    lap("pool mean (d = 16)");
    pool(&x, 16, &cluster, found.selected.len(), PoolReduce::Mean).unwrap();
    lap("pool mean again");
    let g2 = UndirectedGraph::from_edges(&edges);
    lap("symmetric CSR again");
    drop(g2);
    println!(
        "n = {n}, m = {m}, k = {k}: {} selected, {} coarse edges",
        found.selected.len(),
        coarse.src.len()
    );
}
