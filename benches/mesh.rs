//! `cargo bench --bench mesh`: broadcast throughput and one-way latency of rs2p mesh nodes,
//! measured through the safe Rust API (`rs2p::api::MeshNode`) on 127.0.0.1 in one process.
//!
//! Scenarios: 64 B and 4 KiB packets over 1 hop (A → B) and over 3 hops (a line A-B-C-D built
//! with `max_outgoing(0)` so nobody dials extra peers; sent at A, counted at D); latency p50 /
//! p99 at a modest send rate, from a timestamp carried in the packet (one process, one clock).
//! Prints one JSON object per line (prefix `{"bench"`) and then a human table.
//!
//! Options (after `--`): `--scale F` multiplies the message counts (default 1.0),
//! `--only NAME` runs the scenarios whose name contains NAME. Not a test: nothing here asserts;
//! losses are reported, with the nodes' drop counters.

use rs2p::api::{DropReason, MeshNode, MeshNodeConfig, NodeStats, SendMode, Value};
use std::thread;
use std::time::{Duration, Instant};

/// How long a receiver waits for the next message before it declares the rest lost.
const IDLE_GIVE_UP: Duration = Duration::from_secs(5);
/// How long the nodes of a scenario have to connect.
const CONNECT_DEADLINE: Duration = Duration::from_secs(10);
/// Messages per `send_many` call for small packets (batches bound to about 64 KiB for big ones).
const BATCH_MESSAGES: usize = 1024;
/// The latency scenarios' send rate: low enough that no queue builds up.
const LATENCY_RATE_PER_S: u64 = 2_000;
const LATENCY_SAMPLES: usize = 4_000;
const LATENCY_WARMUP: usize = 200;

#[derive(Clone, Copy)]
enum Kind {
    Throughput { count: usize },
    Latency,
}

#[derive(Clone, Copy)]
struct Scenario {
    kind: Kind,
    size: usize,
    hops: usize,
}

impl Scenario {
    fn name(&self) -> String {
        let size = if self.size >= 1024 {
            format!("{}KiB", self.size / 1024)
        } else {
            format!("{}B", self.size)
        };
        let kind = match self.kind {
            Kind::Throughput { .. } => "throughput",
            Kind::Latency => "latency",
        };
        format!("{kind}_{size}_{}hop", self.hops)
    }
}

/// A chain of nodes, first to last, each connected to the next; every node's counters are
/// kept for the loss report.
struct Line {
    nodes: Vec<MeshNode>,
}

