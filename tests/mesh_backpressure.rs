//! Bounded memory under load: a peer that stops reading is dropped as a slow peer while
//! others keep working; a full receive queue sheds and counts; a 10x overload loses nothing
//! silently.

mod common;
use common::{silent_peer, wait_until};

use rs2p::api::{DropReason, MeshNode, MeshNodeConfig, Value};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

fn link(a: &MeshNode, b: &MeshNode) {
    a.connect("127.0.0.1", b.local_port()).expect("dial");
    assert!(wait_until(DEADLINE, || !a.peers().is_empty() && !b.peers().is_empty()));
}

#[test]
fn a_peer_that_stops_reading_is_dropped_as_slow_while_others_keep_working() {
    const HARD: usize = 1 << 20;
    let a = MeshNodeConfig::new()
        .max_outgoing(0)
        .write_limits(64 << 10, HARD)
        .build()
        .expect("a");
    let b = MeshNodeConfig::new().max_outgoing(0).build().expect("b");
    link(&a, &b);
    let (_silent, silent_id) = silent_peer(&a);
    assert!(wait_until(DEADLINE, || a
        .peers()
        .iter()
        .any(|p| p.id == silent_id)));

    let drain = {
        let b = b.clone();
        std::thread::spawn(move || {
            let mut count = 0u64;
            while let Some(m) = b.recv(DEADLINE) {
                if m.packets.first() == Some(&Value::Bin(b"marker".to_vec())) {
                    return Some(count);
                }
                count += 1;
            }
            None
        })
    };

    let payload = vec![7u8; 1024];
    let mut sent = 0u64;
    let deadline = Instant::now() + DEADLINE;
    while a.stats().mesh.dropped[DropReason::SlowPeer as usize] == 0 {
        assert!(
            Instant::now() < deadline,
            "the silent peer was never dropped"
        );
        // Distinct packets: identical messages in the same second share an ID (deduplicated).
        a.send([Value::UInt(sent), Value::Bin(payload.clone())])
            .expect("sends keep working");
        sent += 1;
        let buffered = a.stats().write_buffered;
        assert!(
            buffered <= 2 * HARD as u64,
            "write buffers grew to {buffered}"
        );
    }
    assert!(wait_until(DEADLINE, || !a
        .peers()
        .iter()
        .any(|p| p.id == silent_id)));
    a.send([b"marker".as_slice()]).expect("marker");
    let received = drain.join().expect("drain thread");
    assert_eq!(
        received,
        Some(sent),
        "b got every message before the marker"
    );
    assert_eq!(a.stats().mesh.dropped[DropReason::SlowPeer as usize], 1);
}

#[test]
fn a_full_receive_queue_sheds_the_newest_and_counts_them() {
    let a = MeshNodeConfig::new().max_outgoing(0).build().expect("a");
    let b = MeshNodeConfig::new()
        .max_outgoing(0)
        .recv_queue_capacity(100)
        .build()
        .expect("b");
    link(&a, &b);
    for i in 0..300u64 {
        a.send([i]).expect("send");
    }
    assert!(wait_until(DEADLINE, || {
        let s = b.stats();
        s.recv_queue_len as u64 + s.recv_queue_shed + s.dispatch_shed == 300
    }));
    let stats = b.stats();
    assert_eq!(stats.recv_queue_len, 100);
    assert_eq!(stats.mesh.dropped[DropReason::QueueFull as usize], 200);
    for i in 0..100u64 {
        let m = b.recv(DEADLINE).expect("queued message");
        assert_eq!(
            m.packets,
            vec![Value::UInt(i)],
            "the oldest are kept, in order"
        );
    }
    assert!(b.recv(Duration::from_millis(20)).is_none());
}

#[test]
fn a_tenfold_overload_keeps_memory_bounded_and_accounts_for_every_message() {
    const CAPACITY: usize = 1000;
    let a = MeshNodeConfig::new()
        .max_outgoing(0)
        .write_limits(256 << 10, 16 << 20)
        .build()
        .expect("a");
    let b = MeshNodeConfig::new()
        .max_outgoing(0)
        .recv_queue_capacity(CAPACITY)
        .dispatch_capacity(CAPACITY)
        .build()
        .expect("b");
    link(&a, &b);
    let payload = vec![1u8; 256];
    let mut sent = 0u64;
    for i in 0..(10 * CAPACITY as u64) {
        if a.send([Value::UInt(i), Value::Bin(payload.clone())])
            .is_ok()
        {
            sent += 1;
        }
        if i % 500 == 0 {
            assert!(b.stats().recv_queue_len <= CAPACITY);
        }
    }
    assert!(sent > 0);
    assert!(
        wait_until(DEADLINE, || {
            let s = b.stats();
            assert!(s.recv_queue_len <= CAPACITY);
            s.recv_queue_len as u64 + s.mesh.dropped[DropReason::QueueFull as usize] == sent
        }),
        "sent {sent}, b: {:?}",
        b.stats()
    );
    let queued = b.stats().recv_queue_len;
    let mut received = std::collections::HashSet::new();
    while let Some(m) = b.recv(Duration::from_millis(20)) {
        received.insert(m.id);
    }
    assert_eq!(
        received.len(),
        queued,
        "every queued message comes out once"
    );
}

#[test]
fn sends_push_back_on_a_stalled_peer_until_it_is_dropped_as_slow() {
    let a = MeshNodeConfig::new()
        .max_outgoing(0)
        .write_limits(16 << 10, 64 << 20)
        .write_stall_timeout(Duration::from_millis(300))
        .build()
        .expect("a");
    let (_silent, silent_id) = silent_peer(&a);
    assert!(wait_until(DEADLINE, || a
        .peers()
        .iter()
        .any(|p| p.id == silent_id)));
    let payload = vec![3u8; 1024];
    let mut seq = 0u64;
    let mut pushed_back = false;
    let deadline = Instant::now() + DEADLINE;
    while a.stats().mesh.dropped[DropReason::SlowPeer as usize] == 0 {
        assert!(
            Instant::now() < deadline,
            "the stalled peer was never dropped"
        );
        seq += 1;
        match a.send_with(
            [Value::UInt(seq), Value::Bin(payload.clone())],
            rs2p::api::SendMode::NoWait,
        ) {
            Ok(()) => {}
            Err(rs2p::api::Error::WouldBlock) => {
                pushed_back = true;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("unexpected send error: {e}"),
        }
        assert!(a.stats().write_buffered < 64 << 20);
    }
    assert!(pushed_back, "sends were pushed back while the peer stalled");
    assert!(wait_until(DEADLINE, || a.peers().is_empty()));
    a.send([b"free again".as_slice()])
        .expect("no pressure once the peer is gone");
}
