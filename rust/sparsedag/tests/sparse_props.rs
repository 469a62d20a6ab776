//! Properties of the sparse-training building blocks against simple references: Erdős–Rényi
//! counts, SET evolution (exact removals, counts, no duplicates, zero momentum, uniform
//! regrowth), importance pruning (NumPy's percentile rule), cancellation and thread counts.

use proptest::prelude::*;
use sparsedag::cancel::{never, Cancel};
use sparsedag::sparse::{
    erdos_renyi_layer, erdos_renyi_probability, evolve, importance_prune, prune_to_count,
    EvolveOptions, Init, SparseLayer,
};
use sparsedag::Error;

/// A layer from a dense pattern: `cells[j * n_in + i]` is Some(weight) where a connection
/// exists. Momentum is position + 1, so survivors stay recognisable after evolution.
fn layer_from_cells(n_in: usize, n_out: usize, cells: &[Option<f32>]) -> SparseLayer {
    let mut offsets = vec![0u64];
    let (mut indices, mut weights) = (Vec::new(), Vec::new());
    for j in 0..n_out {
        for i in 0..n_in {
            if let Some(w) = cells[j * n_in + i] {
                indices.push(i as u32);
                weights.push(w);
            }
        }
        offsets.push(indices.len() as u64);
    }
    let momentum = (0..indices.len()).map(|p| p as f32 + 1.0).collect();
    SparseLayer::from_parts(n_in, n_out, offsets, indices, weights, momentum).unwrap()
}

/// (row, input, weight bits, momentum bits) of every connection.
fn connections(l: &SparseLayer) -> Vec<(usize, u32, u32, u32)> {
    (0..l.n_out)
        .flat_map(|j| {
            l.row(j).map(move |p| {
                (
                    j,
                    l.indices[p],
                    l.weights[p].to_bits(),
                    l.momentum[p].to_bits(),
                )
            })
        })
        .collect()
}

/// The reference removal: sort each sign by (distance to zero, CSR position) and take the
/// first floor(zeta * count); zeros always go.
fn reference_survivors(l: &SparseLayer, zeta: f64) -> Vec<(usize, u32, u32, u32)> {
    let all = connections(l);
    let mut pos: Vec<(f32, usize)> = Vec::new();
    let mut neg: Vec<(f32, usize)> = Vec::new();
    for (p, &(_, _, w, _)) in all.iter().enumerate() {
        let w = f32::from_bits(w);
        if w > 0.0 {
            pos.push((w, p));
        } else if w < 0.0 {
            neg.push((-w, p));
        }
    }
    let mut removed = vec![false; all.len()];
    for (p, &(_, _, w, _)) in all.iter().enumerate() {
        if f32::from_bits(w) == 0.0 {
            removed[p] = true;
        }
    }
    for mut side in [pos, neg] {
        side.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let k = (zeta * side.len() as f64).floor() as usize;
        for &(_, p) in &side[..k] {
            removed[p] = true;
        }
    }
    all.into_iter()
        .zip(removed)
        .filter(|(_, r)| !r)
        .map(|(c, _)| c)
        .collect()
}

