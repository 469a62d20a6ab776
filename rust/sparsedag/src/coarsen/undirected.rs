//! Undirected graphs for coarsening: a validated edge list (kept as given, for contraction)
//! and the symmetric CSR built from it (for the k-hop passes). Self-loops are ignored by the
//! CSR and repeated edges count once, so the CSR is the simple graph under the edges whatever
//! direction or multiplicity the caller used (PyG-style lists carry both directions).

use std::ops::Range;

use rayon::prelude::*;

use super::group::group_pairs;
use crate::error::{ensure_allocatable, invalid, Error, Result};
use crate::graph::{check_node_count, NodeId};

/// Edge lists this long are checked in parallel chunks.
const CHUNK: usize = 1 << 16;

/// Edges `src[i] -- dst[i]` over nodes `0..num_nodes`, ids already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeList {
    num_nodes: usize,
    src: Vec<u32>,
    dst: Vec<u32>,
}

impl EdgeList {
    /// Validates ids (in range, same lengths). `num_nodes` defaults to the largest id + 1.
    /// The reported error is always the one at the smallest edge position.
    pub fn new<I: NodeId>(src: &[I], dst: &[I], num_nodes: Option<u64>) -> Result<Self> {
        let n = checked_node_count(src, dst, num_nodes)? as u64;
        let convert = |ids: &[I]| -> Result<Vec<u32>> {
            let mut out = vec![0u32; ids.len()];
            let chunk_results: Vec<Result<()>> = out
                .par_chunks_mut(CHUNK)
                .zip(ids.par_chunks(CHUNK))
                .enumerate()
                .map(|(chunk, (out, ids))| {
                    for (i, (slot, &id)) in out.iter_mut().zip(ids).enumerate() {
                        let value = id.to_i64();
                        if value < 0 || value as u64 >= n {
                            return Err(Error::NodeOutOfRange {
                                position: chunk * CHUNK + i,
                                value,
                                num_nodes: n,
                            });
                        }
                        *slot = value as u32;
                    }
                    Ok(())
                })
                .collect();
            chunk_results.into_iter().collect::<Result<()>>()?;
            Ok(out)
        };
        // Report the earliest bad position over both columns.
        let (s, d) = (convert(src), convert(dst));
        match (s, d) {
            (Ok(src), Ok(dst)) => Ok(EdgeList {
                num_nodes: n as usize,
                src,
                dst,
            }),
            (Err(a), Err(b)) => Err(earliest(a, b)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    pub fn num_nodes(&self) -> usize {
        self.num_nodes
    }

    pub fn num_edges(&self) -> usize {
        self.src.len()
    }

    pub fn src(&self) -> &[u32] {
        &self.src
    }

    pub fn dst(&self) -> &[u32] {
        &self.dst
    }
}

fn earliest(a: Error, b: Error) -> Error {
    match (&a, &b) {
        (
            Error::NodeOutOfRange { position: pa, .. },
            Error::NodeOutOfRange { position: pb, .. },
        ) if pb < pa => b,
        _ => a,
    }
}

fn implied_node_count<I: NodeId>(src: &[I], dst: &[I]) -> Result<u64> {
    let mut max = -1i64;
    for ids in [src, dst] {
        let chunk_results: Vec<std::result::Result<i64, (usize, i64)>> = ids
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, part)| {
                let mut max = -1i64;
                for (i, &id) in part.iter().enumerate() {
                    let id = id.to_i64();
                    if id < 0 {
                        return Err((chunk * CHUNK + i, id));
                    }
                    max = max.max(id);
                }
                Ok(max)
            })
            .collect();
        for r in chunk_results {
            match r {
                Ok(m) => max = max.max(m),
                Err((position, value)) => {
                    return Err(Error::NodeOutOfRange {
                        position,
                        value,
                        num_nodes: 0,
                    })
                }
            }
        }
    }
    Ok(max.saturating_add(1) as u64)
}

/// The simple undirected graph under an edge list, as a symmetric CSR. Rows hold each
/// neighbour once, in edge order for short rows and sorted for long ones; the layout depends
/// only on the edge list, never on the thread count or on which builder made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndirectedGraph {
    offsets: Vec<usize>,
    neighbors: Vec<u32>,
}

/// Below this many edges, or on one thread, the CSR is built by a direct two-pass counting
/// sort: its scattered writes stay in cache, and it needs no staging copy of the edges.
/// Beyond it the bucketed grouping (`group_pairs`) spreads the work over the threads and
/// keeps the writes streaming.
const DIRECT_BUILD_EDGES: usize = 1 << 22;

