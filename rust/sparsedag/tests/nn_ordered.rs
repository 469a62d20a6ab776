//! The ordered executor's narrow tiles (1, 2, 4, 8 or 16 columns, rows held in registers) give
//! the same bits as its general tiles (the engine's `weighted_sum` kernel) at every SIMD level,
//! activation and order.

use sparsedag::graph::generators::random_dag;
use sparsedag::layering::method::{layer, Method, Options};
use sparsedag::nn::{Init, Level, Net, OrderedForward, Plan, Simd};
use sparsedag::order::kahn;
use sparsedag::rng::Rng;
use sparsedag::{cancel, Dag};

fn net(g: &Dag, activation: u8, seed: u64) -> Net {
    let layers = layer(g, Method::LongestPath, Options::default(), cancel::never()).unwrap();
    let inputs: Vec<u32> = g.sources();
    let outputs: Vec<u32> = g
        .sinks()
        .into_iter()
        .filter(|&v| g.in_degree(v) > 0)
        .collect();
    let plan = Plan::new(g, &inputs, &outputs, &layers).unwrap();
    let codes = vec![activation; g.num_nodes()];
    Net::new(plan, &codes, 0.6, Init::HeUniform, seed, true).unwrap()
}

#[test]
fn narrow_tiles_match_general_tiles_bit_for_bit() {
    let mut rng = Rng::new(3);
    for seed in 0..8u64 {
        let g = random_dag(60, Some(0.1), None, seed).unwrap();
        let n = g.num_nodes();
        // Reversed Kahn order of the reversed graph: another valid topological order.
        let mut orders = vec![kahn(&g)];
        let (src, dst) = g.edges();
        let reversed = Dag::from_edges(&dst, &src, Some(n as u64), Default::default()).unwrap();
        let mut other = kahn(&reversed);
        other.reverse();
        orders.push(other);
        for activation in 0..6u8 {
            let net = net(&g, activation, seed);
            let features = net.plan().num_inputs();
            // 19 samples run as one general tile; their first `b` as a narrow tile of `b`.
            let x: Vec<f32> = (0..19 * features)
                .map(|_| rng.uniform(-2.0, 2.0) as f32)
                .collect();
            for level in Level::ALL.into_iter().filter(|l| l.is_supported()) {
                let simd = Simd::with_level(level).unwrap();
                for order in &orders {
                    let plan = OrderedForward::new(net.plan(), order).unwrap();
                    let wide = plan
                        .predict(&net, simd, &x, features, cancel::never())
                        .unwrap();
                    for b in [1, 2, 4, 8, 16] {
                        let narrow = plan
                            .predict(&net, simd, &x[..b * features], features, cancel::never())
                            .unwrap();
                        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                        assert_eq!(
                            bits(&narrow),
                            bits(&wide[..narrow.len()]),
                            "seed {seed} activation {activation} level {level:?} batch {b}"
                        );
                    }
                }
            }
        }
    }
}
