//! Construction of a `Dag` from edge arrays: validation, CSR by counting sort, duplicate
//! handling and the acyclicity check (which names a cycle when it fails).

use std::sync::OnceLock;

use rayon::prelude::*;

use super::csr::{group_by_key, offsets_from_keys, transpose, transpose_with_offsets};
use super::{Dag, MAX_NODES};
use crate::error::{ensure_allocatable, invalid, Error, Result};

/// Integer types accepted as node ids. Conversion saturates so that huge unsigned values are
/// still reported as out of range rather than wrapping into valid ids.
pub trait NodeId: Copy + Send + Sync {
    fn to_i64(self) -> i64;
}

macro_rules! impl_node_id {
    ($($t:ty),*) => {$(
        impl NodeId for $t {
            #[inline]
            fn to_i64(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
impl_node_id!(i32, i64, u32, u64, usize);

/// What to do when the same (source, target) pair is given more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    #[default]
    Reject,
    Merge,
}

impl std::str::FromStr for DuplicatePolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "reject" | "error" => Ok(DuplicatePolicy::Reject),
            "merge" => Ok(DuplicatePolicy::Merge),
            other => invalid(format!(
                "duplicates must be \"reject\" or \"merge\", not {other:?}"
            )),
        }
    }
}

pub(super) fn from_edges<I: NodeId>(
    src: &[I],
    dst: &[I],
    num_nodes: Option<u64>,
    duplicates: DuplicatePolicy,
) -> Result<Dag> {
    if src.len() != dst.len() {
        return invalid(format!(
            "src has {} entries but dst has {}; they must have the same length",
            src.len(),
            dst.len()
        ));
    }
    let n = match num_nodes {
        Some(n) => n,
        None => implied_node_count(src, dst)?,
    };
    if n > MAX_NODES {
        return Err(Error::TooLarge {
            what: if num_nodes.is_some() {
                "the number of nodes"
            } else {
                "the number of nodes implied by the largest id"
            },
            value: n,
            limit: MAX_NODES,
        });
    }
    // The offsets, cursors and orders cost about 24 bytes a node however few the edges are.
    ensure_allocatable((n as u128 + 1) * 24, "the per-node arrays of the graph")?;
    if src.len() <= PARALLEL_CHUNK {
        return from_edges_sequential(src, dst, n, duplicates);
    }
    let (sources, targets) = validated_ids(src, dst, n)?;
    let n = n as usize;

    // Two stable counting sorts instead of sorting every row: group by source, then transpose
    // (visiting sources in increasing order, so every in-row comes out sorted); the final
    // transpose sorts the out-rows the same way.
    let (by_source_offsets, by_source) = if sources.is_sorted() {
        (offsets_from_keys(n, &sources), targets)
    } else {
        group_by_key(n, &sources, &targets)
    };
    drop(sources);
    let (mut in_offsets, mut in_sources) = transpose(n, &by_source_offsets, &by_source);
    drop(by_source);
    let out_degrees_known = !resolve_duplicates(&mut in_offsets, &mut in_sources, duplicates)?;
    // Without merged duplicates the out-rows have the sizes of the by-source grouping.
    let (out_offsets, out_targets) = if out_degrees_known {
        transpose_with_offsets(n, &in_offsets, &in_sources, by_source_offsets)
    } else {
        transpose(n, &in_offsets, &in_sources)
    };

    finish(n, out_offsets, out_targets, in_offsets, in_sources)
}

/// The whole build on the calling thread, for edge lists short enough that splitting would
/// cost more than it saves. Fewer passes than the general path: validation counts both degrees
/// as it goes (so no histogram passes), the edges are grouped by source straight from the
/// caller's arrays (no converted copies), and when every source's targets arrive ascending, as
/// from a sorted or upper-triangular edge list, that grouping already is the sorted out-CSR and
/// proves there are no duplicates: one transpose gives the in-CSR and the build is done.
fn from_edges_sequential<I: NodeId>(
    src: &[I],
    dst: &[I],
    n: u64,
    duplicates: DuplicatePolicy,
) -> Result<Dag> {
    let m = src.len();
    let nodes = n as usize;
    let mut out_offsets = vec![0usize; nodes + 1];
    let mut in_offsets = vec![0usize; nodes + 1];
    for (position, (&s, &t)) in src.iter().zip(dst).enumerate() {
        let (s, t) = (s.to_i64(), t.to_i64());
        // One unsigned comparison rejects negatives and ids >= n alike.
        if s as u64 >= n || t as u64 >= n || s == t {
            return Err(first_bad_id(position, s, t, n));
        }
        // SAFETY: both ids were just checked to lie below n; the arrays hold n + 1 entries.
        unsafe {
            *out_offsets.get_unchecked_mut(s as usize + 1) += 1;
            *in_offsets.get_unchecked_mut(t as usize + 1) += 1;
        }
    }
    for v in 0..nodes {
        out_offsets[v + 1] += out_offsets[v];
        in_offsets[v + 1] += in_offsets[v];
    }
    // Group by source in input order, noting whether every row comes out strictly ascending.
    let mut by_source = vec![0u32; m];
    let mut cursor = out_offsets[..nodes].to_vec();
    for (&s, &t) in src.iter().zip(dst) {
        let (s, t) = (s.to_i64() as usize, t.to_i64() as u32);
        // SAFETY: the loop above checked every id against n, the length of `cursor`; row s's
        // cursor runs from out_offsets[s] up to below out_offsets[s + 1] <= m, the length of
        // `by_source`, since the counts came from the same edges.
        unsafe {
            let cell = cursor.get_unchecked_mut(s);
            let slot = *cell;
            *cell = slot + 1;
            *by_source.get_unchecked_mut(slot) = t;
        }
    }
    drop(cursor);
    // A sequential pass: are all rows strictly ascending?
    let ascending = out_offsets
        .windows(2)
        .all(|w| by_source[w[0]..w[1]].windows(2).all(|p| p[0] < p[1]));
    let (mut in_offsets, mut in_sources) =
        transpose_with_offsets(nodes, &out_offsets, &by_source, in_offsets);
    let (out_offsets, out_targets) = if ascending {
        (out_offsets, by_source)
    } else {
        drop(by_source);
        let out_degrees_known = !resolve_duplicates(&mut in_offsets, &mut in_sources, duplicates)?;
        if out_degrees_known {
            transpose_with_offsets(nodes, &in_offsets, &in_sources, out_offsets)
        } else {
            transpose(nodes, &in_offsets, &in_sources)
        }
    };
    finish(nodes, out_offsets, out_targets, in_offsets, in_sources)
}

/// Applies the duplicate policy to the in-CSR rows: the first duplicate is an error under
/// `Reject`; under `Merge` the rows are deduplicated. Returns whether rows were merged (the
/// out-degrees counted from the input then no longer hold).
fn resolve_duplicates(
    in_offsets: &mut [usize],
    in_sources: &mut Vec<u32>,
    duplicates: DuplicatePolicy,
) -> Result<bool> {
    let Some((target, source)) = find_duplicate(in_offsets, in_sources) else {
        return Ok(false);
    };
    match duplicates {
        DuplicatePolicy::Reject => Err(Error::DuplicateEdge { source, target }),
        DuplicatePolicy::Merge => {
            dedup_rows(in_offsets, in_sources);
            Ok(true)
        }
    }
}

/// The error for the edge at `position`, checked in the order the parallel path checks it:
/// the source id, the target id, then the self-loop.
fn first_bad_id(position: usize, s: i64, t: i64, n: u64) -> Error {
    for value in [s, t] {
        if value < 0 || value as u64 >= n {
            return Error::NodeOutOfRange {
                position,
                value,
                num_nodes: n,
            };
        }
    }
    Error::SelfLoop {
        position,
        node: s as u32,
    }
}

/// Checks acyclicity by Kahn's algorithm from the sinks, which yields every node's longest
/// path to a sink on the way; on a cycle, the forward order names the same cycle as always.
fn finish(
    n: usize,
    out_offsets: Vec<usize>,
    out_targets: Vec<u32>,
    in_offsets: Vec<usize>,
    in_sources: Vec<u32>,
) -> Result<Dag> {
    let Some(depth_to_sink) = depths_to_sinks(n, &out_offsets, &in_offsets, &in_sources) else {
        let topo = kahn_order(n, &out_offsets, &out_targets, &in_offsets);
        return Err(Error::Cycle(find_cycle(n, &topo, &in_offsets, &in_sources)));
    };
    Ok(Dag {
        num_nodes: n,
        out_offsets,
        out_targets,
        in_offsets,
        in_sources,
        depth_to_sink,
        topo: OnceLock::new(),
    })
}

/// Kahn's algorithm on the reversed graph: a node is taken once all its successors are, when
/// its longest path to a sink is final. `None` when some node is never taken (a cycle).
fn depths_to_sinks(
    n: usize,
    out_offsets: &[usize],
    in_offsets: &[usize],
    in_sources: &[u32],
) -> Option<Vec<u32>> {
    let mut remaining: Vec<u32> = out_offsets
        .windows(2)
        .map(|w| (w[1] - w[0]) as u32)
        .collect();
    let mut queue: Vec<u32> = Vec::with_capacity(n);
    queue.extend((0..n as u32).filter(|&v| remaining[v as usize] == 0));
    let mut depth = vec![0u32; n];
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head] as usize;
        head += 1;
        let above = depth[v] + 1;
        for &u in &in_sources[in_offsets[v]..in_offsets[v + 1]] {
            let u = u as usize;
            // SAFETY: the CSR holds ids below n, the length of `depth` and `remaining`.
            let left = unsafe {
                let d = depth.get_unchecked_mut(u);
                *d = (*d).max(above);
                let r = remaining.get_unchecked_mut(u);
                *r -= 1;
                *r
            };
            if left == 0 {
                queue.push(u as u32);
            }
        }
    }
    (queue.len() == n).then_some(depth)
}

