//! Choosing where SET regrows connections: `k` positions drawn uniformly, without
//! replacement, among the empty cells of the live region (live rows x live columns), where a
//! cell is empty if it holds no connection or only one marked for removal.
//!
//! Sparse layers use rejection rounds: draw as many cells as still needed, bucket them by row
//! (counting sort), and keep those that are empty and not yet chosen (binary search in the
//! sorted row). Every step treats all empty cells alike, so the chosen set is a uniformly random
//! k-subset. Rejection sampling is used only when the live region has more than 4 (nnz + k)
//! cells and at least 2k empty ones; then each draw succeeds with probability >= 3/4 and the
//! rounds shrink geometrically. Otherwise the region is small (at most 4 (nnz + k) cells) and
//! we enumerate its empty cells once with selection sampling (Knuth's algorithm S).

use crate::cancel::Cancel;
use crate::error::{invalid, Result};
use crate::rng::Rng;

/// New connections as a CSR: row j gets inputs `cols[offsets[j]..offsets[j + 1]]`, ascending.
#[derive(Debug, Default)]
pub(crate) struct Grown {
    pub offsets: Vec<usize>,
    pub cols: Vec<u32>,
}

/// The rows and columns that may receive connections.
pub(crate) struct Region {
    n_in: usize,
    n_out: usize,
    rows: Vec<u32>,
    cols: Vec<u32>,
    col_alive: Option<Vec<bool>>,
}

impl Region {
    pub fn new(
        n_in: usize,
        n_out: usize,
        input_alive: Option<&[bool]>,
        output_alive: Option<&[bool]>,
    ) -> Region {
        let live = |mask: Option<&[bool]>, n: usize| -> Vec<u32> {
            match mask {
                Some(m) => (0..n as u32).filter(|&i| m[i as usize]).collect(),
                None => (0..n as u32).collect(),
            }
        };
        Region {
            n_in,
            n_out,
            rows: live(output_alive, n_out),
            cols: live(input_alive, n_in),
            col_alive: input_alive.map(|m| m.to_vec()),
        }
    }

    fn col_is_live(&self, c: u32) -> bool {
        self.col_alive.as_ref().is_none_or(|m| m[c as usize])
    }

    fn is_everything(&self) -> bool {
        self.rows.len() == self.n_out && self.cols.len() == self.n_in
    }

    fn cells(&self) -> u64 {
        self.rows.len() as u64 * self.cols.len() as u64
    }
}

pub(crate) fn choose_positions(
    offsets: &[u64],
    indices: &[u32],
    removed: &[bool],
    region: &Region,
    k: usize,
    rng: &mut Rng,
    cancel: &Cancel,
) -> Result<Grown> {
    let n_out = region.n_out;
    if k == 0 {
        return Ok(Grown {
            offsets: vec![0; n_out + 1],
            cols: Vec::new(),
        });
    }
    let kept = (indices.len() - removed.iter().filter(|&&r| r).count()) as u64;
    let occupied: u64 = if region.is_everything() {
        kept
    } else {
        region
            .rows
            .iter()
            .map(|&r| {
                let row = offsets[r as usize] as usize..offsets[r as usize + 1] as usize;
                row.filter(|&p| !removed[p] && region.col_is_live(indices[p]))
                    .count() as u64
            })
            .sum()
    };
    let cells = region.cells();
    let empty = cells - occupied;
    if empty < k as u64 {
        return invalid(format!(
            "cannot regrow {k} connections: the live part of the {} x {} layer has only \
             {empty} empty positions",
            region.n_out, region.n_in
        ));
    }
    let layer = Occupancy {
        offsets,
        indices,
        removed,
    };
    let small_region = cells <= 4 * (indices.len() as u64 + k as u64);
    if small_region || empty < 2 * k as u64 {
        Ok(enumerate(&layer, region, empty, k, rng))
    } else {
        rejection_rounds(&layer, region, k, rng, cancel)
    }
}

struct Occupancy<'a> {
    offsets: &'a [u64],
    indices: &'a [u32],
    removed: &'a [bool],
}

impl Occupancy<'_> {
    fn row(&self, r: usize) -> (usize, &[u32]) {
        let start = self.offsets[r] as usize;
        (start, &self.indices[start..self.offsets[r + 1] as usize])
    }

    /// Whether cell (r, c) keeps a connection after pruning.
    fn is_kept(&self, r: usize, c: u32) -> bool {
        let (start, row) = self.row(r);
        match row.binary_search(&c) {
            Ok(pos) => !self.removed[start + pos],
            Err(_) => false,
        }
    }
}

