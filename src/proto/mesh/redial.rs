//! Redialling lost peers: when a connection this node dialled, handshook and used for at
//! least [`QUICK_LOSS_MS`] ends without either side deciding it (the driver reports EOF, a
//! reset or a socket error as `PeerClosed`), the node dials the same address again after 1,
//! 2, 4, 8 and 16 s (each delay counted from the previous attempt's end), and gives up after
//! [`REDIAL_DELAYS_MS`]`.len()` attempts. This is what heals a partition: the sync table and
//! the chord table reconcile only over connections that open again.
//!
//! Not redialled: connections the core closed (a protocol error, a duplicate, a handshake
//! timeout), connections the driver closed for a reason of its own (a slow peer), accepted
//! connections (the other side redials them), and links that ended within
//! [`QUICK_LOSS_MS`] of opening (a peer refusing a duplicate). A peer that is linked again
//! by any connection is no longer redialled. An orderly quit of the peer looks like EOF,
//! so it is redialled too: the dials are refused and the node gives up after the last one.

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
    /// When the next attempt is due (none while one is in flight).
    due_ms: Option<Millis>,
    /// The connection of the attempt in flight.
    conn: Option<ConnId>,
}

impl Core {
    /// `conn` is about to be forgotten for `reason` (reported by the driver): schedule a
    /// redial if it was a working link this node dialled that nobody decided to close.
    pub(super) fn note_loss(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        if reason != DropReason::PeerClosed || self.redials.len() >= MAX_REDIALS {
            return;
        }
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let working = c.direction == Direction::Outgoing
            && c.state == ConnState::Handshaken
            && now_ms.saturating_sub(c.opened_ms) >= QUICK_LOSS_MS;
        let (Some(peer), Some(addr), true) = (c.peer_id.clone(), c.dialled_addr.clone(), working)
        else {
            return;
        };
        if self.routing.get(&peer) != Some(&conn) {
            return; // Not its routing entry: the peer is linked by another connection.
        }
        let due = now_ms.saturating_add(REDIAL_DELAYS_MS[0]);
        self.redials.insert(
            peer,
            Redial {
                addr,
                attempts: 0,
                due_ms: Some(due),
                conn: None,
            },
        );
    }

    /// Advances every redial (called on each tick): drops the peers linked again, schedules
    /// the next attempt after a failed one or gives up, and dials those due.
    pub(super) fn run_redials(&mut self, now_ms: Millis) {
        if self.redials.is_empty() {
            return;
        }
        let mut done = Vec::new();
        let mut dial = Vec::new();
        for (peer, r) in &mut self.redials {
            if self.routing.contains_key(peer) {
                done.push(peer.clone());
                continue;
            }
            if let Some(conn) = r.conn {
                match self.conns.get(&conn).map(|c| c.state) {
                    Some(ConnState::Handshaken) => {
                        // Linked again (the peer may have come back under another ID).
                        done.push(peer.clone());
                        continue;
                    }
                    Some(_) => continue, // Still dialling or waiting for the handshake.
                    None => {
                        r.conn = None;
                        match REDIAL_DELAYS_MS.get(r.attempts) {
                            Some(delay) => r.due_ms = Some(now_ms.saturating_add(*delay)),
                            None => {
                                self.stats.redials_given_up += 1;
                                done.push(peer.clone());
                                continue;
                            }
                        }
                    }
                }
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
