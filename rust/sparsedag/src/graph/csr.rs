//! Grouping (key, value) pairs into CSR rows: the scatter at the heart of building a graph.
//! Threads split the *keys* into ranges of about equal edge counts; each thread reads every
//! pair but writes only the rows of its own range, so the writes go to disjoint slices and
//! every row keeps the input order whatever the thread count.

use rayon::prelude::*;

/// Below this many pairs one thread does the whole job; splitting costs more than it saves.
const PARALLEL_MIN_PAIRS: usize = 1 << 17;

fn parts_for(pairs: usize) -> usize {
    if pairs < PARALLEL_MIN_PAIRS {
        1
    } else {
        rayon::current_num_threads().max(1)
    }
}

/// Row offsets (length n + 1) for the given row keys, each below n.
pub(crate) fn offsets_from_keys(n: usize, keys: &[u32]) -> Vec<usize> {
    let parts = parts_for(keys.len()).min(keys.len().div_ceil(n.max(1)).max(1));
    let chunk = keys.len().div_ceil(parts).max(1);
    let histogram = |part: &[u32]| {
        let mut counts = vec![0usize; n + 1];
        for &k in part {
            counts[k as usize + 1] += 1;
        }
        counts
    };
    // One part stays off rayon entirely, so small graphs can be built outside any pool.
    let mut offsets = if parts == 1 {
        histogram(keys)
    } else {
        let histograms: Vec<Vec<usize>> = keys.par_chunks(chunk).map(histogram).collect();
        let mut offsets = vec![0usize; n + 1];
        for counts in &histograms {
            for (total, &c) in offsets.iter_mut().zip(counts) {
                *total += c;
            }
        }
        offsets
    };
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    offsets
}

/// Places every pair produced by `pairs()` into row `key` of a CSR with the given offsets,
/// keeping the production order within each row. `pairs` is called once per thread.
pub(crate) fn scatter<I, F>(offsets: &[usize], pairs: F) -> Vec<u32>
where
    F: Fn() -> I + Sync,
    I: Iterator<Item = (u32, u32)>,
{
    let n = offsets.len() - 1;
    let total = offsets[n];
    let parts = parts_for(total);
    if parts == 1 {
        // One thread: no key-range test, and off rayon entirely.
        let mut grouped = vec![0u32; total];
        let mut cursor = offsets[..n].to_vec();
        for (key, value) in pairs() {
            let slot = &mut cursor[key as usize];
            grouped[*slot] = value;
            *slot += 1;
        }
        return grouped;
    }
    // Key boundaries: part t owns the rows starting before t * total / parts.
    let bounds: Vec<usize> = (0..=parts)
        .map(|t| {
            if t == parts {
                n
            } else {
                offsets[..n].partition_point(|&o| o < t * total / parts)
            }
        })
        .collect();
    let mut grouped = vec![0u32; total];
    let mut slices = Vec::with_capacity(parts);
    let mut rest: &mut [u32] = &mut grouped;
    for t in 0..parts {
        let len = offsets[bounds[t + 1]] - offsets[bounds[t]];
        let (mine, tail) = rest.split_at_mut(len);
        slices.push((bounds[t], bounds[t + 1], mine));
        rest = tail;
    }
    slices.into_par_iter().for_each(|(low, high, out)| {
        let base = offsets[low];
        let mut cursor: Vec<usize> = offsets[low..high].iter().map(|&o| o - base).collect();
        let (low, high) = (low as u32, high as u32);
        for (key, value) in pairs() {
            if (low..high).contains(&key) {
                let slot = &mut cursor[(key - low) as usize];
                out[*slot] = value;
                *slot += 1;
            }
        }
    });
    grouped
}

/// Groups `values` by `keys` (each key < n) into CSR form, keeping input order within a row.
pub(crate) fn group_by_key(n: usize, keys: &[u32], values: &[u32]) -> (Vec<usize>, Vec<u32>) {
    let offsets = offsets_from_keys(n, keys);
    let grouped = scatter(&offsets, || {
        keys.iter().copied().zip(values.iter().copied())
    });
    (offsets, grouped)
}

/// The CSR of the reversed graph. Rows of the result are sorted because rows are visited in
/// increasing id order.
pub(crate) fn transpose(n: usize, offsets: &[usize], columns: &[u32]) -> (Vec<usize>, Vec<u32>) {
    transpose_with_offsets(n, offsets, columns, offsets_from_keys(n, columns))
}

/// [`transpose`] when the row offsets of the result (the column counts) are already known.
pub(crate) fn transpose_with_offsets(
    n: usize,
    offsets: &[usize],
    columns: &[u32],
    t_offsets: Vec<usize>,
) -> (Vec<usize>, Vec<u32>) {
    if parts_for(columns.len()) == 1 {
        // One thread: plain nested loops (the flattened iterator below costs twice as much).
        let mut t_columns = vec![0u32; columns.len()];
        let mut cursor = t_offsets[..n].to_vec();
        for row in 0..n {
            for &c in &columns[offsets[row]..offsets[row + 1]] {
                let slot = &mut cursor[c as usize];
                t_columns[*slot] = row as u32;
                *slot += 1;
            }
        }
        return (t_offsets, t_columns);
    }
    let t_columns = scatter(&t_offsets, || {
        (0..n).flat_map(move |row| {
            columns[offsets[row]..offsets[row + 1]]
                .iter()
                .map(move |&c| (c, row as u32))
        })
    });
    (t_offsets, t_columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_input_order_for_any_thread_count() {
        let n = 1000;
        let m = 300_000;
        let keys: Vec<u32> = (0..m).map(|i| ((i * 7919) % n) as u32).collect();
        let values: Vec<u32> = (0..m).map(|i| ((i * 31 + i / n) % n) as u32).collect();
        let reference = {
            let mut rows = vec![Vec::new(); n];
            for (&k, &v) in keys.iter().zip(&values) {
                rows[k as usize].push(v);
            }
            rows.concat()
        };
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (offsets, grouped) = pool.install(|| group_by_key(n, &keys, &values));
            assert_eq!(grouped, reference, "threads = {threads}");
            assert_eq!(offsets[n], m);
            let (t_offsets, t_columns) = pool.install(|| transpose(n, &offsets, &grouped));
            let mut back = vec![Vec::new(); n];
            for row in 0..n {
                for &c in &t_columns[t_offsets[row]..t_offsets[row + 1]] {
                    back[c as usize].push(row as u32);
                }
            }
            let mut expected = vec![Vec::new(); n];
            for row in 0..n {
                expected[row] = grouped[offsets[row]..offsets[row + 1]].to_vec();
                expected[row].sort_unstable();
            }
            assert_eq!(back, expected, "threads = {threads}");
        }
    }
}
