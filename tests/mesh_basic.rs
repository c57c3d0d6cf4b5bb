//! Real-socket tests of the mesh API on 127.0.0.1: connecting, broadcasting, relaying,
//! whispering, replying to a non-neighbour, callbacks, and configuration errors.

mod common;
use common::wait_until;

use rs2p::api::{Error, MeshNode, MeshNodeConfig, NodeEvent, Value};
use std::sync::Arc;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// A node on a free port of 127.0.0.1 that dials nobody on its own.
fn node() -> MeshNode {
    MeshNodeConfig::new()
        .max_outgoing(0)
        .build()
        .expect("a node binds a free loopback port")
}

/// Connects `a` to `b` and waits until both list each other as peers.
fn link(a: &MeshNode, b: &MeshNode) {
    a.connect("127.0.0.1", b.local_port()).expect("dial");
    assert!(
        wait_until(DEADLINE, || a.peers().iter().any(|p| p.id == b.id())
            && b.peers().iter().any(|p| p.id == a.id())),
        "handshake between {} and {} did not complete",
        a.id(),
        b.id()
    );
}

fn bin(text: &str) -> Value {
    Value::Bin(text.as_bytes().to_vec())
}

fn recv(node: &MeshNode) -> rs2p::api::Message {
    node.recv(DEADLINE).expect("a message within the deadline")
}

#[test]
fn two_nodes_broadcast_both_ways() {
    let (a, b) = (node(), node());
    link(&a, &b);
    a.send([b"from a".as_slice()]).expect("send a");
    b.send(["text from b"]).expect("send b");
    let at_b = recv(&b);
    assert_eq!(at_b.packets, vec![bin("from a")]);
    assert_eq!(at_b.sender, a.id());
    let at_a = recv(&a);
    assert_eq!(at_a.packets, vec![Value::Str("text from b".into())]);
    assert_eq!(at_a.sender, b.id());
    assert!(
        a.recv(Duration::from_millis(50)).is_none(),
        "own broadcast is not echoed"
    );
    a.close();
    b.close();
}

#[test]
fn a_line_of_three_relays_broadcasts() {
    let (a, b, c) = (node(), node(), node());
    link(&a, &b);
    link(&b, &c);
    a.send([b"hop".as_slice(), b"two".as_slice()])
        .expect("send");
    let at_c = recv(&c);
    assert_eq!(at_c.packets, vec![bin("hop"), bin("two")]);
    assert_eq!(at_c.sender, a.id());
    assert_eq!(recv(&b).packets, at_c.packets);
    assert!(wait_until(DEADLINE, || b.stats().mesh.relayed >= 1));
    assert!(
        !a.peers().iter().any(|p| p.id == c.id()),
        "a and c are not neighbours"
    );
}

#[test]
fn whisper_goes_to_one_peer_only() {
    let (a, b, c) = (node(), node(), node());
    link(&a, &b);
    link(&a, &c);
    a.whisper(b.id(), [b"secret".as_slice()]).expect("whisper");
    let got = recv(&b);
    assert_eq!(got.packets, vec![bin("secret")]);
    assert_eq!(got.sub_flag, rs2p::wire::flags::sub::WHISPER);
    assert!(c.recv(Duration::from_millis(100)).is_none());
    match a.whisper("NoSuchPeer", [b"x".as_slice()]) {
        Err(Error::UnknownPeer { peer }) => assert_eq!(peer, "NoSuchPeer"),
        other => panic!("expected UnknownPeer, got {other:?}"),
    }
}

#[test]
fn reply_reaches_a_node_that_is_not_a_neighbour() {
    let (a, b, c) = (node(), node(), node());
    link(&a, &b);
    link(&b, &c);
    a.send([b"question".as_slice()]).expect("send");
    let question = recv(&c);
    assert_eq!(question.sender, a.id());
    question.reply([b"answer".as_slice()]).expect("reply");
    let answer = loop {
        let m = recv(&a);
        if m.packets == vec![bin("answer")] {
            break m;
        }
    };
    assert_eq!(answer.sender, c.id());
}

#[test]
fn reply_after_close_says_closed() {
    let (a, b) = (node(), node());
    link(&a, &b);
    a.send([b"x".as_slice()]).expect("send");
    let m = recv(&b);
    b.close();
    assert!(matches!(m.reply([b"late".as_slice()]), Err(Error::Closed)));
    assert!(matches!(b.send([b"late".as_slice()]), Err(Error::Closed)));
}

