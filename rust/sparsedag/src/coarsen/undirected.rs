//! Undirected graphs for coarsening: a validated edge list (kept as given, for contraction)
//! and the symmetric CSR built from it (for the k-hop passes). Self-loops are ignored by the
//! CSR and repeated edges count once, so the CSR is the simple graph under the edges whatever
//! direction or multiplicity the caller used (PyG-style lists carry both directions).

use std::ops::Range;

use rayon::prelude::*;

use super::group::group_pairs;
use crate::error::{invalid, Error, Result};
use crate::graph::{NodeId, MAX_NODES};

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
        if n > MAX_NODES {
            return Err(Error::TooLarge {
                what: "the number of nodes",
                value: n,
                limit: MAX_NODES,
            });
        }
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
    Ok((max + 1) as u64)
}

/// The simple undirected graph under an edge list, as a symmetric CSR. Rows hold each
/// neighbour once, in edge order for short rows and sorted for long ones; the layout depends
/// only on the edge list, never on the thread count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndirectedGraph {
    offsets: Vec<usize>,
    neighbors: Vec<u32>,
}

impl UndirectedGraph {
    pub fn from_edges(edges: &EdgeList) -> Self {
        let n = edges.num_nodes;
        let (src, dst) = (&edges.src[..], &edges.dst[..]);
        let (offsets, mut neighbors) = group_pairs(n, src.len(), |range: Range<usize>| {
            src[range.clone()]
                .iter()
                .zip(&dst[range])
                .filter(|(s, d)| s != d)
                .flat_map(|(&s, &d)| [(s, d), (d, s)])
        });
        let lengths = dedup_rows(&offsets, &mut neighbors);
        let (offsets, neighbors) = compact(&offsets, neighbors, &lengths);
        UndirectedGraph { offsets, neighbors }
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
}

/// Splits `data` (laid out by `offsets`) into contiguous node ranges of about equal size and
/// runs `work(first_node, end_node, rows_of_the_range)` on each in parallel; the results come
/// back in node order.
pub(crate) fn map_row_ranges<R, F>(offsets: &[usize], data: &mut [u32], work: F) -> Vec<R>
where
    R: Send,
    F: Fn(usize, usize, &mut [u32]) -> R + Sync,
{
    let n = offsets.len() - 1;
    let total = offsets[n];
    let parts = if total < 1 << 15 {
        1
    } else {
        (rayon::current_num_threads() * 4).clamp(1, n.max(1))
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

/// Moves each row's distinct values to the row's start and returns the new lengths. Short
/// rows (most of them) are scanned pairwise, which costs less than sorting them; long rows
/// are sorted first. Either way the result depends only on the row, not on the threads.
fn dedup_rows(offsets: &[usize], neighbors: &mut [u32]) -> Vec<usize> {
    const SHORT_ROW: usize = 24;
    let pieces = map_row_ranges(offsets, neighbors, |lo, hi, slice| {
        let base = offsets[lo];
        (lo..hi)
            .map(|v| {
                let row = &mut slice[offsets[v] - base..offsets[v + 1] - base];
                if row.len() <= SHORT_ROW {
                    let mut len = 0;
                    for i in 0..row.len() {
                        let u = row[i];
                        if !row[..len].contains(&u) {
                            row[len] = u;
                            len += 1;
                        }
                    }
                    return len;
                }
                row.sort_unstable();
                let mut len = 0;
                for i in 0..row.len() {
                    if len == 0 || row[i] != row[len - 1] {
                        row[len] = row[i];
                        len += 1;
                    }
                }
                len
            })
            .collect::<Vec<usize>>()
    });
    pieces.concat()
}

/// Drops the tails left by deduplication; a no-op (apart from a scan) when nothing repeated.
fn compact(
    offsets: &[usize],
    mut neighbors: Vec<u32>,
    lengths: &[usize],
) -> (Vec<usize>, Vec<u32>) {
    let n = lengths.len();
    let mut new_offsets = Vec::with_capacity(n + 1);
    new_offsets.push(0usize);
    for &len in lengths {
        new_offsets.push(new_offsets.last().copied().unwrap_or(0) + len);
    }
    if new_offsets[n] == offsets[n] {
        return (new_offsets, neighbors);
    }
    let mut write = 0;
    for v in 0..n {
        let start = offsets[v];
        neighbors.copy_within(start..start + lengths[v], write);
        write += lengths[v];
    }
    neighbors.truncate(write);
    neighbors.shrink_to_fit();
    (new_offsets, neighbors)
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