/// Algorithm S over the empty cells in row-major order: each is chosen with probability
/// (still needed) / (still to visit), which picks a uniform k-subset.
fn enumerate(layer: &Occupancy<'_>, region: &Region, empty: u64, k: usize, rng: &mut Rng) -> Grown {
    let mut grown = Grown {
        offsets: vec![0; region.n_out + 1],
        cols: Vec::with_capacity(k),
    };
    let mut needed = k as u64;
    let mut remaining = empty;
    for &r in &region.rows {
        let (start, row) = layer.row(r as usize);
        let mut p = 0usize;
        for &c in &region.cols {
            while p < row.len() && row[p] < c {
                p += 1;
            }
            let kept = p < row.len() && row[p] == c && !layer.removed[start + p];
            if kept {
                continue;
            }
            if needed > 0 && rng.below(remaining) < needed {
                grown.cols.push(c);
                needed -= 1;
            }
            remaining -= 1;
        }
        grown.offsets[r as usize + 1] = grown.cols.len();
    }
    fill_offsets(&mut grown.offsets);
    grown
}

/// Offsets were written only at live rows; carry them forward over the others.
fn fill_offsets(offsets: &mut [usize]) {
    for j in 1..offsets.len() {
        offsets[j] = offsets[j].max(offsets[j - 1]);
    }
}

fn rejection_rounds(
    layer: &Occupancy<'_>,
    region: &Region,
    k: usize,
    rng: &mut Rng,
    cancel: &Cancel,
) -> Result<Grown> {
    let n_out = region.n_out;
    let mut chosen = Grown {
        offsets: vec![0; n_out + 1],
        cols: Vec::new(),
    };
    let mut need = k;
    let (n_rows, n_cols) = (region.rows.len() as u64, region.cols.len() as u64);
    while need > 0 {
        cancel.check()?;
        let draws: Vec<(u32, u32)> = (0..need)
            .map(|_| {
                let r = region.rows[rng.below(n_rows) as usize];
                let c = region.cols[rng.below(n_cols) as usize];
                (r, c)
            })
            .collect();
        let candidates = bucket_by_row(&draws, n_out);
        let accepted = accept(layer, &chosen, &candidates, n_out);
        need -= accepted.cols.len();
        chosen = merge(&chosen, &accepted, n_out);
    }
    Ok(chosen)
}

/// Counting sort of (row, col) pairs by row; columns keep their draw order within a row.
fn bucket_by_row(draws: &[(u32, u32)], n_out: usize) -> Grown {
    let mut offsets = vec![0usize; n_out + 1];
    for &(r, _) in draws {
        offsets[r as usize + 1] += 1;
    }
    for j in 0..n_out {
        offsets[j + 1] += offsets[j];
    }
    let mut cursor = offsets.clone();
    let mut cols = vec![0u32; draws.len()];
    for &(r, c) in draws {
        cols[cursor[r as usize]] = c;
        cursor[r as usize] += 1;
    }
    Grown { offsets, cols }
}

/// The candidates of each row that are empty, not chosen before and not repeated.
fn accept(layer: &Occupancy<'_>, chosen: &Grown, candidates: &Grown, n_out: usize) -> Grown {
    let mut out = Grown {
        offsets: vec![0; n_out + 1],
        cols: Vec::with_capacity(candidates.cols.len()),
    };
    let mut row_buf = Vec::new();
    for j in 0..n_out {
        let (cs, ce) = (candidates.offsets[j], candidates.offsets[j + 1]);
        if cs < ce {
            row_buf.clear();
            row_buf.extend_from_slice(&candidates.cols[cs..ce]);
            row_buf.sort_unstable();
            row_buf.dedup();
            let before = &chosen.cols[chosen.offsets[j]..chosen.offsets[j + 1]];
            for &c in &row_buf {
                if !layer.is_kept(j, c) && before.binary_search(&c).is_err() {
                    out.cols.push(c);
                }
            }
        }
        out.offsets[j + 1] = out.cols.len();
    }
    out
}

/// Row-wise union of two disjoint CSR sets with sorted rows.
fn merge(a: &Grown, b: &Grown, n_out: usize) -> Grown {
    let mut out = Grown {
        offsets: vec![0; n_out + 1],
        cols: Vec::with_capacity(a.cols.len() + b.cols.len()),
    };
    for j in 0..n_out {
        let (x, y) = (
            &a.cols[a.offsets[j]..a.offsets[j + 1]],
            &b.cols[b.offsets[j]..b.offsets[j + 1]],
        );
        let (mut i, mut l) = (0, 0);
        while i < x.len() || l < y.len() {
            if l == y.len() || (i < x.len() && x[i] < y[l]) {
                out.cols.push(x[i]);
                i += 1;
            } else {
                out.cols.push(y[l]);
                l += 1;
            }
        }
        out.offsets[j + 1] = out.cols.len();
    }
    out
}
