//! `io_schedule`: a constructive order, or annealing from the best constructive order.

use super::anneal::{anneal_schedule, AnnealTrace};
use super::network::Network;
use super::orders::{constructive_order, Constructive};
use super::simulate::{check_fast_memory, simulate};
use crate::cancel::Cancel;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Constructive(Constructive),
    Anneal,
}

impl std::str::FromStr for Method {
    type Err = crate::error::Error;
    fn from_str(name: &str) -> Result<Self> {
        if name == "anneal" {
            Ok(Method::Anneal)
        } else {
            Constructive::from_name(name).map(Method::Constructive)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub order: Vec<u32>,
    /// Loads + stores of the order (plus weight reads when counted).
    pub io: u64,
    /// The constructive method the annealing started from (the method itself otherwise).
    pub start: Constructive,
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
    let candidates: Vec<Constructive> = match method {
        Method::Constructive(c) => vec![c],
        Method::Anneal => Constructive::ALL.to_vec(),
    };
    let mut best: Option<(u64, Vec<u32>, Constructive)> = None;
    for c in candidates {
        let order = constructive_order(network, c, fast_memory, cancel)?;
        let io = cost(&order)?;
        if best.as_ref().is_none_or(|(b, _, _)| io < *b) {
            best = Some((io, order, c));
        }
    }
    let (io, order, start) = best.expect("at least one constructive method");
    if method != Method::Anneal {
        return Ok(Schedule {
            order,
            io: io + weights,
            start,
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
        io: io + weights,
        start,
        trace,
    })
}
