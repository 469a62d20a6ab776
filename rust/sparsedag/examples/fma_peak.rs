//! The machine's float32 multiply-add peak, the ceiling against which the engine's FLOP rates
//! are judged: `cargo run --release --example fma_peak -p sparsedag -- [threads]`.
//!
//! Each thread runs 12 independent chains of 512-bit (or, without AVX-512, 256-bit) fused
//! multiply-adds: enough chains to cover the FMA latency on current cores, so the loop is
//! bound by FMA throughput alone.

use std::hint::black_box;
use std::time::Instant;

const CHAINS: usize = 12;
const ITERS: u64 = 100_000_000;
const ROUND: u64 = 1000;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn chains_avx512(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let (b, c) = (
        _mm512_set1_ps(black_box(0.999)),
        _mm512_set1_ps(black_box(0.001)),
    );
    let mut acc = [_mm512_set1_ps(black_box(0.5)); CHAINS];
    for _ in 0..iters / ROUND {
        for _ in 0..ROUND {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, b, c);
            }
        }
        // Opaque once per round, so the compiler cannot fold the chains yet keeps them in
        // registers.
        acc = black_box(acc);
    }
    acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_avx2(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let (b, c) = (
        _mm256_set1_ps(black_box(0.999)),
        _mm256_set1_ps(black_box(0.001)),
    );
    let mut acc = [_mm256_set1_ps(black_box(0.5)); CHAINS];
    for _ in 0..iters / ROUND {
        for _ in 0..ROUND {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, b, c);
            }
        }
        // Opaque once per round, so the compiler cannot fold the chains yet keeps them in
        // registers.
        acc = black_box(acc);
    }
    let mut lanes = [0.0f32; 8];
    let mut total = 0.0;
    for a in acc {
        _mm256_storeu_ps(lanes.as_mut_ptr(), a);
        total += lanes.iter().sum::<f32>();
    }
    total
}

/// FLOPs done by one thread (2 per lane per multiply-add) and a result that keeps the loop
/// alive.
#[cfg(target_arch = "x86_64")]
fn one_thread() -> (f64, f32) {
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the feature was detected above.
        let r = unsafe { chains_avx512(ITERS) };
        ((ITERS as usize * CHAINS * 16 * 2) as f64, r)
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: the features were detected above.
        let r = unsafe { chains_avx2(ITERS) };
        ((ITERS as usize * CHAINS * 8 * 2) as f64, r)
    } else {
        panic!("this example needs AVX2+FMA or AVX-512");
    }
}

#[cfg(target_arch = "x86_64")]
fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map(|t| t.parse().expect("thread count"))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = Instant::now();
    let results: Vec<(f64, f32)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(one_thread)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let flops: f64 = results.iter().map(|r| r.0).sum();
    let check: f32 = results.iter().map(|r| r.1).sum();
    println!(
        "{threads} thread(s): {:.1} GFLOP/s float32 multiply-add peak ({seconds:.2} s; {check:.1})",
        flops / seconds / 1e9
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("fma_peak measures x86-64 vector units only");
}
