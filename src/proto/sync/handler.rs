//! [`SyncHandler`]: the sync table layered on the mesh core through its
//! [`MeshHandler`] hook. It reads `store` and `delta` frames (any main flag; five store items
//! mark a handshake-dump entry, three a normal write) and applies them to the shared table,
//! and whispers the whole table after the peer list on every handshake. Not the rules
//! themselves (`table.rs`, `lease.rs`), not local writes (`shared.rs`).

use super::lease::Meta;
use super::shared::{secs, SyncShared};
use super::table::Refusal;
use crate::proto::mesh::{ConnId, MeshCtx, MeshHandler};
use crate::wire::frame::Message;
use crate::wire::{flags, Value};
use std::sync::Arc;

/// The sync protocol of one node.
pub struct SyncHandler {
    shared: Arc<SyncShared>,
}

impl SyncHandler {
    pub fn new(shared: Arc<SyncShared>) -> Self {
        SyncHandler { shared }
    }

    pub fn shared(&self) -> &Arc<SyncShared> {
        &self.shared
    }

    fn handle_store(&self, msg: &Message, now_s: i64) {
        let (key, value) = match &msg.payload[..] {
            [_, key, value] | [_, key, value, _, _] => (key, value),
            _ => return self.shared.count_refusal(Refusal::Malformed),
        };
        let Some(key) = key.as_bytes().map(<[u8]>::to_vec) else {
            return self.shared.count_refusal(Refusal::Malformed);
        };
        let value = value.clone();
        let _ = if let [_, _, _, owner, time] = &msg.payload[..] {
            let (Some(owner), Some(time)) = (owner.as_bytes(), time.as_i64()) else {
                return self.shared.count_refusal(Refusal::Malformed);
            };
            let meta = Meta::new(owner, time);
            self.shared
                .apply_remote(|table| table.dump_entry(key, value, meta, now_s))
        } else {
            let meta = Meta::new(msg.sender.clone(), msg.time);
            self.shared
                .apply_remote(|table| table.store(key, value, meta, now_s))
        };
    }

    fn handle_delta(&self, msg: &Message, now_s: i64) {
        let [_, key, Value::Map(fields)] = &msg.payload[..] else {
            return self.shared.count_refusal(Refusal::Malformed);
        };
        let Some(key) = key.as_bytes().map(<[u8]>::to_vec) else {
            return self.shared.count_refusal(Refusal::Malformed);
        };
        let meta = Meta::new(msg.sender.clone(), msg.time);
        let fields = fields.clone();
        let _ = self
            .shared
            .apply_remote(|table| table.delta(key, fields, meta, now_s));
    }
}

impl MeshHandler for SyncHandler {
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, _peer: &[u8]) {
        // Snapshot first: frames are encoded without holding the table lock.
        let entries: Vec<[Value; 5]> = self
            .shared
            .read()
            .iter()
            .map(|(key, entry)| {
                [
                    Value::UInt(flags::sub::STORE.into()),
                    Value::Bin(key.clone()),
                    entry.value.clone(),
                    Value::Bin(entry.meta.owner.clone()),
                    Value::from(entry.meta.time),
                ]
            })
            .collect();
        let mut sent = 0;
        for payload in &entries {
            if ctx.send(conn, flags::WHISPER, payload).is_err() {
                break;
            }
            sent += 1;
        }
        self.shared.count_dump_entries(sent);
    }

    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, _conn: ConnId, msg: &Message) -> bool {
        let now_s = secs(ctx.now_ms());
        match msg.payload.first().and_then(Value::as_u64) {
            Some(f) if f == u64::from(flags::sub::STORE) => self.handle_store(msg, now_s),
            Some(f) if f == u64::from(flags::sub::DELTA) => self.handle_delta(msg, now_s),
            _ => return false,
        }
        true
    }
}
