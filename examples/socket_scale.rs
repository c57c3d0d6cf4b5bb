//! How many real mesh nodes one process holds on 127.0.0.1, and what each costs.
//!
//! Starts N `rs2p::api::MeshNode`s (real sockets, the real driver threads), each dialling one
//! random earlier node; `max_outgoing` (4) dials the rest from the peer lists. Then it waits
//! for the mesh to settle, checks that it is one connected network, sends one broadcast and
//! waits (bounded) for every node to get it. Prints threads, file descriptors and resident
//! memory per node, the time to form the mesh and the broadcast's delivery times.
//!
//! Not a test (it asserts nothing; a failure is reported and ends with a non-zero status) and
//! not the simulator (docs/simulator.md, "Real sockets", records what it measured here).
//!
//! `cargo run --release --example socket_scale -- --nodes 1000 [--seed 1] [--settle-timeout 120]`

use rs2p::api::{MeshNode, MeshNodeConfig, NodeEvent, Value};
use rs2p::sim::rng::Rng;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    nodes: usize,
    seed: u64,
    settle_timeout: Duration,
    broadcast_timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        nodes: 100,
        seed: 1,
        settle_timeout: Duration::from_secs(120),
        broadcast_timeout: Duration::from_secs(30),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = || -> Result<u64, String> {
            let v = it.next().ok_or(format!("{flag} needs a value"))?;
            v.replace('_', "")
                .parse()
                .map_err(|_| format!("{flag} wants an unsigned integer, got {v:?}"))
        };
        match flag.as_str() {
            "--nodes" => args.nodes = number()? as usize,
            "--seed" => args.seed = number()?,
            "--settle-timeout" => args.settle_timeout = Duration::from_secs(number()?),
            "--broadcast-timeout" => args.broadcast_timeout = Duration::from_secs(number()?),
            "-h" | "--help" => {
                return Err(
                    "usage: socket_scale [--nodes N] [--seed S] [--settle-timeout SECONDS] \
                            [--broadcast-timeout SECONDS]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    if args.nodes < 2 {
        return Err("--nodes needs at least 2".into());
    }
    Ok(args)
}

/// Threads, open file descriptors and resident bytes of this process.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    threads: u64,
    fds: u64,
    rss: u64,
}

fn usage() -> Usage {
    let threads = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0);
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    let rss = rs2p::sim::memory::resident_bytes().unwrap_or(0);
    Usage { threads, fds, rss }
}

/// Raises the soft limit on open files to the hard limit; returns `(before, after)`.
fn raise_fd_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (0, 0);
        }
        let before = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            return (before, before);
        }
        (before, lim.rlim_cur)
    }
}

fn per_node(after: u64, before: u64, nodes: usize) -> f64 {
    after.saturating_sub(before) as f64 / nodes as f64
}

