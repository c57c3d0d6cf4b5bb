//! Bytes in: splitting a connection's stream into frames, decoding them, mapping wire errors
//! to the drop reason that closes the connection, and dispatching each message — main flag
//! first (broadcast → age, de-duplication, relay; renegotiate; whisper), then the sub-flag
//! (handshake, peers, request, response), then the extension handler, then the user.

use super::core::Core;
use super::handler::{MeshCtx, MeshHandler};
use super::{ConnId, DropReason, Event, Millis, UserMessage};
use crate::wire::flags;
use crate::wire::frame::{self, Message};
use crate::wire::{Value, WireError};

/// The drop reason for a wire error on a connection.
pub(super) fn reason_for(err: &WireError) -> DropReason {
    match err {
        WireError::FrameTooLarge { .. } => DropReason::FrameTooLarge,
        WireError::DecompressedTooLarge { .. } => DropReason::DecompressedTooLarge,
        WireError::BadChecksum
        | WireError::BadCompression(_)
        | WireError::UnknownCompression(_) => DropReason::BadChecksum,
        WireError::Truncated
        | WireError::TrailingBytes { .. }
        | WireError::InvalidUtf8
        | WireError::TooDeep { .. }
        | WireError::UnsupportedMsgpack { .. }
        | WireError::DuplicateMapKey
        | WireError::LengthOverflow => DropReason::BadMsgpack,
        WireError::BadMessageShape(_) | WireError::BadBase58 => DropReason::BadMessageShape,
    }
}

impl Core {
    pub(super) fn on_data(
        &mut self,
        handler: &mut dyn MeshHandler,
        conn: ConnId,
        data: &[u8],
        now_ms: Millis,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.last_data_ms = now_ms;
        c.splitter.push(data);
        self.stats.bytes_in += data.len() as u64;
        let limits = self.config.limits;
        loop {
            // The connection may be closed by the frame just handled.
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            let decoded = match c.splitter.next_body() {
                Ok(None) => return,
                Ok(Some(body)) => frame::decode_body_owned(body, &limits),
                Err(err) => Err(err),
            };
            match decoded {
                Ok((msg, packed)) => {
                    self.stats.frames_in += 1;
                    self.handle_frame(handler, conn, msg, &packed, now_ms);
                }
                Err(err) => return self.close(conn, reason_for(&err), false, now_ms),
            }
        }
    }

    fn handle_frame(
        &mut self,
        handler: &mut dyn MeshHandler,
        conn: ConnId,
        msg: Message,
        packed: &[u8],
        now_ms: Millis,
    ) {
        match msg.msg_type {
            flags::BROADCAST => {
                if self.accept_broadcast(conn, &msg, packed, now_ms) {
                    self.handle_payload(handler, conn, msg, now_ms);
                }
            }
            flags::WHISPER => self.handle_payload(handler, conn, msg, now_ms),
            flags::RENEGOTIATE => self.handle_renegotiate(conn, &msg, now_ms),
            _ => self.count_drop(DropReason::UnknownFlag),
        }
    }

    /// The sub-flag's handler: the mesh's own, then the extension's, then the user.
    fn handle_payload(
        &mut self,
        handler: &mut dyn MeshHandler,
        conn: ConnId,
        mut msg: Message,
        now_ms: Millis,
    ) {
        let Some(sub_flag) = msg
            .payload
            .first()
            .and_then(Value::as_u64)
            .and_then(|f| u8::try_from(f).ok())
        else {
            self.count_drop(DropReason::BadMessageShape);
            return;
        };
        match sub_flag {
            flags::sub::HANDSHAKE if msg.payload.len() == 5 => {
                return self.handle_handshake(handler, conn, &msg.payload, now_ms)
            }
            flags::sub::PEERS => return self.handle_peers(handler, &msg, now_ms),
            flags::sub::REQUEST => return self.handle_request(conn, &msg, now_ms),
            flags::sub::RESPONSE => return self.handle_response(&msg, now_ms),
            _ => {}
        }
        if handler.on_message(&mut MeshCtx::new(self, now_ms), conn, &msg) {
            return;
        }
        if sub_flag != flags::sub::BROADCAST && sub_flag != flags::sub::WHISPER {
            self.count_drop(DropReason::UnknownFlag);
            return;
        }
        msg.payload.remove(0);
        self.emit(Event::Message(UserMessage {
            msg_type: msg.msg_type,
            sub_flag,
            sender: msg.sender,
            time: msg.time,
            id: msg.id,
            packets: msg.payload,
            conn,
        }));
    }
}