fn implied_node_count<I: NodeId>(src: &[I], dst: &[I]) -> Result<u64> {
    let chunk_max = |(chunk, part): (usize, &[I])| {
        let mut max = -1i64;
        for (i, &id) in part.iter().enumerate() {
            let id = id.to_i64();
            if id < 0 {
                return Err((chunk * PARALLEL_CHUNK + i, id));
            }
            max = max.max(id);
        }
        Ok(max)
    };
    let column_max = |ids: &[I]| -> std::result::Result<i64, (usize, i64)> {
        if ids.len() <= PARALLEL_CHUNK {
            return chunk_max((0, ids));
        }
        let chunk_results: Vec<_> = ids
            .par_chunks(PARALLEL_CHUNK)
            .enumerate()
            .map(chunk_max)
            .collect();
        chunk_results
            .into_iter()
            .try_fold(-1i64, |acc, r| r.map(|m| acc.max(m)))
    };
    let negative = |(position, value)| Error::NodeOutOfRange {
        position,
        value,
        num_nodes: 0,
    };
    let max = column_max(src)
        .map_err(negative)?
        .max(column_max(dst).map_err(negative)?);
    Ok((max + 1) as u64)
}

/// Edge lists this long are validated in parallel chunks; shorter ones are not worth a split.
const PARALLEL_CHUNK: usize = 1 << 16;

