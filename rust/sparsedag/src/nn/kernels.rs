//! The per-connection kernels of the engine. Activations are neuron-major (one contiguous row of
//! `batch` floats per neuron), so every connection is one multiply-add over a batch row.
//!
//! One wheel runs everywhere: the instruction set is chosen at run time. The AVX-512 and
//! AVX2+FMA paths are `#[target_feature]` wrappers around the same chunked loops that the
//! baseline ("sse2") path compiles without extra features (the AVX-512 backward row is written
//! with intrinsics, the same operations in the same order); `scalar` is the plain reference
//! every other path is tested against. Per element the arithmetic never depends on how a row is
//! cut into column tiles or blocks, and reductions go by fixed 64-column tiles, so results do
//! not depend on the thread count, and the two fused paths (AVX2, AVX-512) agree bit for bit.
//! They round once per multiply-add and may differ from the unfused ones in the last bits.

// Lane loops index several arrays in step; iterator chains would hide the lane structure.
#![allow(clippy::needless_range_loop)]

use std::sync::OnceLock;

use super::activation::Activation;

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

/// Columns accumulated in registers at once by `weighted_sum` and `backprop_source` (8 AVX2
/// registers; the baseline path uses the same width).
const BLOCK: usize = 64;
/// The AVX-512 block: 8 of its 32 registers, so each connection's index and weight are loaded
/// once per 128 columns.
const WIDE_BLOCK: usize = 128;
/// Columns of one reduction tile: `dot` and `sum` reduce each tile into `LANES` partial sums
/// on their own, then add the tiles' partial sums in column order. The result therefore does
/// not depend on how a row is cut into blocks (64 or 128 columns) or into units of work.
pub const REDUCE_TILE: usize = 64;
/// Partial sums of one tile; fixed so that every vector width adds in the same order.
const LANES: usize = 16;
/// Connections handled per `backprop_source` call at most (its partial sums live on the stack).
pub const EDGE_CHUNK: usize = 64;

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
        // Every path indexes the rows with bounds checks of its own (no unchecked loads here,
        // unlike the backward row kernels), so a separate pass over the sources is only a
        // debugging aid: in release builds it cost about 3 % of a forward pass.
        let width = out.len();
        debug_assert!(
            sources
                .iter()
                .all(|&s| s as usize * stride + col0 + width <= act.len()),
            "source row out of bounds"
        );
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
            _ => weighted_sum_body::<false, BLOCK>(out, bias, sources, weights, act, stride, col0),
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

    /// The backward step of one source neuron over (up to [`EDGE_CHUNK`] of) its out-edges.
    /// Edge `e` leads to the neuron whose dL/dz row is row `targets[e] - base` of `deltas` (rows
    /// of `a_row.len()` columns) through the weight `weights[e]`:
    ///
    /// - `grads[e] = dot(a_row, delta_e)`, the gradient of that weight;
    /// - with `acc`, also `acc[c] += sum_e w_e * delta_e[c]` (edges in the given order, per
    ///   column), the input gradient; `zero_acc` starts it from zero instead of `acc`'s values.
    ///
    /// One pass reads each delta row once for both products.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn backprop_source(
        self,
        acc: Option<&mut [f32]>,
        zero_acc: bool,
        a_row: &[f32],
        targets: &[u32],
        weights: &[f32],
        deltas: &[f32],
        base: usize,
        grads: &mut [f32],
    ) {
        let batch = a_row.len();
        assert!(
            targets.len() <= EDGE_CHUNK,
            "at most EDGE_CHUNK edges per call"
        );
        assert!(targets.len() == weights.len() && targets.len() == grads.len());
        for &t in targets {
            assert!(
                t as usize >= base && (t as usize - base + 1) * batch <= deltas.len(),
                "delta row out of bounds"
            );
        }
        let args = SourceArgs {
            a_row,
            targets,
            weights,
            deltas,
            base,
        };
        match (acc, self.level) {
            (Some(acc), level) => {
                assert_eq!(acc.len(), batch);
                match level {
                    Level::Scalar => scalar_backprop_source(Some(acc), zero_acc, &args, grads),
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: a `Simd` of this level exists only when the CPU supports it.
                    Level::Avx512 => unsafe {
                        x86::backprop_source_avx512(acc, zero_acc, &args, grads)
                    },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: as above.
                    Level::Avx2Fma => unsafe {
                        x86::backprop_source_avx2(acc, zero_acc, &args, grads)
                    },
                    _ => source_body::<false, true, BLOCK>(acc, zero_acc, &args, grads),
                }
            }
            (None, level) => match level {
                Level::Scalar => scalar_backprop_source(None, false, &args, grads),
                #[cfg(target_arch = "x86_64")]
                // SAFETY: a `Simd` of this level exists only when the CPU supports it.
                Level::Avx512 => unsafe { x86::source_gradients_avx512(&args, grads) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                Level::Avx2Fma => unsafe { x86::source_gradients_avx2(&args, grads) },
                _ => source_body::<false, false, BLOCK>(&mut [], false, &args, grads),
            },
        }
    }

    /// Whether [`Simd::backprop_sources`] runs its sources as one stream for rows of `batch`
    /// columns (AVX-512 at 128 or 64 columns); elsewhere it calls [`Simd::backprop_source`]
    /// per source, which callers may as well do themselves.
    pub fn streams_sources(self, batch: usize) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.level == Level::Avx512 {
            return batch == WIDE_BLOCK || batch == BLOCK;
        }
        let _ = batch;
        false
    }

    /// [`Simd::backprop_source`] for consecutive sources at once. Source `k` has row `k` of `a`
    /// (rows of `batch` columns) and the out-edges `offsets[k]..offsets[k + 1]` (indices into
    /// `targets`, `weights` and `grads` after subtracting `offsets[0]`); with `acc`, its input
    /// gradient is row `k` of `acc`, from zero when `zero_acc[k]`.
    ///
    /// Where [`Simd::streams_sources`] holds, this is one loop over all the edges, with the
    /// prefetches running ahead across sources, and no call per source (about a fifth of the
    /// kernel's time at 40 edges per source). The same operations in the same order per
    /// source as [`Simd::backprop_source`], so the same bits.
    #[allow(clippy::too_many_arguments)]
    pub fn backprop_sources(
        self,
        acc: Option<&mut [f32]>,
        zero_acc: &[bool],
        batch: usize,
        a: &[f32],
        offsets: &[usize],
        targets: &[u32],
        weights: &[f32],
        deltas: &[f32],
        base: usize,
        grads: &mut [f32],
    ) {
        assert!(
            !offsets.is_empty(),
            "offsets has one entry per source plus one"
        );
        let sources = offsets.len() - 1;
        assert_eq!(a.len(), sources * batch, "one activation row per source");
        assert!(
            offsets.windows(2).all(|w| w[0] <= w[1]),
            "offsets must not decrease"
        );
        let edges = offsets[sources] - offsets[0];
        assert!(edges == targets.len() && edges == weights.len() && edges == grads.len());
        for &t in targets {
            assert!(
                t as usize >= base && (t as usize - base + 1) * batch <= deltas.len(),
                "delta row out of bounds"
            );
        }
        if let Some(acc) = &acc {
            assert_eq!(
                acc.len(),
                sources * batch,
                "one input gradient row per source"
            );
            assert_eq!(zero_acc.len(), sources, "one zero flag per source");
        }
        #[cfg(target_arch = "x86_64")]
        if self.streams_sources(batch) {
            let args = StreamArgs {
                a,
                offsets,
                targets,
                weights,
                deltas,
                base,
            };
            // SAFETY: a `Simd` of this level exists only when the CPU supports it; every row
            // the stream reads was checked above.
            unsafe {
                match (acc, batch == WIDE_BLOCK) {
                    (Some(acc), true) => {
                        x86::stream_avx512::<true, { WIDE_BLOCK / 16 }>(acc, zero_acc, &args, grads)
                    }
                    (Some(acc), false) => {
                        x86::stream_avx512::<true, { BLOCK / 16 }>(acc, zero_acc, &args, grads)
                    }
                    (None, true) => {
                        x86::stream_avx512::<false, { WIDE_BLOCK / 16 }>(&mut [], &[], &args, grads)
                    }
                    (None, false) => {
                        x86::stream_avx512::<false, { BLOCK / 16 }>(&mut [], &[], &args, grads)
                    }
                }
            }
            return;
        }
        let mut acc = acc;
        for k in 0..sources {
            let (e0, e1) = (offsets[k] - offsets[0], offsets[k + 1] - offsets[0]);
            let mut row = acc.as_deref_mut().map(|r| &mut r[k * batch..][..batch]);
            let zero = row.is_some() && zero_acc[k];
            if e0 == e1 {
                if let Some(r) = row.filter(|_| zero) {
                    r.fill(0.0);
                }
                continue;
            }
            let mut chunk = e0;
            while chunk < e1 {
                let len = EDGE_CHUNK.min(e1 - chunk);
                self.backprop_source(
                    row.as_deref_mut(),
                    zero && chunk == e0,
                    &a[k * batch..][..batch],
                    &targets[chunk..chunk + len],
                    &weights[chunk..chunk + len],
                    deltas,
                    base,
                    &mut grads[chunk..chunk + len],
                );
                chunk += len;
            }
        }
    }

    /// `sum_i x[i]`, reduced by tiles in the same order as `dot`.
    #[inline]
    pub fn sum(self, x: &[f32]) -> f32 {
        match self.level {
            Level::Scalar => x.iter().sum(),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe { x86::sum_avx512(x) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe { x86::sum_avx2(x) },
            _ => sum_body(x),
        }
    }

    /// [`Activation::apply_in_place`] compiled for this level (the same bits: elementwise).
    #[inline]
    pub fn activate(self, f: Activation, a: &mut [f32]) {
        match self.level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe { x86::activate_avx512(f, a) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe { x86::activate_avx2(f, a) },
            _ => f.apply_in_place(a),
        }
    }

    /// [`Activation::backprop_from_output`] compiled for this level.
    #[inline]
    pub fn backprop_from_output(self, f: Activation, a: &[f32], grad: &mut [f32]) {
        match self.level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a `Simd` of this level exists only when the CPU supports it.
            Level::Avx512 => unsafe { x86::backprop_from_output_avx512(f, a, grad) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2Fma => unsafe { x86::backprop_from_output_avx2(f, a, grad) },
            _ => f.backprop_from_output(a, grad),
        }
    }
}

