//! `cargo bench --bench sync`: how long N keys written at one rs2p sync node take to reach
//! every node of a network, measured through the safe Rust API (`rs2p::api::SyncTable`) on
//! 127.0.0.1 in one process.
//!
//! Networks (every node built with `max_outgoing(0)`, so nobody dials beyond the links below):
//! a line of 4 (each node dials the next) and a mesh of 10 (node i dials nodes i-1 and i-3
//! when they exist: 16 links, every node 2 to 4 links, at most 4 hops from node 0).
//! N = 1,000 and 10,000 keys (`k000000`...), each a 16-byte value, written with `set` one
//! after another at node 0 as fast as it accepts them. The clock runs from the first write
//! to the moment the last node's `len()` reaches N (a watcher polls every node's `len()`
//! every 100 µs, so times are exact to about 0.1 ms). Also reported: when the first node other
//! than the writer held all N, and how long the write loop itself took.
//! Prints one JSON object per line (prefix `{"bench"`) and then a human table.
//!
//! Options (after `--`): `--scale F` multiplies N (default 1.0), `--only NAME` runs the
//! scenarios whose name contains NAME, `--deadline S` bounds each scenario (default 30 s;
//! a scenario that does not finish reports how many keys each node reached).
//! Not a test: nothing here asserts.

use rs2p::api::{SyncTable, SyncTableConfig, Value};
use std::thread;
use std::time::{Duration, Instant};

/// How long the nodes of a scenario have to connect.
const CONNECT_DEADLINE: Duration = Duration::from_secs(10);
/// The watcher's poll interval.
const POLL: Duration = Duration::from_micros(100);
/// The size of every value written.
const VALUE_BYTES: usize = 16;

#[derive(Clone, Copy)]
enum Shape {
    Line,
    Mesh,
}

#[derive(Clone, Copy)]
struct Scenario {
    shape: Shape,
    nodes: usize,
    keys: usize,
}

impl Scenario {
    fn name(&self) -> String {
        let shape = match self.shape {
            Shape::Line => "line",
            Shape::Mesh => "mesh",
        };
        format!("sync_{}keys_{shape}{}", self.keys, self.nodes)
    }

    /// The links as (dialer, listener) pairs.
    fn links(&self) -> Vec<(usize, usize)> {
        let mut links = Vec::new();
        for i in 1..self.nodes {
            links.push((i, i - 1));
            if matches!(self.shape, Shape::Mesh) && i >= 3 {
                links.push((i, i - 3));
            }
        }
        links
    }
}

struct Network {
    nodes: Vec<SyncTable>,
    links: Vec<(usize, usize)>,
}

impl Network {
    fn build(s: &Scenario) -> Result<Network, String> {
        let mut nodes = Vec::with_capacity(s.nodes);
        for index in 0..s.nodes {
            let mut config = SyncTableConfig::new().send_timeout(Duration::from_secs(30));
            config.node = config.node.max_outgoing(0);
            let node = config
                .build()
                .map_err(|e| format!("starting node {index}: {e}"))?;
            nodes.push(node);
        }
        let links = s.links();
        for &(from, to) in &links {
            let port = nodes[to].local_port();
            nodes[from]
                .connect("127.0.0.1", port)
                .map_err(|e| format!("node {from} dialing node {to}: {e}"))?;
        }
        let network = Network { nodes, links };
        network.wait_connected()?;
        Ok(network)
    }

