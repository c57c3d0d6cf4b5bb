//! Redialling lost peers: when a connection this node dialled and handshook ends without
//! either side deciding it (the driver reports EOF, a reset or a socket error as
//! `PeerClosed`), the node dials the same address again after 1, 2, 4, 8 and 16 s (each delay
//! counted from the previous attempt's end), and gives up after [`REDIAL_DELAYS_MS`]`.len()`
//! attempts. A peer linked again (by our dial or its own) ends the redials once the link has
//! held for [`QUICK_LOSS_MS`]; lost sooner, the count goes on, so a peer that accepts and
//! drops us costs at most five dials. This is what heals a partition: the sync table and
//! the chord table reconcile only over connections that open again.
//!
//! Not redialled: connections the core closed (a protocol error, a duplicate, a handshake
//! timeout), connections the driver closed for a reason of its own (a slow peer), accepted
//! connections (the other side redials them), and a peer still linked by another connection
//! (a duplicate the peer closed). A peer linked again before an attempt is due is not
//! dialled. An orderly quit of the peer looks like EOF, so it is redialled too: the dials are
//! refused and the node gives up after the last one.

use super::conn::ConnState;
use super::core::{Core, QUICK_LOSS_MS};
use super::{ConnId, Direction, DropReason, Millis};

/// The wait before each redial attempt; the number of attempts is its length.
pub(super) const REDIAL_DELAYS_MS: [Millis; 5] = [1_000, 2_000, 4_000, 8_000, 16_000];
/// Most peers being redialled at once (more lost links are not redialled).
const MAX_REDIALS: usize = 1024;

/// A lost peer being redialled.
#[derive(Debug)]
pub(super) struct Redial {
    addr: (String, u16),
    /// Attempts made so far.
    attempts: usize,
    /// When the next attempt is due (none while one is in flight or the peer is linked).
    due_ms: Option<Millis>,
    /// The connection of the attempt in flight.
    conn: Option<ConnId>,
    /// Since when the peer is linked again: the entry ends after [`QUICK_LOSS_MS`] of it, so
    /// a peer that accepts and drops us at once uses up the attempts instead of resetting them.
    linked_since: Option<Millis>,
}

impl Redial {
    /// Schedules the next attempt after a failed one or a loss; false when none is left.
    fn schedule_next(&mut self, now_ms: Millis) -> bool {
        self.conn = None;
        self.linked_since = None;
        match REDIAL_DELAYS_MS.get(self.attempts) {
            Some(delay) => {
                self.due_ms = Some(now_ms.saturating_add(*delay));
                true
            }
            None => false,
        }
    }
}

impl Core {
    /// `conn` is about to be forgotten for `reason` (reported by the driver): schedule a
    /// redial if it was a link this node dialled and handshook that nobody decided to close.
    pub(super) fn note_loss(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        if !self.config.redial_lost_peers || reason != DropReason::PeerClosed {
            return;
        }
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let working = c.direction == Direction::Outgoing && c.state == ConnState::Handshaken;
        let (Some(peer), Some(addr), true) = (c.peer_id.clone(), c.dialled_addr.clone(), working)
        else {
            return;
        };
        if self.routing.get(&peer) != Some(&conn) {
            return; // Not its routing entry: the peer is linked by another connection.
        }
        if let Some(r) = self.redials.get_mut(&peer) {
            // Lost again soon after a redial: carry on with the next delay.
            if r.conn.is_none() && !r.schedule_next(now_ms) {
                self.redials.remove(&peer);
                self.stats.redials_given_up += 1;
            }
            return;
        }
        if self.redials.len() >= MAX_REDIALS {
            return;
        }
        let mut redial = Redial {
            addr,
            attempts: 0,
            due_ms: None,
            conn: None,
            linked_since: None,
        };
        redial.schedule_next(now_ms);
        self.redials.insert(peer, redial);
    }

    /// Advances every redial (called on each tick): ends those whose peer has been linked
    /// again for [`QUICK_LOSS_MS`], schedules the next attempt after a failed one or gives
    /// up, and dials those due.
    pub(super) fn run_redials(&mut self, now_ms: Millis) {
        if self.redials.is_empty() {
            return;
        }
        let mut done = Vec::new();
        let mut dial = Vec::new();
        for (peer, r) in &mut self.redials {
            let attempt_state = r.conn.map(|c| self.conns.get(&c).map(|c| c.state));
            // Linked by any connection, or the attempt reached a node that now has another
            // ID at that address.
            let linked = self.routing.contains_key(peer)
                || attempt_state == Some(Some(ConnState::Handshaken));
            if linked {
                let since = *r.linked_since.get_or_insert(now_ms);
                if now_ms.saturating_sub(since) >= QUICK_LOSS_MS {
                    done.push(peer.clone());
                }
                continue;
            }
            if matches!(attempt_state, Some(Some(_))) {
                continue; // Still dialling or waiting for the handshake.
            }
            // The attempt failed (or linked and was lost again), or the peer was linked
            // through another connection, which is gone.
            let lost = attempt_state.is_some() || r.due_ms.is_none();
            if lost && !r.schedule_next(now_ms) {
                self.stats.redials_given_up += 1;
                done.push(peer.clone());
                continue;
            }
            if r.due_ms.is_some_and(|due| due <= now_ms) && !self.dialling.contains_key(peer) {
                dial.push(peer.clone());
            }
        }
        for peer in done {
            self.redials.remove(&peer);
        }
        for peer in dial {
            let Some(addr) = self.redials.get(&peer).map(|r| r.addr.clone()) else {
                continue;
            };
            let conn = self.dial(&addr.0, addr.1, Some(peer.clone()), now_ms);
            self.stats.redials += 1;
            if let Some(r) = self.redials.get_mut(&peer) {
                r.attempts += 1;
                r.due_ms = None;
                r.conn = Some(conn);
            }
        }
    }
}
