//! The per-connection kernels of the engine. Activations are neuron-major (one contiguous row of
//! `batch` floats per neuron), so every connection is one multiply-add over a batch row.
//!
//! One wheel runs everywhere: the instruction set is chosen at run time. The AVX-512 and
//! AVX2+FMA paths are `#[target_feature]` wrappers around the same chunked loops that the
//! baseline ("sse2") path compiles without extra features; `scalar` is the plain reference every
//! other path is tested against. Per element the arithmetic never depends on how a row is cut
//! into column tiles, so results do not depend on the thread count. The fused paths (AVX2,
//! AVX-512) round once per multiply-add and may differ from the unfused ones in the last bits.

use std::sync::OnceLock;

/// An instruction-set level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Plain one-element-at-a-time loops: the reference.
    Scalar,
    /// Chunked loops with the compiler's baseline vector instructions (SSE2 on x86-64).
    Chunked,
    /// AVX2 with fused multiply-add.
    Avx2Fma,
    /// AVX-512F with fused multiply-add.
    Avx512,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Scalar, Level::Chunked, Level::Avx2Fma, Level::Avx512];

    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Chunked if cfg!(target_arch = "x86_64") => "sse2",
            Level::Chunked => "portable",
            Level::Avx2Fma => "avx2+fma",
            Level::Avx512 => "avx512",
        }
    }

    /// Whether this machine can run the level.
    pub fn is_supported(self) -> bool {
        match self {
            Level::Scalar | Level::Chunked => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// A handle to the kernels of one supported level (it can only be made for a level the machine
/// supports, which is what makes the dispatch below sound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simd {
    level: Level,
}

impl Default for Simd {
    fn default() -> Self {
        Simd::detect()
    }
}

/// Columns accumulated in registers at once by `weighted_sum` (4 AVX-512 or 8 AVX2 registers).
const BLOCK: usize = 64;
/// Independent partial sums of `dot` and `sum`; fixed so that every vector width adds in the
/// same order. (Four accumulators of 16 were measured slower: LLVM no longer keeps them in
/// registers.)
const LANES: usize = 16;

impl Simd {
    /// The best level this machine supports (detected once).
    pub fn detect() -> Simd {
        static BEST: OnceLock<Level> = OnceLock::new();
        let level = *BEST.get_or_init(|| {
            [Level::Avx512, Level::Avx2Fma]
                .into_iter()
                .find(|l| l.is_supported())
                .unwrap_or(Level::Chunked)
        });
        Simd { level }
    }

    /// The kernels of `level`, or `None` when this machine cannot run it.
    pub fn with_level(level: Level) -> Option<Simd> {
        level.is_supported().then_some(Simd { level })
    }

    pub fn level(self) -> Level {
        self.level
    }

    /// `out[c] = bias + sum_e weights[e] * act[sources[e] * stride + col0 + c]`, adding the
    /// connections in the given order.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn weighted_sum(
        self,
        out: &mut [f32],
        bias: f32,
        sources: &[u32],
        weights: &[f32],
        act: &[f32],
        stride: usize,
        col0: usize,
    ) {
        assert_eq!(sources.len(), weights.len());
        let width = out.len();
        for &s in sources {
            let start = s as usize * stride + col0;
            assert!(start + width <= act.len(), "source row out of bounds");
        }
        match self.level {
            Level::Scalar => scalar_weighted_sum(out, bias, sources, weights, act, stride, col0),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe {
                x86::weighted_sum_avx512(out, bias, sources, weights, act, stride, col0)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe {
                x86::weighted_sum_avx2(out, bias, sources, weights, act, stride, col0)
            },
            _ => weighted_sum_body::<false>(out, bias, sources, weights, act, stride, col0),
        }
    }

    /// `y += alpha * x`.
    #[inline]
    pub fn axpy(self, y: &mut [f32], alpha: f32, x: &[f32]) {
        assert_eq!(y.len(), x.len());
        match self.level {
            Level::Scalar => {
                for (yi, &xi) in y.iter_mut().zip(x) {
                    *yi += alpha * xi;
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe { x86::axpy_avx512(y, alpha, x) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe { x86::axpy_avx2(y, alpha, x) },
            _ => axpy_body::<false>(y, alpha, x),
        }
    }

    /// `sum_i x[i] * y[i]`.
    #[inline]
    pub fn dot(self, x: &[f32], y: &[f32]) -> f32 {
        assert_eq!(x.len(), y.len());
        match self.level {
            Level::Scalar => x.iter().zip(y).map(|(a, b)| a * b).sum(),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe { x86::dot_avx512(x, y) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe { x86::dot_avx2(x, y) },
            _ => dot_body::<false>(x, y),
        }
    }

    /// `out[e] = dot(act row sources[e] (first delta.len() columns), delta)` for every
    /// connection of a neuron, in one call (bit-identical to calling `dot` per connection).
    #[inline]
    pub fn dots(self, out: &mut [f32], sources: &[u32], act: &[f32], stride: usize, delta: &[f32]) {
        assert_eq!(out.len(), sources.len());
        for &s in sources {
            assert!(
                s as usize * stride + delta.len() <= act.len(),
                "source row out of bounds"
            );
        }
        match self.level {
            Level::Scalar => {
                for (o, &s) in out.iter_mut().zip(sources) {
                    let row = &act[s as usize * stride..][..delta.len()];
                    *o = row.iter().zip(delta).map(|(a, b)| a * b).sum();
                }
            }
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe { x86::dots_avx512(out, sources, act, stride, delta) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe { x86::dots_avx2(out, sources, act, stride, delta) },
            _ => dots_body::<false>(out, sources, act, stride, delta),
        }
    }

    /// `grad[sources[e] * stride + col0 + c] += weights[e] * delta[c]` for every connection of
    /// a neuron (bit-identical to calling `axpy` per connection).
    ///
    /// # Safety
    /// `grad` must point to `len` floats; the touched ranges must not be accessed by anyone
    /// else during the call. Ranges are bounds-checked against `len`.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn scatter(
        self,
        grad: *mut f32,
        len: usize,
        sources: &[u32],
        weights: &[f32],
        stride: usize,
        col0: usize,
        delta: &[f32],
    ) {
        assert_eq!(sources.len(), weights.len());
        for &s in sources {
            assert!(
                s as usize * stride + col0 + delta.len() <= len,
                "row out of bounds"
            );
        }
        match self.level {
            Level::Scalar => {
                for (&s, &w) in sources.iter().zip(weights) {
                    let row = std::slice::from_raw_parts_mut(
                        grad.add(s as usize * stride + col0),
                        delta.len(),
                    );
                    for (r, &d) in row.iter_mut().zip(delta) {
                        *r += w * d;
                    }
                }
            }
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => x86::scatter_avx512(grad, sources, weights, stride, col0, delta),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => x86::scatter_avx2(grad, sources, weights, stride, col0, delta),
            _ => scatter_body::<false>(grad, sources, weights, stride, col0, delta),
        }
    }

    /// `sum_i x[i]`, in the same fixed lane order as `dot`.
    #[inline]
    pub fn sum(self, x: &[f32]) -> f32 {
        match self.level {
            Level::Scalar => x.iter().sum(),
            _ => sum_body(x),
        }
    }
}

#[inline(always)]
fn madd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[allow(clippy::too_many_arguments)]
fn scalar_weighted_sum(
    out: &mut [f32],
    bias: f32,
    sources: &[u32],
    weights: &[f32],
    act: &[f32],
    stride: usize,
    col0: usize,
) {
    for (c, o) in out.iter_mut().enumerate() {
        let mut acc = bias;
        for (&s, &w) in sources.iter().zip(weights) {
            acc += w * act[s as usize * stride + col0 + c];
        }
        *o = acc;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weighted_sum_body<const FUSED: bool>(
    out: &mut [f32],
    bias: f32,
    sources: &[u32],
    weights: &[f32],
    act: &[f32],
    stride: usize,
    col0: usize,
) {
    let width = out.len();
    let mut c = 0;
    // Full blocks: the accumulators stay in registers across all connections.
    while c + BLOCK <= width {
        let mut acc = [bias; BLOCK];
        for (&s, &w) in sources.iter().zip(weights) {
            let start = s as usize * stride + col0 + c;
            let row: &[f32; BLOCK] = act[start..start + BLOCK].try_into().expect("block");
            for k in 0..BLOCK {
                acc[k] = madd::<FUSED>(w, row[k], acc[k]);
            }
        }
        out[c..c + BLOCK].copy_from_slice(&acc);
        c += BLOCK;
    }
    if c < width {
        let tail = &mut out[c..];
        tail.fill(bias);
        let rest = tail.len();
        for (&s, &w) in sources.iter().zip(weights) {
            let start = s as usize * stride + col0 + c;
            for (o, &x) in tail.iter_mut().zip(&act[start..start + rest]) {
                *o = madd::<FUSED>(w, x, *o);
            }
        }
    }
}

#[inline(always)]
fn axpy_body<const FUSED: bool>(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = madd::<FUSED>(alpha, xi, *yi);
    }
}

#[inline(always)]
fn dots_body<const FUSED: bool>(
    out: &mut [f32],
    sources: &[u32],
    act: &[f32],
    stride: usize,
    delta: &[f32],
) {
    for (o, &s) in out.iter_mut().zip(sources) {
        *o = dot_body::<FUSED>(&act[s as usize * stride..][..delta.len()], delta);
    }
}

/// # Safety
/// As [`Simd::scatter`] (bounds already checked by the caller).
#[inline(always)]
unsafe fn scatter_body<const FUSED: bool>(
    grad: *mut f32,
    sources: &[u32],
    weights: &[f32],
    stride: usize,
    col0: usize,
    delta: &[f32],
) {
    for (&s, &w) in sources.iter().zip(weights) {
        let row = std::slice::from_raw_parts_mut(grad.add(s as usize * stride + col0), delta.len());
        axpy_body::<FUSED>(row, w, delta);
    }
}

#[inline(always)]
fn reduce_lanes(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for k in 0..width {
            acc[k] += acc[k + width];
        }
        width /= 2;
    }
    acc[0]
}

#[inline(always)]
fn dot_body<const FUSED: bool>(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let xs = x.chunks_exact(LANES);
    let ys = y.chunks_exact(LANES);
    let (xr, yr) = (xs.remainder(), ys.remainder());
    for (cx, cy) in xs.zip(ys) {
        for k in 0..LANES {
            acc[k] = madd::<FUSED>(cx[k], cy[k], acc[k]);
        }
    }
    for (k, (&a, &b)) in xr.iter().zip(yr).enumerate() {
        acc[k] = madd::<FUSED>(a, b, acc[k]);
    }
    reduce_lanes(acc)
}

#[inline(always)]
fn sum_body(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let xs = x.chunks_exact(LANES);
    let xr = xs.remainder();
    for cx in xs {
        for k in 0..LANES {
            acc[k] += cx[k];
        }
    }
    for (k, &a) in xr.iter().enumerate() {
        acc[k] += a;
    }
    reduce_lanes(acc)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{axpy_body, dot_body, dots_body, scatter_body, weighted_sum_body};

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn dots_avx512(
        out: &mut [f32],
        sources: &[u32],
        act: &[f32],
        stride: usize,
        delta: &[f32],
    ) {
        dots_body::<true>(out, sources, act, stride, delta)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dots_avx2(
        out: &mut [f32],
        sources: &[u32],
        act: &[f32],
        stride: usize,
        delta: &[f32],
    ) {
        dots_body::<true>(out, sources, act, stride, delta)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn scatter_avx512(
        grad: *mut f32,
        sources: &[u32],
        weights: &[f32],
        stride: usize,
        col0: usize,
        delta: &[f32],
    ) {
        scatter_body::<true>(grad, sources, weights, stride, col0, delta)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scatter_avx2(
        grad: *mut f32,
        sources: &[u32],
        weights: &[f32],
        stride: usize,
        col0: usize,
        delta: &[f32],
    ) {
        scatter_body::<true>(grad, sources, weights, stride, col0, delta)
    }

    #[target_feature(enable = "avx512f,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn weighted_sum_avx512(
        out: &mut [f32],
        bias: f32,
        sources: &[u32],
        weights: &[f32],
        act: &[f32],
        stride: usize,
        col0: usize,
    ) {
        weighted_sum_body::<true>(out, bias, sources, weights, act, stride, col0)
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn weighted_sum_avx2(
        out: &mut [f32],
        bias: f32,
        sources: &[u32],
        weights: &[f32],
        act: &[f32],
        stride: usize,
        col0: usize,
    ) {
        weighted_sum_body::<true>(out, bias, sources, weights, act, stride, col0)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn axpy_avx512(y: &mut [f32], alpha: f32, x: &[f32]) {
        axpy_body::<true>(y, alpha, x)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn axpy_avx2(y: &mut [f32], alpha: f32, x: &[f32]) {
        axpy_body::<true>(y, alpha, x)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn dot_avx512(x: &[f32], y: &[f32]) -> f32 {
        dot_body::<true>(x, y)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_avx2(x: &[f32], y: &[f32]) -> f32 {
        dot_body::<true>(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random_vec(rng: &mut Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.uniform(-1.0, 1.0) as f32).collect()
    }

    fn supported() -> Vec<Simd> {
        Level::ALL
            .into_iter()
            .filter_map(Simd::with_level)
            .collect()
    }

    #[test]
    fn detect_picks_a_supported_level() {
        assert!(Simd::detect().level().is_supported());
        assert!(supported().len() >= 2);
    }

    #[test]
    fn every_level_matches_the_scalar_reference() {
        let mut rng = Rng::new(5);
        let scalar = Simd::with_level(Level::Scalar).unwrap();
        for &batch in &[1usize, 3, 16, 17, 63, 64, 65, 130, 257] {
            let rows = 7;
            let act = random_vec(&mut rng, rows * batch);
            let sources = [0u32, 3, 6, 2, 2];
            let weights = random_vec(&mut rng, sources.len());
            let x = random_vec(&mut rng, batch);
            let y0 = random_vec(&mut rng, batch);
            let mut expect = vec![0.0; batch];
            scalar.weighted_sum(&mut expect, 0.25, &sources, &weights, &act, batch, 0);
            let mut expect_axpy = y0.clone();
            scalar.axpy(&mut expect_axpy, -0.7, &x);
            let expect_dot = scalar.dot(&x, &y0);
            let expect_sum = scalar.sum(&x);
            for simd in supported() {
                let fused = matches!(simd.level(), Level::Avx2Fma | Level::Avx512);
                let tol = if fused || simd.level() != Level::Scalar {
                    1e-5
                } else {
                    0.0
                };
                let mut got = vec![0.0; batch];
                simd.weighted_sum(&mut got, 0.25, &sources, &weights, &act, batch, 0);
                for (g, e) in got.iter().zip(&expect) {
                    assert!((g - e).abs() <= tol, "{:?} {g} {e}", simd.level());
                    if !fused {
                        assert_eq!(g, e, "unfused paths add in the same order");
                    }
                }
                let mut y = y0.clone();
                simd.axpy(&mut y, -0.7, &x);
                for (g, e) in y.iter().zip(&expect_axpy) {
                    assert!((g - e).abs() <= tol);
                }
                let d = simd.dot(&x, &y0);
                assert!(
                    (d - expect_dot).abs() <= 1e-5 * batch as f32,
                    "{d} {expect_dot}"
                );
                let s = simd.sum(&x);
                assert!((s - expect_sum).abs() <= 1e-5 * batch as f32);
            }
        }
    }

    #[test]
    fn per_neuron_kernels_equal_per_connection_calls() {
        let mut rng = Rng::new(2);
        for &batch in &[1usize, 20, 64, 100] {
            let act = random_vec(&mut rng, 6 * batch);
            let delta = random_vec(&mut rng, batch);
            let sources = [5u32, 0, 3, 3];
            let weights = random_vec(&mut rng, 4);
            for simd in supported() {
                let mut out = vec![0.0; 4];
                simd.dots(&mut out, &sources, &act, batch, &delta);
                for (o, &s) in out.iter().zip(&sources) {
                    let row = &act[s as usize * batch..][..batch];
                    let expect = simd.dot(row, &delta);
                    if simd.level() == Level::Scalar {
                        assert_eq!(*o, expect);
                    } else {
                        assert_eq!(o.to_bits(), expect.to_bits(), "{:?}", simd.level());
                    }
                }
                let mut grad = act.clone();
                // SAFETY: `grad` is exclusively ours.
                unsafe {
                    simd.scatter(
                        grad.as_mut_ptr(),
                        grad.len(),
                        &sources,
                        &weights,
                        batch,
                        0,
                        &delta,
                    )
                };
                let mut expect = act.clone();
                for (&s, &w) in sources.iter().zip(&weights) {
                    simd.axpy(&mut expect[s as usize * batch..][..batch], w, &delta);
                }
                assert_eq!(grad, expect, "{:?}", simd.level());
            }
        }
    }

    #[test]
    fn tiles_give_the_same_bits_as_whole_rows() {
        let mut rng = Rng::new(9);
        let batch = 200;
        let act = random_vec(&mut rng, 5 * batch);
        let sources = [4u32, 1, 0];
        let weights = random_vec(&mut rng, 3);
        for simd in supported() {
            let mut whole = vec![0.0; batch];
            simd.weighted_sum(&mut whole, -0.1, &sources, &weights, &act, batch, 0);
            let mut tiled = vec![0.0; batch];
            for (t, chunk) in tiled.chunks_mut(48).enumerate() {
                simd.weighted_sum(chunk, -0.1, &sources, &weights, &act, batch, t * 48);
            }
            assert_eq!(whole, tiled, "{:?}", simd.level());
        }
    }
}