/// The read-only operands of [`Simd::backprop_source`].
struct SourceArgs<'a> {
    a_row: &'a [f32],
    targets: &'a [u32],
    weights: &'a [f32],
    deltas: &'a [f32],
    base: usize,
}

impl SourceArgs<'_> {
    #[inline(always)]
    fn delta_start(&self, e: usize) -> usize {
        (self.targets[e] as usize - self.base) * self.a_row.len()
    }
}

/// The read-only operands of [`Simd::backprop_sources`] (checked by it).
#[cfg(target_arch = "x86_64")]
struct StreamArgs<'a> {
    a: &'a [f32],
    offsets: &'a [usize],
    targets: &'a [u32],
    weights: &'a [f32],
    deltas: &'a [f32],
    base: usize,
}

/// `a * b + c`, fused into one rounding when `FUSED` (the CPU has FMA).
#[inline(always)]
pub(super) fn madd<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
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

fn scalar_backprop_source(
    mut acc: Option<&mut [f32]>,
    zero_acc: bool,
    args: &SourceArgs,
    grads: &mut [f32],
) {
    let batch = args.a_row.len();
    if let Some(acc) = acc.as_deref_mut().filter(|_| zero_acc) {
        acc.fill(0.0);
    }
    for (e, g) in grads.iter_mut().enumerate() {
        let delta = &args.deltas[args.delta_start(e)..][..batch];
        *g = args.a_row.iter().zip(delta).map(|(a, d)| a * d).sum();
        if let Some(acc) = acc.as_deref_mut() {
            let w = args.weights[e];
            for (o, &d) in acc.iter_mut().zip(delta) {
                *o += w * d;
            }
        }
    }
}

