//! Paced links: towards a peer that may be py2p (no rs2p marker in its handshake) every frame
//! is written on its own once the previous one has left the send queue. The frames must still
//! all arrive, whole and decodable, without stalling the node.

mod common;

use rs2p::api::{MeshNode, MeshNodeConfig, Value};
use rs2p::wire::frame::{self, FrameSplitter};
use rs2p::wire::{compression, flags, Limits};
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Connects a raw peer that offers the given compression methods and completes a handshake.
fn raw_peer(node: &MeshNode, methods: Vec<Value>) -> TcpStream {
    let (stream, _id) = common::raw_handshaken_peer(node, methods);
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    stream
}

/// Reads frames until `want` user broadcasts arrived or 20 s passed; returns their packets.
fn read_broadcasts(stream: &mut TcpStream, want: usize) -> Vec<Vec<Value>> {
    let mut splitter = FrameSplitter::new(Limits::DEFAULT);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < want && Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => splitter.push(&buf[..n]),
            Err(_) => continue, // read timeout: check the deadline
        }
        while let Some(body) = splitter.next_body().expect("well-formed frames") {
            let (message, _) = frame::decode_body(&body, &Limits::DEFAULT).expect("decodable");
            if message.msg_type == flags::BROADCAST
                && message.payload.first() == Some(&Value::UInt(flags::sub::BROADCAST.into()))
            {
                got.push(message.payload[1..].to_vec());
            }
        }
    }
    got
}

#[test]
fn every_frame_reaches_a_paced_peer() {
    let node = MeshNodeConfig::new().max_outgoing(0).build().expect("node");
    let methods = vec![Value::UInt(compression::Method::Zlib as u64)];
    let mut peer = raw_peer(&node, methods);
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.peers().is_empty() {
        assert!(Instant::now() < deadline, "handshake not accepted");
        std::thread::sleep(Duration::from_millis(5));
    }
    for i in 0..50u64 {
        node.send([Value::UInt(i)]).expect("send");
    }
    let got = read_broadcasts(&mut peer, 50);
    let expected: Vec<Vec<Value>> = (0..50u64).map(|i| vec![Value::UInt(i)]).collect();
    assert_eq!(got, expected);
}
