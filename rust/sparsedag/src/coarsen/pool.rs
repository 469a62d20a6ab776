//! Feature pooling per cluster: row-major (n, d) features become (clusters, d). Each cluster
//! adds its members in increasing node id, so results do not depend on the thread count.

use rayon::prelude::*;

use super::contract::check_cluster;
use crate::error::{ensure_allocatable, invalid, Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolReduce {
    #[default]
    Sum,
    Mean,
    Max,
}

impl std::str::FromStr for PoolReduce {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sum" | "add" => Ok(PoolReduce::Sum),
            "mean" => Ok(PoolReduce::Mean),
            "max" => Ok(PoolReduce::Max),
            other => invalid(format!(
                "reduce must be \"sum\", \"mean\" or \"max\", not {other:?}"
            )),
        }
    }
}

/// The float types features may have.
pub trait Feature: Copy + Send + Sync + PartialOrd + std::ops::AddAssign + 'static {
    const ZERO: Self;
    fn from_count(count: usize) -> Self;
    fn divide(self, by: Self) -> Self;
    fn is_finite(self) -> bool;
}

macro_rules! impl_feature {
    ($($t:ty),*) => {$(
        impl Feature for $t {
            const ZERO: Self = 0.0;
            fn from_count(count: usize) -> Self { count as $t }
            fn divide(self, by: Self) -> Self { self / by }
            fn is_finite(self) -> bool { <$t>::is_finite(self) }
        }
    )*};
}
impl_feature!(f32, f64);

/// The position of the first NaN or infinity. Chunks are checked with a branch-free fold
/// (which vectorises); only a failing chunk is searched element by element.
fn first_non_finite<T: Feature>(values: &[T]) -> Option<usize> {
    const CHUNK: usize = 1 << 14;
    let chunk = values
        .par_chunks(CHUNK)
        .position_first(|c| !c.iter().fold(true, |ok, x| ok & x.is_finite()))?;
    let start = chunk * CHUNK;
    values[start..]
        .iter()
        .position(|x| !x.is_finite())
        .map(|i| start + i)
}

/// Pools `features` (row-major, `cluster.len()` rows of `dim`) into `num_clusters` rows.
/// A cluster without members gets zeros.
pub fn pool<T: Feature>(
    features: &[T],
    dim: usize,
    cluster: &[u32],
    num_clusters: usize,
    reduce: PoolReduce,
) -> Result<Vec<T>> {
    let n = cluster.len();
    if features.len() != n * dim {
        return invalid(format!(
            "features hold {} values, not {n} rows of {dim}",
            features.len()
        ));
    }
    check_cluster(cluster, n, num_clusters)?;
    if let Some(i) = first_non_finite(features) {
        return invalid(format!(
            "features must be finite, but row {} column {} is not",
            i / dim.max(1),
            i % dim.max(1)
        ));
    }
    // The output is sized by num_clusters, an argument: a huge count must be an error, not
    // an abort (check_cluster has bounded it, so the product cannot overflow u128).
    ensure_allocatable(
        num_clusters as u128 * dim as u128 * std::mem::size_of::<T>() as u128,
        "the pooled features",
    )?;
    let mut out = vec![T::ZERO; num_clusters * dim];
    if dim == 0 {
        return Ok(out);
    }
    // One streaming pass over the rows in node order: each cluster row accumulates its
    // members in increasing node id, the order that makes float sums reproducible. The
    // features are read once, front to back; only the (smaller) output is accessed at random.
    let mut count = vec![0u32; num_clusters];
    for (v, x) in features.chunks_exact(dim).enumerate() {
        let c = cluster[v] as usize;
        let row = &mut out[c * dim..(c + 1) * dim];
        match reduce {
            PoolReduce::Sum | PoolReduce::Mean => {
                for (acc, &value) in row.iter_mut().zip(x) {
                    *acc += value;
                }
            }
            PoolReduce::Max => {
                if count[c] == 0 {
                    row.copy_from_slice(x);
                } else {
                    for (acc, &value) in row.iter_mut().zip(x) {
                        if value > *acc {
                            *acc = value;
                        }
                    }
                }
            }
        }
        count[c] += 1;
    }
    if reduce == PoolReduce::Mean {
        out.par_chunks_mut(dim)
            .zip(count.par_iter())
            .with_min_len(256)
            .filter(|(_, &c)| c > 1)
            .for_each(|(row, &c)| {
                let c = T::from_count(c as usize);
                row.iter_mut().for_each(|acc| *acc = acc.divide(c));
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_mean_max() {
        let x: Vec<f64> = vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
        let c = [1u32, 0, 1, 1];
        let run = |r| pool(&x, 2, &c, 3, r).unwrap();
        assert_eq!(run(PoolReduce::Sum), vec![2.0, 20.0, 8.0, 80.0, 0.0, 0.0]);
        assert_eq!(
            run(PoolReduce::Mean),
            vec![2.0, 20.0, 8.0 / 3.0, 80.0 / 3.0, 0.0, 0.0]
        );
        assert_eq!(run(PoolReduce::Max), vec![2.0, 20.0, 4.0, 40.0, 0.0, 0.0]);
        let xf: Vec<f32> = vec![1.0, f32::NAN];
        assert!(pool(&xf, 1, &[0, 0], 1, PoolReduce::Sum).is_err());
        let mut big = vec![0.5f64; 100_000];
        assert_eq!(first_non_finite(&big), None);
        big[70_001] = f64::INFINITY;
        big[90_000] = f64::NAN;
        assert_eq!(first_non_finite(&big), Some(70_001));
        assert!(pool(&x, 3, &c, 3, PoolReduce::Sum).is_err());
    }
}