#[test]
fn callbacks_run_on_the_dispatcher_and_may_send_and_close() {
    let (a, b) = (node(), node());
    let (seen_tx, seen_rx) = crossbeam_channel::unbounded::<(String, String)>();
    b.on_event(move |node, event| {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        match event {
            NodeEvent::Connected { peer } => {
                let _ = seen_tx.send((thread, format!("connected {peer}")));
            }
            NodeEvent::Message(m) if m.packets == vec![bin("ping")] => {
                // A blocking API call from inside a callback.
                node.send([b"pong".as_slice()])
                    .expect("send from a callback");
                let _ = seen_tx.send((thread, "ping".into()));
            }
            NodeEvent::Message(m) if m.packets == vec![bin("stop")] => {
                node.close();
                let _ = seen_tx.send((thread, "closed".into()));
            }
            _ => {}
        }
    });
    link(&a, &b);
    let (thread, what) = seen_rx.recv_timeout(DEADLINE).expect("connected event");
    assert_eq!(what, format!("connected {}", a.id()));
    assert!(thread.ends_with("-events"), "callback ran on {thread:?}");
    a.send([b"ping".as_slice()]).expect("ping");
    assert_eq!(recv(&a).packets, vec![bin("pong")]);
    assert_eq!(seen_rx.recv_timeout(DEADLINE).expect("ping seen").1, "ping");
    a.send([b"stop".as_slice()]).expect("stop");
    assert_eq!(seen_rx.recv_timeout(DEADLINE).expect("closed").1, "closed");
    assert!(b.is_closed());
    assert!(
        wait_until(DEADLINE, || a.peers().is_empty()),
        "a sees b go away"
    );
}

#[test]
fn callbacks_see_events_in_order_and_recv_finds_the_message() {
    let (a, b) = (node(), node());
    let got = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sink = got.clone();
    b.on_event(move |node, event| {
        if let NodeEvent::Message(m) = event {
            let queued = node.recv(Duration::ZERO).map(|q| q.packets);
            sink.lock().push((m.packets.clone(), queued));
        }
    });
    link(&a, &b);
    for i in 0..50u64 {
        a.send([i]).expect("send");
    }
    assert!(wait_until(DEADLINE, || got.lock().len() == 50));
    for (i, (packets, queued)) in got.lock().iter().enumerate() {
        assert_eq!(packets, &vec![Value::UInt(i as u64)]);
        assert_eq!(queued.as_ref(), Some(packets));
    }
}

#[test]
fn configuration_errors_are_clear() {
    match MeshNodeConfig::new().encryption("SSL").build() {
        Err(Error::Unsupported(why)) => assert!(why.contains("SSL")),
        other => panic!(
            "expected Unsupported, got {:?}",
            other.map(|n| n.id().to_owned())
        ),
    }
    let a = node();
    match MeshNodeConfig::new().port(a.local_port()).build() {
        Err(e @ Error::AddrInUse { .. }) => assert!(e.to_string().contains("in use")),
        other => panic!(
            "expected AddrInUse, got {:?}",
            other.map(|n| n.id().to_owned())
        ),
    }
    let (_held, refused) = bound_but_not_listening();
    assert!(matches!(
        a.connect("127.0.0.1", refused),
        Err(Error::ConnectFailed { .. })
    ));
}

/// A TCP socket bound to a free port of 127.0.0.1 that never listens: dials to the port are
/// refused, and while the socket lives no other program can take the port (a listener bound
/// and closed again would leave it free for anyone, and a dial might then succeed).
fn bound_but_not_listening() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: socket() returns a new fd or -1; a valid one is owned from here on.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` is a fresh socket nobody else owns.
    let socket = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_in is plain data; all zeros is a valid value.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `addr` is a live sockaddr_in and `len` its size, for bind and getsockname.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        )
    };
    assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
    // SAFETY: as above; getsockname writes at most `len` bytes into `addr`.
    let named = unsafe {
        libc::getsockname(
            socket.as_raw_fd(),
            &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut len,
        )
    };
    assert_eq!(named, 0, "getsockname: {}", std::io::Error::last_os_error());
    (socket, u16::from_be(addr.sin_port))
}

#[test]
fn ids_follow_the_protocol_recipe() {
    let a = node();
    let b = node();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.out_addr(), ("127.0.0.1", a.local_port()));
    assert_eq!(
        a.protocol_id(),
        rs2p::wire::ids::protocol_id("mesh", "Plaintext")
    );
}
