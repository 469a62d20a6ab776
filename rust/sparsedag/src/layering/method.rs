//! Choosing a layering algorithm by name, so that every front end (Python, CLI, benches)
//! dispatches through one table.

use std::str::FromStr;

use crate::cancel::Cancel;
use crate::error::{invalid, Error, Result};
use crate::graph::Dag;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Longest path from the sources (ASAP): minimum height.
    LongestPath,
    /// Longest path to the sinks (ALAP): minimum height, sinks share the last layer.
    Alap,
    /// ALAP with every source moved to layer 0, as the 4Ward library does.
    FourWard,
    /// At most `width` real nodes per layer; height within (2 - 2/W) of the optimum.
    CoffmanGraham,
    /// The MinWidth heuristic: narrow layers counting dummy nodes.
    MinWidth,
    /// Network simplex (Gansner et al.): exact minimum total edge span, i.e. fewest dummies.
    NetworkSimplex,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::LongestPath,
        Method::Alap,
        Method::FourWard,
        Method::CoffmanGraham,
        Method::NetworkSimplex,
        Method::MinWidth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::LongestPath => "longest_path",
            Method::Alap => "alap",
            Method::FourWard => "4ward",
            Method::CoffmanGraham => "coffman_graham",
            Method::MinWidth => "min_width",
            Method::NetworkSimplex => "network_simplex",
        }
    }

    /// Whether the method takes a width bound.
    pub fn uses_width(self) -> bool {
        matches!(self, Method::CoffmanGraham | Method::MinWidth)
    }
}

impl FromStr for Method {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        let normalised = name.to_ascii_lowercase().replace('-', "_");
        let alias = match normalised.as_str() {
            "asap" => "longest_path",
            "fourward" => "4ward",
            other => other,
        };
        Method::ALL
            .into_iter()
            .find(|m| m.name() == alias)
            .map_or_else(
                || {
                    let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                    invalid(format!(
                        "unknown layering method {name:?}; choose one of {}",
                        names.join(", ")
                    ))
                },
                Ok,
            )
    }
}

/// Options shared by all layering methods.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Width bound for the methods that take one. Coffman–Graham defaults to ceil(sqrt(n));
    /// MinWidth by default tries the bounds its authors recommend and keeps the best.
    pub width: Option<usize>,
    /// Run node promotion on the result to lower the dummy count.
    pub promote: bool,
}

/// Coffman–Graham's width when none is given: ceil(sqrt(n)), which keeps layers and height
/// balanced.
pub fn default_coffman_graham_width(num_nodes: usize) -> usize {
    ((num_nodes as f64).sqrt().ceil() as usize).max(1)
}

/// Runs the chosen layering method.
pub fn layer(dag: &Dag, method: Method, options: Options, cancel: &Cancel) -> Result<Vec<u32>> {
    if options.width.is_some() && !method.uses_width() {
        return invalid(format!(
            "the {:?} layering takes no width bound; width only applies to methods that \
             bound it",
            method.name()
        ));
    }
    cancel.check()?;
    let layering = match method {
        Method::LongestPath => super::asap(dag),
        Method::Alap => super::alap(dag),
        Method::FourWard => super::fourward(dag),
        Method::CoffmanGraham => super::coffman_graham(
            dag,
            options
                .width
                .unwrap_or_else(|| default_coffman_graham_width(dag.num_nodes())),
        )?,
        Method::MinWidth => super::min_width(dag, options.width),
        Method::NetworkSimplex => super::network_simplex(dag, cancel)?,
    };
    if options.promote {
        cancel.check()?;
        return super::promote_cancellable(dag, &layering, cancel);
    }
    Ok(layering)
}
