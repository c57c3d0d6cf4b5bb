//! Messages reach `recv` in arrival order whether they go straight from the I/O thread to the
//! receive queue (no callback registered) or through the dispatcher (after one is), including
//! across the moment a callback is registered while messages stream in.

mod common;
use common::wait_until;

use rs2p::api::{MeshNode, MeshNodeConfig, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WAIT_LIMIT: Duration = Duration::from_secs(30);

fn node() -> MeshNode {
    MeshNodeConfig::new().max_outgoing(0).build().expect("node")
}

#[test]
fn order_is_kept_across_registering_a_callback_mid_stream() {
    const HALF: u64 = 10_000;
    let a = node();
    let b = node();
    a.connect("127.0.0.1", b.local_port()).expect("dial");
    assert!(wait_until(WAIT_LIMIT, || a.peers().len() == 1 && b.peers().len() == 1));
    let (registered_tx, registered_rx) = std::sync::mpsc::channel::<()>();
    let sender = {
        let a = a.clone();
        std::thread::spawn(move || {
            let send = |range: std::ops::Range<u64>| {
                for chunk in range.collect::<Vec<_>>().chunks(500) {
                    let batch = chunk.iter().map(|&i| vec![Value::UInt(i)]).collect();
                    a.send_many(batch, rs2p::api::SendMode::Block(Duration::from_secs(30)))
                        .expect("send");
                }
            };
            // The first half streams in before the callback exists (the direct path), the
            // second after it was registered (through the dispatcher).
            send(0..HALF);
            let _ = registered_rx.recv();
            send(HALF..2 * HALF);
        })
    };
    assert!(
        wait_until(WAIT_LIMIT, || b.stats().recv_queue_len > 0),
        "the stream started"
    );
    let seen_by_callback = Arc::new(AtomicU64::new(0));
    {
        let seen = seen_by_callback.clone();
        b.on_event(move |_, _| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
    }
    registered_tx.send(()).expect("sender waits");
    for next in 0..2 * HALF {
        let m = b
            .recv(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("message {next} never came"));
        assert_eq!(m.packets, vec![Value::UInt(next)], "in order");
    }
    sender.join().expect("sender");
    assert!(
        wait_until(WAIT_LIMIT, || seen_by_callback.load(Ordering::Relaxed)
            >= HALF),
        "the callback saw every message sent after it was registered"
    );
    assert_eq!(b.stats().recv_queue_shed, 0);
}
