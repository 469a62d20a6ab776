//! Go / no-go measurement for micro-batched training: do 32-column rows that stay in L2 make
//! the two per-connection kernels cheaper than today's 128-column rows read from L3?
//!
//! `cargo run --release --example nn_microbatch -p sparsedag -- [ROWS] [DEGREE]`
//!
//! One random layer: ROWS (default 4000) neurons each with DEGREE (default 40) random inputs
//! among ROWS source rows (the SET main case's hidden layers). Prints, best of 100 passes, the
//! time per connection per 128 columns of:
//! - the engine's forward gather (`Simd::weighted_sum`) at batch 128 and 32;
//! - the engine's backward source kernel (`Simd::backprop_source`) at batch 128 and 32;
//! - prototype AVX-512 kernels for 32-column rows (tile-major buffers of ROWS x 32 floats):
//!   a forward that gathers for 4 targets at once (8 independent FMA chains; each target still
//!   adds its connections in order), and a backward that runs 2 sources at once and reduces
//!   16 edges' weight-gradient partial vectors together with a transpose-add.
//!   A second backward prototype keeps the 16 partial vectors in registers and reduces them
//!   with a shuffle tree in `reduce_lanes` order (halves first), one permute at the end.
//!   A 32-column batch needs 4 passes per 128 columns; the figures include that.
//!
//! `HUGE=1` asks for transparent huge pages for every buffer (madvise), to see whether TLB
//! misses matter (the AnonHugePages lines confirm that they were granted).

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

/// A buffer of `len` floats starting on a cache line.
struct Aligned {
    buf: Vec<f32>,
    skip: usize,
    len: usize,
}

/// Asks Linux to back `len` bytes from `ptr` with transparent huge pages (madvise, syscall 28,
/// MADV_HUGEPAGE = 14); a hint only.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn advise_huge(ptr: *const f32, len: usize) {
    let start = (ptr as usize).next_multiple_of(1 << 21);
    let end = (ptr as usize + len) & !((1 << 21) - 1);
    if end > start {
        let ret: isize;
        // SAFETY: madvise only changes how the kernel backs our own mapping.
        unsafe {
            std::arch::asm!("syscall", inlateout("rax") 28isize => ret, in("rdi") start,
                in("rsi") end - start, in("rdx") 14usize, lateout("rcx") _, lateout("r11") _);
        }
        assert_eq!(ret, 0, "madvise");
    }
}

fn huge() -> bool {
    std::env::var("HUGE").is_ok()
}

impl Aligned {
    fn random(rng: &mut Rng, len: usize) -> Aligned {
        let pad = if huge() { 1 << 19 } else { 16 };
        let mut buf: Vec<f32> = Vec::with_capacity(len + pad);
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if huge() {
            advise_huge(buf.as_ptr(), 4 * (len + pad));
        }
        buf.extend((0..len + pad).map(|_| rng.uniform(-1.0, 1.0) as f32));
        let line = if huge() { 1 << 19 } else { 16 };
        let skip = (line - (buf.as_ptr() as usize / 4) % line) % line;
        Aligned { buf, skip, len }
    }
    fn get(&self) -> &[f32] {
        &self.buf[self.skip..self.skip + self.len]
    }
    fn get_mut(&mut self) -> &mut [f32] {
        &mut self.buf[self.skip..self.skip + self.len]
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("ROWS DEGREE as numbers"))
        .collect();
    let rows = args.first().copied().unwrap_or(4000);
    let degree = args.get(1).copied().unwrap_or(40);
    let mut rng = Rng::new(1);
    // In-edges of each target (sorted sources) and out-edges of each source (sorted targets),
    // the same random edge set.
    let mut ins: Vec<Vec<u32>> = vec![Vec::new(); rows];
    for t in ins.iter_mut() {
        let mut s: Vec<u32> = (0..degree)
            .map(|_| ((rng.uniform(0.0, 1.0) * rows as f64) as usize).min(rows - 1) as u32)
            .collect();
        s.sort_unstable();
        *t = s;
    }
    let mut outs: Vec<Vec<u32>> = vec![Vec::new(); rows];
    for (t, s) in ins.iter().enumerate() {
        for &s in s {
            outs[s as usize].push(t as u32);
        }
    }
    let edges = rows * degree;
    let in_w: Vec<Vec<f32>> = ins.iter().map(|s| vec![0.01f32; s.len()]).collect();
    let out_w: Vec<Vec<f32>> = outs.iter().map(|s| vec![0.01f32; s.len()]).collect();
    let simd = Simd::detect();
    let passes = 100;
    let per = |secs: f64, batch: usize| secs * 1e9 / edges as f64 * 128.0 / batch as f64;
    println!(
        "{rows} rows, {edges} connections, huge pages {}, {} ({})",
        huge(),
        simd.level().name(),
        if cfg!(target_arch = "x86_64") && std::arch::is_x86_feature_detected!("avx512f") {
            "prototypes: avx512"
        } else {
            "no avx512: prototypes skipped"
        }
    );