impl UndirectedGraph {
    pub fn from_edges(edges: &EdgeList) -> Self {
        Self::from_checked(edges, use_direct_build(edges.num_edges()))
    }

    fn from_checked(edges: &EdgeList, direct: bool) -> Self {
        let n = edges.num_nodes;
        let (src, dst) = (&edges.src[..], &edges.dst[..]);
        let (offsets, neighbors) = if direct {
            match direct_rows(n, src, dst, false) {
                Ok(rows) => rows,
                Err(_) => unreachable!("no check was asked for"),
            }
        } else {
            grouped_rows(n, src, dst)
        };
        finish(offsets, neighbors)
    }

    /// Validates the id arrays (as [`EdgeList::new`] does, with the same errors) and builds
    /// the graph straight from them, without a converted copy of the edges.
    pub fn from_ids<I: NodeId>(src: &[I], dst: &[I], num_nodes: Option<u64>) -> Result<Self> {
        let n = checked_node_count(src, dst, num_nodes)?;
        let (offsets, neighbors) = if use_direct_build(src.len()) {
            direct_rows(n, src, dst, true)?
        } else {
            check_ids(src, dst, n as u64)?;
            grouped_rows(n, src, dst)
        };
        Ok(finish(offsets, neighbors))
    }

    pub fn num_nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of undirected edges (each stored twice).
    pub fn num_edges(&self) -> usize {
        self.neighbors.len() / 2
    }

    #[inline]
    pub fn neighbors(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.neighbors[self.offsets[v]..self.offsets[v + 1]]
    }

    pub fn degree(&self, v: u32) -> usize {
        let v = v as usize;
        self.offsets[v + 1] - self.offsets[v]
    }

    /// CSR offsets: row v is `offsets[v]..offsets[v + 1]`.
    pub(crate) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Asks for the cache line holding v's row bounds.
    #[inline(always)]
    pub(crate) fn prefetch_bounds(&self, v: u32) {
        prefetch(self.offsets.as_ptr().wrapping_add(v as usize));
    }

    /// Asks for the first cache line of v's row (reads v's bounds, so prefetch those first).
    #[inline(always)]
    pub(crate) fn prefetch_row(&self, v: u32) {
        prefetch(
            self.neighbors
                .as_ptr()
                .wrapping_add(self.offsets[v as usize]),
        );
    }
}

/// Row access for the sequential greedy (rows may repeat neighbours: covering a node twice
/// changes nothing).
pub(crate) trait Rows {
    fn row(&self, v: u32) -> &[u32];
    /// Asks for the cache line holding v's row bounds.
    fn prefetch_bounds(&self, v: u32);
    /// Asks for the first cache line of v's row (reads v's bounds: prefetch those first).
    fn prefetch_row(&self, v: u32);
}

impl Rows for UndirectedGraph {
    #[inline(always)]
    fn row(&self, v: u32) -> &[u32] {
        self.neighbors(v)
    }
    #[inline(always)]
    fn prefetch_bounds(&self, v: u32) {
        UndirectedGraph::prefetch_bounds(self, v)
    }
    #[inline(always)]
    fn prefetch_row(&self, v: u32) {
        UndirectedGraph::prefetch_row(self, v)
    }
}

/// A hint to bring the cache line holding `p` closer; never faults, whatever `p` is. The
/// sequential passes jump through the graph in rank order, so nearly every row they read
/// would otherwise be a cache miss that stalls the loop.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never dereferences the pointer architecturally.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

fn use_direct_build(edges: usize) -> bool {
    edges < DIRECT_BUILD_EDGES || rayon::current_num_threads() <= 1
}

/// The edge-list checks shared by every builder: equal lengths and sizes within the limits.
pub(crate) fn checked_node_count<I: NodeId>(
    src: &[I],
    dst: &[I],
    num_nodes: Option<u64>,
) -> Result<usize> {
    if src.len() != dst.len() {
        return invalid(format!(
            "src has {} entries but dst has {}; they must have the same length",
            src.len(),
            dst.len()
        ));
    }
    if src.len() as u64 > u32::MAX as u64 {
        return Err(Error::TooLarge {
            what: "the number of edges",
            value: src.len() as u64,
            limit: u32::MAX as u64,
        });
    }
    let n = match num_nodes {
        Some(n) => n,
        None => implied_node_count(src, dst)?,
    };
    let n = check_node_count(n)?;
    // Offsets, ranks and clusters cost about 24 bytes a node however few the edges are.
    ensure_allocatable((n as u128 + 1) * 24, "the per-node arrays of the graph")?;
    Ok(n)
}

