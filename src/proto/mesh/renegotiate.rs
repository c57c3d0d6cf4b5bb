//! Renegotiation (PROTOCOL.md §6): `renegotiate [compression, [methods]]` replaces a peer's
//! method list and, if it changed, is answered once with `renegotiate [compression, ours ∩
//! theirs]` (our order), uncompressed; towards a possible py2p peer its msgpack uses wider
//! forms so that the frame stays a multiple of 8 long. `renegotiate [resend]` is counted and ignored; it never
//! closes the connection. We never start a renegotiation.

use super::core::Core;
use super::handshake::advertised_methods;
use super::{ConnId, DropReason, Millis};
use crate::wire::flags;
use crate::wire::frame::{self, Message};
use crate::wire::Value;

impl Core {
    pub(super) fn handle_renegotiate(&mut self, conn: ConnId, msg: &Message, now_ms: Millis) {
        let sub_flag = msg.payload.first().and_then(Value::as_u64);
        match sub_flag.and_then(|f| u8::try_from(f).ok()) {
            Some(flags::sub::COMPRESSION) => self.renegotiate_compression(conn, msg, now_ms),
            Some(flags::sub::RESEND) => self.stats.resend_ignored += 1,
            _ => self.count_drop(DropReason::UnknownFlag),
        }
    }

    fn renegotiate_compression(&mut self, conn: ConnId, msg: &Message, now_ms: Millis) {
        let Some(list) = msg.payload.get(1).and_then(Value::as_array) else {
            self.count_drop(DropReason::BadMessageShape);
            return;
        };
        let theirs: Vec<u8> = list
            .iter()
            .filter_map(|m| m.as_u64().and_then(|m| u8::try_from(m).ok()))
            .collect();
        let Some(c) = self.conns.get_mut(&conn).filter(|c| c.is_handshaken()) else {
            return;
        };
        if c.methods == theirs {
            return;
        }
        let common: Vec<Value> = advertised_methods()
            .into_iter()
            .filter(|m| theirs.contains(m))
            .map(|m| Value::UInt(m.into()))
            .collect();
        c.methods = theirs;
        let paced = c.link_kind().paced();
        let payload = [
            Value::UInt(flags::sub::COMPRESSION.into()),
            Value::Array(common),
        ];
        let (packed, id) = if paced {
            self.pack_plain_aligned(flags::RENEGOTIATE, &payload, now_ms)
        } else {
            self.pack(flags::RENEGOTIATE, &payload, now_ms)
        };
        let mut out = Vec::with_capacity(packed.len() + 36);
        frame::write_frame(&id, &packed, None, &mut out);
        self.transmit(conn, out, paced);
    }
}
