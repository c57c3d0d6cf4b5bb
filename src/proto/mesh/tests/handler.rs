//! The extension hook: a tiny handler that answers a custom sub-flag and records events.

use super::harness::{config, node_id, Net, T0};
use crate::proto::mesh::{ConnId, Mesh, MeshCtx, MeshHandler, Millis};
use crate::wire::frame::Message;
use crate::wire::{flags, Value};

const PING_FLAG: u8 = 0x30;
const PONG_FLAG: u8 = 0x31;

#[derive(Default)]
struct EchoHandler {
    handshakes: Vec<Vec<u8>>,
    pongs: usize,
    disconnected: Vec<Vec<u8>>,
    ticks: Vec<Millis>,
}

impl MeshHandler for EchoHandler {
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, peer: &[u8]) {
        assert_eq!(ctx.peer_of(conn), Some(peer));
        self.handshakes.push(peer.to_vec());
    }

    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, msg: &Message) -> bool {
        match msg.payload.first().and_then(Value::as_u64) {
            Some(f) if f == u64::from(PING_FLAG) => {
                let reply = [Value::UInt(PONG_FLAG.into())];
                ctx.send(conn, flags::WHISPER, &reply).expect("handshaken");
                true
            }
            Some(f) if f == u64::from(PONG_FLAG) => {
                self.pongs += 1;
                true
            }
            _ => false,
        }
    }

    fn on_disconnected(&mut self, _ctx: &mut MeshCtx<'_>, peer: &[u8]) {
        self.disconnected.push(peer.to_vec());
    }

    fn on_tick(&mut self, ctx: &mut MeshCtx<'_>) {
        self.ticks.push(ctx.now_ms());
    }
}

#[test]
fn a_handler_sees_handshakes_consumes_its_messages_and_hears_of_departures() {
    let nodes = (0..2)
        .map(|i| Mesh::with_handler(config(i), EchoHandler::default(), T0))
        .collect();
    let mut net = Net::with_nodes(nodes);
    net.connect(0, 1);
    net.run();
    assert_eq!(
        net.nodes[0].handler().handshakes,
        vec![node_id(1).into_bytes()]
    );
    assert_eq!(
        net.nodes[1].handler().handshakes,
        vec![node_id(0).into_bytes()]
    );

    let peer = node_id(1).into_bytes();
    net.nodes[0]
        .whisper(&peer, PING_FLAG, vec![], net.now)
        .expect("neighbour");
    net.run();
    assert_eq!(net.nodes[0].handler().pongs, 1);
    assert!(
        net.messages(0).is_empty() && net.messages(1).is_empty(),
        "consumed"
    );

    net.tick_to(T0 + 1000);
    assert_eq!(net.nodes[1].handler().ticks, vec![T0 + 1000]);

    let conn = net.nodes[0].peers()[0].conn;
    net.nodes[0].on_closed(conn, crate::proto::mesh::DropReason::PeerClosed, net.now);
    net.run();
    assert_eq!(net.nodes[0].handler().disconnected, vec![peer]);
}
