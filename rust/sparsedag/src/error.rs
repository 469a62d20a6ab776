//! The one error type of the core. The binding crate maps each variant to a Python exception
//! in a single place, so every message here is written for a person to act on.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The edges contain a directed cycle; the nodes are listed in cycle order.
    Cycle(Vec<u32>),
    /// A node id is negative or not below the node count.
    NodeOutOfRange {
        position: usize,
        value: i64,
        num_nodes: u64,
    },
    SelfLoop {
        position: usize,
        node: u32,
    },
    DuplicateEdge {
        source: u32,
        target: u32,
    },
    /// The graph needs more node ids than fit in u32.
    TooLarge {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// A caller-supplied argument is malformed (lengths, values, options).
    InvalidArgument(String),
    /// The caller asked to stop (Ctrl-C) before the work finished.
    Interrupted,
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cycle(nodes) => {
                write!(f, "the graph has a cycle: ")?;
                const SHOWN: usize = 20;
                for node in nodes.iter().take(SHOWN) {
                    write!(f, "{node} -> ")?;
                }
                if nodes.len() > SHOWN {
                    write!(f, "... ({} nodes in all) -> ", nodes.len())?;
                }
                write!(f, "{}", nodes.first().copied().unwrap_or_default())
            }
            Error::NodeOutOfRange {
                position,
                value,
                num_nodes,
            } => write!(
                f,
                "edge {position} uses node id {value}, but ids must lie in 0..{num_nodes}"
            ),
            Error::SelfLoop { position, node } => {
                write!(f, "edge {position} is a self-loop on node {node}")
            }
            Error::DuplicateEdge { source, target } => write!(
                f,
                "the edge {source} -> {target} appears more than once \
                 (pass duplicates=\"merge\" to keep one copy)"
            ),
            Error::TooLarge { what, value, limit } => {
                write!(f, "{what} is {value}, more than the supported {limit}")
            }
            Error::InvalidArgument(message) => f.write_str(message),
            Error::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for building an `InvalidArgument` error.
pub(crate) fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(Error::InvalidArgument(message.into()))
}