/// Converts ids to u32, rejecting out-of-range ids and self-loops. Chunks run in parallel,
/// and the error reported is always the one at the smallest edge position, so the message
/// does not depend on the thread count.
fn validated_ids<I: NodeId>(src: &[I], dst: &[I], n: u64) -> Result<(Vec<u32>, Vec<u32>)> {
    let m = src.len();
    let mut sources = vec![0u32; m];
    let mut targets = vec![0u32; m];
    let check = |position: usize, id: I| -> Result<u32> {
        let value = id.to_i64();
        if value < 0 || value as u64 >= n {
            Err(Error::NodeOutOfRange {
                position,
                value,
                num_nodes: n,
            })
        } else {
            Ok(value as u32)
        }
    };
    let validate = |(chunk, (out_src, out_dst)): (usize, (&mut [u32], &mut [u32]))| {
        let base = chunk * PARALLEL_CHUNK;
        for i in 0..out_src.len() {
            let position = base + i;
            let s = check(position, src[position])?;
            let t = check(position, dst[position])?;
            if s == t {
                return Err(Error::SelfLoop { position, node: s });
            }
            out_src[i] = s;
            out_dst[i] = t;
        }
        Ok(())
    };
    if m <= PARALLEL_CHUNK {
        // Off rayon entirely, so small graphs can be built outside any pool.
        validate((0, (&mut sources, &mut targets)))?;
    } else {
        let chunk_results: Vec<Result<()>> = sources
            .par_chunks_mut(PARALLEL_CHUNK)
            .zip(targets.par_chunks_mut(PARALLEL_CHUNK))
            .enumerate()
            .map(validate)
            .collect();
        chunk_results.into_iter().collect::<Result<()>>()?;
    }
    Ok((sources, targets))
}