    for batch in [128usize, 64, 32] {
        let act = Aligned::random(&mut rng, rows * batch);
        let mut out = Aligned::random(&mut rng, rows * batch);
        let t = best_of(passes, || {
            let (act, out) = (act.get(), out.get_mut());
            for (j, s) in ins.iter().enumerate() {
                let row = &mut out[j * batch..][..batch];
                simd.weighted_sum(row, 0.0, s, &in_w[j], act, batch, 0);
            }
        });
        println!(
            "forward  engine   batch {batch:3}: {:.2} ns/conn/128 cols",
            per(t, batch)
        );
        if let Ok(s) = std::fs::read_to_string("/proc/self/smaps_rollup") {
            for line in s.lines().filter(|l| l.starts_with("AnonHugePages")) {
                println!("  {line}");
            }
        }
    }
    for batch in [128usize, 64, 32] {
        let a = Aligned::random(&mut rng, rows * batch);
        let deltas = Aligned::random(&mut rng, rows * batch);
        let mut acc = Aligned::random(&mut rng, rows * batch);
        let mut grads = vec![0.0f32; 64];
        let t = best_of(passes, || {
            let (a, deltas, acc) = (a.get(), deltas.get(), acc.get_mut());
            for (i, o) in outs.iter().enumerate() {
                let mut first = true;
                for (targets, weights) in o.chunks(64).zip(out_w[i].chunks(64)) {
                    let g = &mut grads[..targets.len()];
                    simd.backprop_source(
                        Some(&mut acc[i * batch..][..batch]),
                        first,
                        &a[i * batch..][..batch],
                        targets,
                        weights,
                        deltas,
                        0,
                        g,
                    );
                    first = false;
                    std::hint::black_box(&g);
                }
            }
        });
        println!(
            "backward engine   batch {batch:3}: {:.2} ns/conn/128 cols",
            per(t, batch)
        );
    }
    if let Ok(s) = std::fs::read_to_string("/proc/self/smaps_rollup") {
        for line in s.lines().filter(|l| l.starts_with("AnonHugePages")) {
            println!("{line}");
        }
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        proto::run(&ins, &in_w, &outs, &out_w, rows, edges, passes, &mut rng);
    }
}

#[cfg(target_arch = "x86_64")]
mod proto {
    use super::*;
    use std::arch::x86_64::*;

