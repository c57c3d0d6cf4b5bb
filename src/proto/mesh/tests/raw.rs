//! A scripted raw peer: one `Mesh` fed hand-made frames on accepted connections, its outputs
//! collected for inspection.

use super::harness::{config, protocol, T0};
use crate::proto::mesh::{
    ConnId, DropReason, Event, Mesh, MeshConfig, Millis, Output, UserMessage,
};
use crate::wire::frame::{self, Message};
use crate::wire::{flags, Limits, Value};

pub fn uint(n: u8) -> Value {
    Value::UInt(n.into())
}

pub fn secs(now: Millis) -> i64 {
    (now / 1000) as i64
}

/// A whole uncompressed frame of `[msg_type, sender, time, payload...]`.
pub fn frame_of(msg_type: u8, sender: &str, time: i64, payload: &[Value]) -> Vec<u8> {
    let packed = frame::pack(msg_type, sender.as_bytes(), time, payload);
    let mut out = Vec::new();
    frame::write_frame(&frame::message_id(&packed), &packed, None, &mut out);
    out
}

/// A frame of arbitrary `packed` bytes with a correct checksum.
pub fn frame_of_packed(packed: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write_frame(&frame::message_id(packed), packed, None, &mut out);
    out
}

pub fn handshake_payload(id: &str, proto: &str, port: u16, methods: &[u8]) -> Vec<Value> {
    vec![
        uint(flags::sub::HANDSHAKE),
        Value::Bin(id.as_bytes().to_vec()),
        Value::Bin(proto.as_bytes().to_vec()),
        Value::Array(vec![
            Value::Str("10.0.0.9".into()),
            Value::UInt(port.into()),
        ]),
        Value::Array(methods.iter().map(|&m| uint(m)).collect()),
    ]
}

/// Decodes one whole frame (length prefix included).
pub fn decode(frame: &[u8]) -> Message {
    assert!(frame.len() >= 4, "frame shorter than its length prefix");
    let len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    assert_eq!(
        len + 4,
        frame.len(),
        "length prefix disagrees with the frame"
    );
    frame::decode_body(&frame[4..], &Limits::DEFAULT)
        .expect("frame decodes")
        .0
}

/// True when the frame's body is uncompressed (checksum over the raw rest).
pub fn is_plain(frame: &[u8]) -> bool {
    frame.len() >= 36 && frame[4..36] == frame::message_id(&frame[36..])
}

pub struct Raw {
    pub mesh: Mesh,
    pub now: Millis,
    pub outputs: Vec<Output>,
}

impl Raw {
    pub fn new(tweak: impl FnOnce(&mut MeshConfig)) -> Self {
        let mut cfg = config(0);
        tweak(&mut cfg);
        Raw {
            mesh: Mesh::new(cfg, T0),
            now: T0,
            outputs: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(out) = self.mesh.poll_output() {
            self.outputs.push(out);
        }
    }

    pub fn accept(&mut self) -> ConnId {
        let conn = self.mesh.on_accepted(("10.0.0.9".into(), 50_000), self.now);
        self.drain();
        conn
    }

    pub fn feed(&mut self, conn: ConnId, bytes: &[u8]) {
        self.mesh.on_data(conn, bytes, self.now);
        self.drain();
    }

    pub fn tick(&mut self, now: Millis) {
        self.now = now;
        self.mesh.on_tick(now);
        self.drain();
    }

    /// Accepts a connection from a peer `id` that advertises `methods`, and completes its
    /// handshake; clears the outputs.
    pub fn handshaken_peer(&mut self, id: &str, methods: &[u8]) -> ConnId {
        let conn = self.accept();
        let hs = handshake_payload(id, &protocol(), 44_000, methods);
        self.feed(conn, &frame_of(flags::WHISPER, id, secs(self.now), &hs));
        self.outputs.clear();
        conn
    }

    /// Frames written to `conn`, with their paced flag, taken out of the outputs.
    pub fn take_transmits(&mut self, conn: ConnId) -> Vec<(Vec<u8>, bool)> {
        let mut taken = Vec::new();
        self.outputs.retain(|out| match out {
            Output::Transmit {
                conn: c,
                frame,
                paced,
            } if *c == conn => {
                taken.push((frame.clone(), *paced));
                false
            }
            _ => true,
        });
        taken
    }

    pub fn closes(&self) -> Vec<(ConnId, DropReason)> {
        self.outputs
            .iter()
            .filter_map(|out| match out {
                Output::Close { conn, reason, .. } => Some((*conn, *reason)),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self) -> Vec<&UserMessage> {
        self.outputs
            .iter()
            .filter_map(|out| match out {
                Output::Event(Event::Message(m)) => Some(m),
                _ => None,
            })
            .collect()
    }

    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.mesh.stats().dropped[reason as usize]
    }
}