    fn wait_connected(&self) -> Result<(), String> {
        let mut want = vec![0usize; self.nodes.len()];
        for &(a, b) in &self.links {
            want[a] += 1;
            want[b] += 1;
        }
        let deadline = Instant::now() + CONNECT_DEADLINE;
        loop {
            let have: Vec<usize> = self.nodes.iter().map(|n| n.peers().len()).collect();
            if have == want {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the network did not connect in time; peers per node {have:?}, want {want:?}"
                ));
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    fn close(self) {
        for node in &self.nodes {
            node.close();
        }
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("k{i:06}").into_bytes()
}

fn value(i: usize) -> Value {
    let mut bytes = vec![0u8; VALUE_BYTES];
    bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Value::Bin(bytes)
}

/// When each node's table first held `keys` keys (None: not before the deadline), and how
/// many each held at the end.
struct Arrivals {
    done_at: Vec<Option<Duration>>,
    held: Vec<usize>,
}

/// Polls every node's `len()` until all reach `keys` or `deadline` passes.
fn watch(nodes: Vec<SyncTable>, keys: usize, start: Instant, deadline: Instant) -> Arrivals {
    let mut done_at: Vec<Option<Duration>> = vec![None; nodes.len()];
    loop {
        for (slot, node) in done_at.iter_mut().zip(&nodes) {
            // Stamped after the check, so a watcher preempted between the two reports late
            // (never early).
            if slot.is_none() && node.len() >= keys {
                *slot = Some(start.elapsed());
            }
        }
        if done_at.iter().all(Option::is_some) || Instant::now() > deadline {
            break;
        }
        thread::sleep(POLL);
    }
    let held = nodes.iter().map(SyncTable::len).collect();
    Arrivals { done_at, held }
}

struct Outcome {
    name: String,
    json: String,
    human: String,
}

fn run(s: Scenario, deadline: Duration) -> Result<Outcome, String> {
    let network = Network::build(&s)?;
    // Keys and values made before the clock starts: the bench measures the table, not this.
    let writes: Vec<(Vec<u8>, Value)> = (0..s.keys).map(|i| (key(i), value(i))).collect();
    let start = Instant::now();
    let stop = start + deadline;
    let watcher = {
        let nodes = network.nodes.clone();
        let keys = s.keys;
        thread::spawn(move || watch(nodes, keys, start, stop))
    };
    let writer = &network.nodes[0];
    let mut written = 0usize;
    let mut write_error = None;
    for (k, v) in writes {
        if let Err(e) = writer.set(k, v) {
            write_error = Some(format!("set failed after {written} keys: {e}"));
            break;
        }
        written += 1;
    }
    let write_loop = start.elapsed();
    let arrivals = watcher.join().map_err(|_| "the watcher thread panicked")?;
    let stats: Vec<_> = network.nodes.iter().map(|n| n.sync_stats()).collect();
    network.close();

    let name = s.name();
    let all_done = arrivals.done_at.iter().all(Option::is_some);
    let last = arrivals.done_at.iter().flatten().max().copied();
    let others_first = arrivals.done_at[1..].iter().flatten().min().copied();
    let reached = arrivals.held.iter().min().copied().unwrap_or(0);
    let secs = if all_done {
        last.unwrap_or_default().as_secs_f64()
    } else {
        deadline.as_secs_f64()
    };
    let keys_per_s = reached as f64 / secs.max(1e-9);
    let ms = |d: Option<Duration>| {
        d.map_or("null".to_string(), |d| {
            format!("{:.2}", d.as_secs_f64() * 1e3)
        })
    };
    let refused: u64 = stats.iter().map(|s| s.refused.iter().sum::<u64>()).sum();
    let json = format!(
        "{{\"bench\":\"sync\",\"impl\":\"rs2p-rust\",\"scenario\":\"{name}\",\"shape\":\"{}\",\
         \"nodes\":{},\"keys\":{},\"links\":{},\"written\":{written},\"complete\":{all_done},\
         \"seconds\":{secs:.4},\"keys_per_s\":{keys_per_s:.0},\"min_keys_reached\":{reached},\
         \"held\":{:?},\"first_other_node_ms\":{},\"write_loop_ms\":{:.2},\"remote_refused\":{refused}{}}}",
        match s.shape {
            Shape::Line => "line",
            Shape::Mesh => "mesh",
        },
        s.nodes,
        s.keys,
        s.links().len(),
        arrivals.held,
        ms(others_first),
        write_loop.as_secs_f64() * 1e3,
        write_error
            .as_ref()
            .map(|e| format!(",\"error\":{e:?}"))
            .unwrap_or_default(),
    );
    let mut human = if all_done {
        format!(
            "{:>9.1} ms to all {} nodes ({keys_per_s:>9.0} keys/s; write loop {:.1} ms)",
            secs * 1e3,
            s.nodes,
            write_loop.as_secs_f64() * 1e3
        )
    } else {
        format!(
            "INCOMPLETE after {secs:.0} s: keys held per node {:?}",
            arrivals.held
        )
    };
    if let Some(e) = &write_error {
        human += &format!("  ERROR {e}");
    }
    Ok(Outcome { name, json, human })
}

fn scenarios(scale: f64) -> Vec<Scenario> {
    let keys = |n: f64| ((n * scale) as usize).max(10);
    let mut all = Vec::new();
    for n in [1_000.0, 10_000.0] {
        all.push(Scenario {
            shape: Shape::Line,
            nodes: 4,
            keys: keys(n),
        });
        all.push(Scenario {
            shape: Shape::Mesh,
            nodes: 10,
            keys: keys(n),
        });
    }
    all
}

struct Options {
    scale: f64,
    only: Option<String>,
    deadline: Duration,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        scale: 1.0,
        only: None,
        deadline: Duration::from_secs(30),
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
            "--deadline" => {
                let seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|v: &f64| *v > 0.0)
                    .ok_or("--deadline needs a positive number of seconds")?;
                options.deadline = Duration::from_secs_f64(seconds);
            }
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
            eprintln!("sync bench: {e}");
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
        match run(s, options.deadline) {
            Ok(o) => {
                println!("{}", o.json);
                rows.push(o);
            }
            Err(e) => {
                failed = true;
                println!(
                    "{{\"bench\":\"sync\",\"impl\":\"rs2p-rust\",\"scenario\":\"{}\",\"error\":{e:?}}}",
                    s.name()
                );
            }
        }
    }
    println!();
    println!("rs2p sync table, Rust API, 127.0.0.1, one process: N keys written at node 0");
    for row in &rows {
        println!("  {:<24} {}", row.name, row.human);
    }
    if failed {
        std::process::exit(1);
    }
}
