//! Real-socket test on 127.0.0.1 of the mesh core's redial: a node whose dialled peer went
//! away dials the same address again on its own, so a peer that restarts there (new ID, same
//! port) is linked again without anyone calling `connect`.

mod common;
use common::wait_until;

use rs2p::api::{MeshNode, MeshNodeConfig};
use std::time::Duration;

/// Longer than the first three redials (1 + 2 + 4 s) with room for a busy machine.
const DEADLINE: Duration = Duration::from_secs(30);

fn node(port: u16) -> MeshNode {
    MeshNodeConfig::new()
        .port(port)
        .max_outgoing(0)
        .build()
        .expect("a node binds a loopback port")
}

#[test]
fn a_peer_restarting_on_the_same_port_is_redialled_and_linked_again() {
    let a = node(0);
    let b = node(0);
    let port = b.local_port();
    a.connect("127.0.0.1", port).expect("dial");
    assert!(
        wait_until(DEADLINE, || a.peers().iter().any(|p| p.id == b.id())),
        "a and b did not link"
    );
    b.close();
    assert!(
        wait_until(DEADLINE, || a.peers().is_empty()),
        "a did not notice b leave"
    );
    let b2 = node(port);
    assert!(
        wait_until(DEADLINE, || a.peers().iter().any(|p| p.id == b2.id())),
        "a did not redial {port}: redials {}",
        a.stats().mesh.redials
    );
    assert!(a.stats().mesh.redials >= 1);
    // a lists b2 once b2's handshake reached it, which can be before b2 has read a's: wait
    // on b2's own view too.
    assert!(
        wait_until(DEADLINE, || b2.peers().iter().any(|p| p.id == a.id())),
        "b2 never listed a as a peer"
    );
}