/// The error for edge `i`, known to hold an id outside `0..n` (src before dst).
pub(crate) fn bad_edge<I: NodeId>(src: &[I], dst: &[I], i: usize, n: u64) -> Error {
    let s = src[i].to_i64();
    let value = if s < 0 || s as u64 >= n {
        s
    } else {
        dst[i].to_i64()
    };
    Error::NodeOutOfRange {
        position: i,
        value,
        num_nodes: n,
    }
}

/// Checks every id against `0..n` in parallel chunks; reports the earliest bad edge.
pub(crate) fn check_ids<I: NodeId>(src: &[I], dst: &[I], n: u64) -> Result<()> {
    let first_bad = src
        .par_chunks(CHUNK)
        .zip(dst.par_chunks(CHUNK))
        .enumerate()
        .filter_map(|(chunk, (s, d))| {
            s.iter()
                .zip(d)
                .position(|(&s, &d)| s.to_i64() as u64 >= n || d.to_i64() as u64 >= n)
                .map(|i| chunk * CHUNK + i)
        })
        .min();
    match first_bad {
        Some(i) => Err(bad_edge(src, dst, i, n)),
        None => Ok(()),
    }
}

/// Degrees then rows, both straight from the edges; with `check`, the ids are validated on
/// the way (the first bad edge stops the count, so it is the earliest one). The counters are
/// u32 whenever the row entries fit, which halves the cache footprint of the cursors.
fn direct_rows<I: NodeId>(
    n: usize,
    src: &[I],
    dst: &[I],
    check: bool,
) -> Result<(Vec<usize>, Vec<u32>)> {
    if 2 * src.len() <= u32::MAX as usize {
        direct_rows_with::<I, u32>(n, src, dst, check)
    } else {
        direct_rows_with::<I, usize>(n, src, dst, check)
    }
}

/// A CSR counter: a row cursor or offset during the build.
/// Turns per-row counts (`cursor[..n]`, with one spare slot at the end) into each row's end
/// offset, sets the spare slot to the total, and returns the total.
pub(super) fn counts_to_row_ends<C: Counter>(cursor: &mut [C]) -> usize {
    let (rows, last) = cursor.split_at_mut(cursor.len() - 1);
    let mut total = 0;
    for slot in rows {
        total += slot.to_usize();
        *slot = C::from_usize(total);
    }
    last[0] = C::from_usize(total);
    total
}

pub(crate) trait Counter: Copy + Send + Sync {
    const ZERO: Self;
    fn to_usize(self) -> usize;
    fn from_usize(value: usize) -> Self;
}

impl Counter for u32 {
    const ZERO: Self = 0;
    #[inline]
    fn to_usize(self) -> usize {
        self as usize
    }
    #[inline]
    fn from_usize(value: usize) -> Self {
        value as u32
    }
}

impl Counter for usize {
    const ZERO: Self = 0;
    #[inline]
    fn to_usize(self) -> usize {
        self
    }
    #[inline]
    fn from_usize(value: usize) -> Self {
        value
    }
}

fn direct_rows_with<I: NodeId, C: Counter>(
    n: usize,
    src: &[I],
    dst: &[I],
    check: bool,
) -> Result<(Vec<usize>, Vec<u32>)> {
    let (cursor, neighbors) = raw_rows::<I, C>(n, src, dst, check)?;
    Ok((cursor.into_iter().map(C::to_usize).collect(), neighbors))
}

