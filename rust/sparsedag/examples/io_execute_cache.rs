//! Times sparse inference (`BoundPlan::run`) in one order, and measures the cache behaviour
//! of an order under cachegrind (per-function counts: read the line of
//! `BoundPlan::run_tile` in `cg_annotate`'s output, which is the inference alone):
//!
//! ```text
//! cargo build --release --example io_execute_cache -p sparsedag
//! target/release/examples/io_execute_cache copies layer 1000000 16 256
//! valgrind --tool=cachegrind --cache-sim=yes --D1=49152,12,64 --LL=1048576,16,64 \
//!     --cachegrind-out-file=cg.out \
//!     target/release/examples/io_execute_cache copies layer 1000000 16 256 1
//! cg_annotate cg.out | grep run_tile
//! ```
//!
//! Arguments: network (`efficient` | `layered` | `copies`), order (`layer` | `greedy` |
//! `two_approx` | `generation`, the last not for `layered`), neurons, batch, then for `copies`
//! the number of networks side by side (default 1) and the number of timed runs (default 3).
//! Layered networks have layers of 50,000 neurons, each reading 16 random neurons of the
//! layer before; efficient networks are `io_efficient_network(64, neurons, 16, 4096)` (16 is
//! the `degree=` option);
//! `copies` puts that many I/O-efficient networks of `neurons / copies` neurons side by side
//! (independent models, ids one after the other; their generation order runs one after the
//! other, the layer order interleaves them layer by layer). Orders are built for M = 4096.
//! Weights are bound before timing, as `IoPlan.bind` does.
//!
//! Edge orders: order `tiled` is `tiled_edge_order` of the layer order with blocks of
//! `block=B` neurons (default 4095), run by `EdgeExecutionPlan` (the function to read in
//! `cg_annotate` is then `BoundEdgePlan::run_tile`); `layer-edges` is the layer order written
//! as an edge order, through the same edge executor. Options after the positional arguments,
//! as `key=value`: `width=` of the layered network (default 50000), `degree=` (in-edges per
//! neuron of every network kind, default 16),
//! `block=`. For example, the layered network of in-degree 32 with layers of 65,536 neurons
//! (4 x the 16,384 rows of 16 floats that fit in 1 MiB), batch 16, blocks of 4095:
//!
//! ```text
//! target/release/examples/io_execute_cache layered layer 262144 16 1 5 width=65536 degree=32
//! target/release/examples/io_execute_cache layered tiled 262144 16 1 5 width=65536 degree=32 block=4095
//! ```

use std::time::Instant;

use sparsedag::cancel::never;
use sparsedag::iosched::{
    constructive_order, io_efficient_network, tiled_edge_order, BoundEdgePlan, BoundPlan,
    Constructive, EdgeExecutionPlan, ExecutionPlan, Network,
};
use sparsedag::rng::Rng;
use sparsedag::{Dag, DuplicatePolicy};

const FAST_MEMORY: usize = 4096;
const DEGREE: usize = 16;
const WIDTH: usize = 50_000;

fn layered(neurons: usize, width: usize, degree: usize, seed: u64) -> Dag {
    let mut rng = Rng::new(seed);
    let layers = (neurons / width).max(2);
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for layer in 1..layers {
        for v in layer * width..(layer + 1) * width {
            for _ in 0..degree {
                src.push(((layer - 1) * width + rng.below(width as u64) as usize) as u32);
                dst.push(v as u32);
            }
        }
    }
    Dag::from_edges(
        &src,
        &dst,
        Some((layers * width) as u64),
        DuplicatePolicy::Merge,
    )
    .unwrap()
}

/// `copies` I/O-efficient networks side by side (ids of copy c after those of copy c - 1),
/// each `io_efficient_network(64, neurons / copies, degree, 4096)` with its own seed; the
/// generation order runs them one after the other.
fn side_by_side(neurons: usize, copies: usize, degree: usize) -> (Dag, Vec<u32>) {
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    let mut offset = 0u32;
    for c in 0..copies {
        let (d, _) =
            io_efficient_network(64, neurons / copies, degree, FAST_MEMORY, c as u64).unwrap();
        let (s, t) = d.edges();
        src.extend(s.iter().map(|&u| u + offset));
        dst.extend(t.iter().map(|&v| v + offset));
        offset += d.num_nodes() as u32;
    }
    let dag = Dag::from_edges(&src, &dst, Some(offset as u64), DuplicatePolicy::Reject).unwrap();
    (dag, (0..offset).collect())
}

