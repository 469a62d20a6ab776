//! Grouping (key, value) pairs by key into CSR rows, keeping input order within each row.
//!
//! A direct counting-sort scatter writes every pair to a random place in the output; once the
//! output outgrows the caches (10M edges are 80 MB) nearly every write misses the cache and
//! the TLB. Here the pairs are first partitioned by the high bits of the key into buckets of
//! 2^13 keys (a stable, streaming pass: one write cursor per bucket), then each bucket is
//! counting-sorted on its own, with its counters and output range small enough to stay in
//! cache. Buckets are independent, so the second pass runs in parallel over disjoint slices.
//! The result does not depend on the thread count.

use std::ops::Range;

use rayon::prelude::*;

const BUCKET_BITS: u32 = 13;

/// Pass-one chunks: small inputs are not worth splitting.
const MIN_CHUNK: usize = 1 << 16;

/// Groups the pairs `pairs(0..items)` (every key below `n`) by key: returns CSR offsets
/// (length n + 1) and the values. `pairs` maps a range of item indices to that range's pairs
/// (an item may yield any number of pairs), and must yield the same pairs on every call.
pub(crate) fn group_pairs<I, F>(n: usize, items: usize, pairs: F) -> (Vec<usize>, Vec<u32>)
where
    F: Fn(Range<usize>) -> I + Sync,
    I: Iterator<Item = (u32, u32)>,
{
    let buckets = n.div_ceil(1 << BUCKET_BITS).max(1);
    let bucket_of = |key: u32| (key >> BUCKET_BITS) as usize;

    // Pass one: bucket sizes, counted per chunk of items in parallel.
    let chunk = items
        .div_ceil(rayon::current_num_threads().max(1))
        .max(MIN_CHUNK);
    let histograms: Vec<Vec<usize>> = (0..items.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut counts = vec![0usize; buckets];
            for (key, _) in pairs(c * chunk..((c + 1) * chunk).min(items)) {
                counts[bucket_of(key)] += 1;
            }
            counts
        })
        .collect();
    let mut bucket_start = vec![0usize; buckets + 1];
    for counts in &histograms {
        for (b, &c) in counts.iter().enumerate() {
            bucket_start[b + 1] += c;
        }
    }
    for b in 0..buckets {
        bucket_start[b + 1] += bucket_start[b];
    }
    let total = bucket_start[buckets];

    // Stable partition into buckets: sequential, but every write continues a stream.
    let mut staged = vec![(0u32, 0u32); total];
    let mut cursor = bucket_start[..buckets].to_vec();
    for (key, value) in pairs(0..items) {
        let slot = &mut cursor[bucket_of(key)];
        staged[*slot] = (key, value);
        *slot += 1;
    }

    // Pass two: a counting sort inside each bucket, buckets in parallel.
    let mut offsets = vec![0usize; n + 1];
    let mut grouped = vec![0u32; total];
    let mut jobs = Vec::with_capacity(buckets);
    let mut offsets_rest: &mut [usize] = &mut offsets[1..];
    let mut grouped_rest: &mut [u32] = &mut grouped;
    for b in 0..buckets {
        let low = b << BUCKET_BITS;
        let high = ((b + 1) << BUCKET_BITS).min(n);
        let (ends, rest) = offsets_rest.split_at_mut(high.saturating_sub(low));
        offsets_rest = rest;
        let (out, rest) = grouped_rest.split_at_mut(bucket_start[b + 1] - bucket_start[b]);
        grouped_rest = rest;
        jobs.push((b, low, ends, out));
    }
    jobs.into_par_iter().for_each(|(b, low, ends, out)| {
        let base = bucket_start[b];
        let part = &staged[base..bucket_start[b + 1]];
        let mut next = vec![0usize; ends.len()];
        for &(key, _) in part {
            next[key as usize - low] += 1;
        }
        let mut running = 0;
        for (slot, end) in next.iter_mut().zip(ends.iter_mut()) {
            let count = *slot;
            *slot = running;
            running += count;
            *end = base + running;
        }
        for &(key, value) in part {
            let slot = &mut next[key as usize - low];
            out[*slot] = value;
            *slot += 1;
        }
    });
    (offsets, grouped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_stably_for_any_thread_count() {
        for (n, m) in [(0usize, 0usize), (5, 40), (20_000, 300_000)] {
            let keys: Vec<u32> = (0..m)
                .map(|i| ((i * 7919 + i / 3) % n.max(1)) as u32)
                .collect();
            let values: Vec<u32> = (0..m).map(|i| (i * 31 % 1000) as u32).collect();
            let mut rows = vec![Vec::new(); n];
            for (&k, &v) in keys.iter().zip(&values) {
                rows[k as usize].push(v);
            }
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (offsets, grouped) = pool.install(|| {
                    group_pairs(n, m, |r: Range<usize>| r.map(|i| (keys[i], values[i])))
                });
                assert_eq!(offsets.len(), n + 1);
                for v in 0..n {
                    assert_eq!(&grouped[offsets[v]..offsets[v + 1]], &rows[v][..]);
                }
            }
        }
    }
}