    #[allow(clippy::too_many_arguments)]
    pub fn run(
        ins: &[Vec<u32>],
        in_w: &[Vec<f32>],
        outs: &[Vec<u32>],
        out_w: &[Vec<f32>],
        rows: usize,
        edges: usize,
        passes: usize,
        rng: &mut Rng,
    ) {
        let per = |secs: f64| secs * 1e9 / edges as f64 * 4.0;
        let act = Aligned::random(rng, rows * 32);
        let mut out = Aligned::random(rng, rows * 32);
        for prefetch in [0usize, 1, 2] {
            for group in [1usize, 2, 4] {
                let t = best_of(passes, || {
                    // SAFETY: avx512f checked by the caller; every row index < rows.
                    unsafe { forward(ins, in_w, act.get(), out.get_mut(), group, prefetch) }
                });
                println!(
                    "forward  proto 32 cols, {group} targets at once, prefetch {prefetch}: \
                     {:.2} ns/conn/128 cols",
                    per(t)
                );
            }
        }
        // The interleaved forward gives each target the bits of the one-target loop.
        let mut one = Aligned::random(rng, rows * 32);
        unsafe { forward(ins, in_w, act.get(), one.get_mut(), 1, 0) };
        unsafe { forward(ins, in_w, act.get(), out.get_mut(), 4, 1) };
        assert_eq!(one.get(), out.get(), "interleaving changed a sum");

        let a = Aligned::random(rng, rows * 32);
        let deltas = Aligned::random(rng, rows * 32);
        let mut acc = Aligned::random(rng, rows * 32);
        let mut grads = vec![0.0f32; edges];
        for prefetch in [0usize, 1] {
            for group in [1usize, 2] {
                let t = best_of(passes, || unsafe {
                    backward(
                        outs,
                        out_w,
                        a.get(),
                        deltas.get(),
                        acc.get_mut(),
                        &mut grads,
                        group,
                        prefetch,
                    )
                });
                println!(
                    "backward proto 32 cols, {group} sources at once, prefetch {prefetch}: \
                     {:.2} ns/conn/128 cols",
                    per(t)
                );
            }
        }
        for _ in 0..2 {
            let t = best_of(passes, || unsafe {
                backward16(
                    outs,
                    out_w,
                    a.get(),
                    deltas.get(),
                    acc.get_mut(),
                    &mut grads,
                )
            });
            println!(
                "backward proto 32 cols, 16-edge blocks reduced in registers: {:.2} ns/conn/128 cols",
                per(t)
            );
        }
        unsafe {
            backward16(
                outs,
                out_w,
                a.get(),
                deltas.get(),
                acc.get_mut(),
                &mut grads,
            )
        };
        check(outs, out_w, a.get(), deltas.get(), acc.get(), &grads);
        // Check against plain loops.
        unsafe {
            backward(
                outs,
                out_w,
                a.get(),
                deltas.get(),
                acc.get_mut(),
                &mut grads,
                2,
                1,
            )
        };
        check(outs, out_w, a.get(), deltas.get(), acc.get(), &grads);
    }

    fn check(
        outs: &[Vec<u32>],
        out_w: &[Vec<f32>],
        a: &[f32],
        d: &[f32],
        acc: &[f32],
        grads: &[f32],
    ) {
        let mut k = 0;
        for (i, o) in outs.iter().enumerate() {
            let mut expect = [0.0f32; 32];
            for (&t, &w) in o.iter().zip(&out_w[i]) {
                let row = &d[t as usize * 32..][..32];
                let g: f32 = (0..32).map(|c| a[i * 32 + c] * row[c]).sum();
                assert!((g - grads[k]).abs() < 1e-4, "{g} {}", grads[k]);
                for c in 0..32 {
                    expect[c] += w * row[c];
                }
                k += 1;
            }
            for c in 0..32 {
                assert!((expect[c] - acc[i * 32 + c]).abs() < 1e-4);
            }
        }
    }