/// The rows of the multigraph under the edges (self-loops dropped, repeats kept), each in
/// edge order, with offsets of type `C`.
fn raw_rows<I: NodeId, C: Counter>(
    n: usize,
    src: &[I],
    dst: &[I],
    check: bool,
) -> Result<(Vec<C>, Vec<u32>)> {
    let mut cursor = vec![C::ZERO; n + 1];
    let bump = |c: &mut C| *c = C::from_usize(c.to_usize() + 1);
    if check {
        for (i, (&s, &d)) in src.iter().zip(dst).enumerate() {
            let (s, d) = (s.to_i64() as u64, d.to_i64() as u64);
            if s >= n as u64 || d >= n as u64 {
                return Err(bad_edge(src, dst, i, n as u64));
            }
            if s != d {
                bump(&mut cursor[s as usize]);
                bump(&mut cursor[d as usize]);
            }
        }
    } else {
        for (&s, &d) in src.iter().zip(dst) {
            let (s, d) = (s.to_i64() as usize, d.to_i64() as usize);
            if s != d {
                bump(&mut cursor[s]);
                bump(&mut cursor[d]);
            }
        }
    }
    // Cursors start at the row ends and move down while the edges are read backwards, so
    // every row ends up in edge order and the cursors end up as the row starts.
    let total = counts_to_row_ends(&mut cursor);
    let mut neighbors = vec![0u32; total];
    for (&s, &d) in src.iter().zip(dst).rev() {
        let (s, d) = (s.to_i64() as usize, d.to_i64() as usize);
        if s != d {
            let at = cursor[s].to_usize() - 1;
            cursor[s] = C::from_usize(at);
            neighbors[at] = d as u32;
            let at = cursor[d].to_usize() - 1;
            cursor[d] = C::from_usize(at);
            neighbors[at] = s as u32;
        }
    }
    Ok((cursor, neighbors))
}

/// The same rows as [`direct_rows`], grouped in cache-sized buckets by the threads.
fn grouped_rows<I: NodeId>(n: usize, src: &[I], dst: &[I]) -> (Vec<usize>, Vec<u32>) {
    group_pairs(n, src.len(), |range: Range<usize>| {
        src[range.clone()]
            .iter()
            .zip(&dst[range])
            .map(|(&s, &d)| (s.to_i64() as u32, d.to_i64() as u32))
            .filter(|(s, d)| s != d)
            .flat_map(|(s, d)| [(s, d), (d, s)])
    })
}

/// Deduplicates the rows in place and drops the gaps, if any.
fn finish(offsets: Vec<usize>, mut neighbors: Vec<u32>) -> UndirectedGraph {
    let shrunk = dedup_rows(&offsets, &mut neighbors);
    if shrunk.is_empty() {
        return UndirectedGraph { offsets, neighbors };
    }
    let (offsets, neighbors) = compact(offsets, neighbors, &shrunk);
    UndirectedGraph { offsets, neighbors }
}

/// Splits `data` (laid out by `offsets`) into contiguous node ranges of about equal size, up
/// to `parts_per_thread` per thread, and runs `work(first_node, end_node, rows_of_the_range)`
/// on each in parallel; the results come back in node order.
pub(crate) fn map_row_ranges<R, F>(
    offsets: &[usize],
    data: &mut [u32],
    parts_per_thread: usize,
    work: F,
) -> Vec<R>
where
    R: Send,
    F: Fn(usize, usize, &mut [u32]) -> R + Sync,
{
    let n = offsets.len() - 1;
    let total = offsets[n];
    let parts = if total < 1 << 15 {
        1
    } else {
        (rayon::current_num_threads() * parts_per_thread).clamp(1, n.max(1))
    };
    let mut bounds: Vec<usize> = (0..=parts)
        .map(|t| {
            if t == parts {
                n
            } else {
                offsets[..n].partition_point(|&o| o < t * total / parts)
            }
        })
        .collect();
    bounds[0] = 0;
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = data;
    for t in 0..parts {
        let (lo, hi) = (bounds[t], bounds[t + 1]);
        let (mine, tail) = rest.split_at_mut(offsets[hi] - offsets[lo]);
        pieces.push((lo, hi, mine));
        rest = tail;
    }
    pieces
        .into_par_iter()
        .map(|(lo, hi, slice)| work(lo, hi, slice))
        .collect()
}

/// Rows up to this long keep their edge order (first occurrences); longer rows are sorted,
/// which makes their duplicates adjacent.
const SHORT_ROW: usize = 24;

/// Slots of the short-row hash set: a power of two well above `SHORT_ROW`.
const SET_SLOTS: usize = 64;

