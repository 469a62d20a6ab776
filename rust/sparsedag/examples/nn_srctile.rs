//! Go / no-go measurement for source-range tiling (2D blocking) of the two per-connection
//! kernels: `cargo run --release --example nn_srctile -p sparsedag -- [ROWS] [DEGREE] [BATCH]`.
//!
//! One random layer: ROWS (default 4000) targets each with DEGREE (default 40) random sorted
//! sources among ROWS rows of BATCH (default 128) floats, 1 thread, best of 100 passes.
//! - forward: untiled (`Simd::weighted_sum` per target over all its in-edges) against C
//!   source chunks, each pass over every target continuing its row from the partial stored
//!   after the previous chunk (`Simd::weighted_sum_continue`), so that the rows read by a pass
//!   stay in L2;
//! - backward: untiled (`Simd::backprop_source` per source over all its out-edges) against C
//!   target chunks, each pass over every source continuing its input gradient.
//!
//! - "stream" (AVX-512, batch 128 only): the same passes as one loop over all targets (or
//!   sources) of a chunk, with the prefetches running 8 connections ahead across target
//!   boundaries, instead of one kernel call per target; chunk count 1 is the untiled stream;
//! - "gather_pass": the library's `Simd::gather_pass`, the forward stream in safe generic code
//!   (units of UNIT targets, default 32, as the engine would run it).
//!
//! Every tiled or streamed result is checked bit for bit against the untiled one. Figures are
//! ns per connection per 128 columns. Knobs of the experiments (all off by default): AHEAD=k
//! prefetches the partial rows k targets ahead in the per-call tiled loops; NEXT=k prefetches
//! the next target's first k rows of the chunk there; BFLAGS=1 stops the stream prefetches at
//! target boundaries, BFLAGS=2 drops the stream's prefetch of the partial and activation rows
//! 2 targets ahead; TWO=1 runs the untiled and streamed forward on 2 threads (halves).

// Lane loops index several arrays in step.
#![allow(clippy::needless_range_loop)]

use std::time::Instant;

use sparsedag::nn::Simd;
use sparsedag::rng::Rng;

fn best_of(passes: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..passes {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

/// `len` random floats starting on a 128-byte boundary (as the engine's rows do).
fn aligned(rng: &mut Rng, len: usize) -> (Vec<f32>, usize) {
    let buf: Vec<f32> = (0..len + 32)
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    let skip = (32 - (buf.as_ptr() as usize / 4) % 32) % 32;
    (buf, skip)
}

/// For each list (sorted ids), the offsets of the first id at or above each chunk boundary.
fn splits(lists: &[Vec<u32>], rows: usize, chunks: usize) -> Vec<Vec<usize>> {
    lists
        .iter()
        .map(|l| {
            (0..=chunks)
                .map(|c| l.partition_point(|&s| (s as usize) < c * rows / chunks))
                .collect()
        })
        .collect()
}

/// Asks for the `len` floats from `p` (cache lines of 16 floats).
fn prefetch_row(p: *const f32, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for k in (0..len).step_by(16) {
        // SAFETY: a hint; it never faults.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(k).cast::<i8>());
        }
    }
}

/// One pass of the forward over every target's connections into one source chunk, as one
/// stream: `src[off[j]..off[j + 1]]` are target j's sources in the chunk and their weights start
/// at `weights[wpos[j]]`. Prefetches run 8 connections ahead across target boundaries, and the
/// partial row of the target 2 ahead is asked for. 128 columns, AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn stream_pass(
    out: &mut [f32],
    src: &[u32],
    off: &[usize],
    wpos: &[usize],
    weights: &[f32],
    act: &[f32],
    first: bool,
    bias: f32,
    flags: usize,
) {
    use std::arch::x86_64::*;
    const B: usize = 128;
    let targets = off.len() - 1;
    assert!(out.len() >= targets * B);
    assert!(src.iter().all(|&s| (s as usize + 1) * B <= act.len()));
    let n = src.len();
    for j in 0..targets {
        let row = out.as_mut_ptr().add(j * B);
        if flags & 2 == 0 && !first && j + 2 < targets {
            for k in (0..B).step_by(32) {
                _mm_prefetch::<_MM_HINT_T0>(out.as_ptr().add((j + 2) * B + k).cast::<i8>());
            }
        }
        let mut acc = [_mm512_set1_ps(bias); 8];
        if !first {
            for k in 0..8 {
                acc[k] = _mm512_loadu_ps(row.add(16 * k));
            }
        }
        let w0 = wpos[j];
        for f in off[j]..off[j + 1] {
            if f + 8 < if flags & 1 == 0 { n } else { off[j + 1] } {
                let ahead = act.as_ptr().add(*src.get_unchecked(f + 8) as usize * B);
                for k in (0..B).step_by(32) {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.add(k).cast::<i8>());
                }
            }
            let r = act.as_ptr().add(*src.get_unchecked(f) as usize * B);
            let w = _mm512_set1_ps(weights[w0 + f - off[j]]);
            for k in 0..8 {
                acc[k] = _mm512_fmadd_ps(w, _mm512_loadu_ps(r.add(16 * k)), acc[k]);
            }
        }
        for k in 0..8 {
            _mm512_storeu_ps(row.add(16 * k), acc[k]);
        }
    }
}