    /// `G` targets at once from `j`: the common prefix of their in-edges interleaved, then
    /// each rest on its own.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn forward(
        ins: &[Vec<u32>],
        in_w: &[Vec<f32>],
        act: &[f32],
        out: &mut [f32],
        group: usize,
        prefetch: usize,
    ) {
        let base = act.as_ptr();
        let mut j = 0;
        while j < ins.len() {
            let g = group.min(ins.len() - j);
            let mut acc = [[_mm512_setzero_ps(); 2]; 4];
            let common = (0..g).map(|q| ins[j + q].len()).min().unwrap();
            macro_rules! step {
                ($q:expr, $e:expr) => {{
                    let s = *ins[j + $q].get_unchecked($e) as usize;
                    let w = _mm512_set1_ps(*in_w[j + $q].get_unchecked($e));
                    let row = base.add(s * 32);
                    acc[$q][0] = _mm512_fmadd_ps(w, _mm512_load_ps(row), acc[$q][0]);
                    acc[$q][1] = _mm512_fmadd_ps(w, _mm512_load_ps(row.add(16)), acc[$q][1]);
                }};
            }
            macro_rules! pf {
                ($q:expr, $e:expr) => {{
                    if prefetch > 0 {
                        if let Some(&s) = ins[j + $q].get($e + 8) {
                            let row = base.add(s as usize * 32);
                            _mm_prefetch::<_MM_HINT_T0>(row.cast());
                            if prefetch > 1 {
                                _mm_prefetch::<_MM_HINT_T0>(row.add(16).cast());
                            }
                        }
                    }
                }};
            }
            match g {
                4 => {
                    for e in 0..common {
                        pf!(0, e);
                        pf!(1, e);
                        pf!(2, e);
                        pf!(3, e);
                        step!(0, e);
                        step!(1, e);
                        step!(2, e);
                        step!(3, e);
                    }
                }
                2 => {
                    for e in 0..common {
                        pf!(0, e);
                        pf!(1, e);
                        step!(0, e);
                        step!(1, e);
                    }
                }
                _ => {
                    for e in 0..common {
                        pf!(0, e);
                        step!(0, e);
                    }
                }
            }
            for q in 0..g {
                for e in common..ins[j + q].len() {
                    step!(q, e);
                }
                let o = out.as_mut_ptr().add((j + q) * 32);
                _mm512_store_ps(o, acc[q][0]);
                _mm512_store_ps(o.add(16), acc[q][1]);
            }
            j += g;
        }
    }

    /// One level of the 16-vector reduction tree in `reduce_lanes` order (halves added first).
    #[inline(always)]
    unsafe fn l1(x: __m512, y: __m512) -> __m512 {
        _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b01_00_01_00>(x, y),
            _mm512_shuffle_f32x4::<0b11_10_11_10>(x, y),
        )
    }
    #[inline(always)]
    unsafe fn l2(x: __m512, y: __m512) -> __m512 {
        _mm512_add_ps(
            _mm512_shuffle_f32x4::<0b10_00_10_00>(x, y),
            _mm512_shuffle_f32x4::<0b11_01_11_01>(x, y),
        )
    }
    #[inline(always)]
    unsafe fn l3(x: __m512, y: __m512) -> __m512 {
        _mm512_add_ps(
            _mm512_shuffle_ps::<0b01_00_01_00>(x, y),
            _mm512_shuffle_ps::<0b11_10_11_10>(x, y),
        )
    }
    #[inline(always)]
    unsafe fn l4(x: __m512, y: __m512) -> __m512 {
        _mm512_add_ps(
            _mm512_shuffle_ps::<0b10_00_10_00>(x, y),
            _mm512_shuffle_ps::<0b11_01_11_01>(x, y),
        )
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn backward16(
        outs: &[Vec<u32>],
        out_w: &[Vec<f32>],
        a: &[f32],
        deltas: &[f32],
        acc: &mut [f32],
        grads: &mut [f32],
    ) {
        let zero_row = [0.0f32; 32];
        let dbase = deltas.as_ptr();
        let mut gpos = 0;
        for (i, o) in outs.iter().enumerate() {
            let a0 = _mm512_load_ps(a.as_ptr().add(i * 32));
            let a1 = _mm512_load_ps(a.as_ptr().add(i * 32 + 16));
            let mut c0 = _mm512_setzero_ps();
            let mut c1 = _mm512_setzero_ps();
            let n = o.len();
            let w = &out_w[i];
            let mut e = 0;
            while e < n {
                let m = 16.min(n - e);
                let mut rows = [zero_row.as_ptr(); 16];
                let mut ws = [0.0f32; 16];
                for k in 0..m {
                    rows[k] = dbase.add(*o.get_unchecked(e + k) as usize * 32);
                    ws[k] = *w.get_unchecked(e + k);
                }
                macro_rules! part {
                    ($k:expr) => {{
                        let r = rows[$k];
                        let d0 = _mm512_loadu_ps(r);
                        let d1 = _mm512_loadu_ps(r.add(16));
                        let wv = _mm512_set1_ps(ws[$k]);
                        c0 = _mm512_fmadd_ps(wv, d0, c0);
                        c1 = _mm512_fmadd_ps(wv, d1, c1);
                        _mm512_fmadd_ps(a1, d1, _mm512_mul_ps(a0, d0))
                    }};
                }
                let q0 = l1(part!(0), part!(1));
                let q1 = l1(part!(2), part!(3));
                let r0 = l2(q0, q1);
                let q2 = l1(part!(4), part!(5));
                let q3 = l1(part!(6), part!(7));
                let r1 = l2(q2, q3);
                let s0 = l3(r0, r1);
                let q4 = l1(part!(8), part!(9));
                let q5 = l1(part!(10), part!(11));
                let r2 = l2(q4, q5);
                let q6 = l1(part!(12), part!(13));
                let q7 = l1(part!(14), part!(15));
                let r3 = l2(q6, q7);
                let s1 = l3(r2, r3);
                let t = l4(s0, s1);
                _mm512_mask_storeu_ps(
                    grads.as_mut_ptr().add(gpos + e),
                    ((1u32 << m) - 1) as u16,
                    _mm512_permutexvar_ps(PERM.with(|p| *p), t),
                );
                e += m;
            }
            let out = acc.as_mut_ptr().add(i * 32);
            _mm512_store_ps(out, c0);
            _mm512_store_ps(out.add(16), c1);
            gpos += n;
        }
    }

    thread_local! {
        static PERM: __m512i = unsafe { perm() };
    }

    /// Where `l4` leaves the sum of each of the 16 vectors: found by running the tree on
    /// one-hot vectors.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn perm() -> __m512i {
        let mut v = [_mm512_setzero_ps(); 16];
        for (k, x) in v.iter_mut().enumerate() {
            *x = _mm512_set1_ps(k as f32 / 16.0);
        }
        let q0 = l1(v[0], v[1]);
        let q1 = l1(v[2], v[3]);
        let r0 = l2(q0, q1);
        let q2 = l1(v[4], v[5]);
        let q3 = l1(v[6], v[7]);
        let r1 = l2(q2, q3);
        let s0 = l3(r0, r1);
        let q4 = l1(v[8], v[9]);
        let q5 = l1(v[10], v[11]);
        let r2 = l2(q4, q5);
        let q6 = l1(v[12], v[13]);
        let q7 = l1(v[14], v[15]);
        let r3 = l2(q6, q7);
        let s1 = l3(r2, r3);
        let mut out = [0.0f32; 16];
        _mm512_storeu_ps(out.as_mut_ptr(), l4(s0, s1));
        // Lane j holds 16 * (k / 16) = k for vector k; the permutation takes lane of k to k.
        let mut idx = [0i32; 16];
        for (lane, &x) in out.iter().enumerate() {
            idx[x.round() as usize] = lane as i32;
        }
        _mm512_loadu_si512(idx.as_ptr().cast())
    }

    /// Adds lanes pairwise across 16 vectors: lane k of the result is the lane sum of `v[k]`.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn transpose_sum(v: &[__m512; 16]) -> __m512 {
        // Level 1: pairs (v[2k], v[2k+1]) -> 8 vectors: for each 2-lane pair (lane 2m, 2m+1),
        // lane 2m holds sum of v[2k]'s pair m, lane 2m+1 v[2k+1]'s.
        let idx_even = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
        let idx_odd = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
        let mut l1 = [_mm512_setzero_ps(); 8];
        for k in 0..8 {
            let (x, y) = (v[2 * k], v[2 * k + 1]);
            l1[k] = _mm512_add_ps(
                _mm512_permutex2var_ps(x, idx_even, y),
                _mm512_permutex2var_ps(x, idx_odd, y),
            );
        }
        // Level 2: 4-lane groups: lanes (4m, 4m+1) from x's pairs 2m+{0,1} summed, (4m+2, 4m+3)
        // from y's.
        let i2a = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        let i2b = _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        let mut l2 = [_mm512_setzero_ps(); 4];
        for k in 0..4 {
            let (x, y) = (l1[2 * k], l1[2 * k + 1]);
            l2[k] = _mm512_add_ps(
                _mm512_permutex2var_ps(x, i2a, y),
                _mm512_permutex2var_ps(x, i2b, y),
            );
        }
        let i3a = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        let i3b = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
        let mut l3 = [_mm512_setzero_ps(); 2];
        for k in 0..2 {
            let (x, y) = (l2[2 * k], l2[2 * k + 1]);
            l3[k] = _mm512_add_ps(
                _mm512_permutex2var_ps(x, i3a, y),
                _mm512_permutex2var_ps(x, i3b, y),
            );
        }
        let i4a = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        let i4b = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        _mm512_add_ps(
            _mm512_permutex2var_ps(l3[0], i4a, l3[1]),
            _mm512_permutex2var_ps(l3[0], i4b, l3[1]),
        )
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn backward(
        outs: &[Vec<u32>],
        out_w: &[Vec<f32>],
        a: &[f32],
        deltas: &[f32],
        acc: &mut [f32],
        grads: &mut [f32],
        group: usize,
        prefetch: usize,
    ) {
        let dbase = deltas.as_ptr();
        let mut gpos = 0;
        let mut i = 0;
        while i < outs.len() {
            let g = group.min(outs.len() - i);
            let mut av = [[_mm512_setzero_ps(); 2]; 2];
            let mut cv = [[_mm512_setzero_ps(); 2]; 2];
            for q in 0..g {
                av[q][0] = _mm512_load_ps(a.as_ptr().add((i + q) * 32));
                av[q][1] = _mm512_load_ps(a.as_ptr().add((i + q) * 32 + 16));
            }
            // Per source: its 16-edge batch of partial vectors.
            let mut parts = [[_mm512_setzero_ps(); 16]; 2];
            let mut gstart = [gpos, gpos + outs[i].len()];
            if g == 1 {
                gstart[1] = usize::MAX;
            }
            let lens = [outs[i].len(), if g == 2 { outs[i + 1].len() } else { 0 }];
            let longest = lens[0].max(lens[1]);
            let mut e = 0;
            while e < longest {
                let chunk_end = (e + 16).min(longest);
                for q in 0..g {
                    let end = chunk_end.min(lens[q]);
                    for k in e..end {
                        if prefetch > 0 {
                            if let Some(&t) = outs[i + q].get(k + 8) {
                                _mm_prefetch::<_MM_HINT_T0>(dbase.add(t as usize * 32).cast());
                            }
                        }
                        let t = *outs[i + q].get_unchecked(k) as usize;
                        let row = dbase.add(t * 32);
                        let d0 = _mm512_load_ps(row);
                        let d1 = _mm512_load_ps(row.add(16));
                        let w = _mm512_set1_ps(*out_w[i + q].get_unchecked(k));
                        cv[q][0] = _mm512_fmadd_ps(w, d0, cv[q][0]);
                        cv[q][1] = _mm512_fmadd_ps(w, d1, cv[q][1]);
                        parts[q][k - e] =
                            _mm512_fmadd_ps(av[q][1], d1, _mm512_mul_ps(av[q][0], d0));
                    }
                }
                for q in 0..g {
                    let end = chunk_end.min(lens[q]);
                    if end > e {
                        for k in end - e..16 {
                            parts[q][k] = _mm512_setzero_ps();
                        }
                        let r = transpose_sum(&parts[q]);
                        let n = end - e;
                        _mm512_mask_storeu_ps(
                            grads.as_mut_ptr().add(gstart[q] + e),
                            ((1u32 << n) - 1) as u16,
                            r,
                        );
                    }
                }
                e = chunk_end;
            }
            for q in 0..g {
                let o = acc.as_mut_ptr().add((i + q) * 32);
                _mm512_store_ps(o, cv[q][0]);
                _mm512_store_ps(o.add(16), cv[q][1]);
                gpos += lens[q];
            }
            i += g;
        }
    }
}