fn find_duplicate(offsets: &[usize], columns: &[u32]) -> Option<(u32, u32)> {
    (0..offsets.len() - 1).find_map(|row| {
        columns[offsets[row]..offsets[row + 1]]
            .windows(2)
            .find(|pair| pair[0] == pair[1])
            .map(|pair| (row as u32, pair[0]))
    })
}

/// Removes repeated columns within each (sorted) row, in place.
fn dedup_rows(offsets: &mut [usize], columns: &mut Vec<u32>) {
    let mut write = 0;
    let mut row_start = offsets[0];
    for row in 0..offsets.len() - 1 {
        let row_end = offsets[row + 1];
        let new_start = write;
        for read in row_start..row_end {
            if read == row_start || columns[read] != columns[read - 1] {
                columns[write] = columns[read];
                write += 1;
            }
        }
        offsets[row] = new_start;
        row_start = row_end;
    }
    *offsets.last_mut().expect("offsets has n + 1 entries") = write;
    columns.truncate(write);
}

/// Kahn's algorithm with a FIFO queue seeded by the sources in id order. Returns fewer than
/// `n` nodes exactly when the graph has a cycle.
pub(super) fn kahn_order(
    n: usize,
    out_offsets: &[usize],
    out_targets: &[u32],
    in_offsets: &[usize],
) -> Vec<u32> {
    let mut remaining: Vec<u32> = (0..n)
        .map(|v| (in_offsets[v + 1] - in_offsets[v]) as u32)
        .collect();
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&v| remaining[v as usize] == 0)
        .collect();
    order.reserve(n - order.len());
    let mut head = 0;
    while head < order.len() {
        let u = order[head] as usize;
        head += 1;
        for &v in &out_targets[out_offsets[u]..out_offsets[u + 1]] {
            let r = &mut remaining[v as usize];
            *r -= 1;
            if *r == 0 {
                order.push(v);
            }
        }
    }
    order
}