impl Line {
    /// `hops + 1` nodes in a line. Only the last one queues messages for `recv`; the middle
    /// ones relay (their receive queues hold nothing, so nothing piles up unread there).
    fn build(hops: usize) -> Result<Line, String> {
        let mut nodes = Vec::with_capacity(hops + 1);
        for index in 0..=hops {
            let last = index == hops;
            let queue = if last { 1 << 20 } else { 0 };
            let node = MeshNodeConfig::new()
                .max_outgoing(0)
                .recv_queue_capacity(queue)
                .dispatch_capacity(1 << 20)
                .send_timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| format!("starting node {index}: {e}"))?;
            nodes.push(node);
        }
        for pair in nodes.windows(2) {
            pair[0]
                .connect("127.0.0.1", pair[1].local_port())
                .map_err(|e| format!("connecting the line: {e}"))?;
        }
        let line = Line { nodes };
        line.wait_connected()?;
        Ok(line)
    }

    fn wait_connected(&self) -> Result<(), String> {
        let deadline = Instant::now() + CONNECT_DEADLINE;
        let last = self.nodes.len() - 1;
        loop {
            let ready = self.nodes.iter().enumerate().all(|(i, n)| {
                let want = if i == 0 || i == last { 1 } else { 2 };
                n.peers().len() == want
            });
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                let counts: Vec<usize> = self.nodes.iter().map(|n| n.peers().len()).collect();
                return Err(format!(
                    "the line did not connect in time; peers per node {counts:?}"
                ));
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    fn first(&self) -> &MeshNode {
        &self.nodes[0]
    }

    fn last(&self) -> &MeshNode {
        &self.nodes[self.nodes.len() - 1]
    }

    fn stats(&self) -> Vec<NodeStats> {
        self.nodes.iter().map(MeshNode::stats).collect()
    }

    fn close(self) {
        for node in &self.nodes {
            node.close();
        }
    }
}

/// A packet of `size` bytes: sequence number, then send time (ns since `origin`), then zeros.
fn packet(size: usize, seq: u64, origin: Instant) -> Value {
    let mut bytes = vec![0u8; size.max(16)];
    bytes[..8].copy_from_slice(&seq.to_le_bytes());
    let sent_ns = origin.elapsed().as_nanos() as u64;
    bytes[8..16].copy_from_slice(&sent_ns.to_le_bytes());
    Value::Bin(bytes)
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    bytes
        .get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
}

/// The sequence number and send time carried by a received message, if it is one of ours.
fn stamp_of(packets: &[Value]) -> Option<(u64, u64)> {
    match packets.first() {
        Some(Value::Bin(bytes)) => Some((read_u64(bytes, 0)?, read_u64(bytes, 8)?)),
        _ => None,
    }
}

/// What the last node of a line saw.
#[derive(Default)]
struct Received {
    distinct: usize,
    duplicates: usize,
    foreign: usize,
    latencies_ns: Vec<u64>,
    last_at: Option<Instant>,
}

/// Drains `node` with `recv` until `expected` distinct messages arrived or nothing came for
/// `IDLE_GIVE_UP`. Every message is taken off the queue once, so nothing is counted twice.
fn drain(node: MeshNode, expected: usize, origin: Instant, keep_latency: bool) -> Received {
    let mut seen = vec![false; expected];
    let mut got = Received::default();
    if keep_latency {
        got.latencies_ns.reserve(expected);
    }
    while got.distinct < expected {
        let Some(message) = node.recv(IDLE_GIVE_UP) else {
            break;
        };
        let now_ns = origin.elapsed().as_nanos() as u64;
        match stamp_of(&message.packets) {
            Some((seq, sent_ns)) if (seq as usize) < expected => {
                if std::mem::replace(&mut seen[seq as usize], true) {
                    got.duplicates += 1;
                } else {
                    got.distinct += 1;
                    if keep_latency {
                        got.latencies_ns.push(now_ns.saturating_sub(sent_ns));
                    }
                }
            }
            _ => got.foreign += 1,
        }
        got.last_at = Some(Instant::now());
    }
    got
}

/// Nonzero drop counters over all nodes of the line, by reason name, as JSON object members.
fn drops_json(stats: &[NodeStats]) -> String {
    let mut members = Vec::new();
    for (node, s) in stats.iter().enumerate() {
        for (reason, &count) in s.mesh.dropped.iter().enumerate() {
            if count > 0 {
                members.push(format!("\"node{node}.{}\":{count}", reason_name(reason)));
            }
        }
    }
    format!("{{{}}}", members.join(","))
}

fn reason_name(index: usize) -> String {
    const ALL: [DropReason; 16] = [
        DropReason::FrameTooLarge,
        DropReason::DecompressedTooLarge,
        DropReason::BadChecksum,
        DropReason::BadMsgpack,
        DropReason::BadMessageShape,
        DropReason::WrongProtocol,
        DropReason::HandshakeTimeout,
        DropReason::StalePartialFrame,
        DropReason::DuplicateConnection,
        DropReason::Expired,
        DropReason::Duplicate,
        DropReason::UnknownFlag,
        DropReason::SlowPeer,
        DropReason::PeerClosed,
        DropReason::QueueFull,
        DropReason::TooManyPending,
    ];
    ALL.iter()
        .find(|r| **r as usize == index)
        .map(|r| format!("{r:?}"))
        .unwrap_or_else(|| format!("reason{index}"))
}

/// One row of the human table, plus its JSON line.
struct Outcome {
    name: String,
    json: String,
    human: String,
}

fn run_throughput(s: Scenario, count: usize) -> Result<Outcome, String> {
    let line = Line::build(s.hops)?;
    let origin = Instant::now();
    let reader = {
        let last = line.last().clone();
        thread::spawn(move || drain(last, count, origin, false))
    };
    let batch = (BATCH_MESSAGES).min((64 * 1024 / s.size).max(16));
    let start = Instant::now();
    let mut seq = 0usize;
    let mut send_error = None;
    while seq < count {
        let n = batch.min(count - seq);
        let messages: Vec<Vec<Value>> = (seq..seq + n)
            .map(|i| vec![packet(s.size, i as u64, origin)])
            .collect();
        if let Err(e) = line
            .first()
            .send_many(messages, SendMode::Block(Duration::from_secs(30)))
        {
            send_error = Some(format!("send_many failed after {seq} messages: {e}"));
            break;
        }
        seq += n;
    }
    let handed_over = start.elapsed();
    let got = reader.join().map_err(|_| "the reader thread panicked")?;
    let elapsed = got
        .last_at
        .map(|t| t.duration_since(start))
        .unwrap_or(handed_over);
    let stats = line.stats();
    line.close();
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = got.distinct as f64 / secs;
    let mib = rate * s.size as f64 / (1024.0 * 1024.0);
    let lost = seq.saturating_sub(got.distinct);
    let name = s.name();
    let json = format!(
        "{{\"bench\":\"mesh\",\"impl\":\"rs2p-rust\",\"scenario\":\"{name}\",\"kind\":\"throughput\",\
         \"size\":{},\"hops\":{},\"sent\":{seq},\"received\":{},\"lost\":{lost},\"duplicates\":{},\
         \"seconds\":{secs:.4},\"msgs_per_s\":{rate:.0},\"mib_per_s\":{mib:.1},\
         \"send_handover_s\":{:.4},\"drops\":{}{}}}",
        s.size,
        s.hops,
        got.distinct,
        got.duplicates,
        handed_over.as_secs_f64(),
        drops_json(&stats),
        send_error
            .as_ref()
            .map(|e| format!(",\"error\":{e:?}"))
            .unwrap_or_default(),
    );
    let mut human = format!(
        "{rate:>12.0} msg/s {mib:>8.1} MiB/s  ({} msgs)",
        got.distinct
    );
    if lost > 0 || got.duplicates > 0 || send_error.is_some() {
        human += &format!(
            "  LOST {lost} dup {} drops {}",
            got.duplicates,
            drops_json(&stats)
        );
    }
    Ok(Outcome { name, json, human })
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn run_latency(s: Scenario) -> Result<Outcome, String> {
    let line = Line::build(s.hops)?;
    let origin = Instant::now();
    let total = LATENCY_WARMUP + LATENCY_SAMPLES;
    let reader = {
        let last = line.last().clone();
        thread::spawn(move || drain(last, total, origin, true))
    };
    let interval = Duration::from_nanos(1_000_000_000 / LATENCY_RATE_PER_S);
    let start = Instant::now();
    let mut sent = 0usize;
    for seq in 0..total {
        // Paced on a schedule, so a slow send does not shift the later ones.
        let due = start + interval * seq as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let message = vec![packet(s.size, seq as u64, origin)];
        if line
            .first()
            .send_with(message, SendMode::Block(Duration::from_secs(10)))
            .is_err()
        {
            break;
        }
        sent += 1;
    }
    let got = reader.join().map_err(|_| "the reader thread panicked")?;
    let stats = line.stats();
    line.close();
    // Sequence order is lost in `latencies_ns` only if messages arrive out of order, which a
    // line does not do; the first LATENCY_WARMUP arrivals are the warm-up.
    let mut samples: Vec<u64> = got
        .latencies_ns
        .iter()
        .skip(LATENCY_WARMUP)
        .copied()
        .collect();
    samples.sort_unstable();
    let us = |ns: u64| ns as f64 / 1000.0;
    let (p50, p99, max) = (
        us(percentile(&samples, 50.0)),
        us(percentile(&samples, 99.0)),
        us(samples.last().copied().unwrap_or(0)),
    );
    let lost = sent.saturating_sub(got.distinct);
    let name = s.name();
    let json = format!(
        "{{\"bench\":\"mesh\",\"impl\":\"rs2p-rust\",\"scenario\":\"{name}\",\"kind\":\"latency\",\
         \"size\":{},\"hops\":{},\"rate_per_s\":{LATENCY_RATE_PER_S},\"samples\":{},\"sent\":{sent},\
         \"received\":{},\"lost\":{lost},\"p50_us\":{p50:.1},\"p99_us\":{p99:.1},\"max_us\":{max:.1},\
         \"drops\":{}}}",
        s.size,
        s.hops,
        samples.len(),
        got.distinct,
        drops_json(&stats),
    );
    let mut human = format!("p50 {p50:>8.1} us  p99 {p99:>8.1} us  max {max:>8.1} us");
    if lost > 0 {
        human += &format!("  LOST {lost} drops {}", drops_json(&stats));
    }
    Ok(Outcome { name, json, human })
}

fn scenarios(scale: f64) -> Vec<Scenario> {
    let count = |n: f64| ((n * scale) as usize).max(100);
    let mut all = Vec::new();
    for (size, hops, n) in [
        (64, 1, 1_000_000.0),
        (4096, 1, 100_000.0),
        (64, 3, 400_000.0),
        (4096, 3, 50_000.0),
    ] {
        all.push(Scenario {
            kind: Kind::Throughput { count: count(n) },
            size,
            hops,
        });
    }
    for hops in [1, 3] {
        all.push(Scenario {
            kind: Kind::Latency,
            size: 64,
            hops,
        });
    }
    all
}

struct Options {
    scale: f64,
    only: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        scale: 1.0,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scale" => {
                options.scale = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|v: &f64| *v > 0.0)
                    .ok_or("--scale needs a positive number, e.g. --scale 0.1")?;
            }
            "--only" => options.only = Some(args.next().ok_or("--only needs a name part")?),
            // `cargo bench` passes `--bench`; other harness flags are ignored too.
            _ => {}
        }
    }
    Ok(options)
}

fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mesh bench: {e}");
            std::process::exit(2);
        }
    };
    let mut rows = Vec::new();
    let mut failed = false;
    for s in scenarios(options.scale) {
        if let Some(only) = &options.only {
            if !s.name().contains(only.as_str()) {
                continue;
            }
        }
        let outcome = match s.kind {
            Kind::Throughput { count } => run_throughput(s, count),
            Kind::Latency => run_latency(s),
        };
        match outcome {
            Ok(o) => {
                println!("{}", o.json);
                rows.push(o);
            }
            Err(e) => {
                failed = true;
                println!(
                    "{{\"bench\":\"mesh\",\"impl\":\"rs2p-rust\",\"scenario\":\"{}\",\"error\":{e:?}}}",
                    s.name()
                );
            }
        }
    }
    println!();
    println!("rs2p mesh, Rust API, 127.0.0.1, one process");
    for row in &rows {
        println!("  {:<24} {}", row.name, row.human);
    }
    if failed {
        std::process::exit(1);
    }
}