/// `reduce_lanes` of the engine: halves added pairwise.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,fma")]
unsafe fn reduce16(s: std::arch::x86_64::__m512) -> f32 {
    use std::arch::x86_64::*;
    let lo = _mm512_castps512_ps256(s);
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(s)));
    let r8 = _mm256_add_ps(lo, hi);
    let r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps::<1>(r8));
    let r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
    let r1 = _mm_add_ss(r2, _mm_shuffle_ps::<1>(r2, r2));
    _mm_cvtss_f32(r1)
}

/// One pass of the backward over every source's out-edges into one target chunk, as one
/// stream (the layout of [`stream_pass`]): the input gradient continues from `acc` (from zero
/// when `first`), each edge's weight gradient goes to `grads[wpos[i] + ...]`. The same
/// operations in the same order as the engine's 128-column AVX-512 row kernel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn stream_back(
    acc: &mut [f32],
    a: &[f32],
    tgt: &[u32],
    off: &[usize],
    wpos: &[usize],
    weights: &[f32],
    deltas: &[f32],
    grads: &mut [f32],
    first: bool,
    flags: usize,
) {
    use std::arch::x86_64::*;
    const B: usize = 128;
    let sources = off.len() - 1;
    assert!(acc.len() >= sources * B && a.len() >= sources * B);
    assert!(tgt.iter().all(|&t| (t as usize + 1) * B <= deltas.len()));
    let n = tgt.len();
    let zero = _mm512_setzero_ps();
    for i in 0..sources {
        let row = acc.as_mut_ptr().add(i * B);
        if flags & 2 == 0 && i + 2 < sources {
            for k in (0..B).step_by(32) {
                _mm_prefetch::<_MM_HINT_T0>(a.as_ptr().add((i + 2) * B + k).cast::<i8>());
                if !first {
                    _mm_prefetch::<_MM_HINT_T0>(acc.as_ptr().add((i + 2) * B + k).cast::<i8>());
                }
            }
        }
        let (e0, e1) = (off[i], off[i + 1]);
        if first && e0 == e1 {
            for k in 0..8 {
                _mm512_storeu_ps(row.add(16 * k), zero);
            }
            continue;
        }
        let mut av = [zero; 8];
        let mut c = [zero; 8];
        for k in 0..8 {
            av[k] = _mm512_loadu_ps(a.as_ptr().add(i * B + 16 * k));
            if !first {
                c[k] = _mm512_loadu_ps(row.add(16 * k));
            }
        }
        let w0 = wpos[i];
        for f in e0..e1 {
            if f + 8 < if flags & 1 == 0 { n } else { e1 } {
                let ahead = deltas.as_ptr().add(*tgt.get_unchecked(f + 8) as usize * B);
                for k in (0..B).step_by(32) {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.add(k).cast::<i8>());
                }
            }
            let r = deltas.as_ptr().add(*tgt.get_unchecked(f) as usize * B);
            let mut d = [zero; 8];
            for k in 0..8 {
                d[k] = _mm512_loadu_ps(r.add(16 * k));
            }
            let w = _mm512_set1_ps(weights[w0 + f - e0]);
            for k in 0..8 {
                c[k] = _mm512_fmadd_ps(w, d[k], c[k]);
            }
            let mut s = zero;
            for t in 0..2 {
                let mut l = zero;
                for q in 0..4 {
                    l = _mm512_fmadd_ps(av[4 * t + q], d[4 * t + q], l);
                }
                s = _mm512_add_ps(s, l);
            }
            grads[w0 + f - e0] = reduce16(s);
        }
        for k in 0..8 {
            _mm512_storeu_ps(row.add(16 * k), c[k]);
        }
    }
}

