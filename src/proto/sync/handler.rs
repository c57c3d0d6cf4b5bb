//! [`SyncHandler`]: the sync table layered on the mesh core through its
//! [`MeshHandler`] hook. It reads `store` and `delta` frames (any main flag; five store items
//! mark a handshake-dump entry, three a normal write) and applies them to the shared table,
//! whispers the whole table after the peer list on every handshake, and passes whispered
//! dump entries that changed the table on to its other neighbours (on a tick, see
//! `pass_on.rs`). Not the rules themselves (`table.rs`, `lease.rs`), not local writes
//! (`shared.rs`).

use super::lease::Meta;
use super::pass_on::PassOn;
use super::shared::{secs, SyncShared};
use super::table::{Change, Entry, Refusal};
use crate::proto::mesh::{ConnId, MeshCtx, MeshHandler};
use crate::wire::frame::Message;
use crate::wire::{flags, Value};
use std::sync::Arc;

/// The sync protocol of one node.
pub struct SyncHandler {
    shared: Arc<SyncShared>,
    pass_on: PassOn,
}

impl SyncHandler {
    pub fn new(shared: Arc<SyncShared>) -> Self {
        SyncHandler {
            shared,
            pass_on: PassOn::default(),
        }
    }

    pub fn shared(&self) -> &Arc<SyncShared> {
        &self.shared
    }

    fn handle_store(&mut self, ctx: &MeshCtx<'_>, conn: ConnId, msg: &Message, now_s: i64) {
        let (key, value) = match &msg.payload[..] {
            [_, key, value] | [_, key, value, _, _] => (key, value),
            _ => return self.shared.count_refusal(Refusal::Malformed),
        };
        let Some(key) = key.as_bytes().map(<[u8]>::to_vec) else {
            return self.shared.count_refusal(Refusal::Malformed);
        };
        let value = value.clone();
        let [_, _, _, owner, time] = &msg.payload[..] else {
            let meta = Meta::new(msg.sender.clone(), msg.time);
            let _ = self
                .shared
                .apply_remote(|table| table.store(key, value, meta, now_s));
            return;
        };
        let (Some(owner), Some(time)) = (owner.as_bytes(), time.as_i64()) else {
            return self.shared.count_refusal(Refusal::Malformed);
        };
        let meta = Meta::new(owner, time);
        let mut before: Option<Entry> = None;
        let applied = self.shared.apply_remote(|table| {
            before = table.get(&key).cloned();
            table.dump_entry(key.clone(), value, meta, now_s)
        });
        // Broadcasts are flooded by the mesh already; whispered entries are passed on here.
        let Some(from) = ctx
            .peer_of(conn)
            .filter(|_| msg.msg_type != flags::BROADCAST)
        else {
            return;
        };
        match applied {
            Ok(Change::Update { key, value, meta }) => {
                let unchanged = before.is_some_and(|b| b.value == value && b.meta == meta);
                if unchanged {
                    self.pass_on.holder(from, &key);
                } else {
                    self.pass_on.take(from, key, value, meta, ctx.now_ms());
                }
            }
            Ok(Change::Delete { .. }) => {}
            Err(_) => self.pass_on.holder(from, &key),
        }
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
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, peer: &[u8]) {
        self.pass_on.handshake(peer);
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

    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, msg: &Message) -> bool {
        let now_s = secs(ctx.now_ms());
        match msg.payload.first().and_then(Value::as_u64) {
            Some(f) if f == u64::from(flags::sub::STORE) => {
                self.handle_store(ctx, conn, msg, now_s)
            }
            Some(f) if f == u64::from(flags::sub::DELTA) => self.handle_delta(msg, now_s),
            _ => return false,
        }
        true
    }

    fn on_disconnected(&mut self, _ctx: &mut MeshCtx<'_>, peer: &[u8]) {
        self.pass_on.disconnected(peer);
    }

    fn on_tick(&mut self, ctx: &mut MeshCtx<'_>) {
        if self.pass_on.is_idle() {
            return;
        }
        let (due, skipped) = {
            let table = self.shared.read();
            self.pass_on.due(ctx.now_ms(), |key, value, meta| {
                table
                    .get(key)
                    .is_some_and(|e| e.value == *value && e.meta == *meta)
            })
        };
        let mut sent = 0;
        for entry in due {
            let payload = [
                Value::UInt(flags::sub::STORE.into()),
                Value::Bin(entry.key),
                entry.value,
                Value::Bin(entry.meta.owner),
                Value::from(entry.meta.time),
            ];
            // A neighbour that left meanwhile is skipped; it gets our dump when it is back.
            if ctx.whisper(&entry.to, &payload).is_ok() {
                sent += 1;
            }
        }
        self.shared.count_passed_on(sent, skipped);
    }
}
