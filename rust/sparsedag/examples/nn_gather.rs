//! Times the forward gather kernel alone on one random sparse layer, to see what its memory
//! access costs: `cargo run --release --example nn_gather -p sparsedag -- ROWS BATCH WIDTH
//! MISALIGN`. 4000 target neurons each gather 40 random rows out of ROWS source rows of BATCH
//! floats, WIDTH columns per kernel call (column tiles run one after another over the whole
//! layer, as a column-split pass would); the source buffer starts MISALIGN floats past a cache
//! line. Prints the best of 200 passes and the time per connection per 128 columns.
//!
//! For example ROWS 64 (every row in L1) against 4000 (the 2 MB layer of the SET main case),
//! WIDTH 128 against 64 (halves of the batch), MISALIGN 0 against 4.

use std::time::Instant;

use sparsedag::nn::Simd;
use sparsedag::rng::Rng;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("ROWS BATCH WIDTH MISALIGN as numbers"))
        .collect();
    let [rows, batch, width, misalign] = args[..] else {
        panic!("usage: nn_gather ROWS BATCH WIDTH MISALIGN");
    };
    assert!(width > 0 && batch % width == 0, "WIDTH must divide BATCH");
    let (targets, degree) = (4000usize, 40usize);
    let mut rng = Rng::new(1);
    let buffer: Vec<f32> = (0..rows * batch + 32)
        .map(|_| rng.uniform(-1.0, 1.0) as f32)
        .collect();
    let skip = (16 - (buffer.as_ptr() as usize / 4) % 16) % 16 + misalign % 16;
    let act = &buffer[skip..skip + rows * batch];
    let sources: Vec<Vec<u32>> = (0..targets)
        .map(|_| {
            let mut s: Vec<u32> = (0..degree)
                .map(|_| ((rng.uniform(0.0, 1.0) * rows as f64) as usize).min(rows - 1) as u32)
                .collect();
            s.sort_unstable();
            s
        })
        .collect();
    let weights = vec![0.01f32; degree];
    let mut out = vec![0.0f32; targets * batch];
    let simd = Simd::detect();
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let start = Instant::now();
        for col0 in (0..batch).step_by(width) {
            for (j, s) in sources.iter().enumerate() {
                let row = &mut out[j * batch + col0..][..width];
                simd.weighted_sum(row, 0.0, s, &weights, act, batch, col0);
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let per_edge = best * 1e9 / (targets * degree) as f64 * 128.0 / batch as f64;
    println!(
        "{} rows, batch {batch}, width {width}, {} B past a line: {:.3} ms, {per_edge:.2} ns per \
         connection and 128 columns ({})",
        rows,
        4 * (misalign % 16),
        best * 1e3,
        simd.level().name()
    );
}
