//! Lookups in flight: retrieves this node forwarded for others (so the answer can be routed
//! back on the link each request came in on) and this node's own majority reads. The
//! forwarded table is keyed by (method, position, requester link), bounded and expiring, so
//! two requesters of one position never overwrite each other and nothing stays forever.

use super::ring::Position;
use super::ConnId;
use crate::proto::mesh::Millis;
use crate::wire::Value;
use std::collections::BTreeMap;

/// Most forwarded retrieves remembered; at the cap the one expiring first is forgotten.
pub const MAX_FORWARDED: usize = 4096;
/// A forwarded retrieve unanswered for this long is forgotten.
pub const FORWARD_TTL_MS: Millis = 30_000;

/// One retrieve we passed on: what to echo to the requester.
#[derive(Debug)]
pub struct Forward {
    pub method_raw: Value,
    pub pos_raw: Value,
    pub expires_ms: Millis,
    /// We already answered nil (a provisional nil from further on); a value still follows.
    pub answered_nil: bool,
}

#[derive(Debug, Default)]
pub struct Forwarded {
    entries: BTreeMap<(usize, Position, ConnId), Forward>,
}

impl Forwarded {
    pub fn insert(&mut self, method: usize, pos: Position, requester: ConnId, fwd: Forward) {
        if self.entries.len() >= MAX_FORWARDED {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, f)| f.expires_ms)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert((method, pos, requester), fwd);
    }

    /// The requesters waiting for (method, position).
    pub fn waiting_mut(
        &mut self,
        method: usize,
        pos: &Position,
    ) -> impl Iterator<Item = (ConnId, &mut Forward)> {
        self.entries
            .range_mut((method, *pos, 0)..=(method, *pos, ConnId::MAX))
            .map(|((_, _, conn), f)| (*conn, f))
    }

    pub fn remove(&mut self, method: usize, pos: &Position, requester: ConnId) {
        self.entries.remove(&(method, *pos, requester));
    }

    /// Forgets expired entries and those of a link that went away.
    pub fn expire(&mut self, now_ms: Millis) {
        self.entries.retain(|_, f| f.expires_ms > now_ms);
    }

    pub fn forget_link(&mut self, conn: ConnId) {
        self.entries.retain(|(_, _, c), _| *c != conn);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Identifies one majority read of this node.
pub type GetId = u64;

/// The reads waiting on one position: almost always one, so that one needs no allocation.
#[derive(Clone, Debug)]
pub enum GetIds {
    One(GetId),
    Many(Vec<GetId>),
}

impl GetIds {
    pub fn push(&mut self, id: GetId) {
        match self {
            GetIds::One(first) => *self = GetIds::Many(vec![*first, id]),
            GetIds::Many(ids) => ids.push(id),
        }
    }

    /// Forgets `id`; true when no read is left.
    pub fn remove(&mut self, id: GetId) -> bool {
        match self {
            GetIds::One(only) => *only == id,
            GetIds::Many(ids) => {
                ids.retain(|&other| other != id);
                ids.is_empty()
            }
        }
    }

    pub fn as_slice(&self) -> &[GetId] {
        match self {
            GetIds::One(id) => std::slice::from_ref(id),
            GetIds::Many(ids) => ids,
        }
    }
}

/// One majority read: five positions and what each answered so far.
#[derive(Debug)]
pub struct Get {
    pub key: Vec<u8>,
    pub positions: [Position; 5],
    /// `None`: no answer yet; `Some(Nil)`: a (provisional) nil.
    pub answers: [Option<Value>; 5],
    pub deadline_ms: Millis,
    /// When every position had answered without a majority (seen on a tick; the nil ones
    /// are then asked again); see [`NIL_GRACE_MS`].
    pub undecided_since: Option<Millis>,
    /// When the unanswered positions were last asked (see [`RETRY_MS`]).
    pub asked_ms: Millis,
}

/// A position that has not answered a read for this long is asked again (the request or its
/// answer may have died with a node that was forwarding it).
pub const RETRY_MS: Millis = 1_000;

/// A read whose five positions all answered without a majority, and again when the nil ones
/// are asked once more at least this long later, ends as [`GetOutcome::NotFound`] (all nil)
/// or [`GetOutcome::NoMajority`] (py2p forwarders send a provisional nil before the real
/// value, and a write may arrive just after a read, so one nil is not final).
pub const NIL_GRACE_MS: Millis = 200;

/// How a get ends.
#[derive(Clone, Debug, PartialEq)]
pub enum GetOutcome {
    /// At least three of the five positions hold this value.
    Found(Value),
    /// All five answered and no value holds three of them: at once when the nil answers
    /// could not change that, else after the nil ones were asked again (see
    /// [`NIL_GRACE_MS`]).
    NoMajority,
    /// Every position answered nil, twice (see [`NIL_GRACE_MS`]).
    NotFound,
    /// The timeout passed first.
    TimedOut,
}

impl Get {
    /// Whether all five positions answered, every one nil.
    pub fn all_nil(&self) -> bool {
        self.answers
            .iter()
            .all(|a| a.as_ref().is_some_and(Value::is_nil))
    }

    /// The outcome if the answers decide it now; the value index counts for read repair.
    pub fn decide(&self) -> Option<GetOutcome> {
        let mut best: Option<(&Value, usize)> = None;
        for v in self.answers.iter().flatten().filter(|v| !v.is_nil()) {
            let count = self.answers.iter().flatten().filter(|w| *w == v).count();
            if !best.is_some_and(|(_, c)| count <= c) {
                best = Some((v, count));
            }
        }
        let best_count = best.map_or(0, |(_, c)| c);
        if best_count * 2 > self.answers.len() {
            return best.map(|(v, _)| GetOutcome::Found(v.clone()));
        }
        let all_answered = self.answers.iter().all(Option::is_some);
        let nils = self.answers.iter().flatten().filter(|v| v.is_nil()).count();
        if all_answered && (best_count + nils) * 2 <= self.answers.len() {
            return Some(GetOutcome::NoMajority);
        }
        None
    }
}
