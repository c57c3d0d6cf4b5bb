//! close() writes out what was sent just before it: a message sent and then closed at once
//! still reaches the peer, and a peer that never reads cannot hold close() up beyond its
//! bound.

mod common;
use common::{silent_peer, wait_until};

use rs2p::api::{MeshNode, MeshNodeConfig, Value};
use std::collections::HashSet;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn node() -> MeshNode {
    MeshNodeConfig::new().max_outgoing(0).build().expect("node")
}

#[test]
fn a_message_sent_just_before_close_reaches_the_peer() {
    let receiver = node();
    const SENDERS: u64 = 8;
    for i in 0..SENDERS {
        // close() returns once the queue is written out; the bound is only there for a peer
        // that stops reading, so here it is the test's deadline, not the 2 s default a busy
        // machine could overrun.
        let sender = MeshNodeConfig::new()
            .max_outgoing(0)
            .close_flush_timeout(DEADLINE)
            .build()
            .expect("sender");
        sender
            .connect("127.0.0.1", receiver.local_port())
            .expect("dial");
        assert!(wait_until(DEADLINE, || sender.peers().len() == 1));
        sender
            .send([Value::UInt(i), Value::Bin(vec![9u8; 100_000])])
            .expect("send");
        sender.close();
    }
    let mut got = HashSet::new();
    while got.len() < SENDERS as usize {
        let Some(m) = receiver.recv(Duration::from_secs(10)) else {
            break;
        };
        if let Some(Value::UInt(i)) = m.packets.first() {
            got.insert(*i);
        }
    }
    assert_eq!(
        got.len() as u64,
        SENDERS,
        "every sender's last message arrived; got {got:?}"
    );
    receiver.close();
}

#[test]
fn close_is_bounded_when_a_peer_never_reads() {
    let node = MeshNodeConfig::new()
        .max_outgoing(0)
        .write_limits(64 << 20, 256 << 20)
        .close_flush_timeout(Duration::from_millis(200))
        .build()
        .expect("node");
    let (silent, silent_id) = silent_peer(&node);
    assert!(wait_until(DEADLINE, || node
        .peers()
        .iter()
        .any(|p| p.id == silent_id)));
    // More than the kernel buffers hold: the rest stays queued in the node.
    for i in 0..64u64 {
        node.send([Value::UInt(i), Value::Bin(vec![1u8; 256 << 10])])
            .expect("send");
    }
    assert!(wait_until(DEADLINE, || node.stats().write_buffered > 0));
    // Returns (after its flush bound) although the peer never takes the queued bytes.
    node.close();
    assert!(node.is_closed());
    drop(silent);
}