fn ahead() -> usize {
    std::env::var("AHEAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("ROWS DEGREE BATCH as numbers"))
        .collect();
    let rows = args.first().copied().unwrap_or(4000);
    let degree = args.get(1).copied().unwrap_or(40);
    let batch = args.get(2).copied().unwrap_or(128);
    let mut rng = Rng::new(1);
    let mut ins: Vec<Vec<u32>> = vec![Vec::new(); rows];
    for t in ins.iter_mut() {
        let mut s: Vec<u32> = (0..degree)
            .map(|_| ((rng.uniform(0.0, 1.0) * rows as f64) as usize).min(rows - 1) as u32)
            .collect();
        s.sort_unstable();
        s.dedup();
        *t = s;
    }
    let mut outs: Vec<Vec<u32>> = vec![Vec::new(); rows];
    for (t, s) in ins.iter().enumerate() {
        for &s in s {
            outs[s as usize].push(t as u32);
        }
    }
    let edges: usize = ins.iter().map(Vec::len).sum();
    let in_w: Vec<Vec<f32>> = ins
        .iter()
        .map(|s| s.iter().map(|_| rng.uniform(-0.1, 0.1) as f32).collect())
        .collect();
    let out_w: Vec<Vec<f32>> = outs
        .iter()
        .map(|s| s.iter().map(|_| rng.uniform(-0.1, 0.1) as f32).collect())
        .collect();
    let simd = Simd::detect();
    let passes = 100;
    let pf = ahead();
    let two = std::env::var("TWO").is_ok();
    let bflags: usize = std::env::var("BFLAGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let nx: usize = std::env::var("NEXT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let per = |secs: f64| secs * 1e9 / edges as f64 * 128.0 / batch as f64;
    println!(
        "{rows} rows x {batch} columns ({} KB), {edges} connections, {}",
        rows * batch * 4 / 1000,
        simd.level().name()
    );
    let (act_buf, act_skip) = aligned(&mut rng, rows * batch);
    let act = &act_buf[act_skip..][..rows * batch];
    let (mut ref_buf, ref_skip) = aligned(&mut rng, rows * batch);
    let (mut out_buf, out_skip) = aligned(&mut rng, rows * batch);

    // Forward.
    let t = best_of(passes, || {
        let out = &mut ref_buf[ref_skip..][..rows * batch];
        let half = if two { rows / 2 } else { rows };
        let (o0, o1) = out.split_at_mut(half * batch);
        let part = |o: &mut [f32], lo: usize| {
            for (jj, row) in o.chunks_mut(batch).enumerate() {
                let j = lo + jj;
                simd.weighted_sum(row, 0.5, &ins[j], &in_w[j], act, batch, 0);
            }
        };
        rayon::join(|| part(o0, 0), || part(o1, half));
    });
    println!("forward  untiled    : {:.2} ns", per(t));
    for chunks in [2usize, 3, 4, 6, 8] {
        let split = splits(&ins, rows, chunks);
        let t = best_of(passes, || {
            let out = &mut out_buf[out_skip..][..rows * batch];
            for c in 0..chunks {
                for (j, s) in ins.iter().enumerate() {
                    let (a, b) = (split[j][c], split[j][c + 1]);
                    if pf > 0 && c > 0 {
                        prefetch_row(out.as_ptr().wrapping_add((j + pf) * batch), batch);
                    }
                    if nx > 0 && j + 1 < rows {
                        let (na, nb) = (split[j + 1][c], split[j + 1][c + 1]);
                        for &src in &ins[j + 1][na..nb.min(na + nx)] {
                            prefetch_row(act.as_ptr().wrapping_add(src as usize * batch), batch);
                        }
                    }
                    let row = &mut out[j * batch..][..batch];
                    if c == 0 {
                        simd.weighted_sum(row, 0.5, &s[a..b], &in_w[j][a..b], act, batch, 0);
                    } else {
                        simd.weighted_sum_continue(row, &s[a..b], &in_w[j][a..b], act, batch, 0);
                    }
                }
            }
        });
        let same = out_buf[out_skip..][..rows * batch] == ref_buf[ref_skip..][..rows * batch];
        println!(
            "forward  {chunks} chunks   : {:.2} ns (same bits: {same})",
            per(t)
        );
    }

    #[cfg(target_arch = "x86_64")]
    if batch == 128 && std::arch::is_x86_feature_detected!("avx512f") {
        let flat_w: Vec<f32> = in_w.iter().flatten().copied().collect();
        let wstart: Vec<usize> = ins
            .iter()
            .scan(0, |a, l| {
                let s = *a;
                *a += l.len();
                Some(s)
            })
            .collect();
        for chunks in [1usize, 2, 3, 4, 6] {
            let split = splits(&ins, rows, chunks);
            // Chunk-major copies of the sources, with per-target offsets and weight positions.
            let passes_data: Vec<(Vec<u32>, Vec<usize>, Vec<usize>)> = (0..chunks)
                .map(|c| {
                    let mut src = Vec::new();
                    let mut off = vec![0];
                    let mut wpos = Vec::new();
                    for (j, l) in ins.iter().enumerate() {
                        let (a, b) = (split[j][c], split[j][c + 1]);
                        src.extend_from_slice(&l[a..b]);
                        off.push(src.len());
                        wpos.push(wstart[j] + a);
                    }
                    (src, off, wpos)
                })
                .collect();
            let t = best_of(passes, || {
                let out = &mut out_buf[out_skip..][..rows * batch];
                for (c, (src, off, wpos)) in passes_data.iter().enumerate() {
                    if two {
                        let half = rows / 2;
                        let (o0, o1) = out.split_at_mut(half * batch);
                        let fw = &flat_w;
                        rayon::join(
                            // SAFETY: AVX-512 checked above.
                            || unsafe {
                                stream_pass(
                                    o0,
                                    src,
                                    &off[..=half],
                                    &wpos[..half],
                                    fw,
                                    act,
                                    c == 0,
                                    0.5,
                                    bflags,
                                )
                            },
                            // SAFETY: as above.
                            || unsafe {
                                stream_pass(
                                    o1,
                                    src,
                                    &off[half..],
                                    &wpos[half..],
                                    fw,
                                    act,
                                    c == 0,
                                    0.5,
                                    bflags,
                                )
                            },
                        );
                    } else {
                        // SAFETY: AVX-512 checked above.
                        unsafe {
                            stream_pass(out, src, off, wpos, &flat_w, act, c == 0, 0.5, bflags)
                        };
                    }
                }
            });
            let same = out_buf[out_skip..][..rows * batch] == ref_buf[ref_skip..][..rows * batch];
            println!(
                "forward  stream {chunks} chunks: {:.2} ns (same bits: {same})",
                per(t)
            );
        }
    }

    // The engine's pass kernel (`Simd::gather_pass`) on the in-edge CSR.
    {
        let flat_s: Vec<u32> = ins.iter().flatten().copied().collect();
        let flat_w: Vec<f32> = in_w.iter().flatten().copied().collect();
        let mut offsets = vec![0usize];
        for l in &ins {
            offsets.push(offsets.last().unwrap() + l.len());
        }
        let biases = vec![0.5f32; rows];
        let mut starts = vec![0usize; rows];
        let unit: usize = std::env::var("UNIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(32);
        for chunks in [1usize, 2, 3, 4] {
            let t = best_of(passes, || {
                let out = &mut out_buf[out_skip..][..rows * batch];
                for c in 0..chunks {
                    let bound = if c + 1 == chunks {
                        u32::MAX
                    } else {
                        ((c + 1) * rows / chunks) as u32
                    };
                    let mut t0 = 0;
                    while t0 < rows {
                        let n = unit.min(rows - t0);
                        let b = (c == 0).then(|| &biases[t0..t0 + n]);
                        simd.gather_pass(
                            &mut out[t0 * batch..(t0 + n) * batch],
                            batch,
                            b,
                            &offsets[t0..=t0 + n],
                            &mut starts[t0..t0 + n],
                            bound,
                            &flat_s,
                            &flat_w,
                            act,
                        );
                        t0 += n;
                    }
                }
            });
            let same = out_buf[out_skip..][..rows * batch] == ref_buf[ref_skip..][..rows * batch];
            println!(
                "forward  gather_pass {chunks} chunks: {:.2} ns (same bits: {same})",
                per(t)
            );
        }
    }

    // Backward: input gradients into `acc`, weight gradients into `grads` (out-edge order).
    let (deltas_buf, deltas_skip) = aligned(&mut rng, rows * batch);
    let deltas = &deltas_buf[deltas_skip..][..rows * batch];
    let mut ref_grads = vec![0.0f32; edges];
    let mut grads = vec![0.0f32; edges];
    let starts: Vec<usize> = outs
        .iter()
        .scan(0, |acc, o| {
            let s = *acc;
            *acc += o.len();
            Some(s)
        })
        .collect();
    // One source's out-edges `a..b`, cut into calls of at most 64 edges.
    #[allow(clippy::too_many_arguments)]
    fn run(
        simd: Simd,
        acc: &mut [f32],
        zero: bool,
        a_row: &[f32],
        targets: &[u32],
        weights: &[f32],
        deltas: &[f32],
        grads: &mut [f32],
    ) {
        if targets.is_empty() {
            if zero {
                acc.fill(0.0);
            }
            return;
        }
        let mut first = true;
        for ((t, w), g) in targets
            .chunks(64)
            .zip(weights.chunks(64))
            .zip(grads.chunks_mut(64))
        {
            simd.backprop_source(Some(&mut *acc), zero && first, a_row, t, w, deltas, 0, g);
            first = false;
        }
    }
    let t = best_of(passes, || {
        let acc = &mut ref_buf[ref_skip..][..rows * batch];
        for (i, o) in outs.iter().enumerate() {
            let g = &mut ref_grads[starts[i]..starts[i] + o.len()];
            let row = &mut acc[i * batch..][..batch];
            run(
                simd,
                row,
                true,
                &act[i * batch..][..batch],
                o,
                &out_w[i],
                deltas,
                g,
            );
        }
    });
    println!("backward untiled    : {:.2} ns", per(t));
    for chunks in [2usize, 3, 4, 6, 8] {
        let split = splits(&outs, rows, chunks);
        let t = best_of(passes, || {
            let acc = &mut out_buf[out_skip..][..rows * batch];
            for c in 0..chunks {
                for (i, o) in outs.iter().enumerate() {
                    let (a, b) = (split[i][c], split[i][c + 1]);
                    if pf > 0 {
                        prefetch_row(act.as_ptr().wrapping_add((i + pf) * batch), batch);
                        if c > 0 {
                            prefetch_row(acc.as_ptr().wrapping_add((i + pf) * batch), batch);
                        }
                    }
                    if nx > 0 && i + 1 < rows {
                        let (na, nb) = (split[i + 1][c], split[i + 1][c + 1]);
                        for &t in &outs[i + 1][na..nb.min(na + nx)] {
                            prefetch_row(deltas.as_ptr().wrapping_add(t as usize * batch), batch);
                        }
                    }
                    let g = &mut grads[starts[i] + a..starts[i] + b];
                    let row = &mut acc[i * batch..][..batch];
                    let a_row = &act[i * batch..][..batch];
                    run(
                        simd,
                        row,
                        c == 0,
                        a_row,
                        &o[a..b],
                        &out_w[i][a..b],
                        deltas,
                        g,
                    );
                }
            }
        });
        let same = out_buf[out_skip..][..rows * batch] == ref_buf[ref_skip..][..rows * batch]
            && grads == ref_grads;
        println!(
            "backward {chunks} chunks   : {:.2} ns (same bits: {same})",
            per(t)
        );
    }
    #[cfg(target_arch = "x86_64")]
    if batch == 128 && std::arch::is_x86_feature_detected!("avx512f") {
        let flat_w: Vec<f32> = out_w.iter().flatten().copied().collect();
        for chunks in [1usize, 2, 3, 4, 6] {
            let split = splits(&outs, rows, chunks);
            let passes_data: Vec<(Vec<u32>, Vec<usize>, Vec<usize>)> = (0..chunks)
                .map(|c| {
                    let mut tgt = Vec::new();
                    let mut off = vec![0];
                    let mut wpos = Vec::new();
                    for (i, l) in outs.iter().enumerate() {
                        let (a, b) = (split[i][c], split[i][c + 1]);
                        tgt.extend_from_slice(&l[a..b]);
                        off.push(tgt.len());
                        wpos.push(starts[i] + a);
                    }
                    (tgt, off, wpos)
                })
                .collect();
            let t = best_of(passes, || {
                let acc = &mut out_buf[out_skip..][..rows * batch];
                for (c, (tgt, off, wpos)) in passes_data.iter().enumerate() {
                    // SAFETY: AVX-512 checked above.
                    unsafe {
                        stream_back(
                            acc,
                            act,
                            tgt,
                            off,
                            wpos,
                            &flat_w,
                            deltas,
                            &mut grads,
                            c == 0,
                            bflags,
                        )
                    };
                }
            });
            let same = out_buf[out_skip..][..rows * batch] == ref_buf[ref_skip..][..rows * batch]
                && grads == ref_grads;
            println!(
                "backward stream {chunks} chunks: {:.2} ns (same bits: {same})",
                per(t)
            );
        }
    }
}
