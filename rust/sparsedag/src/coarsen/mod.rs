//! Graph coarsening with maximal k-independent sets (Bacciu, Conte, Landolfi, AAAI 2023):
//! select nodes pairwise more than k hops apart, cluster every node with its best selected
//! node within k hops, contract the edges along the clusters and pool node features.

pub mod cluster;
pub mod contract;
mod group;
pub mod kmis;
mod onehop;
pub mod pool;
pub mod rank;
pub mod undirected;

pub use cluster::{assign_clusters, clusters_from_centres};
pub use contract::{contract, CoarseEdges, Reduce};
pub use kmis::{kmis, Kmis, Strategy};
pub use pool::{pool, Feature, PoolReduce};
pub use rank::{Heuristic, Rank};
pub use undirected::{EdgeList, UndirectedGraph};

use crate::cancel::Cancel;
use crate::error::Result;
use crate::graph::NodeId;

/// Where the rank of a k-MIS comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum RankSpec {
    /// Node id order.
    Id,
    /// An explicit permutation: `rank[v]` is v's priority position.
    Explicit(Vec<u32>),
    /// Higher score first.
    Scores(Vec<f64>),
    /// A score heuristic (scores default to ones).
    Heuristic(Heuristic, Option<Vec<f64>>),
    /// A seeded uniformly random permutation.
    Random(u64),
}

impl RankSpec {
    pub fn build(self, g: &UndirectedGraph, k: usize) -> Result<Rank> {
        self.build_cancellable(g, k, crate::cancel::never())
    }

    /// [`RankSpec::build`], stopping with `Interrupted` once `cancel` is requested (the
    /// heuristics walk k hops, and k may be huge).
    pub fn build_cancellable(self, g: &UndirectedGraph, k: usize, cancel: &Cancel) -> Result<Rank> {
        match self {
            RankSpec::Heuristic(h, scores) => {
                Rank::heuristic_cancellable(g, h, scores.as_deref(), k, cancel)
            }
            other => other.build_without_graph(g.num_nodes()),
        }
    }

    /// Every rank but the heuristics, which need the graph (and are refused here).
    pub(crate) fn build_without_graph(self, n: usize) -> Result<Rank> {
        match self {
            RankSpec::Id => Ok(Rank::by_id(n)),
            RankSpec::Explicit(rank) => Rank::from_permutation(rank, n),
            RankSpec::Scores(scores) => Rank::from_scores(&scores, n),
            RankSpec::Random(seed) => Ok(Rank::random(n, seed)),
            RankSpec::Heuristic(..) => {
                crate::error::invalid("a heuristic rank needs the graph".to_string())
            }
        }
    }
}

/// A k-MIS with its clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clustering {
    pub selected: Vec<u32>,
    pub cluster: Vec<u32>,
    pub rounds: usize,
    pub sequential_picks: usize,
}

/// Builds the graph, the rank, the k-MIS and the clusters in one call.
pub fn kmis_clusters(
    edges: &EdgeList,
    k: usize,
    rank: RankSpec,
    strategy: Strategy,
    cancel: &Cancel,
) -> Result<Clustering> {
    kmis_clusters_from_ids(
        edges.src(),
        edges.dst(),
        Some(edges.num_nodes() as u64),
        k,
        rank,
        strategy,
        cancel,
    )
}

/// [`kmis_clusters`] straight from id arrays, checked as [`EdgeList::new`] checks them (same
/// errors) but never copied: the graph is built from them directly.
pub fn kmis_clusters_from_ids<I: NodeId>(
    src: &[I],
    dst: &[I],
    num_nodes: Option<u64>,
    k: usize,
    rank: RankSpec,
    strategy: Strategy,
    cancel: &Cancel,
) -> Result<Clustering> {
    if k == 1 && kmis::sequential_from_start(strategy, 1) {
        if let Some(found) = onehop::clusters_from_ids(src, dst, num_nodes, &rank, cancel)? {
            return Ok(found);
        }
    }
    // With k = 0 every node is its own cluster and edges play no part: skip the CSR but
    // still check the ids and the rank arguments.
    let g = if k == 0 {
        let n = undirected::checked_node_count(src, dst, num_nodes)?;
        undirected::check_ids(src, dst, n as u64)?;
        UndirectedGraph::from_ids::<u32>(&[], &[], Some(n as u64))?
    } else {
        UndirectedGraph::from_ids(src, dst, num_nodes)?
    };
    cancel.check()?;
    let rank = rank.build_cancellable(&g, k, cancel)?;
    let found = kmis(&g, &rank, k, strategy, cancel)?;
    let cluster = match &found.centres {
        Some(centres) => clusters_from_centres(&found.selected, centres),
        None => assign_clusters(&g, &rank, &found.selected, k, cancel)?,
    };
    Ok(Clustering {
        selected: found.selected,
        cluster,
        rounds: found.rounds,
        sequential_picks: found.sequential_picks,
    })
}