/// Handshaken peers per node, and the size of node 0's connected component.
fn survey(nodes: &[MeshNode], index: &HashMap<String, usize>) -> (Vec<usize>, usize) {
    let peers: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            n.peers()
                .iter()
                .filter_map(|p| index.get(&p.id).copied())
                .collect()
        })
        .collect();
    let degrees = peers.iter().map(Vec::len).collect();
    let mut seen = vec![false; nodes.len()];
    let mut stack = vec![0usize];
    seen[0] = true;
    let mut component = 0;
    while let Some(i) = stack.pop() {
        component += 1;
        for &j in &peers[i] {
            if !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    (degrees, component)
}

fn run(args: &Args) -> Result<(), String> {
    let (soft_before, soft_after) = raise_fd_limit();
    println!(
        "command: {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "nodes {}, seed {}, max_outgoing 4, open-files limit {soft_before} -> {soft_after}, {} cores",
        args.nodes,
        args.seed,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rng = Rng::new(args.seed);
    let base = usage();
    let started = Instant::now();

    // 1. Start the nodes, each dialling one random earlier node.
    let mut nodes: Vec<MeshNode> = Vec::with_capacity(args.nodes);
    let mut failure = None;
    // Sampled as nodes start: once the process is out of file descriptors it cannot read /proc.
    let mut last_sample = (0usize, base);
    for i in 0..args.nodes {
        if i % 50 == 0 {
            last_sample = (i, usage());
        }
        let node = match MeshNodeConfig::new().max_outgoing(4).build() {
            Ok(n) => n,
            Err(e) => {
                failure = Some(format!("node {i} did not start: {e}"));
                break;
            }
        };
        if i > 0 {
            let target = nodes[rng.below(i as u64) as usize].local_port();
            if let Err(e) = node.connect("127.0.0.1", target) {
                failure = Some(format!("node {i} could not dial port {target}: {e}"));
                nodes.push(node);
                break;
            }
        }
        nodes.push(node);
    }
    let started_in = started.elapsed();
    println!(
        "started {} nodes in {:.1} s",
        nodes.len(),
        started_in.as_secs_f64()
    );
    if let Some(why) = failure {
        let (at, u) = last_sample;
        println!(
            "FAILED: {why}\n  last sample, with {at} nodes started: {} threads, {} fds, RSS {:.0} MiB",
            u.threads,
            u.fds,
            u.rss as f64 / (1 << 20) as f64
        );
        close_all(&nodes);
        return Err(why);
    }
    let index: HashMap<String, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id().to_owned(), i))
        .collect();

    // 2. Wait until every node has a peer and the number of connections has not changed for
    //    three seconds (bounded by --settle-timeout).
    let stable_for = Duration::from_secs(3);
    let deadline = Instant::now() + args.settle_timeout;
    let mut last_total = usize::MAX;
    let mut last_change = Instant::now();
    let mut formed_at = None;
    loop {
        let (degrees, _) = survey(&nodes, &index);
        let total: usize = degrees.iter().sum();
        let now = Instant::now();
        if total != last_total {
            last_total = total;
            last_change = now;
        }
        let all_have_peers = degrees.iter().all(|&d| d > 0);
        if all_have_peers && now - last_change >= stable_for {
            formed_at = Some(last_change - started);
            break;
        }
        if now >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let (degrees, component) = survey(&nodes, &index);
    let formed = usage();
    let total_peers: usize = degrees.iter().sum();
    println!(
        "mesh: {} ({} connections, mean degree {:.2}, max degree {}, nodes without peers {}); \
         node 0's component: {} of {}",
        match formed_at {
            Some(t) => format!(
                "settled {:.1} s after the first node started",
                t.as_secs_f64()
            ),
            None => format!("NOT settled within {} s", args.settle_timeout.as_secs()),
        },
        total_peers / 2,
        total_peers as f64 / nodes.len() as f64,
        degrees.iter().max().copied().unwrap_or(0),
        degrees.iter().filter(|&&d| d == 0).count(),
        component,
        nodes.len()
    );
    let n = nodes.len();
    println!(
        "per node: {:.2} threads, {:.2} fds, {:.0} KiB RSS  (process: {} threads, {} fds, {:.0} MiB RSS)",
        per_node(formed.threads, base.threads, n),
        per_node(formed.fds, base.fds, n),
        per_node(formed.rss, base.rss, n) / 1024.0,
        formed.threads,
        formed.fds,
        formed.rss as f64 / (1 << 20) as f64
    );

    // 3. One broadcast from a random node; every other node must get it.
    let token = format!("socket-scale {}", args.seed);
    let reached = Arc::new(AtomicUsize::new(0));
    // Arrival times in µs since `started` (0: not yet).
    let arrival_us: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    for (i, node) in nodes.iter().enumerate() {
        let (reached, arrival_us, token) = (reached.clone(), arrival_us.clone(), token.clone());
        node.on_event(move |_, event| {
            if let NodeEvent::Message(m) = event {
                if m.packets.first() == Some(&Value::Str(token.clone()))
                    && arrival_us[i].load(Ordering::Relaxed) == 0
                {
                    let us = started.elapsed().as_micros().max(1) as u64;
                    arrival_us[i].store(us, Ordering::Relaxed);
                    reached.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let frames_before: u64 = nodes.iter().map(|x| x.stats().mesh.frames_out).sum();
    let origin = rng.below(n as u64) as usize;
    let sent_at = Instant::now();
    let sent_us = started.elapsed().as_micros() as u64;
    nodes[origin]
        .send([Value::Str(token.clone())])
        .map_err(|e| format!("node {origin} could not broadcast: {e}"))?;
    let deadline = sent_at + args.broadcast_timeout;
    while reached.load(Ordering::Relaxed) < n - 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Let stragglers' relays finish before counting frames (bounded).
    std::thread::sleep(Duration::from_millis(500));
    let frames_after: u64 = nodes.iter().map(|x| x.stats().mesh.frames_out).sum();
    let mut times: Vec<u64> = arrival_us
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .filter(|&t| t > 0)
        .map(|t| t.saturating_sub(sent_us))
        .collect();
    times.sort_unstable();
    let time_to = |fraction: f64| {
        let need = ((fraction * (n - 1) as f64).ceil() as usize).max(1);
        times.get(need - 1).map_or("never".to_owned(), |us| {
            format!("{:.1} ms", *us as f64 / 1000.0)
        })
    };
    println!(
        "broadcast from node {origin}: reached {} of {} ({:.2} %), 99 % after {}, 100 % after {}, \
         {:.2} frames per node",
        times.len(),
        n - 1,
        100.0 * times.len() as f64 / (n - 1) as f64,
        time_to(0.99),
        time_to(1.0),
        frames_after.saturating_sub(frames_before) as f64 / n as f64
    );

    // 4. Close everything.
    let closing = Instant::now();
    close_all(&nodes);
    println!(
        "closed {n} nodes in {:.1} s; total run {:.1} s",
        closing.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if times.len() < n - 1 || component < n {
        return Err("the mesh did not reach every node".into());
    }
    Ok(())
}

fn close_all(nodes: &[MeshNode]) {
    for node in nodes {
        node.close();
    }
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("socket_scale: {e}");
            ExitCode::FAILURE
        }
    }
}
