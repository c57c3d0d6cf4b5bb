//! Throughput of 64-byte broadcasts over one hop between two nodes in one process.
//! Not a test: it measures and prints.
//! `cargo run --release --example mesh_throughput [N] [single]`

use rs2p::api::{DropReason, MeshNode, MeshNodeConfig, SendMode, Value};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    // `single` sends one message per call instead of batches of 1024 through send_many.
    let batch = if std::env::args().nth(2).as_deref() == Some("single") {
        1
    } else {
        1024u64
    };
    let sender = MeshNodeConfig::new().max_outgoing(0).build()?;
    let receiver = MeshNodeConfig::new()
        .max_outgoing(0)
        .recv_queue_capacity(1 << 20)
        .dispatch_capacity(1 << 20)
        .build()?;
    sender.connect("127.0.0.1", receiver.local_port())?;
    while sender.peers().is_empty() || receiver.peers().is_empty() {
        std::thread::sleep(Duration::from_millis(1));
    }

    let reader = {
        let receiver: MeshNode = receiver.clone();
        std::thread::spawn(move || {
            let mut got = 0u64;
            while got < total {
                match receiver.recv(Duration::from_secs(5)) {
                    Some(_) => got += 1,
                    None => break,
                }
            }
            got
        })
    };

    let start = Instant::now();
    let mut seq = 0u64;
    while seq < total {
        let n = batch.min(total - seq);
        let messages: Vec<Vec<Value>> = (seq..seq + n)
            .map(|i| {
                let mut payload = [0u8; 64];
                payload[..8].copy_from_slice(&i.to_le_bytes());
                vec![Value::Bin(payload.to_vec())]
            })
            .collect();
        if batch == 1 {
            sender.send_with(
                messages.into_iter().flatten(),
                SendMode::Block(Duration::from_secs(30)),
            )?;
        } else {
            sender.send_many(messages, SendMode::Block(Duration::from_secs(30)))?;
        }
        seq += n;
    }
    let sent_in = start.elapsed();
    let got = reader.join().map_err(|_| "reader panicked")?;
    let elapsed = start.elapsed();
    let stats = receiver.stats();
    println!(
        "sent {total} x 64 B in {:.3}s ({:.0} msgs/s handed over)",
        sent_in.as_secs_f64(),
        total as f64 / sent_in.as_secs_f64()
    );
    println!(
        "received {got} in {:.3}s: {:.0} msgs/s end to end; shed {}, duplicates {}",
        elapsed.as_secs_f64(),
        got as f64 / elapsed.as_secs_f64(),
        stats.recv_queue_shed + stats.dispatch_shed,
        stats.mesh.dropped[DropReason::Duplicate as usize],
    );
    if got < total {
        eprintln!("sender {:?}\nreceiver {:?}", sender.stats(), stats);
    }
    sender.close();
    receiver.close();
    Ok(())
}