/// Moves each row's distinct values to the row's start (first occurrences, in order, for
/// short rows; sorted for long rows) and returns `(row, new length)` for the rows that
/// shrank. Results depend only on the rows.
///
/// Short rows are checked against a mark per node (`marks[u] == v`: u was seen in row v),
/// one cache-friendly probe per entry and never cleared; each part of the rows needs its own
/// marks, so when there are too many parts for that a small hash set tagged by row (a few
/// hundred bytes, never cleared either) does the check instead.
fn dedup_rows(offsets: &[usize], neighbors: &mut [u32]) -> Vec<(usize, usize)> {
    let n = offsets.len() - 1;
    let threads = rayon::current_num_threads().max(1);
    let use_marks = n.saturating_mul(threads) <= 2 * offsets[n];
    let pieces = map_row_ranges(offsets, neighbors, 1, |lo, hi, slice| {
        let base = offsets[lo];
        let mut marks = if use_marks {
            vec![u32::MAX; n]
        } else {
            Vec::new()
        };
        let mut set = [u64::MAX; SET_SLOTS];
        let mut shrunk = Vec::new();
        for v in lo..hi {
            let row = &mut slice[offsets[v] - base..offsets[v + 1] - base];
            let len = if row.len() <= SHORT_ROW {
                let repeats = if use_marks {
                    has_repeat_marked(row, v as u32, &mut marks)
                } else {
                    has_repeat(row, v as u64, &mut set)
                };
                if !repeats {
                    continue;
                }
                let mut len = 0;
                for i in 0..row.len() {
                    let u = row[i];
                    if !row[..len].contains(&u) {
                        row[len] = u;
                        len += 1;
                    }
                }
                len
            } else {
                row.sort_unstable();
                let mut len = 0;
                for i in 0..row.len() {
                    if len == 0 || row[i] != row[len - 1] {
                        row[len] = row[i];
                        len += 1;
                    }
                }
                len
            };
            if len < row.len() {
                shrunk.push((v, len));
            }
        }
        shrunk
    });
    pieces.concat()
}

/// Whether row `v` repeats a value, marking every value seen as `marks[u] = v`. The whole
/// row is marked even after a repeat, so no later row can mistake a stale mark for its own.
#[inline]
fn has_repeat_marked(row: &[u32], v: u32, marks: &mut [u32]) -> bool {
    let mut repeats = false;
    for &u in row {
        let mark = &mut marks[u as usize];
        repeats |= *mark == v;
        *mark = v;
    }
    repeats
}

