//! Back-pressure through a relay: in a line A-B-C whose last link is slow to read, a burst
//! from A reaches C whole (B stops reading A while its queue towards C is full, and A's sends
//! wait), and a last link that never reads again still ends as a slow peer instead of freezing
//! B. The slow link is a TCP proxy between B and C whose B→C direction can be held shut.

mod common;
use common::wait_until;

use rs2p::api::{DropReason, MeshNode, MeshNodeConfig, SendMode, Value};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);
const B_SOFT: usize = 64 << 10;
const B_HARD: usize = 2 << 20;
const A_SOFT: usize = 256 << 10;
/// 4,000 messages of 4 KiB: far more than the kernel buffers plus B's hard limit hold.
const MESSAGES: u64 = 4_000;
const PACKET: usize = 4096;

/// A gate the proxy's B→C copy waits at; open at first.
#[derive(Default)]
struct Gate {
    shut: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn set_shut(&self, shut: bool) {
        if let Ok(mut s) = self.shut.lock() {
            *s = shut;
        }
        self.changed.notify_all();
    }

    fn wait_open(&self) {
        let Ok(mut shut) = self.shut.lock() else {
            return;
        };
        while *shut {
            shut = match self.changed.wait(shut) {
                Ok(s) => s,
                Err(_) => return,
            };
        }
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream, gate: Option<Arc<Gate>>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(gate) = &gate {
            gate.wait_open();
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// A proxy on 127.0.0.1 forwarding one connection to `target_port`; returns its port and the
/// gate of its forward direction. The listener's receive buffer is small, so bytes held at
/// the gate soon push back on the dialler.
fn proxy(target_port: u16) -> (u16, Arc<Gate>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
    set_small_receive_buffer(&listener);
    let port = listener.local_addr().expect("proxy addr").port();
    let gate = Arc::new(Gate::default());
    let forward_gate = gate.clone();
    thread::spawn(move || {
        let Ok((inbound, _)) = listener.accept() else {
            return;
        };
        let Ok(outbound) = TcpStream::connect(("127.0.0.1", target_port)) else {
            return;
        };
        let (Ok(inbound2), Ok(outbound2)) = (inbound.try_clone(), outbound.try_clone()) else {
            return;
        };
        thread::spawn(move || copy(outbound2, inbound2, None));
        copy(inbound, outbound, Some(forward_gate));
    });
    (port, gate)
}

fn set_small_receive_buffer(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 8 * 1024;
    // SAFETY: a valid socket fd owned by `listener`, and a pointer to a live c_int of the
    // length passed.
    unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

struct Line {
    a: MeshNode,
    b: MeshNode,
    c: MeshNode,
    gate: Arc<Gate>,
}

fn line(b_stall: Duration) -> Line {
    let a = MeshNodeConfig::new()
        .max_outgoing(0)
        .write_limits(A_SOFT, 64 << 20)
        .send_timeout(DEADLINE)
        .build()
        .expect("a");
    let b = MeshNodeConfig::new()
        .max_outgoing(0)
        .write_limits(B_SOFT, B_HARD)
        .write_stall_timeout(b_stall)
        .build()
        .expect("b");
    let c = MeshNodeConfig::new()
        .max_outgoing(0)
        .recv_queue_capacity(2 * MESSAGES as usize)
        .dispatch_capacity(2 * MESSAGES as usize)
        .build()
        .expect("c");
    let (proxy_port, gate) = proxy(c.local_port());
    a.connect("127.0.0.1", b.local_port()).expect("a-b");
    b.connect("127.0.0.1", proxy_port).expect("b-proxy-c");
    assert!(
        wait_until(DEADLINE, || a.peers().len() == 1
            && b.peers().len() == 2
            && c.peers().len() == 1),
        "the line did not connect"
    );
    Line { a, b, c, gate }
}

/// Sends the burst from `a` on a thread; returns how many sends succeeded.
fn burst(a: &MeshNode) -> thread::JoinHandle<u64> {
    let a = a.clone();
    thread::spawn(move || {
        let mut sent = 0;
        for seq in 0..MESSAGES {
            let mut bytes = vec![0u8; PACKET];
            bytes[..8].copy_from_slice(&seq.to_le_bytes());
            let batch = vec![vec![Value::Bin(bytes)]];
            if a.send_many(batch, SendMode::Block(DEADLINE)).is_err() {
                break;
            }
            sent += 1;
        }
        sent
    })
}

fn slow_peer_drops(node: &MeshNode) -> u64 {
    node.stats().mesh.dropped[DropReason::SlowPeer as usize]
}

#[test]
fn a_burst_through_a_relay_with_a_slow_last_link_arrives_whole() {
    let Line { a, b, c, gate } = line(Duration::from_secs(60));
    gate.set_shut(true);
    let sender = burst(&a);
    // Hold C's link shut until the burst has been pushed back to A (the fix) or B gave up on
    // C (the defect), then let it read.
    assert!(
        wait_until(DEADLINE, || {
            let held_back =
                a.stats().write_buffered > A_SOFT as u64 && b.stats().write_buffered > 0;
            held_back || slow_peer_drops(&b) > 0 || sender.is_finished()
        }),
        "neither pushed back nor dropped"
    );
    gate.set_shut(false);
    let sent = sender.join().expect("sender thread");
    assert_eq!(sent, MESSAGES, "every send was taken");

    let mut got = HashSet::new();
    while got.len() < MESSAGES as usize {
        let Some(m) = c.recv(Duration::from_secs(10)) else {
            break;
        };
        if let Some(Value::Bin(bytes)) = m.packets.first() {
            got.insert(bytes[..8].to_vec());
        }
    }
    assert_eq!(
        got.len() as u64,
        MESSAGES,
        "C got every message; drops at B {:?}, at C {:?}",
        b.stats().mesh.dropped,
        c.stats().mesh.dropped
    );
    assert_eq!(slow_peer_drops(&b), 0, "B kept its link to C");
    for node in [&a, &b, &c] {
        node.close();
    }
}

#[test]
fn a_last_link_that_never_reads_again_still_ends_as_a_slow_peer() {
    let Line { a, b, c, gate } = line(Duration::from_millis(500));
    gate.set_shut(true);
    let sender = burst(&a);
    assert!(
        wait_until(DEADLINE, || slow_peer_drops(&b) == 1),
        "B never dropped the stalled link; B {:?}",
        b.stats()
    );
    // B reads from A again: the whole burst is taken.
    let sent = sender.join().expect("sender thread");
    assert_eq!(sent, MESSAGES, "every send was taken once B dropped C");
    assert!(wait_until(DEADLINE, || b.peers().len() == 1));
    gate.set_shut(false);
    for node in [&a, &b, &c] {
        node.close();
    }
}

#[test]
fn a_node_joining_while_a_link_is_congested_gets_in() {
    let Line { a, b, c, gate } = line(Duration::from_secs(600));
    gate.set_shut(true);
    let sender = burst(&a);
    assert!(
        wait_until(DEADLINE, || a.stats().write_buffered > A_SOFT as u64
            && b.stats().write_buffered > 0),
        "the burst was not pushed back to A"
    );
    // B now reads neither A nor (without the handshake rule) anyone new.
    let d = MeshNodeConfig::new().max_outgoing(0).build().expect("d");
    d.connect("127.0.0.1", b.local_port()).expect("d-b");
    assert!(
        wait_until(DEADLINE, || b.peers().len() == 3),
        "B never read the joining node's handshake"
    );
    gate.set_shut(false);
    assert_eq!(sender.join().expect("sender thread"), MESSAGES);
    for node in [&a, &b, &c, &d] {
        node.close();
    }
}
