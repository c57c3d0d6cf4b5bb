//! Helpers shared by the real-socket integration tests. Not a test itself.

use rs2p::api::{MeshNode, SyncTable};
use rs2p::proto::mesh::RS2P_MARKER;
use rs2p::wire::{flags, frame, ids, Value};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Polls `cond` every few milliseconds until it holds or `limit` has passed; true if it
/// held. This is the bounded wait the tests use for conditions no event reports.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cond()
}

/// Dials `b` from sync node `a` and waits (up to `limit`) until both list each other as peers.
#[allow(dead_code)] // not every test binary uses it
pub fn link_tables(a: &SyncTable, b: &SyncTable, limit: Duration) {
    a.connect("127.0.0.1", b.local_port()).expect("dial");
    assert!(
        wait_until(limit, || a.peers().iter().any(|p| p.id == b.id())
            && b.peers().iter().any(|p| p.id == a.id())),
        "handshake between {} and {} did not complete",
        a.id(),
        b.id()
    );
}

/// Connects a raw socket to `node` and sends a valid handshake; the socket never reads.
#[allow(dead_code)] // not every test binary uses it
pub fn silent_peer(node: &MeshNode) -> (TcpStream, String) {
    raw_handshaken_peer(node, vec![Value::UInt(RS2P_MARKER.into())])
}

/// Connects a raw socket to `node` and sends a valid handshake offering `methods` (the
/// compression list); returns the socket and the ID it announced.
#[allow(dead_code)] // not every test binary uses it
pub fn raw_handshaken_peer(node: &MeshNode, methods: Vec<Value>) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", node.local_port())).expect("raw dial");
    let my_id = ids::node_id(
        &ids::out_addr_repr("127.0.0.1", 1),
        node.protocol_id(),
        &ids::new_salt(),
    );
    let payload = [
        Value::UInt(flags::sub::HANDSHAKE.into()),
        Value::Bin(my_id.as_bytes().to_vec()),
        Value::Bin(node.protocol_id().as_bytes().to_vec()),
        Value::Array(vec![Value::Str("127.0.0.1".into()), Value::UInt(1)]),
        Value::Array(methods),
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let packed = frame::pack(flags::WHISPER, my_id.as_bytes(), now, &payload);
    let mut out = Vec::new();
    frame::write_frame(&frame::message_id(&packed), &packed, None, &mut out);
    stream.write_all(&out).expect("send handshake");
    (stream, my_id)
}