/// Whether a short row repeats a value, by inserting it into `set`, whose slots hold
/// `(tag << 32) | value`; slots with another tag count as empty.
#[inline]
fn has_repeat(row: &[u32], tag: u64, set: &mut [u64; SET_SLOTS]) -> bool {
    let tag = tag << 32;
    for &u in row {
        let entry = tag | u as u64;
        // Fibonacci hashing: the top bits of the product spread consecutive ids.
        let mut slot = ((u as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize;
        loop {
            let held = set[slot];
            if held == entry {
                return true;
            }
            if held & !0xFFFF_FFFF != tag {
                set[slot] = entry;
                break;
            }
            slot = (slot + 1) % SET_SLOTS;
        }
    }
    false
}

/// Drops the tails left by deduplication: rows before the first shrunk row stay in place.
fn compact(
    mut offsets: Vec<usize>,
    mut neighbors: Vec<u32>,
    shrunk: &[(usize, usize)],
) -> (Vec<usize>, Vec<u32>) {
    let n = offsets.len() - 1;
    let first = shrunk[0].0;
    let mut next_shrunk = shrunk.iter().peekable();
    let mut write = offsets[first];
    let mut start = offsets[first];
    for v in first..n {
        let end = offsets[v + 1];
        let len = match next_shrunk.peek() {
            Some(&&(row, len)) if row == v => {
                next_shrunk.next();
                len
            }
            _ => end - start,
        };
        neighbors.copy_within(start..start + len, write);
        offsets[v] = write;
        write += len;
        start = end;
    }
    offsets[n] = write;
    neighbors.truncate(write);
    neighbors.shrink_to_fit();
    (offsets, neighbors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_simple_csr() {
        let e = EdgeList::new(&[0u32, 1, 1, 2, 3], &[1, 0, 2, 2, 1], Some(5)).unwrap();
        let g = UndirectedGraph::from_edges(&e);
        assert_eq!(g.num_nodes(), 5);
        assert_eq!(g.neighbors(0), &[1]);
        assert_eq!(g.neighbors(1), &[0, 2, 3]);
        assert_eq!(g.neighbors(2), &[1]);
        assert_eq!(g.neighbors(3), &[1]);
        assert_eq!(g.neighbors(4), &[] as &[u32]);
        assert_eq!(g.num_edges(), 3);
        let e = EdgeList::new(&[3u32, 1, 0, 1], &[1, 2, 1, 3], None).unwrap();
        assert_eq!(UndirectedGraph::from_edges(&e).neighbors(1), &[3, 2, 0]);
        // a long row with repeats is sorted and deduplicated
        let hub: Vec<u32> = (0..100).map(|i| 1 + (i * 7) % 50).collect();
        let e = EdgeList::new(&vec![0u32; 100], &hub, None).unwrap();
        let g = UndirectedGraph::from_edges(&e);
        assert_eq!(g.neighbors(0), &(1..51).collect::<Vec<u32>>()[..]);
        assert_eq!(g.num_edges(), 50);
    }

    /// A multigraph with hubs (long rows), repeats in both directions and self-loops.
    fn messy_edges(n: u32, m: usize, seed: u64) -> (Vec<i64>, Vec<i64>) {
        let mut rng = crate::rng::Rng::new(seed);
        let mut src = Vec::new();
        let mut dst = Vec::new();
        for i in 0..m {
            let a = rng.below(if i % 5 == 0 { 3.min(n) } else { n } as u64);
            let b = rng.below(n as u64);
            src.push(a as i64);
            dst.push(b as i64);
            if i % 7 == 0 {
                src.push(b as i64);
                dst.push(a as i64);
            }
        }
        (src, dst)
    }

    #[test]
    fn every_builder_gives_the_same_csr() {
        for (n, m, seed) in [
            (1u32, 3usize, 1u64),
            (40, 200, 2),
            (500, 3000, 3),
            (3000, 9000, 4),
        ] {
            let (src, dst) = messy_edges(n, m, seed);
            let edges = EdgeList::new(&src, &dst, Some(n as u64)).unwrap();
            let direct = UndirectedGraph::from_checked(&edges, true);
            assert_eq!(UndirectedGraph::from_checked(&edges, false), direct);
            assert_eq!(
                UndirectedGraph::from_ids(&src, &dst, Some(n as u64)).unwrap(),
                direct
            );
            assert_eq!(
                UndirectedGraph::from_ids(&src, &dst, None)
                    .unwrap()
                    .num_edges(),
                direct.num_edges()
            );
            let src32: Vec<u32> = src.iter().map(|&v| v as u32).collect();
            let dst32: Vec<u32> = dst.iter().map(|&v| v as u32).collect();
            assert_eq!(
                UndirectedGraph::from_ids(&src32, &dst32, Some(n as u64)).unwrap(),
                direct
            );
            // the simple graph: each neighbour once, in first-occurrence order for rows of
            // at most SHORT_ROW entries before deduplication, sorted for longer ones
            let mut rows = vec![Vec::new(); n as usize];
            let mut listed = vec![0usize; n as usize];
            for (&a, &b) in src.iter().zip(&dst) {
                if a != b {
                    for (x, y) in [(a, b), (b, a)] {
                        listed[x as usize] += 1;
                        if !rows[x as usize].contains(&(y as u32)) {
                            rows[x as usize].push(y as u32);
                        }
                    }
                }
            }
            for (v, row) in rows.iter_mut().enumerate() {
                if listed[v] > SHORT_ROW {
                    row.sort_unstable();
                }
                assert_eq!(direct.neighbors(v as u32), &row[..], "row {v}");
            }
        }
    }

    #[test]
    fn from_ids_reports_what_edge_list_reports() {
        let cases: [(&[i64], &[i64], Option<u64>); 5] = [
            (&[0, 1, 9], &[1, -3, 2], Some(4)),
            (&[0, 5, 1], &[7, 1, 2], Some(4)),
            (&[0, 1], &[1, 2, 3], None),
            (&[0, -1], &[1, 2], None),
            (&[0, 1], &[1, 2], Some(crate::graph::MAX_NODES + 1)),
        ];
        for (src, dst, n) in cases {
            let expected = EdgeList::new(src, dst, n).unwrap_err();
            assert_eq!(
                UndirectedGraph::from_ids(src, dst, n).unwrap_err(),
                expected
            );
        }
    }

    #[test]
    fn rejects_bad_ids() {
        let err = EdgeList::new(&[0i64, 1, 9], &[1, -3, 2], Some(4)).unwrap_err();
        assert!(matches!(
            err,
            Error::NodeOutOfRange {
                position: 1,
                value: -3,
                ..
            }
        ));
        let err = EdgeList::new(&[0i64], &[1, 2], None).unwrap_err();
        assert!(err.to_string().contains("same length"));
        assert_eq!(EdgeList::new::<u32>(&[], &[], None).unwrap().num_nodes(), 0);
        assert_eq!(
            EdgeList::new(&[0u64, 7], &[3, 1], None)
                .unwrap()
                .num_nodes(),
            8
        );
    }
}
