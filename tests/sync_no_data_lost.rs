//! The "no data lost" test: eight sync nodes on 127.0.0.1, 10,000 distinct keys written by
//! four threads on four nodes at once, one non-writing node closed midway and replaced by a
//! new node on a new port. Every surviving node must end with the same table (values, owners
//! and times) holding every key, within a bounded time; progress is polled, never slept on.

use rs2p::api::{SyncEntry, SyncTable, SyncTableConfig};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const NODES: usize = 8;
const WRITERS: usize = 4;
const KEYS: usize = 10_000;
const DEADLINE: Duration = Duration::from_secs(60);

fn table() -> SyncTable {
    SyncTableConfig::new()
        .build()
        .expect("a sync node binds a free loopback port")
}

/// Polls `cond` until it holds or `deadline` passes; true if it held.
fn wait_until(deadline: Instant, mut cond: impl FnMut() -> bool) -> bool {
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    cond()
}

fn linked(a: &SyncTable, b: &SyncTable) -> bool {
    a.peers().iter().any(|p| p.id == b.id())
}

/// Dials `b` from `a` and waits for the handshake.
fn link(a: &SyncTable, b: &SyncTable, deadline: Instant) {
    if linked(a, b) {
        return;
    }
    // A dial may race one made from a peer list; the handshake decides which link stays.
    let _ = a.connect("127.0.0.1", b.local_port());
    assert!(
        wait_until(deadline, || linked(a, b) && linked(b, a)),
        "{} and {} did not connect",
        a.id(),
        b.id()
    );
}

fn sorted(mut entries: Vec<SyncEntry>) -> Vec<SyncEntry> {
    entries.sort_by(|x, y| x.key.cmp(&y.key));
    entries
}

#[test]
fn eight_nodes_ten_thousand_keys_one_restart_every_key_everywhere() {
    let deadline = Instant::now() + DEADLINE;
    let mut nodes: Vec<SyncTable> = (0..NODES).map(|_| table()).collect();
    // Each node dials the two before it: losing any one node leaves the rest connected.
    for i in 1..NODES {
        link(&nodes[i], &nodes[i - 1], deadline);
        if i >= 2 {
            link(&nodes[i], &nodes[i - 2], deadline);
        }
    }

    let written = Arc::new(AtomicUsize::new(0));
    // Set just before the node leaves: writers hold their second half until then, so the
    // leave and the rejoin happen while keys are being written.
    let leaving_now = Arc::new(AtomicBool::new(false));
    let per_writer = KEYS / WRITERS;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let node = nodes[w].clone();
            let written = written.clone();
            let leaving_now = leaving_now.clone();
            thread::spawn(move || {
                for i in 0..per_writer {
                    if i == per_writer / 2 {
                        let go = wait_until(deadline, || leaving_now.load(Ordering::Acquire));
                        assert!(go, "the restart never began");
                    }
                    let key = format!("w{w}-k{i:05}");
                    let value = format!("value {i} from writer {w}");
                    node.set(key, value)
                        .expect("distinct keys are never leased");
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Midway, the last node (not a writer) leaves and a new node joins in its place.
    assert!(
        wait_until(deadline, || written.load(Ordering::Relaxed) >= KEYS / 2),
        "the writers stalled at {} keys",
        written.load(Ordering::Relaxed)
    );
    let leaving = nodes.pop().expect("eight nodes");
    leaving_now.store(true, Ordering::Release);
    leaving.close();
    drop(leaving);
    let newcomer = table();
    link(&newcomer, &nodes[NODES - 2], deadline);
    link(&newcomer, &nodes[NODES - 3], deadline);
    nodes.push(newcomer);

    for writer in writers {
        writer.join().expect("a writer thread panicked");
    }
    let all_there = wait_until(deadline, || nodes.iter().all(|n| n.len() == KEYS));
    let lengths: Vec<usize> = nodes.iter().map(|n| n.len()).collect();
    assert!(all_there, "table sizes after the deadline: {lengths:?}");

    let reference = sorted(nodes[0].entries());
    assert_eq!(reference.len(), KEYS);
    for (i, node) in nodes.iter().enumerate().skip(1) {
        assert!(
            sorted(node.entries()) == reference,
            "node {i} holds a different table"
        );
    }
    for (w, writer) in nodes.iter().take(WRITERS).enumerate() {
        let key = format!("w{w}-k{:05}", per_writer - 1);
        assert_eq!(
            nodes[NODES - 1].metadata(&key).map(|m| m.0),
            Some(writer.id().to_owned()),
            "the last key of writer {w} is owned by it"
        );
    }
    for node in &nodes {
        node.close();
    }
}
