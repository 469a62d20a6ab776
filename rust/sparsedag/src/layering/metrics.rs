//! Quality measures of a layering in the Sugiyama sense: height, width with and without the
//! dummy nodes a long edge needs in every layer it crosses, dummy count and total edge span.

use crate::error::{invalid, Result};
use crate::graph::Dag;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayeringMetrics {
    /// Number of layers used (max layer + 1; 0 for an empty graph): up to 2^32, so a u64.
    pub height: u64,
    /// Largest number of real nodes in one layer.
    pub width: u64,
    /// Largest number of real plus dummy nodes in one layer.
    pub width_with_dummies: u64,
    /// Sum over edges of (span - 1).
    pub dummies: u64,
    /// Sum over edges of layer(v) - layer(u).
    pub total_span: u64,
}

/// Checks that `layer` has one entry per node and that every edge points to a higher layer.
pub fn check_layering(dag: &Dag, layer: &[u32]) -> Result<()> {
    dag.check_per_node(layer, "the layering")?;
    if let Some((u, v)) = dag
        .edge_iter()
        .find(|&(u, v)| layer[u as usize] >= layer[v as usize])
    {
        return invalid(format!(
            "not a layering: edge {u} -> {v} goes from layer {} to layer {}, \
             but every edge must go to a higher layer",
            layer[u as usize], layer[v as usize]
        ));
    }
    Ok(())
}

pub fn layering_metrics(dag: &Dag, layer: &[u32]) -> Result<LayeringMetrics> {
    check_layering(dag, layer)?;
    let Some(&top) = layer.iter().max() else {
        return Ok(LayeringMetrics::default());
    };
    let height = top as u64 + 1;
    // A valid layering may leave most layer numbers empty (node 3 in layer 4e9, say): then the
    // counts are kept per distinct layer where a node sits or a run of dummies starts, which
    // is where the widths can peak, instead of per layer number.
    let sparse: Option<Vec<u32>> = (height > (layer.len() + dag.num_edges()) as u64).then(|| {
        let mut slots: Vec<u32> = layer.to_vec();
        slots.extend(dag.edge_iter().filter_map(|(u, v)| {
            let (a, b) = (layer[u as usize], layer[v as usize]);
            (b - a > 1).then_some(a + 1)
        }));
        slots.sort_unstable();
        slots.dedup();
        slots
    });
    let slot = |l: u32| match &sparse {
        // Every looked-up layer is in the list by construction.
        Some(slots) => slots.partition_point(|&s| s < l),
        None => l as usize,
    };
    let slots = sparse.as_ref().map_or(height as usize, Vec::len);
    let mut real = vec![0u64; slots];
    for &l in layer {
        real[slot(l)] += 1;
    }
    // Difference array: an edge spanning layers a..b puts a dummy in each of a+1..b-1.
    let mut dummy_delta = vec![0i64; slots + 1];
    let (mut dummies, mut total_span) = (0u64, 0u64);
    for (u, v) in dag.edge_iter() {
        let (a, b) = (layer[u as usize], layer[v as usize]);
        let span = (b - a) as u64;
        total_span += span;
        dummies += span - 1;
        if span > 1 {
            dummy_delta[slot(a + 1)] += 1;
            dummy_delta[slot(b)] -= 1;
        }
    }
    let mut running = 0i64;
    let mut width_with_dummies = 0u64;
    for (l, &count) in real.iter().enumerate() {
        running += dummy_delta[l];
        width_with_dummies = width_with_dummies.max(count + running as u64);
    }
    Ok(LayeringMetrics {
        height,
        width: real.iter().copied().max().unwrap_or(0),
        width_with_dummies,
        dummies,
        total_span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DuplicatePolicy;

    #[test]
    fn counts_dummies_and_widths() {
        // 0 -> 1 -> 2 and 0 -> 2 (span 2, one dummy in layer 1), 3 isolated in layer 0
        let g =
            Dag::from_edges(&[0u32, 1, 0], &[1, 2, 2], Some(4), DuplicatePolicy::Reject).unwrap();
        let m = layering_metrics(&g, &[0, 1, 2, 0]).unwrap();
        assert_eq!(
            m,
            LayeringMetrics {
                height: 3,
                width: 2,
                width_with_dummies: 2,
                dummies: 1,
                total_span: 4
            }
        );
        assert!(layering_metrics(&g, &[0, 0, 2, 0]).is_err());
        assert!(layering_metrics(&g, &[0, 1, 2]).is_err());
    }
}