/// A plan of either executor, weights bound.
enum Bound {
    Neurons(BoundPlan),
    Edges(BoundEdgePlan),
}

#[inline(never)]
fn measured_run(plan: &Bound, inputs: &[f32], batch: usize) -> f32 {
    let out = match plan {
        Bound::Neurons(p) => p.run(inputs, batch, never()),
        Bound::Edges(p) => p.run(inputs, batch, never()),
    }
    .unwrap();
    out.iter().sum()
}

/// The value of option `key=` among `args`, or `default`.
fn option(args: &[String], key: &str, default: usize) -> usize {
    args.iter()
        .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
        .map_or(default, |v| v.parse().unwrap())
}

fn main() {
    let all: Vec<String> = std::env::args().collect();
    let (args, options): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|a| !a.contains('='));
    let width = option(&options, "width", WIDTH);
    let degree = option(&options, "degree", DEGREE);
    let block = option(&options, "block", FAST_MEMORY - 1);
    let (kind, method) = (args[1].as_str(), args[2].as_str());
    let neurons: usize = args[3].parse().unwrap();
    let batch: usize = args[4].parse().unwrap();
    let copies: usize = args.get(5).map_or(1, |c| c.parse().unwrap());
    let runs: usize = args.get(6).map_or(3, |r| r.parse().unwrap());
    let (dag, generation) = match kind {
        "copies" => {
            let (d, o) = side_by_side(neurons, copies, degree);
            (d, Some(o))
        }
        "efficient" => {
            let (d, o) = io_efficient_network(64, neurons, degree, FAST_MEMORY, 0).unwrap();
            (d, Some(o))
        }
        _ => (layered(neurons, width, degree, 0), None),
    };
    let net = Network::new(&dag, None, None).unwrap();
    let base = match method {
        "generation" => generation.expect("generation order exists for efficient networks"),
        "tiled" | "layer-edges" => {
            constructive_order(&net, Constructive::Layer, FAST_MEMORY, never()).unwrap()
        }
        name => {
            let c = Constructive::from_name(name).unwrap();
            constructive_order(&net, c, FAST_MEMORY, never()).unwrap()
        }
    };
    let edge_order = match method {
        "tiled" => Some(tiled_edge_order(&net, &base, block)),
        "layer-edges" => Some(tiled_edge_order(&net, &base, 1)),
        _ => None,
    };
    let mut rng = Rng::new(1);
    // Positive weights summing to about 1 per neuron keep activations O(1) at any depth (no
    // denormals, no overflow), so the timing is of memory traffic, not of special floats.
    let weights: Vec<f32> = (0..dag.num_edges())
        .map(|_| (rng.uniform(0.5, 1.5) / degree as f64) as f32)
        .collect();
    let inputs_count = net.is_input.iter().filter(|&&i| i).count();
    let inputs: Vec<f32> = (0..inputs_count * batch)
        .map(|_| rng.uniform(0.5, 1.5) as f32)
        .collect();
    let (bound, rows, detail) = match &edge_order {
        None => {
            let plan = ExecutionPlan::new(&net, &base).unwrap();
            let rows = plan.rows();
            (
                Bound::Neurons(plan.bind(&weights).unwrap()),
                rows,
                String::new(),
            )
        }
        Some(order) => {
            let plan = EdgeExecutionPlan::new(&net, order).unwrap();
            let detail = format!(
                " block={block} runs={} accumulators={}",
                plan.num_runs(),
                plan.accumulator_slots()
            );
            let rows = plan.rows();
            (Bound::Edges(plan.bind(&weights).unwrap()), rows, detail)
        }
    };
    let mut best = f64::INFINITY;
    let mut checksum = 0.0;
    for _ in 0..runs {
        let start = Instant::now();
        checksum = measured_run(&bound, &inputs, batch);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{kind} {method} neurons={neurons} width={width} degree={degree} batch={batch} \
         rows={rows}{detail} best_of_{runs}={:.2} ms checksum={checksum}",
        best * 1e3
    );
}
