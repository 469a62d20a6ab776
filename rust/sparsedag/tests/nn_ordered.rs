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

#[test]
fn parameters_copied_in_step_order_follow_every_change() {
    let g = random_dag(80, Some(0.08), None, 5).unwrap();
    let mut net = net(&g, 3, 5);
    let features = net.plan().num_inputs();
    let mut rng = Rng::new(9);
    let x: Vec<f32> = (0..7 * features)
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    let simd = Simd::with_level(Level::Scalar).unwrap();
    let order = kahn(&g);
    let plan = OrderedForward::new(net.plan(), &order).unwrap();
    assert_eq!(
        plan.parameter_bytes(),
        0,
        "nothing is copied before a prediction"
    );
    let run = |plan: &OrderedForward, net: &Net| {
        plan.predict(net, simd, &x, features, cancel::never())
            .unwrap()
    };
    let before = run(&plan, &net);
    assert!(plan.parameter_bytes() >= 4 * net.plan().num_edges());
    // A clone with other weights is another state: the plan must not reuse the first copy.
    let mut other = net.clone();
    let doubled: Vec<f32> = other.weights_user_order().iter().map(|w| 2.0 * w).collect();
    other.set_weights_user_order(&doubled).unwrap();
    let fresh = |net: &Net| run(&OrderedForward::new(net.plan(), &order).unwrap(), net);
    assert_eq!(run(&plan, &other), fresh(&other));
    assert_ne!(run(&plan, &other), before);
    assert_eq!(run(&plan, &net), before);
    // Writes through every access path invalidate the copy.
    let biases: Vec<f32> = (0..net.plan().num_nodes())
        .map(|v| v as f32 * 0.01)
        .collect();
    net.set_biases_node_order(&biases).unwrap();
    assert_eq!(run(&plan, &net), fresh(&net));
    net.parameters_mut().0[0] += 0.5;
    assert_eq!(run(&plan, &net), fresh(&net));
    plan.release_parameters();
    assert_eq!(plan.parameter_bytes(), 0);
    assert_eq!(run(&plan, &net), fresh(&net));
}

/// Edge orders (the tiled ones of the I/O scheduler, over every block size) give the
/// layer-by-layer outputs to float rounding at every SIMD level and batch width, the same bits
/// for a sample whatever the batch, and reject invalid orders.
#[test]
fn edge_orders_match_the_neuron_order_to_rounding() {
    use sparsedag::iosched::{constructive_order, tiled_edge_order, Constructive, Network};
    use sparsedag::nn::EdgeOrderedForward;
    let mut rng = Rng::new(4);
    for seed in 0..6u64 {
        let g = random_dag(70, Some(0.1), None, seed).unwrap();
        let network = Network::new(&g, None, None).unwrap();
        let base = constructive_order(&network, Constructive::Layer, 8, cancel::never()).unwrap();
        for activation in [0u8, 1, 3] {
            let net = net(&g, activation, seed);
            let features = net.plan().num_inputs();
            let x: Vec<f32> = (0..37 * features)
                .map(|_| rng.uniform(-2.0, 2.0) as f32)
                .collect();
            let neuron = OrderedForward::new(net.plan(), &kahn(&g)).unwrap();
            for level in Level::ALL.into_iter().filter(|l| l.is_supported()) {
                let simd = Simd::with_level(level).unwrap();
                let expected = neuron
                    .predict(&net, simd, &x, features, cancel::never())
                    .unwrap();
                for block in [1, 3, 16] {
                    let order = tiled_edge_order(&network, &base, block);
                    let plan = EdgeOrderedForward::new(net.plan(), &order).unwrap();
                    let got = plan
                        .predict(&net, simd, &x, features, cancel::never())
                        .unwrap();
                    for (a, b) in got.iter().zip(&expected) {
                        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
                    }
                    let one = plan
                        .predict(&net, simd, &x[..features], features, cancel::never())
                        .unwrap();
                    assert_eq!(one[..], got[..one.len()], "batch-independent");
                }
            }
        }
        let net = net(&g, 1, seed);
        let mut order = tiled_edge_order(&network, &base, 4);
        order.reverse();
        let err = EdgeOrderedForward::new(net.plan(), &order).unwrap_err();
        assert!(err.to_string().contains("invalid edge order"), "{err}");
    }
}