/// Every node Kahn could not order has a predecessor that Kahn could not order either, so
/// walking predecessors from any of them must revisit a node: that loop is a cycle.
fn find_cycle(n: usize, ordered: &[u32], in_offsets: &[usize], in_sources: &[u32]) -> Vec<u32> {
    let mut done = vec![false; n];
    for &v in ordered {
        done[v as usize] = true;
    }
    let start = (0..n).find(|&v| !done[v]).expect("a cycle exists") as u32;
    let mut seen_at = vec![usize::MAX; n];
    let mut walk = Vec::new();
    let mut v = start;
    while seen_at[v as usize] == usize::MAX {
        seen_at[v as usize] = walk.len();
        walk.push(v);
        v = *in_sources[in_offsets[v as usize]..in_offsets[v as usize + 1]]
            .iter()
            .find(|&&u| !done[u as usize])
            .expect("an unordered node has an unordered predecessor");
    }
    let mut cycle = walk.split_off(seen_at[v as usize]);
    // We walked against the edges; reverse to list the cycle along them.
    cycle.reverse();
    // Start the cycle at its smallest id so the message is stable.
    let smallest = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
    cycle.rotate_left(smallest);
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(src: &[u32], dst: &[u32]) -> Result<Dag> {
        Dag::from_edges(src, dst, None, DuplicatePolicy::Reject)
    }

    #[test]
    fn builds_sorted_csr_both_ways() {
        let g = dag(&[2, 0, 0, 1], &[3, 2, 1, 3]).unwrap();
        assert_eq!(g.num_nodes(), 4);
        assert_eq!(g.successors(0), &[1, 2]);
        assert_eq!(g.predecessors(3), &[1, 2]);
        assert_eq!(g.edges(), (vec![0, 0, 1, 2], vec![1, 2, 3, 3]));
    }

    #[test]
    fn names_a_cycle() {
        let err = dag(&[0, 1, 2, 3], &[1, 2, 3, 1]).unwrap_err();
        assert_eq!(err, Error::Cycle(vec![1, 2, 3]));
        assert!(err.to_string().contains("1 -> 2 -> 3 -> 1"));
    }

    #[test]
    fn rejects_bad_ids_and_self_loops() {
        let err = Dag::from_edges(&[0i64, 5], &[1, 2], Some(3), DuplicatePolicy::Reject);
        assert!(matches!(
            err,
            Err(Error::NodeOutOfRange {
                position: 1,
                value: 5,
                ..
            })
        ));
        let err = Dag::from_edges(&[0i64, -1], &[1, 2], None, DuplicatePolicy::Reject);
        assert!(matches!(err, Err(Error::NodeOutOfRange { value: -1, .. })));
        assert!(matches!(
            dag(&[0, 1], &[1, 1]),
            Err(Error::SelfLoop {
                position: 1,
                node: 1
            })
        ));
        let too_many = Dag::from_edges::<u32>(&[], &[], Some(1 << 33), DuplicatePolicy::Reject);
        assert!(matches!(too_many, Err(Error::TooLarge { .. })));
    }

    #[test]
    fn duplicates_rejected_or_merged() {
        assert_eq!(
            dag(&[0, 0, 1], &[1, 1, 2]).unwrap_err(),
            Error::DuplicateEdge {
                source: 0,
                target: 1
            }
        );
        let g = Dag::from_edges(
            &[0u32, 0, 1, 1],
            &[1, 1, 2, 2],
            None,
            DuplicatePolicy::Merge,
        )
        .unwrap();
        assert_eq!(g.edges(), (vec![0, 1], vec![1, 2]));
        assert_eq!(g.predecessors(2), &[1]);
    }

    #[test]
    fn input_order_does_not_matter() {
        // The same edges presorted (rows ascending: the one-transpose path) and scrambled (the
        // full path), with and without a merged duplicate, give the same graph.
        let mut pairs: Vec<(u32, u32)> = (0..3000u32)
            .map(|i| ((i * 7) % 97, 97 + (i * 13) % 101))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let split = |p: &[(u32, u32)]| -> (Vec<u32>, Vec<u32>) { p.iter().copied().unzip() };
        let (s, d) = split(&pairs);
        let sorted = dag(&s, &d).unwrap();
        let mut scrambled = pairs.clone();
        let len = scrambled.len();
        for i in 0..len {
            scrambled.swap(i, (i * 7919 + 11) % len);
        }
        let (s2, d2) = split(&scrambled);
        assert_eq!(dag(&s2, &d2).unwrap(), sorted);
        let (mut s3, mut d3) = (s2.clone(), d2.clone());
        s3.push(s[5]);
        d3.push(d[5]);
        let merged = Dag::from_edges(&s3, &d3, None, DuplicatePolicy::Merge).unwrap();
        assert_eq!(merged, sorted);
        assert_eq!(
            dag(&s3, &d3).unwrap_err(),
            Error::DuplicateEdge {
                source: s[5],
                target: d[5]
            }
        );
        // A duplicate in presorted rows is found too.
        let (mut s4, mut d4) = (s.clone(), d.clone());
        s4.insert(1, s[0]);
        d4.insert(1, d[0]);
        assert!(matches!(dag(&s4, &d4), Err(Error::DuplicateEdge { .. })));
    }

    #[test]
    fn empty_and_isolated() {
        let g = dag(&[], &[]).unwrap();
        assert_eq!((g.num_nodes(), g.num_edges()), (0, 0));
        let g = Dag::from_edges::<u32>(&[], &[], Some(3), DuplicatePolicy::Reject).unwrap();
        assert_eq!(g.topological_order(), &[0, 1, 2]);
    }
}
