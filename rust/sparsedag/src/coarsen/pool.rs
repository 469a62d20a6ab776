//! Feature pooling per cluster: row-major (n, d) features become (clusters, d). Each cluster
//! adds its members in increasing node id, so results do not depend on the thread count.

use rayon::prelude::*;

use super::contract::check_cluster;
use super::group::group_pairs;
use crate::error::{invalid, Error, Result};

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
    if let Some(i) = features.par_iter().position_first(|x| !x.is_finite()) {
        return invalid(format!(
            "features must be finite, but row {} column {} is not",
            i / dim.max(1),
            i % dim.max(1)
        ));
    }
    let (offsets, members) = group_pairs(num_clusters, n, |range| {
        range.map(|v| (cluster[v], v as u32))
    });
    let mut out = vec![T::ZERO; num_clusters * dim];
    if dim == 0 {
        return Ok(out);
    }
    out.par_chunks_mut(dim)
        .with_min_len(256)
        .enumerate()
        .for_each(|(c, row)| {
            let rows = &members[offsets[c]..offsets[c + 1]];
            let feature_row = |v: u32| &features[v as usize * dim..(v as usize + 1) * dim];
            match reduce {
                PoolReduce::Sum | PoolReduce::Mean => {
                    for &v in rows {
                        for (acc, &x) in row.iter_mut().zip(feature_row(v)) {
                            *acc += x;
                        }
                    }
                    if reduce == PoolReduce::Mean && !rows.is_empty() {
                        let count = T::from_count(rows.len());
                        row.iter_mut().for_each(|acc| *acc = acc.divide(count));
                    }
                }
                PoolReduce::Max => {
                    if let Some((&first, rest)) = rows.split_first() {
                        row.copy_from_slice(feature_row(first));
                        for &v in rest {
                            for (acc, &x) in row.iter_mut().zip(feature_row(v)) {
                                if x > *acc {
                                    *acc = x;
                                }
                            }
                        }
                    }
                }
            }
        });
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
        assert!(pool(&x, 3, &c, 3, PoolReduce::Sum).is_err());
    }
}
