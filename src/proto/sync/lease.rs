//! The lease check of the sync table (PROTOCOL.md §7): who may change a key, given what the
//! receiver holds, the write's author and time, the receiver's clock and the leasing flag.
//! A pure function; not the table that applies it (`table.rs`).

/// Who last wrote a key and when (seconds since the Unix epoch, by the writer's clock).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Meta {
    /// The writer's node ID as bytes (base58 text). Compared as bytes, not as integers.
    pub owner: Vec<u8>,
    pub time: i64,
}

impl Meta {
    pub fn new(owner: impl Into<Vec<u8>>, time: i64) -> Self {
        Meta {
            owner: owner.into(),
            time,
        }
    }
}

/// A key last written longer ago than this (seconds, by the receiver's clock) is free for
/// anyone.
pub const LEASE_SECONDS: i64 = 3600;

/// Whether a write described by `write` may change a key whose metadata is `stored`.
///
/// `now_s` is the receiver's clock in seconds, `delta` whether the write is a delta and
/// `leasing` the table's mode. The rule is the reference's, term for term: accepted iff
/// the key is absent, or the owner writes again, or it is a delta without leasing, or the
/// stored write is older than an hour, or a same-second write comes from a smaller owner, or
/// (without leasing) the write is newer.
pub fn may_write(
    stored: Option<&Meta>,
    write: &Meta,
    now_s: i64,
    delta: bool,
    leasing: bool,
) -> bool {
    let Some(held) = stored else {
        return true;
    };
    held.owner == write.owner
        || (delta && !leasing)
        || held.time < now_s.saturating_sub(LEASE_SECONDS)
        || (held.time == write.time && held.owner > write.owner)
        || (held.time < write.time && !leasing)
}
