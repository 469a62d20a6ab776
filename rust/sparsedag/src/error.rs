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
    /// An allocation sized by an argument (a node count, a cluster count, a search budget)
    /// was refused: reported, since Rust's default on allocation failure is to abort.
    OutOfMemory {
        what: &'static str,
        bytes: u128,
    },
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
            // A negative id may be found before the node count is known (it is implied by the
            // largest id), so its message does not quote a range.
            Error::NodeOutOfRange {
                position, value, ..
            } if *value < 0 => write!(
                f,
                "edge {position} uses node id {value}, but node ids must be non-negative"
            ),
            Error::NodeOutOfRange {
                position,
                value,
                num_nodes,
            } => write!(
                f,
                "edge {position} uses node id {value}{}, but ids must lie in 0..{num_nodes}",
                // ids are read as i64, saturating: 2**64 - 1 arrives as i64::MAX
                if *value == i64::MAX { " or more" } else { "" }
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
                // An id of 2**63 or more saturates to i64::MAX before the count is implied.
                let more = if what.ends_with("largest id") && *value == 1 << 63 {
                    " or more"
                } else {
                    ""
                };
                write!(
                    f,
                    "{what} is {value}{more}, more than the supported {limit}"
                )
            }
            Error::InvalidArgument(message) => f.write_str(message),
            Error::OutOfMemory { what, bytes } => write!(
                f,
                "{what} need {:.1} GB of memory, which could not be allocated",
                *bytes as f64 / 1e9
            ),
            Error::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for Error {}

/// Fails with `OutOfMemory` unless `bytes` can be allocated right now. Called before work whose
/// memory is set by an argument rather than by data already in memory (a million-node graph
/// from a three-element edge list, say): the allocator refuses such a request outright, so the
/// probe, which is freed untouched, turns what would be an abort into an error.
pub(crate) fn ensure_allocatable(bytes: u128, what: &'static str) -> Result<()> {
    // Below this, any failure would be a machine already out of memory, not a bad argument.
    const PROBED: u128 = 1 << 28;
    if bytes < PROBED {
        return Ok(());
    }
    let refused = Error::OutOfMemory { what, bytes };
    let request = usize::try_from(bytes).map_err(|_| refused.clone())?;
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(request).map_err(|_| refused)
}

/// Shorthand for building an `InvalidArgument` error.
pub(crate) fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(Error::InvalidArgument(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_beyond_any_memory_are_errors() {
        assert!(ensure_allocatable(1 << 20, "a small table").is_ok());
        for bytes in [1u128 << 62, u128::MAX] {
            let err = ensure_allocatable(bytes, "the table").unwrap_err();
            assert!(matches!(
                err,
                Error::OutOfMemory {
                    what: "the table",
                    ..
                }
            ));
            assert!(err.to_string().starts_with("the table need"));
        }
    }
}
