//! Real-socket tests of the API pieces the C mesh API needs: explicit sub-flags for broadcasts
//! and whispers, consuming callbacks, dialling in the background, the pending-handshake count
//! and the handshake-timeout setting.

mod common;
use common::wait_until;

use rs2p::api::{MeshNode, MeshNodeConfig, NodeEvent, SendMode, Value};
use rs2p::wire::flags;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

fn node() -> MeshNode {
    MeshNodeConfig::new()
        .max_outgoing(0)
        .build()
        .expect("a node binds a free loopback port")
}

/// Dials in the background and waits until both sides list each other.
fn link(a: &MeshNode, b: &MeshNode) {
    a.connect_in_background("127.0.0.1", b.local_port())
        .expect("dial starts");
    assert!(
        wait_until(DEADLINE, || a.peers().iter().any(|p| p.id == b.id())
            && b.peers().iter().any(|p| p.id == a.id())),
        "handshake did not complete"
    );
}

fn bin(text: &str) -> Value {
    Value::Bin(text.as_bytes().to_vec())
}

#[test]
fn broadcasts_and_whispers_keep_the_chosen_sub_flag() {
    let (a, b) = (node(), node());
    link(&a, &b);
    // The core hands users sub-flags 0x00 and 0x02 only (others count as UnknownFlag), so
    // each call uses the other's usual sub-flag.
    a.send_sub_flag(
        flags::sub::WHISPER,
        vec![bin("custom")],
        SendMode::Block(DEADLINE),
    )
    .expect("send");
    let got = b.recv(DEADLINE).expect("broadcast arrives");
    assert_eq!(
        (got.msg_type, got.sub_flag, got.packets),
        (flags::BROADCAST, flags::sub::WHISPER, vec![bin("custom")])
    );
    a.whisper_sub_flag(b.id(), flags::sub::BROADCAST, vec![bin("quiet")])
        .expect("whisper");
    let got = b.recv(DEADLINE).expect("whisper arrives");
    assert_eq!(
        (got.msg_type, got.sub_flag, got.packets),
        (flags::WHISPER, flags::sub::BROADCAST, vec![bin("quiet")])
    );
    assert_eq!(a.stats().pending_handshakes, 0);
    a.close();
    b.close();
}

#[test]
fn a_consuming_callback_keeps_messages_out_of_the_queue() {
    let (a, b) = (node(), node());
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = taken.clone();
    b.on_event_consuming(move |_, event| match event {
        NodeEvent::Message(m) if m.packets == vec![bin("take me")] => {
            counter.fetch_add(1, Ordering::SeqCst);
            true
        }
        _ => false,
    });
    link(&a, &b);
    a.send([b"take me".as_slice()]).expect("send");
    a.send([b"leave me".as_slice()]).expect("send");
    let queued = b.recv(DEADLINE).expect("the unconsumed message is queued");
    assert_eq!(queued.packets, vec![bin("leave me")]);
    assert_eq!(taken.load(Ordering::SeqCst), 1);
    assert!(b.recv(Duration::ZERO).is_none(), "the consumed one is not");
    a.close();
    b.close();
}

#[test]
fn background_dial_on_a_closed_node_fails_and_handshake_timeout_is_set() {
    let config = MeshNodeConfig::new().handshake_timeout_s(3);
    assert_eq!(config.handshake_timeout_s, 3);
    let a = config.build().expect("node");
    a.close();
    assert!(matches!(
        a.connect_in_background("127.0.0.1", 9),
        Err(rs2p::api::Error::Closed)
    ));
}