/// `out = bias + sum_e w_e * row_e`, `W` columns at a time with the accumulators in registers,
/// then one 64-column block, then the tail. Every column adds the connections in order, so the
/// block width does not change any result.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weighted_sum_body<const FUSED: bool, const W: usize>(
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
    while c + W <= width {
        weighted_sum_block::<FUSED, W>(
            &mut out[c..c + W],
            bias,
            sources,
            weights,
            act,
            stride,
            col0 + c,
        );
        c += W;
    }
    if W > BLOCK && c + BLOCK <= width {
        weighted_sum_block::<FUSED, BLOCK>(
            &mut out[c..c + BLOCK],
            bias,
            sources,
            weights,
            act,
            stride,
            col0 + c,
        );
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
#[allow(clippy::too_many_arguments)]
fn weighted_sum_block<const FUSED: bool, const W: usize>(
    out: &mut [f32],
    bias: f32,
    sources: &[u32],
    weights: &[f32],
    act: &[f32],
    stride: usize,
    col0: usize,
) {
    let mut acc = [bias; W];
    for (e, (&s, &w)) in sources.iter().zip(weights).enumerate() {
        if let Some(&ahead) = sources.get(e + PREFETCH_EDGES) {
            let row = act.as_ptr().wrapping_add(ahead as usize * stride + col0);
            for k in (0..W).step_by(PREFETCH_STEP) {
                prefetch(row.wrapping_add(k));
            }
        }
        let start = s as usize * stride + col0;
        let row: &[f32; W] = act[start..start + W].try_into().expect("block");
        for k in 0..W {
            acc[k] = madd::<FUSED>(w, row[k], acc[k]);
        }
    }
    out.copy_from_slice(&acc);
}

/// Connections ahead whose rows the gather loops ask the cache for. At batch 128 on rows that
/// miss L1 (the 4000-wide SET layers), 8 measured 6 % faster than 4 on the gather kernel alone
/// and 2–3 % on a whole step; 12 gained nothing more. The 2000-node DagNet step is unchanged.
const PREFETCH_EDGES: usize = 8;
/// Floats between the prefetches of one row: one per pair of cache lines (rows start on a
/// 128-byte boundary, see `nn::net::AlignedRows`), and the L2's adjacent-line prefetcher brings
/// the other line of the pair. Half the prefetch instructions, which compete with the row loads
/// for the load ports: the gather kernel at batch 128 takes 3.51–3.56 against 3.64–3.69 ns per
/// connection on the 4000-row layer (runs alternated), 1.86 against 2.15 ns with rows in L1.
const PREFETCH_STEP: usize = 32;

/// A hint to bring the cache line holding `p` closer; never faults, whatever `p` is.
#[inline(always)]
pub(super) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it does not dereference the pointer architecturally.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline(always)]
fn axpy_body<const FUSED: bool>(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = madd::<FUSED>(alpha, xi, *yi);
    }
}

/// [`Simd::backprop_source`] (with the input gradient when `ACC`), `W` columns at a time.
#[inline(always)]
fn source_body<const FUSED: bool, const ACC: bool, const W: usize>(
    acc: &mut [f32],
    zero_acc: bool,
    args: &SourceArgs,
    grads: &mut [f32],
) {
    let batch = args.a_row.len();
    // One block: everything stays in registers, each edge's gradient is reduced at once.
    if batch == W {
        return source_row::<FUSED, ACC, W>(acc, zero_acc, args, grads);
    }
    if W > BLOCK && batch == BLOCK {
        return source_row::<FUSED, ACC, BLOCK>(acc, zero_acc, args, grads);
    }
    if batch < REDUCE_TILE {
        return source_short::<FUSED, ACC>(acc, zero_acc, args, grads);
    }
    let mut sums = [[0.0f32; LANES]; EDGE_CHUNK];
    let sums = &mut sums[..grads.len()];
    let mut c = 0;
    while c + W <= batch {
        source_block::<FUSED, ACC, W>(acc, zero_acc, args, c, sums);
        c += W;
    }
    if W > BLOCK && c + BLOCK <= batch {
        source_block::<FUSED, ACC, BLOCK>(acc, zero_acc, args, c, sums);
        c += BLOCK;
    }
    source_tail::<FUSED, ACC>(acc, zero_acc, args, c, sums);
    for (g, s) in grads.iter_mut().zip(sums.iter()) {
        *g = reduce_lanes(*s);
    }
}

