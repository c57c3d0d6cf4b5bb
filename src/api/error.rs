//! The error type of the Rust API, with messages that say what went wrong and what to do.
//! Not the wire layer's decoding errors.

use std::fmt;
use std::io;

/// What went wrong in a [`crate::api`] call.
#[derive(Debug)]
pub enum Error {
    /// An operating-system error not covered below.
    Io(io::Error),
    /// The bind address is taken by another socket.
    AddrInUse { addr: String },
    /// A dial failed (refused, unreachable, unknown host...).
    ConnectFailed { addr: String, source: io::Error },
    /// The node was closed; the call cannot be served.
    Closed,
    /// `SendMode::NoWait` and the node's write buffers are full.
    WouldBlock,
    /// The call did not complete within its timeout.
    Timeout,
    /// No handshaken connection to that peer ID.
    UnknownPeer { peer: String },
    /// An argument the call cannot use; the text says which.
    InvalidArgument(String),
    /// A feature this build does not offer; the text says which.
    Unsupported(String),
    /// A sync-table write refused by the lease check: `owner` wrote `key` at `since` (Unix
    /// seconds) and holds it for an hour from then. Nothing was sent.
    Leased {
        key: String,
        owner: String,
        since: i64,
    },
    /// A chord read got answers from all five positions and no value holds three of them
    /// (writes raced, or nodes disagree after churn). Read again, or write the key anew.
    NoMajority { key: String },
}

/// Result of a [`crate::api`] call.
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::AddrInUse { addr } => write!(
                f,
                "address {addr} is already in use: pick another port, or port 0 for a free one"
            ),
            Error::ConnectFailed { addr, source } => {
                write!(f, "could not connect to {addr}: {source}")
            }
            Error::Closed => write!(f, "the node is closed; create a new one"),
            Error::WouldBlock => write!(
                f,
                "the node's write buffers are full; retry later or send with SendMode::Block"
            ),
            Error::Timeout => write!(f, "the operation timed out"),
            Error::UnknownPeer { peer } => write!(
                f,
                "no connected peer has ID {peer}; see peers() for the connected ones"
            ),
            Error::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::Leased { key, owner, since } => write!(
                f,
                "key {key:?} is leased by node {owner} (written at {since}); only that node may \
                 change it until the lease lapses at {}, or use a table without leasing",
                since.saturating_add(crate::proto::sync::LEASE_SECONDS)
            ),
            Error::NoMajority { key } => write!(
                f,
                "key {key:?} has no agreed value: no three of its five positions hold the same \
                 value; read again later or write the key anew"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) | Error::ConnectFailed { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
