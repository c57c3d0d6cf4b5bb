//! The passing of time: expiring the seen-set and pending requests, closing connections
//! stuck mid-frame for 60 s and connections without a valid handshake after
//! `handshake_timeout_s`. An idle connection is never closed for idleness (no keepalives).

use super::core::{Core, STALE_PARTIAL_FRAME_MS};
use super::{ConnId, DropReason, Millis};

impl Core {
    pub(super) fn on_tick(&mut self, now_ms: Millis) {
        self.seen.expire(now_ms);
        self.requests.expire(now_ms);
        self.expire_backoffs(now_ms);
        self.send_due_peer_request(now_ms);
        self.run_redials(now_ms);
        let handshake_ms = self.config.handshake_timeout_s.saturating_mul(1000);
        let mut expired: Vec<(ConnId, DropReason)> = Vec::new();
        for (&id, conn) in &self.conns {
            if conn.splitter.has_partial()
                && now_ms.saturating_sub(conn.last_data_ms) >= STALE_PARTIAL_FRAME_MS
            {
                expired.push((id, DropReason::StalePartialFrame));
            } else if !conn.is_handshaken() && now_ms.saturating_sub(conn.opened_ms) >= handshake_ms
            {
                expired.push((id, DropReason::HandshakeTimeout));
            }
        }
        expired.sort_unstable_by_key(|(id, _)| *id);
        for (id, reason) in expired {
            self.close(id, reason, false, now_ms);
        }
    }
}