/// [`source_body`] for rows shorter than one tile (small batches), without the partial sums
/// scratch.
#[inline(always)]
fn source_short<const FUSED: bool, const ACC: bool>(
    acc: &mut [f32],
    zero_acc: bool,
    args: &SourceArgs,
    grads: &mut [f32],
) {
    let batch = args.a_row.len();
    if ACC && zero_acc {
        acc.fill(0.0);
    }
    for (e, g) in grads.iter_mut().enumerate() {
        let delta = &args.deltas[args.delta_start(e)..][..batch];
        if ACC {
            axpy_body::<FUSED>(acc, args.weights[e], delta);
        }
        let l = tile_lanes::<FUSED>(args.a_row, delta);
        let mut s = [0.0f32; LANES];
        for k in 0..LANES {
            s[k] += l[k];
        }
        *g = reduce_lanes(s);
    }
}

/// Columns `c..` (less than one tile) of [`source_body`].
#[inline(always)]
fn source_tail<const FUSED: bool, const ACC: bool>(
    acc: &mut [f32],
    zero_acc: bool,
    args: &SourceArgs,
    c: usize,
    sums: &mut [[f32; LANES]],
) {
    let batch = args.a_row.len();
    if c >= batch {
        return;
    }
    let a = &args.a_row[c..];
    if ACC && zero_acc {
        acc[c..].fill(0.0);
    }
    for (e, s) in sums.iter_mut().enumerate() {
        let delta = &args.deltas[args.delta_start(e) + c..][..batch - c];
        if ACC {
            axpy_body::<FUSED>(&mut acc[c..], args.weights[e], delta);
        }
        let l = tile_lanes::<FUSED>(a, delta);
        for k in 0..LANES {
            s[k] += l[k];
        }
    }
}

/// Adds the dot product of `a` and `d`, 64-column tile by tile, into `sums` lane by lane: the
/// same order of operations as [`tile_lanes`], so every path gives the same bits.
#[inline(always)]
fn add_tile_sums<const FUSED: bool, const W: usize>(
    a: &[f32; W],
    d: &[f32; W],
    sums: &mut [f32; LANES],
) {
    for tile in 0..W / REDUCE_TILE {
        let mut l = [0.0f32; LANES];
        for q in 0..REDUCE_TILE / LANES {
            for k in 0..LANES {
                let i = tile * REDUCE_TILE + q * LANES + k;
                l[k] = madd::<FUSED>(a[i], d[i], l[k]);
            }
        }
        for k in 0..LANES {
            sums[k] += l[k];
        }
    }
}

/// [`source_body`] for rows of exactly `W` columns (the same operations in the same order,
/// without the partial sums leaving registers).
#[inline(always)]
fn source_row<const FUSED: bool, const ACC: bool, const W: usize>(
    acc: &mut [f32],
    zero_acc: bool,
    args: &SourceArgs,
    grads: &mut [f32],
) {
    let a: &[f32; W] = args.a_row.try_into().expect("one block");
    let mut accr = [0.0f32; W];
    if ACC && !zero_acc {
        accr.copy_from_slice(acc);
    }
    for (e, g) in grads.iter_mut().enumerate() {
        let start = args.delta_start(e);
        let d: &[f32; W] = args.deltas[start..start + W].try_into().expect("block");
        if ACC {
            let w = args.weights[e];
            for k in 0..W {
                accr[k] = madd::<FUSED>(w, d[k], accr[k]);
            }
        }
        let mut s = [0.0f32; LANES];
        add_tile_sums::<FUSED, W>(a, d, &mut s);
        *g = reduce_lanes(s);
    }
    if ACC {
        acc.copy_from_slice(&accr);
    }
}

