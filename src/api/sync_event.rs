//! What callbacks registered with `SyncTable::on_sync_event` receive, and one table entry as
//! the API shows it. Not the dispatcher.

use crate::proto::sync::Change;
use crate::wire::Value;

/// A change of the table, in the order the table changed.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncEvent {
    /// `key` now holds `value` (after a delta, the merged map), written by `owner` at `time`
    /// (Unix seconds by the writer's clock).
    Update {
        key: Vec<u8>,
        value: Value,
        owner: String,
        time: i64,
    },
    /// `key` and its metadata are gone.
    Delete { key: Vec<u8> },
}

/// One key of the table with its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncEntry {
    pub key: Vec<u8>,
    pub value: Value,
    /// The node ID of the last writer.
    pub owner: String,
    /// When it wrote (Unix seconds by its clock).
    pub time: i64,
}

impl From<Change> for SyncEvent {
    fn from(change: Change) -> Self {
        match change {
            Change::Update { key, value, meta } => SyncEvent::Update {
                key,
                value,
                owner: String::from_utf8_lossy(&meta.owner).into_owned(),
                time: meta.time,
            },
            Change::Delete { key } => SyncEvent::Delete { key },
        }
    }
}
