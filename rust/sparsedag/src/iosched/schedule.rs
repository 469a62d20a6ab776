//! `io_schedule`: a constructive order, annealing from the best constructive order, or the
//! tiled edge order.

use super::anneal::{anneal_schedule, AnnealTrace};
use super::edges::simulate_edges;
use super::network::Network;
use super::orders::{constructive_order, Constructive};
use super::simulate::{check_fast_memory, simulate};
use super::tiled::{block_candidates, tiled_edge_order};
use crate::cancel::Cancel;
use crate::error::Result;

/// The neuron orders the tiled schedule cuts into blocks.
pub const TILED_BASES: [Constructive; 2] = [Constructive::Layer, Constructive::TwoApprox];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Constructive(Constructive),
    Anneal,
    /// The tiled edge order (an order of edges, not of neurons).
    Tiled,
}

impl std::str::FromStr for Method {
    type Err = crate::error::Error;
    fn from_str(name: &str) -> Result<Self> {
        if name == "anneal" {
            Ok(Method::Anneal)
        } else if name == "tiled" {
            Ok(Method::Tiled)
        } else {
            Constructive::from_name(name).map(Method::Constructive)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Node ids (a neuron order), or edge ids (indices into `Dag::edges()`) when `edges`.
    pub order: Vec<u32>,
    /// Whether `order` is an edge order.
    pub edges: bool,
    /// The block size of a tiled order (0 otherwise).
    pub block: usize,
    /// Loads + stores of the order (plus weight reads when counted).
    pub io: u64,
    /// The constructive method the annealing started from (the method itself otherwise).
    pub start: &'static str,
    pub trace: AnnealTrace,
}

#[allow(clippy::too_many_arguments)]
pub fn io_schedule(
    network: &Network,
    fast_memory: usize,
    method: Method,
    moves: u64,
    checkpoints: usize,
    seed: u64,
    count_weights: bool,
    cancel: &Cancel,
) -> Result<Schedule> {
    check_fast_memory(network, fast_memory)?;
    let weights = if count_weights {
        network.dag.num_edges() as u64
    } else {
        0
    };
    let cost = |order: &[u32]| -> Result<u64> {
        Ok(simulate(network, order, fast_memory, false, false, cancel)?.total())
    };
    if method == Method::Tiled {
        // The layer and the consumer-first orders as the base (both O(n + m); the greedy
        // order costs far more on wide layers), every candidate block size; the exact
        // simulator picks (the first wins ties). Block size 1 is the base order itself, so the
        // result is never worse than either base order.
        let mut best: Option<(u64, Vec<u32>, usize, Constructive)> = None;
        let blocks = block_candidates(fast_memory);
        cancel.begin_stage("tiled", (TILED_BASES.len() * blocks.len()) as u64);
        let mut tried = 0;
        for c in TILED_BASES {
            let base = constructive_order(network, c, fast_memory, cancel)?;
            for &block in &blocks {
                let order = tiled_edge_order(network, &base, block);
                let io =
                    simulate_edges(network, &order, fast_memory, false, false, cancel)?.total();
                if best.as_ref().is_none_or(|(b, _, _, _)| io < *b) {
                    best = Some((io, order, block, c));
                }
                tried += 1;
                cancel.advance_to(tried);
            }
        }
        let (io, order, block, base) = best.expect("at least one block size");
        return Ok(Schedule {
            order,
            edges: true,
            block,
            io: io + weights,
            start: base.name(),
            trace: AnnealTrace::default(),
        });
    }
    let candidates: Vec<Constructive> = match method {
        Method::Constructive(c) => vec![c],
        _ => Constructive::ALL.to_vec(),
    };
    let mut best: Option<(u64, Vec<u32>, Constructive)> = None;
    for c in candidates {
        // One unit: the greedy order reports its own steps, the others take no time.
        cancel.begin_stage(c.name(), 1);
        let order = constructive_order(network, c, fast_memory, cancel)?;
        cancel.begin_stage("simulate", 1);
        let io = cost(&order)?;
        cancel.advance_to(1);
        if best.as_ref().is_none_or(|(b, _, _)| io < *b) {
            best = Some((io, order, c));
        }
    }
    let (io, order, start) = best.expect("at least one constructive method");
    if method != Method::Anneal {
        return Ok(Schedule {
            order,
            edges: false,
            block: 0,
            io: io + weights,
            start: start.name(),
            trace: AnnealTrace::default(),
        });
    }
    let (order, trace) = anneal_schedule(
        network,
        &order,
        fast_memory,
        moves,
        checkpoints,
        seed,
        cancel,
    )?;
    let io = *trace.io.iter().min().expect("the trace holds the start");
    Ok(Schedule {
        order,
        edges: false,
        block: 0,
        io: io + weights,
        start: start.name(),
        trace,
    })
}