/// Columns `col0..col0 + W` of every edge: the input gradient in registers, and each tile's
/// partial sums of the weight gradient added to `sums`.
#[inline(always)]
fn source_block<const FUSED: bool, const ACC: bool, const W: usize>(
    acc: &mut [f32],
    zero_acc: bool,
    args: &SourceArgs,
    col0: usize,
    sums: &mut [[f32; LANES]],
) {
    let a: &[f32; W] = args.a_row[col0..col0 + W].try_into().expect("block");
    let mut accr = [0.0f32; W];
    if ACC && !zero_acc {
        accr.copy_from_slice(&acc[col0..col0 + W]);
    }
    for (e, s) in sums.iter_mut().enumerate() {
        let start = args.delta_start(e) + col0;
        let d: &[f32; W] = args.deltas[start..start + W].try_into().expect("block");
        if ACC {
            let w = args.weights[e];
            for k in 0..W {
                accr[k] = madd::<FUSED>(w, d[k], accr[k]);
            }
        }
        add_tile_sums::<FUSED, W>(a, d, s);
    }
    if ACC {
        acc[col0..col0 + W].copy_from_slice(&accr);
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

/// The partial sums of one tile (at most `REDUCE_TILE` columns): lane `k` adds the products of
/// columns `k, k + LANES, ...` in order, starting from zero.
#[inline(always)]
fn tile_lanes<const FUSED: bool>(x: &[f32], y: &[f32]) -> [f32; LANES] {
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
    acc
}

/// Tiles of `REDUCE_TILE` columns reduced on their own, their partial sums added in column
/// order, then the lanes: any split of the row into whole tiles gives the same bits.
#[inline(always)]
fn dot_body<const FUSED: bool>(x: &[f32], y: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    for (tx, ty) in x.chunks(REDUCE_TILE).zip(y.chunks(REDUCE_TILE)) {
        let l = tile_lanes::<FUSED>(tx, ty);
        for k in 0..LANES {
            sums[k] += l[k];
        }
    }
    reduce_lanes(sums)
}

#[inline(always)]
fn sum_body(x: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    for tile in x.chunks(REDUCE_TILE) {
        let mut l = [0.0f32; LANES];
        let cs = tile.chunks_exact(LANES);
        let rest = cs.remainder();
        for cx in cs {
            for k in 0..LANES {
                l[k] += cx[k];
            }
        }
        for (k, &a) in rest.iter().enumerate() {
            l[k] += a;
        }
        for k in 0..LANES {
            sums[k] += l[k];
        }
    }
    reduce_lanes(sums)
}

// The AVX-512 intrinsics and the `avx512f` target feature are why the MSRV is 1.89.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{axpy_body, dot_body, source_block, source_body, source_short, source_tail};
    use super::{prefetch, weighted_sum_body, Activation, SourceArgs, StreamArgs};
    use super::{sum_body, REDUCE_TILE};
    use super::{BLOCK, EDGE_CHUNK, LANES, PREFETCH_EDGES, PREFETCH_STEP, WIDE_BLOCK};

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn backprop_source_avx512(
        acc: &mut [f32],
        zero_acc: bool,
        args: &SourceArgs,
        grads: &mut [f32],
    ) {
        source_avx512::<true>(acc, zero_acc, args, grads)
    }

    /// `source_body::<true, ACC, WIDE_BLOCK>` written with AVX-512 intrinsics (LLVM's own
    /// vectorisation of the tile sums packs them into 2-float vectors): the same operations in
    /// the same order, so the same bits.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn source_avx512<const ACC: bool>(
        acc: &mut [f32],
        zero_acc: bool,
        args: &SourceArgs,
        grads: &mut [f32],
    ) {
        let batch = args.a_row.len();
        if batch == WIDE_BLOCK {
            return row_avx512::<ACC, { WIDE_BLOCK / 16 }>(acc, zero_acc, args, grads);
        }
        if batch == BLOCK {
            return row_avx512::<ACC, { BLOCK / 16 }>(acc, zero_acc, args, grads);
        }
        if batch < REDUCE_TILE {
            return source_short::<true, ACC>(acc, zero_acc, args, grads);
        }
        let mut sums = [[0.0f32; LANES]; EDGE_CHUNK];
        let sums = &mut sums[..grads.len()];
        let mut c = 0;
        while c + WIDE_BLOCK <= batch {
            block_avx512::<ACC, { WIDE_BLOCK / 16 }>(acc, zero_acc, args, c, sums);
            c += WIDE_BLOCK;
        }
        if c + BLOCK <= batch {
            source_block::<true, ACC, BLOCK>(acc, zero_acc, args, c, sums);
            c += BLOCK;
        }
        source_tail::<true, ACC>(acc, zero_acc, args, c, sums);
        for (g, s) in grads.iter_mut().zip(sums.iter()) {
            *g = reduce_avx512(_mm512_loadu_ps(s.as_ptr()));
        }
    }

    /// `reduce_lanes`: halves added pairwise, 8 + 8, 4 + 4, 2 + 2, 1 + 1.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn reduce_avx512(s: __m512) -> f32 {
        let lo = _mm512_castps512_ps256(s);
        let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(s)));
        let r8 = _mm256_add_ps(lo, hi);
        let r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps::<1>(r8));
        let r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
        let r1 = _mm_add_ss(r2, _mm_shuffle_ps::<1>(r2, r2));
        _mm_cvtss_f32(r1)
    }

    /// The partial sums of the tiles of one block (`N` registers, 4 per tile) added to `s`.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn tile_sums<const N: usize>(a: &[__m512; N], d: &[__m512; N], mut s: __m512) -> __m512 {
        let zero = _mm512_setzero_ps();
        for t in 0..N / 4 {
            let mut l = zero;
            for q in 0..4 {
                l = _mm512_fmadd_ps(a[4 * t + q], d[4 * t + q], l);
            }
            s = _mm512_add_ps(s, l);
        }
        s
    }

    /// One out-edge of a source whose activation row is `a`: with `ACC`, `weight` times the
    /// target's delta row (at `row`, `16 N` floats) added to the input gradient `c`; returns
    /// the weight gradient, the dot product of `a` and that delta row.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn edge_avx512<const ACC: bool, const N: usize>(
        a: &[__m512; N],
        c: &mut [__m512; N],
        row: *const f32,
        weight: f32,
    ) -> f32 {
        let zero = _mm512_setzero_ps();
        let mut d = [zero; N];
        for k in 0..N {
            d[k] = _mm512_loadu_ps(row.add(16 * k));
        }
        if ACC {
            let w = _mm512_set1_ps(weight);
            for k in 0..N {
                c[k] = _mm512_fmadd_ps(w, d[k], c[k]);
            }
        }
        reduce_avx512(tile_sums(a, &d, zero))
    }

    /// A whole row of `16 N` columns (checked by the caller).
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn row_avx512<const ACC: bool, const N: usize>(
        acc: &mut [f32],
        zero_acc: bool,
        args: &SourceArgs,
        grads: &mut [f32],
    ) {
        let zero = _mm512_setzero_ps();
        let mut a = [zero; N];
        let mut c = [zero; N];
        for k in 0..N {
            a[k] = _mm512_loadu_ps(args.a_row.as_ptr().add(16 * k));
            if ACC && !zero_acc {
                c[k] = _mm512_loadu_ps(acc.as_ptr().add(16 * k));
            }
        }
        let n = grads.len();
        for (e, g) in grads.iter_mut().enumerate() {
            if e + PREFETCH_EDGES < n {
                let ahead = args
                    .deltas
                    .as_ptr()
                    .add(args.delta_start(e + PREFETCH_EDGES));
                for k in (0..16 * N).step_by(PREFETCH_STEP) {
                    prefetch(ahead.add(k));
                }
            }
            // In bounds: `backprop_source` checked every delta row.
            let row = args.deltas.as_ptr().add(args.delta_start(e));
            *g = edge_avx512::<ACC, N>(&a, &mut c, row, args.weights[e]);
        }
        if ACC {
            for k in 0..N {
                _mm512_storeu_ps(acc.as_mut_ptr().add(16 * k), c[k]);
            }
        }
    }

    /// [`Simd::backprop_sources`] for rows of `16 N` columns: `row_avx512` over every source,
    /// as one loop whose delta prefetches run `PREFETCH_EDGES` edges ahead across sources. (The
    /// prototype also prefetched the activation rows two sources ahead: 2-5 % slower in the
    /// engine, where those rows are read in sequence.)
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn stream_avx512<const ACC: bool, const N: usize>(
        acc: &mut [f32],
        zero_acc: &[bool],
        args: &StreamArgs,
        grads: &mut [f32],
    ) {
        let w = 16 * N;
        let offsets = args.offsets;
        let sources = offsets.len() - 1;
        let first = offsets[0];
        let n = args.targets.len();
        let targets = args.targets.as_ptr();
        let deltas = args.deltas.as_ptr();
        let base = args.base;
        let zero = _mm512_setzero_ps();
        for i in 0..sources {
            let keep = ACC && !zero_acc[i];
            let (e0, e1) = (offsets[i] - first, offsets[i + 1] - first);
            if !ACC && e0 == e1 {
                continue;
            }
            let mut a = [zero; N];
            let mut c = [zero; N];
            let row = args.a.as_ptr().add(i * w);
            for k in 0..N {
                a[k] = _mm512_loadu_ps(row.add(16 * k));
                if keep {
                    c[k] = _mm512_loadu_ps(acc.as_ptr().add(i * w + 16 * k));
                }
            }
            for e in e0..e1 {
                if e + PREFETCH_EDGES < n {
                    let t = *targets.add(e + PREFETCH_EDGES) as usize;
                    let ahead = deltas.add((t - base) * w);
                    for k in (0..w).step_by(PREFETCH_STEP) {
                        prefetch(ahead.add(k));
                    }
                }
                // In bounds: `backprop_sources` checked every target and delta row.
                let row = deltas.add((*targets.add(e) as usize - base) * w);
                let weight = if ACC {
                    *args.weights.get_unchecked(e)
                } else {
                    0.0
                };
                *grads.get_unchecked_mut(e) = edge_avx512::<ACC, N>(&a, &mut c, row, weight);
            }
            if ACC {
                for k in 0..N {
                    _mm512_storeu_ps(acc.as_mut_ptr().add(i * w + 16 * k), c[k]);
                }
            }
        }
    }

    /// Columns `col0..col0 + 16 N` of every edge, the tiles' partial sums added to `sums`.
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn block_avx512<const ACC: bool, const N: usize>(
        acc: &mut [f32],
        zero_acc: bool,
        args: &SourceArgs,
        col0: usize,
        sums: &mut [[f32; LANES]],
    ) {
        assert!(col0 + 16 * N <= args.a_row.len());
        let zero = _mm512_setzero_ps();
        let mut a = [zero; N];
        let mut c = [zero; N];
        for k in 0..N {
            a[k] = _mm512_loadu_ps(args.a_row.as_ptr().add(col0 + 16 * k));
            if ACC && !zero_acc {
                c[k] = _mm512_loadu_ps(acc.as_ptr().add(col0 + 16 * k));
            }
        }
        for (e, s) in sums.iter_mut().enumerate() {
            let row = args.deltas.as_ptr().add(args.delta_start(e) + col0);
            let mut d = [zero; N];
            for k in 0..N {
                d[k] = _mm512_loadu_ps(row.add(16 * k));
            }
            if ACC {
                let w = _mm512_set1_ps(args.weights[e]);
                for k in 0..N {
                    c[k] = _mm512_fmadd_ps(w, d[k], c[k]);
                }
            }
            let total = tile_sums(&a, &d, _mm512_loadu_ps(s.as_ptr()));
            _mm512_storeu_ps(s.as_mut_ptr(), total);
        }
        if ACC {
            for k in 0..N {
                _mm512_storeu_ps(acc.as_mut_ptr().add(col0 + 16 * k), c[k]);
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn backprop_source_avx2(
        acc: &mut [f32],
        zero_acc: bool,
        args: &SourceArgs,
        grads: &mut [f32],
    ) {
        source_body::<true, true, BLOCK>(acc, zero_acc, args, grads)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn source_gradients_avx512(args: &SourceArgs, grads: &mut [f32]) {
        source_avx512::<false>(&mut [], false, args, grads)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn source_gradients_avx2(args: &SourceArgs, grads: &mut [f32]) {
        source_body::<true, false, BLOCK>(&mut [], false, args, grads)
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
        weighted_sum_body::<true, WIDE_BLOCK>(out, bias, sources, weights, act, stride, col0)
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
        weighted_sum_body::<true, BLOCK>(out, bias, sources, weights, act, stride, col0)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn sum_avx512(x: &[f32]) -> f32 {
        // `sum_body` with 16-lane vectors, the same additions in the same order (a partial
        // chunk adds only its own lanes). LLVM's own vectorisation of `sum_body` packs the
        // lanes into 2-float vectors (as with the tile sums); this is 8 loads and adds per
        // 128 columns. (A profile charges this sum with 10-12 % of a SET step either way: the
        // samples land on its first load of the row just stored, and skipping the sum
        // altogether left the step time unchanged, so that is the stores' cost, not the sum's.)
        let mut sums = _mm512_setzero_ps();
        for tile in x.chunks(REDUCE_TILE) {
            let mut l = _mm512_setzero_ps();
            for chunk in tile.chunks(LANES) {
                let mask = if chunk.len() == LANES {
                    u16::MAX
                } else {
                    ((1u32 << chunk.len()) - 1) as u16
                };
                // In bounds: the mask covers the chunk's own floats only.
                let v = _mm512_maskz_loadu_ps(mask, chunk.as_ptr());
                l = _mm512_mask_add_ps(l, mask, l, v);
            }
            sums = _mm512_add_ps(sums, l);
        }
        reduce_avx512(sums)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn sum_avx2(x: &[f32]) -> f32 {
        sum_body(x)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn activate_avx512(f: Activation, a: &mut [f32]) {
        f.apply_in_place(a)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn activate_avx2(f: Activation, a: &mut [f32]) {
        f.apply_in_place(a)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn backprop_from_output_avx512(f: Activation, a: &[f32], grad: &mut [f32]) {
        f.backprop_from_output(a, grad)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn backprop_from_output_avx2(f: Activation, a: &[f32], grad: &mut [f32]) {
        f.backprop_from_output(a, grad)
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
    fn backprop_sources_equals_one_call_per_source() {
        let mut rng = Rng::new(4);
        // Degrees: none, one, more than EDGE_CHUNK (several calls per source), a few.
        let degrees = [3usize, 0, 1, 150, 7, 0, 40, 2];
        for &batch in &[128usize, 64, 100, 20] {
            let rows = 30;
            let base = 5;
            let deltas = random_vec(&mut rng, rows * batch);
            let sources = degrees.len();
            let a = random_vec(&mut rng, sources * batch);
            let acc0 = random_vec(&mut rng, sources * batch);
            let mut offsets = vec![17usize];
            let mut targets = Vec::new();
            for &d in &degrees {
                for _ in 0..d {
                    targets.push((base + (rng.uniform(0.0, 1.0) * rows as f64) as usize) as u32);
                }
                offsets.push(offsets.last().unwrap() + d);
            }
            let targets: Vec<u32> = targets.into_iter().map(|t| t.min(34)).collect();
            let weights = random_vec(&mut rng, targets.len());
            let zero: Vec<bool> = (0..sources).map(|k| k % 3 != 1).collect();
            for simd in supported() {
                let what = format!("{:?} batch {batch}", simd.level());
                let mut expect_acc = acc0.clone();
                let mut expect_grads = vec![0.0; targets.len()];
                let mut expect_only = vec![0.0; targets.len()];
                for k in 0..sources {
                    let (e0, e1) = (offsets[k] - 17, offsets[k + 1] - 17);
                    let row = &mut expect_acc[k * batch..][..batch];
                    if zero[k] {
                        row.fill(0.0);
                    }
                    for e in (e0..e1).step_by(EDGE_CHUNK) {
                        let f = e1.min(e + EDGE_CHUNK);
                        let a_row = &a[k * batch..][..batch];
                        let (t, w) = (&targets[e..f], &weights[e..f]);
                        let g = &mut expect_grads[e..f];
                        simd.backprop_source(Some(row), false, a_row, t, w, &deltas, base, g);
                        let g = &mut expect_only[e..f];
                        simd.backprop_source(None, false, a_row, t, w, &deltas, base, g);
                    }
                }
                let mut acc = acc0.clone();
                let mut grads = vec![0.0; targets.len()];
                simd.backprop_sources(
                    Some(&mut acc),
                    &zero,
                    batch,
                    &a,
                    &offsets,
                    &targets,
                    &weights,
                    &deltas,
                    base,
                    &mut grads,
                );
                assert_eq!(acc, expect_acc, "{what}");
                assert_eq!(grads, expect_grads, "{what}");
                let mut only = vec![0.0; targets.len()];
                simd.backprop_sources(
                    None,
                    &[],
                    batch,
                    &a,
                    &offsets,
                    &targets,
                    &weights,
                    &deltas,
                    base,
                    &mut only,
                );
                assert_eq!(only, expect_only, "{what}");
            }
        }
    }

    #[test]
    fn backprop_source_equals_per_connection_calls() {
        let mut rng = Rng::new(2);
        for &batch in &[1usize, 20, 64, 100, 128, 200, 300] {
            let rows = 9;
            let deltas = random_vec(&mut rng, rows * batch);
            let a_row = random_vec(&mut rng, batch);
            let targets = [5u32, 6, 8, 8, 10];
            let weights = random_vec(&mut rng, targets.len());
            let base = 2;
            let acc0 = random_vec(&mut rng, batch);
            let mut fused_bits: Option<(Vec<f32>, Vec<f32>)> = None;
            for simd in supported() {
                let fused = matches!(simd.level(), Level::Avx2Fma | Level::Avx512);
                let mut expect_acc = acc0.clone();
                let mut expect_grads = vec![0.0; targets.len()];
                for (e, (&t, &w)) in targets.iter().zip(&weights).enumerate() {
                    let row = &deltas[(t as usize - base) * batch..][..batch];
                    expect_grads[e] = simd.dot(&a_row, row);
                    simd.axpy(&mut expect_acc, w, row);
                }
                let mut acc = acc0.clone();
                let mut grads = vec![0.0; targets.len()];
                simd.backprop_source(
                    Some(&mut acc),
                    false,
                    &a_row,
                    &targets,
                    &weights,
                    &deltas,
                    base,
                    &mut grads,
                );
                if simd.level() == Level::Scalar {
                    for (g, e) in grads.iter().zip(&expect_grads) {
                        assert!((g - e).abs() <= 1e-5 * batch as f32);
                    }
                } else {
                    assert_eq!(grads, expect_grads, "{:?} batch {batch}", simd.level());
                }
                assert_eq!(acc, expect_acc, "{:?} batch {batch}", simd.level());
                // Starting from zero equals starting from a zero row.
                let mut zeroed = acc0.clone();
                let mut from_zero = vec![0.0; batch];
                let mut g2 = vec![0.0; targets.len()];
                let args = (&a_row, &targets, &weights, &deltas);
                simd.backprop_source(
                    Some(&mut zeroed),
                    true,
                    args.0,
                    args.1,
                    args.2,
                    args.3,
                    base,
                    &mut g2,
                );
                simd.backprop_source(
                    Some(&mut from_zero),
                    false,
                    args.0,
                    args.1,
                    args.2,
                    args.3,
                    base,
                    &mut g2,
                );
                assert_eq!(zeroed, from_zero);
                // Without the input gradient the weight gradients are the same.
                let mut g3 = vec![0.0; targets.len()];
                simd.backprop_source(None, false, args.0, args.1, args.2, args.3, base, &mut g3);
                assert_eq!(g3, grads);
                // The AVX2 (64-column) and AVX-512 (128-column) paths give the same bits.
                if fused {
                    match &fused_bits {
                        None => fused_bits = Some((acc.clone(), grads.clone())),
                        Some((a, g)) => {
                            assert_eq!(a, &acc);
                            assert_eq!(g, &grads);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn many_edges_per_call_equal_per_connection_calls() {
        // Up to EDGE_CHUNK edges per call, several prefetch distances' worth: the same bits as
        // `dot` and `axpy` connection by connection.
        let mut rng = Rng::new(11);
        for &batch in &[32usize, 64, 128, 192] {
            let rows = 70;
            let deltas = random_vec(&mut rng, rows * batch);
            let a_row = random_vec(&mut rng, batch);
            for &edges in &[15usize, 16, 17, 40, 64] {
                let targets: Vec<u32> = (0..edges)
                    .map(|_| (rng.uniform(0.0, 1.0) * rows as f64) as u32 % rows as u32)
                    .collect();
                let weights = random_vec(&mut rng, edges);
                let acc0 = random_vec(&mut rng, batch);
                for simd in supported() {
                    let mut expect_acc = acc0.clone();
                    let mut expect_grads = vec![0.0; edges];
                    for (e, (&t, &w)) in targets.iter().zip(&weights).enumerate() {
                        let row = &deltas[t as usize * batch..][..batch];
                        expect_grads[e] = simd.dot(&a_row, row);
                        simd.axpy(&mut expect_acc, w, row);
                    }
                    let mut acc = acc0.clone();
                    let mut grads = vec![0.0; edges];
                    let run = |acc: Option<&mut [f32]>, grads: &mut [f32]| {
                        simd.backprop_source(
                            acc, false, &a_row, &targets, &weights, &deltas, 0, grads,
                        )
                    };
                    run(Some(&mut acc), &mut grads);
                    let mut alone = vec![0.0; edges];
                    run(None, &mut alone);
                    assert_eq!(alone, grads, "{:?}", simd.level());
                    if simd.level() == Level::Scalar {
                        for (g, e) in grads.iter().zip(&expect_grads) {
                            assert!((g - e).abs() <= 1e-5 * batch as f32);
                        }
                    } else {
                        assert_eq!(grads, expect_grads, "{:?} {batch} {edges}", simd.level());
                    }
                    assert_eq!(acc, expect_acc, "{:?} {batch} {edges}", simd.level());
                }
            }
        }
    }

    #[test]
    fn every_vector_level_sums_in_the_same_order() {
        let mut rng = Rng::new(12);
        for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 100, 128, 200] {
            let x = random_vec(&mut rng, len);
            for simd in supported()
                .into_iter()
                .filter(|s| s.level() != Level::Scalar)
            {
                assert_eq!(simd.sum(&x), sum_body(&x), "{:?} {len}", simd.level());
            }
        }
    }

    #[test]
    fn dot_reduces_by_tiles_in_column_order() {
        let mut rng = Rng::new(4);
        for &batch in &[64usize, 128, 150, 256] {
            let x = random_vec(&mut rng, batch);
            let y = random_vec(&mut rng, batch);
            for simd in supported()
                .into_iter()
                .filter(|s| s.level() != Level::Scalar)
            {
                // Whole tiles reduced on their own then added in order: the dot of the first
                // tiles followed by the rest, lane by lane, equals the whole dot.
                let fused = simd.level() != Level::Chunked;
                let mut sums = [0.0f32; LANES];
                for (tx, ty) in x.chunks(REDUCE_TILE).zip(y.chunks(REDUCE_TILE)) {
                    let l = if fused {
                        tile_lanes::<true>(tx, ty)
                    } else {
                        tile_lanes::<false>(tx, ty)
                    };
                    for k in 0..LANES {
                        sums[k] += l[k];
                    }
                }
                assert_eq!(simd.dot(&x, &y), reduce_lanes(sums), "{:?}", simd.level());
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
        let mut fused_bits = None;
        for simd in supported() {
            let mut whole = vec![0.0; batch];
            simd.weighted_sum(&mut whole, -0.1, &sources, &weights, &act, batch, 0);
            let mut tiled = vec![0.0; batch];
            for (t, chunk) in tiled.chunks_mut(48).enumerate() {
                simd.weighted_sum(chunk, -0.1, &sources, &weights, &act, batch, t * 48);
            }
            assert_eq!(whole, tiled, "{:?}", simd.level());
            // 64- and 128-column blocks add in the same order.
            if matches!(simd.level(), Level::Avx2Fma | Level::Avx512) {
                match &fused_bits {
                    None => fused_bits = Some(whole),
                    Some(bits) => assert_eq!(bits, &whole),
                }
            }
        }
    }
}
