//! A small chord network in one process: four storing nodes on 127.0.0.1 and one leeching
//! node that only reads and writes through them. Shows join, set, get (blocking and many at
//! once), delete, deltas and key events.
//!
//! Run: `cargo run --release --example chord_table`

use rs2p::api::{ChordTable, ChordTableConfig, KeyChange, Result};
use std::time::{Duration, Instant};

fn main() -> Result<()> {
    let storing: Vec<ChordTable> = (0..4)
        .map(|_| ChordTableConfig::new().build())
        .collect::<Result<_>>()?;
    // Join before connecting, as the reference implementation needs (rs2p does not mind).
    for node in &storing {
        node.join()?;
    }
    for node in &storing[1..] {
        node.connect("127.0.0.1", storing[0].local_port())?;
    }
    let client = ChordTableConfig::new().build()?;
    client.on_chord_event(|_, change| match change {
        KeyChange::Added(key) => println!("event: key {:?} added", String::from_utf8_lossy(key)),
        KeyChange::Deleted(key) => {
            println!("event: key {:?} deleted", String::from_utf8_lossy(key))
        }
    });
    client.connect("127.0.0.1", storing[0].local_port())?;
    wait_for("the client to see four storing peers", || {
        client.chord_stats().storing_peers == 4
    });

    storing[1].set("colour", "green")?;
    // A node reads its own writes at once; others see them once the stores have landed.
    println!(
        "storing node 1 reads colour = {:?}",
        storing[1].get("colour")?
    );
    wait_for("the client to read colour", || {
        client.get("colour").ok().flatten().is_some()
    });
    println!("the client reads colour = {:?}", client.get("colour")?);

    client.apply_delta("profile", [("name", "ada")])?;
    client.apply_delta("profile", [("lang", "rust")])?;
    println!("profile = {:?}", client.get("profile")?);

    let started = Instant::now();
    for i in 0..1_000u32 {
        client.set(format!("n{i}"), i)?;
    }
    let reads: Vec<_> = (0..1_000u32)
        .map(|i| client.get_async(format!("n{i}"), Duration::from_secs(10)))
        .collect::<Result<_>>()?;
    let mut correct = 0;
    for (i, read) in reads.into_iter().enumerate() {
        if read.wait()? == Some(rs2p::api::Value::from(i as u64)) {
            correct += 1;
        }
    }
    println!(
        "1,000 writes, then 1,000 reads in flight at once, from the client: {correct} read \
         back correctly in {:?}",
        started.elapsed()
    );

    client.delete("colour")?;
    println!("after delete, colour = {:?}", client.get("colour")?);
    println!("keys the client knows: {}", client.len());
    Ok(())
}

/// Polls `cond` for up to ten seconds (an example may poll; tests use events or bounds).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        if Instant::now() > deadline {
            eprintln!("gave up waiting for {what}");
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