fn small_layer() -> impl Strategy<Value = SparseLayer> {
    (1usize..9, 1usize..9)
        .prop_flat_map(|(n_in, n_out)| {
            // few distinct values so that ties and zeros are common
            let weight = prop_oneof![
                Just(None),
                Just(None),
                prop::sample::select(vec![-1.0f32, -0.5, -0.25, -0.0, 0.0, 0.25, 0.5, 0.75, 1.0])
                    .prop_map(Some),
            ];
            (
                Just(n_in),
                Just(n_out),
                prop::collection::vec(weight, n_in * n_out),
            )
        })
        .prop_map(|(n_in, n_out, cells)| layer_from_cells(n_in, n_out, &cells))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn evolution_removes_exactly_the_reference_set_and_keeps_the_count(
        layer in small_layer(),
        zeta in 0.0f64..1.0,
        seed in any::<u64>(),
    ) {
        let before = layer.clone();
        let mut after = layer;
        let options = EvolveOptions { zeta, seed, init: Init::HeUniformNeuron, ..Default::default() };
        let stats = evolve(&mut after.view_mut(), &options, never()).unwrap();
        after.check().unwrap(); // sorted rows, no duplicates, in range, finite
        prop_assert_eq!(after.nnz(), before.nnz());
        prop_assert_eq!(stats.added, stats.removed());
        let survivors: Vec<_> = connections(&after).into_iter().filter(|c| c.3 != 0).collect();
        prop_assert_eq!(&survivors, &reference_survivors(&before, zeta));
        let fresh = after.momentum.iter().filter(|&&m| m == 0.0).count();
        prop_assert_eq!(fresh, stats.added);
        // fresh weights come from the initialiser: |w| <= sqrt(6 / fan-in)
        for j in 0..after.n_out {
            let limit = (6.0 / after.row(j).len().max(1) as f64).sqrt() as f32;
            for p in after.row(j) {
                if after.momentum[p] == 0.0 {
                    prop_assert!(after.weights[p].abs() <= limit);
                }
            }
        }
    }

    #[test]
    fn regrowth_stays_in_the_live_region(
        layer in small_layer(),
        zeta in 0.0f64..1.0,
        seed in any::<u64>(),
        mask_seed in any::<u64>(),
    ) {
        let in_alive: Vec<bool> = (0..layer.n_in).map(|i| (mask_seed >> (i % 64)) & 1 == 1).collect();
        let out_alive: Vec<bool> = (0..layer.n_out).map(|j| (mask_seed >> ((j + 17) % 64)) & 1 == 1).collect();
        let mut after = layer.clone();
        let options = EvolveOptions {
            zeta, seed, init: Init::XavierUniform,
            input_alive: Some(&in_alive), output_alive: Some(&out_alive),
        };
        match evolve(&mut after.view_mut(), &options, never()) {
            Ok(_) => {
                after.check().unwrap();
                prop_assert_eq!(after.nnz(), layer.nnz());
                for (j, &row_alive) in out_alive.iter().enumerate() {
                    for p in after.row(j) {
                        if after.momentum[p] == 0.0 {
                            prop_assert!(row_alive && in_alive[after.indices[p] as usize]);
                        }
                    }
                }
            }
            // not enough room in the live region: the layer must be untouched
            Err(Error::InvalidArgument(msg)) => {
                prop_assert!(msg.contains("cannot regrow"));
                prop_assert_eq!(&after, &layer);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn pruning_to_a_count_keeps_the_largest_magnitudes(
        layer in small_layer(),
        target in 0usize..70,
    ) {
        let all = connections(&layer);
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by(|&a, &b| {
            let (wa, wb) = (f32::from_bits(all[a].2).abs(), f32::from_bits(all[b].2).abs());
            wa.total_cmp(&wb).then(a.cmp(&b))
        });
        let dropped = all.len().saturating_sub(target);
        let mut keep = vec![true; all.len()];
        for &p in &order[..dropped] {
            keep[p] = false;
        }
        let expected: Vec<_> = all.iter().zip(&keep).filter(|(_, &k)| k).map(|(c, _)| *c).collect();
        let mut after = layer;
        prop_assert_eq!(prune_to_count(&mut after, target), dropped);
        after.check().unwrap();
        prop_assert_eq!(connections(&after), expected);
    }

    #[test]
    fn importance_pruning_matches_the_reference(
        sizes in prop::collection::vec(1usize..7, 3..5),
        seed in any::<u64>(),
        q in 0.0f64..=100.0,
    ) {
        let mut layers: Vec<SparseLayer> = sizes
            .windows(2)
            .enumerate()
            .map(|(l, w)| erdos_renyi_layer(w[0], w[1], 1.0, Init::HeUniform, seed ^ l as u64, never()).unwrap())
            .collect();
        // eighths make every score exact, whatever the summation order
        for layer in &mut layers {
            for w in &mut layer.weights {
                *w = (*w * 8.0).round() / 8.0;
            }
        }
        let before = layers.clone();
        let outcome = importance_prune(&mut layers, q, never()).unwrap();
        for h in 0..before.len() - 1 {
            let (layer, next) = (&before[h], &before[h + 1]);
            let scores: Vec<f64> = (0..layer.n_out)
                .map(|j| layer.weights[layer.row(j)].iter().map(|w| w.abs() as f64).sum())
                .collect();
            let connected: Vec<bool> = (0..layer.n_out)
                .map(|j| !layer.row(j).is_empty() || next.indices.contains(&(j as u32)))
                .collect();
            let mut s: Vec<f64> = (0..layer.n_out).filter(|&j| connected[j]).map(|j| scores[j]).collect();
            s.sort_by(f64::total_cmp);
            let expected: Vec<u32> = if s.is_empty() { vec![] } else {
                let h_idx = (s.len() - 1) as f64 * (q / 100.0);
                let lo = h_idx.floor() as usize;
                let t = if lo + 1 >= s.len() { s[s.len() - 1] } else {
                    let g = h_idx - lo as f64;
                    let d = s[lo + 1] - s[lo];
                    if g >= 0.5 { s[lo + 1] - d * (1.0 - g) } else { s[lo] + d * g }
                };
                (0..layer.n_out).filter(|&j| connected[j] && scores[j] <= t).map(|j| j as u32).collect()
            };
            prop_assert_eq!(&outcome.removed[h], &expected);
            prop_assert_eq!(&outcome.scores[h], &scores);
        }
        // every connection into or out of a removed neuron is gone, all others kept as they were
        for (l, (b, a)) in before.iter().zip(&layers).enumerate() {
            a.check().unwrap();
            let row_removed = |j: usize| l < before.len() - 1 && outcome.removed[l].contains(&(j as u32));
            let col_removed = |i: u32| l > 0 && outcome.removed[l - 1].contains(&i);
            let keep = |j: usize, i: u32| !row_removed(j) && !col_removed(i);
            let expected: Vec<_> = connections(b).into_iter().filter(|c| keep(c.0, c.1)).collect();
            prop_assert_eq!(connections(a), expected);
        }
    }
}

#[test]
fn erdos_renyi_counts_match_the_formula_within_binomial_bounds() {
    for &(n_in, n_out, eps) in &[(1000, 1000, 20.0), (784, 300, 11.0), (3000, 10, 1.0)] {
        let p = erdos_renyi_probability(n_in, n_out, eps).unwrap();
        let trials = (n_in * n_out) as f64;
        let (mean, sd) = (trials * p, (trials * p * (1.0 - p)).sqrt());
        for seed in 0..5 {
            let l = erdos_renyi_layer(n_in, n_out, eps, Init::HeUniform, seed, never()).unwrap();
            l.check().unwrap();
            let nnz = l.nnz() as f64;
            assert!(
                (nnz - mean).abs() < 5.0 * sd,
                "{n_in}x{n_out}: {nnz} vs {mean} ± {sd}"
            );
            let limit = (6.0 / n_in as f64).sqrt() as f32;
            assert!(l.weights.iter().all(|w| w.abs() <= limit));
            assert!(l.momentum.iter().all(|&m| m == 0.0));
        }
    }
}

#[test]
fn erdos_renyi_inputs_are_uniform() {
    // every input column equally likely: column counts of a tall layer
    let l = erdos_renyi_layer(10, 20_000, 1.0, Init::HeUniform, 3, never()).unwrap();
    let p = erdos_renyi_probability(10, 20_000, 1.0).unwrap();
    let mut counts = [0usize; 10];
    for &i in &l.indices {
        counts[i as usize] += 1;
    }
    let (mean, sd) = (20_000.0 * p, (20_000.0 * p * (1.0 - p)).sqrt());
    for c in counts {
        assert!((c as f64 - mean).abs() < 5.0 * sd, "{counts:?}");
    }
}

/// How often each cell receives a regrown connection, over many seeds.
fn regrowth_frequencies(layer: &SparseLayer, zeta: f64, seeds: u64) -> Vec<u64> {
    let mut freq = vec![0u64; layer.n_in * layer.n_out];
    for seed in 0..seeds {
        let mut l = layer.clone();
        let options = EvolveOptions {
            zeta,
            seed,
            ..Default::default()
        };
        evolve(&mut l.view_mut(), &options, never()).unwrap();
        for j in 0..l.n_out {
            for p in l.row(j) {
                if l.momentum[p] == 0.0 {
                    freq[j * l.n_in + l.indices[p] as usize] += 1;
                }
            }
        }
    }
    freq
}

fn assert_uniform_over_empty_cells(layer: &SparseLayer, zeta: f64, seeds: u64) {
    let mut after_prune = layer.clone();
    // the removal is deterministic; a zero-regrowth view of it: cells kept by every run
    let kept: std::collections::HashSet<(usize, u32)> = {
        let options = EvolveOptions {
            zeta,
            seed: 0,
            ..Default::default()
        };
        evolve(&mut after_prune.view_mut(), &options, never()).unwrap();
        connections(&after_prune)
            .into_iter()
            .filter(|c| c.3 != 0)
            .map(|c| (c.0, c.1))
            .collect()
    };
    let k = layer.nnz() - kept.len();
    let empty = layer.n_in * layer.n_out - kept.len();
    let freq = regrowth_frequencies(layer, zeta, seeds);
    let p = k as f64 / empty as f64;
    let (mean, sd) = (seeds as f64 * p, (seeds as f64 * p * (1.0 - p)).sqrt());
    for j in 0..layer.n_out {
        for i in 0..layer.n_in {
            let f = freq[j * layer.n_in + i] as f64;
            if kept.contains(&(j, i as u32)) {
                assert_eq!(f, 0.0, "a kept cell was regrown");
            } else {
                assert!(
                    (f - mean).abs() < 5.5 * sd,
                    "cell ({j}, {i}): {f} vs {mean} ± {sd}"
                );
            }
        }
    }
}

#[test]
fn regrowth_is_uniform_over_empty_cells_when_enumerating() {
    // 4 x 4 with 8 connections: a small region, so regrowth enumerates
    let cells: Vec<Option<f32>> = (0..16)
        .map(|c| {
            (c % 2 == 0).then(|| {
                if c % 4 == 0 {
                    0.1 * (c + 1) as f32
                } else {
                    -0.1 * (c + 1) as f32
                }
            })
        })
        .collect();
    assert_uniform_over_empty_cells(&layer_from_cells(4, 4, &cells), 0.5, 4000);
}

#[test]
fn regrowth_is_uniform_over_empty_cells_with_rejection() {
    // 20 x 20 with 20 connections: the rejection path (cells > 4 (nnz + k))
    let mut cells = vec![None; 400];
    for t in 0..20 {
        cells[(t * 37) % 400] = Some(if t % 2 == 0 {
            t as f32 + 1.0
        } else {
            -(t as f32) - 1.0
        });
    }
    assert_uniform_over_empty_cells(&layer_from_cells(20, 20, &cells), 0.3, 3000);
}

#[test]
fn a_cancelled_evolution_leaves_the_layer_untouched() {
    let mut l = erdos_renyi_layer(200, 200, 5.0, Init::HeUniform, 1, never()).unwrap();
    let before = l.clone();
    let cancel = Cancel::new();
    cancel.request();
    let options = EvolveOptions::default();
    assert_eq!(
        evolve(&mut l.view_mut(), &options, &cancel),
        Err(Error::Interrupted)
    );
    assert_eq!(l, before);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let build = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut l =
                erdos_renyi_layer(3000, 2000, 20.0, Init::HeUniformNeuron, 7, never()).unwrap();
            let options = EvolveOptions {
                seed: 8,
                ..Default::default()
            };
            let stats = evolve(&mut l.view_mut(), &options, never()).unwrap();
            (l, stats)
        })
    };
    assert_eq!(build(1), build(2));
}

#[test]
fn evolution_of_a_large_layer_keeps_every_invariant() {
    let mut l = erdos_renyi_layer(1000, 1000, 20.0, Init::HeUniform, 5, never()).unwrap();
    let nnz = l.nnz();
    for step in 0..5 {
        let options = EvolveOptions {
            seed: step,
            ..Default::default()
        };
        let stats = evolve(&mut l.view_mut(), &options, never()).unwrap();
        l.check().unwrap();
        assert_eq!(l.nnz(), nnz);
        assert_eq!(stats.added, stats.removed());
        // ~30 % of each sign
        assert!((stats.removed() as f64 - 0.3 * nnz as f64).abs() < 0.01 * nnz as f64);
    }
}
