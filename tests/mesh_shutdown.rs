//! close() leaves nothing behind: the port can be bound again and the process has the same
//! threads and file descriptors as before. One test only, so no other test's threads or
//! sockets are counted.

mod common;
use common::wait_until;

use rs2p::api::{MeshNode, MeshNodeConfig, NodeEvent};
use std::time::Duration;

fn count_entries(dir: &str) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn threads() -> usize {
    count_entries("/proc/self/task")
}

fn fds() -> usize {
    count_entries("/proc/self/fd")
}

const WAIT_LIMIT: Duration = Duration::from_secs(20);

fn node() -> MeshNode {
    MeshNodeConfig::new().max_outgoing(0).build().expect("node")
}

#[test]
fn close_frees_the_port_threads_and_fds() {
    let (threads_before, fds_before) = (threads(), fds());

    let a = node();
    let b = node();
    let c = node();
    // c closes itself from inside a callback when told to.
    c.on_event(|node, event| {
        if let NodeEvent::Message(m) = event {
            if m.packets == vec![rs2p::api::Value::Bin(b"quit".to_vec())] {
                node.close();
            }
        }
    });
    let ports = [a.local_port(), b.local_port(), c.local_port()];
    a.connect("127.0.0.1", b.local_port()).expect("a-b");
    a.connect("127.0.0.1", c.local_port()).expect("a-c");
    assert!(wait_until(WAIT_LIMIT, || a.peers().len() == 2));
    a.send([b"hello".as_slice()]).expect("send");
    assert!(b.recv(Duration::from_secs(20)).is_some());
    a.send([b"quit".as_slice()]).expect("send quit");
    assert!(wait_until(WAIT_LIMIT, || c.is_closed()));

    a.close();
    a.close(); // idempotent
    b.close();
    drop(b); // the last handle: Drop closes too (already closed here)
    drop(c);
    drop(a);

    for port in ports {
        std::net::TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("port {port} is still taken after close: {e}"));
    }
    assert!(
        wait_until(WAIT_LIMIT, || threads() == threads_before),
        "threads: {threads_before} before, {} after",
        threads()
    );
    assert!(
        wait_until(WAIT_LIMIT, || fds() == fds_before),
        "fds: {fds_before} before, {} after",
        fds()
    );
}
