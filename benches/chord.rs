//! `cargo bench --bench chord`: get and set latency and throughput of an rs2p chord network
//! (8 storing nodes by default) through the safe Rust API (`rs2p::api::ChordTable`), all
//! nodes in one process on 127.0.0.1.
//!
//! Scenarios (names shared with benches/py_chord.py and benches/py_chord_rs2p.py):
//! - `get_latency`: sequential `get` of preloaded keys from one node, p50/p99/max;
//! - `set_latency`: sequential writes of new keys from one node, each followed by `get`s of
//!   that key from the same node until the new value comes back (a set is asynchronous: its
//!   latency is "until it can be read"); the `set` call alone is reported too;
//! - `get_throughput_{1,2}thread`: `get_async` with a window of outstanding reads (default
//!   1,000) from 1 thread, then from 2 threads each on its own node, and
//!   `get_throughput_1thread_w100` with a tenth of the window;
//! - `set_throughput_{1,2}thread`: writers set new keys as fast as `set` accepts them; the
//!   time is until a `get` of each writer's last key returns it (`ops_per_s`), and separately
//!   until every key written was read back correct from another node (`ops_per_s_all`, which
//!   includes the read-back itself, so a lower bound).
//!
//! Throughput records carry the process's CPU time per operation (`cpu_us_per_op`, all nodes'
//! threads together) and `cores_busy`: on a shared machine the wall-clock rate depends on
//! what else runs, the CPU per operation does not.
//!
//! Prints one JSON object per line (prefix `{"bench"`) and then a human table. Options (after
//! `--`): `--scale F` multiplies sample and key counts (default 1.0), `--only NAME` runs the
//! scenarios whose name contains NAME, `--nodes N` (default 8), `--window W` (default 1,000).
//! Not a test: nothing asserts; wrong or failed reads are counted in each record.

use rs2p::api::{ChordTable, ChordTableConfig, PendingGet, Value};
use rs2p::proto::chord::ring::RingPos;
use std::collections::VecDeque;
use std::thread;
use std::time::{Duration, Instant};

/// How long the network has to connect and link every node to its ring neighbours.
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);
/// The links of every node must stay the same this long before measuring.
const QUIET_LINKS: Duration = Duration::from_millis(500);
/// Per-read timeout in every scenario.
const GET_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a writer's last key may take to become readable.
const VISIBLE_DEADLINE: Duration = Duration::from_secs(60);
const LATENCY_WARMUP: usize = 200;

struct Options {
    scale: f64,
    only: Option<String>,
    nodes: usize,
    window: usize,
}

impl Options {
    fn count(&self, n: f64) -> usize {
        ((n * self.scale) as usize).max(100)
    }

    fn wants(&self, scenario: &str) -> bool {
        self.only
            .as_ref()
            .map_or(true, |o| scenario.contains(o.as_str()))
    }
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        scale: 1.0,
        only: None,
        nodes: 8,
        window: 1_000,
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
            "--nodes" => {
                options.nodes = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n: &usize| *n >= 1)
                    .ok_or("--nodes needs a count of at least 1, e.g. --nodes 8")?;
            }
            "--window" => {
                options.window = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n: &usize| *n >= 1)
                    .ok_or("--window needs a count of at least 1, e.g. --window 1000")?;
            }
            // `cargo bench` passes `--bench`; other harness flags are ignored too.
            _ => {}
        }
    }
    Ok(options)
}

/// Polls `cond` every 2 ms until it holds or `deadline` passes; true if it held.
fn wait_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    cond()
}

/// `n` storing nodes, each dialling the first, settled: every node links to its two ring
/// neighbours, knows that all its links store, and its links have stopped changing.
fn network(n: usize) -> Result<Vec<ChordTable>, String> {
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let node = ChordTableConfig::new()
            .get_timeout(GET_TIMEOUT)
            .build()
            .map_err(|e| format!("starting chord node {i}: {e}"))?;
        node.join().map_err(|e| format!("joining node {i}: {e}"))?;
        nodes.push(node);
    }
    for (i, node) in nodes.iter().enumerate().skip(1) {
        node.connect("127.0.0.1", nodes[0].local_port())
            .map_err(|e| format!("node {i} dialling node 0: {e}"))?;
    }
    let mut ring = Vec::with_capacity(n);
    for node in &nodes {
        let pos = RingPos::of_node(node.id().as_bytes())
            .ok_or_else(|| format!("node ID {} has no ring position", node.id()))?;
        ring.push((pos, node.id().to_string()));
    }
    ring.sort();
    for (i, (_, id)) in ring.iter().enumerate() {
        let Some(node) = nodes.iter().find(|t| t.id() == id) else {
            return Err(format!("node {id} of the ring is not among the nodes"));
        };
        if n == 1 {
            break;
        }
        let pred = &ring[(i + n - 1) % n].1;
        let succ = &ring[(i + 1) % n].1;
        let settled = || {
            let peers = node.peers();
            let linked = |want: &str| peers.iter().any(|p| p.id == want);
            linked(pred) && linked(succ) && node.chord_stats().storing_peers == peers.len()
        };
        if !wait_until(SETTLE_DEADLINE, settled) {
            return Err(format!(
                "node {id} did not link to its ring neighbours in {SETTLE_DEADLINE:?}"
            ));
        }
    }
    // Finger links may still be coming: wait until no node's links change for a while.
    let links =
        |nodes: &[ChordTable]| -> Vec<usize> { nodes.iter().map(|t| t.peers().len()).collect() };
    let end = Instant::now() + SETTLE_DEADLINE;
    let mut last = links(&nodes);
    let mut since = Instant::now();
    while since.elapsed() < QUIET_LINKS && Instant::now() < end {
        thread::sleep(Duration::from_millis(20));
        let now = links(&nodes);
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    Ok(nodes)
}

/// CPU time (user + system) this process has used so far, in seconds: the nodes' I/O and
/// dispatcher threads and the bench's own. Per operation it says what an operation costs
/// whatever else runs on the machine.
fn process_cpu_s() -> f64 {
    // SAFETY: `rusage` is plain data; getrusage only writes into the struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// CPU seconds (user + system) of this process's thread named `name` so far, from
/// `/proc/self/task/*/stat`; `None` when there is no such thread or no /proc.
fn thread_cpu_s(name: &str) -> Option<f64> {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks <= 0 {
        return None;
    }
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        return Some((utime + stime) / ticks as f64);
    }
    None
}

/// CPU seconds so far of the I/O threads of `nodes` (named `rs2p-<port>-io` by the driver).
fn io_threads_cpu_s(nodes: &[&ChordTable]) -> f64 {
    nodes
        .iter()
        .filter_map(|n| thread_cpu_s(&format!("rs2p-{}-io", n.local_port())))
        .sum()
}

/// `"cpu_s":..,"cpu_us_per_op":..,"cores_busy":..` for `ops` operations over `wall_s`.
fn cpu_json(cpu_s: f64, ops: usize, wall_s: f64) -> String {
    format!(
        "\"cpu_s\":{cpu_s:.3},\"cpu_us_per_op\":{:.1},\"cores_busy\":{:.2}",
        cpu_s * 1e6 / ops.max(1) as f64,
        cpu_s / wall_s.max(1e-9)
    )
}

fn links_json(nodes: &[ChordTable]) -> String {
    let counts: Vec<String> = nodes.iter().map(|t| t.peers().len().to_string()).collect();
    format!("[{}]", counts.join(","))
}

/// A small deterministic generator for picking keys (xorshift64*).
struct Picker(u64);

impl Picker {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below as u64) as usize
    }
}

fn key(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:08}")
}

/// The value stored at `key(prefix, i)`: 32 bytes of text naming the key.
fn value(prefix: &str, i: usize) -> Value {
    Value::from(format!("value of {prefix}-{i:08}               ")[..32].to_string())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// p50, p99, max in microseconds.
fn spread_us(samples_ns: &mut [u64]) -> (f64, f64, f64) {
    samples_ns.sort_unstable();
    let us = |ns: u64| ns as f64 / 1000.0;
    (
        us(percentile(samples_ns, 50.0)),
        us(percentile(samples_ns, 99.0)),
        us(samples_ns.last().copied().unwrap_or(0)),
    )
}

/// Outcome of a read compared with the expected value.
#[derive(Default)]
struct Tally {
    ok: usize,
    wrong: usize,
    failed: usize,
    first_problem: Option<String>,
}

impl Tally {
    fn count(&mut self, got: rs2p::api::Result<Option<Value>>, want: &Value) {
        match got {
            Ok(Some(v)) if &v == want => self.ok += 1,
            Ok(other) => {
                self.wrong += 1;
                self.first_problem
                    .get_or_insert_with(|| format!("read {other:?}, wanted {want:?}"));
            }
            Err(e) => {
                self.failed += 1;
                self.first_problem
                    .get_or_insert_with(|| format!("read failed: {e}"));
            }
        }
    }

    fn json(&self) -> String {
        let mut s = format!(
            "\"ok\":{},\"wrong\":{},\"failed\":{}",
            self.ok, self.wrong, self.failed
        );
        if let Some(p) = &self.first_problem {
            s += &format!(",\"first_problem\":{p:?}");
        }
        s
    }

    fn human(&self) -> String {
        if self.wrong + self.failed == 0 {
            String::new()
        } else {
            format!(
                "  WRONG {} FAILED {} ({})",
                self.wrong,
                self.failed,
                self.first_problem.as_deref().unwrap_or("")
            )
        }
    }
}

/// Writes `count` keys `prefix-i` from `node` and waits until all read back from `reader`.
fn preload(
    node: &ChordTable,
    reader: &ChordTable,
    prefix: &str,
    count: usize,
    window: usize,
) -> Result<(), String> {
    for i in 0..count {
        node.set(key(prefix, i), value(prefix, i))
            .map_err(|e| format!("preloading {prefix}: {e}"))?;
    }
    // `set` returns once the write is queued: wait until the writer reads its last key back,
    // so that the reader does not race writes still on their way (it would read "not found").
    let last = count - 1;
    let visible = wait_until(VISIBLE_DEADLINE, || {
        matches!(node.get_timeout(key(prefix, last), GET_TIMEOUT),
                 Ok(Some(v)) if v == value(prefix, last))
    });
    if !visible {
        return Err(format!(
            "the last preloaded key did not read back in {VISIBLE_DEADLINE:?}"
        ));
    }
    let tally = read_back(reader, prefix, 0..count, window);
    if tally.wrong + tally.failed > 0 {
        return Err(format!(
            "preloaded keys do not read back: {} wrong, {} failed ({})",
            tally.wrong,
            tally.failed,
            tally.first_problem.unwrap_or_default()
        ));
    }
    Ok(())
}

/// Reads `prefix-i` for every i in `range` from `node`, `window` reads in flight.
fn read_back(
    node: &ChordTable,
    prefix: &str,
    range: std::ops::Range<usize>,
    window: usize,
) -> Tally {
    let mut tally = Tally::default();
    let mut in_flight: VecDeque<(usize, PendingGet)> = VecDeque::with_capacity(window);
    for i in range {
        if in_flight.len() == window {
            if let Some((j, read)) = in_flight.pop_front() {
                tally.count(read.wait(), &value(prefix, j));
            }
        }
        match node.get_async(key(prefix, i), GET_TIMEOUT) {
            Ok(read) => in_flight.push_back((i, read)),
            Err(e) => tally.count(Err(e), &value(prefix, i)),
        }
    }
    for (j, read) in in_flight {
        tally.count(read.wait(), &value(prefix, j));
    }
    tally
}

struct Row {
    name: String,
    human: String,
}

const PRELOAD_PREFIX: &str = "pre";

fn head(name: &str, kind: &str, nodes: usize) -> String {
    format!(
        "{{\"bench\":\"chord\",\"impl\":\"rs2p-rust\",\"scenario\":\"{name}\",\"kind\":\"{kind}\",\"nodes\":{nodes}"
    )
}

fn get_latency(nodes: &[ChordTable], preloaded: usize, samples: usize) -> (String, Row) {
    let node = &nodes[0];
    let mut picker = Picker(0x9E37_79B9_7F4A_7C15);
    let mut latencies = Vec::with_capacity(samples);
    let mut tally = Tally::default();
    let mut cpu_start = process_cpu_s();
    for n in 0..LATENCY_WARMUP + samples {
        if n == LATENCY_WARMUP {
            cpu_start = process_cpu_s();
        }
        let i = picker.next(preloaded);
        let start = Instant::now();
        let got = node.get_timeout(key(PRELOAD_PREFIX, i), GET_TIMEOUT);
        let took = start.elapsed().as_nanos() as u64;
        if n >= LATENCY_WARMUP {
            latencies.push(took);
            tally.count(got, &value(PRELOAD_PREFIX, i));
        }
    }
    let cpu_us = (process_cpu_s() - cpu_start) * 1e6 / latencies.len().max(1) as f64;
    let (p50, p99, max) = spread_us(&mut latencies);
    let name = "get_latency";
    let json = format!(
        "{},\"op\":\"get\",\"samples\":{},\"p50_us\":{p50:.1},\"p99_us\":{p99:.1},\"max_us\":{max:.1},\
         \"cpu_us_per_op\":{cpu_us:.1},{}}}",
        head(name, "latency", nodes.len()),
        latencies.len(),
        tally.json()
    );
    let human = format!(
        "p50 {p50:>8.1} us  p99 {p99:>8.1} us  max {max:>8.1} us{}",
        tally.human()
    );
    (
        json,
        Row {
            name: name.into(),
            human,
        },
    )
}

fn set_latency(nodes: &[ChordTable], samples: usize) -> (String, Row) {
    let node = &nodes[0];
    let prefix = "lat";
    let mut visible = Vec::with_capacity(samples);
    let mut calls = Vec::with_capacity(samples);
    let mut reads_per_set = 0usize;
    let mut tally = Tally::default();
    for n in 0..LATENCY_WARMUP + samples {
        let want = value(prefix, n);
        let start = Instant::now();
        if let Err(e) = node.set(key(prefix, n), want.clone()) {
            tally.count(Err(e), &want);
            continue;
        }
        let call = start.elapsed().as_nanos() as u64;
        let end = start + VISIBLE_DEADLINE;
        let mut reads = 0;
        let outcome = loop {
            reads += 1;
            match node.get_timeout(key(prefix, n), GET_TIMEOUT) {
                Ok(Some(v)) if v == want => break Ok(Some(v)),
                other if Instant::now() >= end => break other,
                _ => {}
            }
        };
        let took = start.elapsed().as_nanos() as u64;
        if n >= LATENCY_WARMUP {
            calls.push(call);
            visible.push(took);
            reads_per_set += reads;
            tally.count(outcome, &want);
        }
    }
    let (p50, p99, max) = spread_us(&mut visible);
    let (c50, c99, _) = spread_us(&mut calls);
    let reads = reads_per_set as f64 / visible.len().max(1) as f64;
    let name = "set_latency";
    let json = format!(
        "{},\"op\":\"set\",\"samples\":{},\"p50_us\":{p50:.1},\"p99_us\":{p99:.1},\"max_us\":{max:.1},\
         \"call_p50_us\":{c50:.1},\"call_p99_us\":{c99:.1},\"reads_per_set\":{reads:.2},{}}}",
        head(name, "latency", nodes.len()),
        visible.len(),
        tally.json()
    );
    let human = format!(
        "p50 {p50:>8.1} us  p99 {p99:>8.1} us  max {max:>8.1} us  (set until readable; call alone p50 {c50:.1} us, {reads:.2} reads/set){}",
        tally.human()
    );
    (
        json,
        Row {
            name: name.into(),
            human,
        },
    )
}

/// `threads` readers, reader t on node t, each keeping `window` reads of preloaded keys in
/// flight until it has done `per_thread` reads.
fn get_throughput(
    name: String,
    nodes: &[ChordTable],
    threads: usize,
    preloaded: usize,
    per_thread: usize,
    window: usize,
) -> (String, Row) {
    let readers: Vec<&ChordTable> = (0..threads).map(|t| &nodes[t % nodes.len()]).collect();
    let start = Instant::now();
    let cpu_start = process_cpu_s();
    let io_start = io_threads_cpu_s(&readers);
    let tallies: Vec<Tally> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let node = &nodes[t % nodes.len()];
                scope.spawn(move || {
                    let mut picker = Picker(0x2545_F491_4F6C_DD1D ^ (t as u64 + 1));
                    let mut tally = Tally::default();
                    let mut in_flight: VecDeque<(usize, PendingGet)> =
                        VecDeque::with_capacity(window);
                    for _ in 0..per_thread {
                        if in_flight.len() == window {
                            if let Some((j, read)) = in_flight.pop_front() {
                                tally.count(read.wait(), &value(PRELOAD_PREFIX, j));
                            }
                        }
                        let i = picker.next(preloaded);
                        match node.get_async(key(PRELOAD_PREFIX, i), GET_TIMEOUT) {
                            Ok(read) => in_flight.push_back((i, read)),
                            Err(e) => tally.count(Err(e), &value(PRELOAD_PREFIX, i)),
                        }
                    }
                    for (j, read) in in_flight {
                        tally.count(read.wait(), &value(PRELOAD_PREFIX, j));
                    }
                    tally
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Tally {
                    failed: per_thread,
                    first_problem: Some("reader thread panicked".into()),
                    ..Tally::default()
                })
            })
            .collect()
    });
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let cpu_s = process_cpu_s() - cpu_start;
    // The reading nodes' I/O threads: the bottleneck of a read, and less sensitive to other
    // load on the machine than the rate.
    let reader_io_us =
        (io_threads_cpu_s(&readers) - io_start) * 1e6 / (threads * per_thread).max(1) as f64;
    let mut tally = Tally::default();
    for t in tallies {
        tally.ok += t.ok;
        tally.wrong += t.wrong;
        tally.failed += t.failed;
        if tally.first_problem.is_none() {
            tally.first_problem = t.first_problem;
        }
    }
    let rate = tally.ok as f64 / secs;
    let json = format!(
        "{},\"op\":\"get\",\"threads\":{threads},\"window\":{window},\"count\":{},\"seconds\":{secs:.4},\
         \"ops_per_s\":{rate:.0},{},\"reader_io_us_per_op\":{reader_io_us:.1},{}}}",
        head(&name, "throughput", nodes.len()),
        threads * per_thread,
        cpu_json(cpu_s, threads * per_thread, secs),
        tally.json()
    );
    let human = format!(
        "{rate:>10.0} gets/s  ({} reads, {threads} thread(s), window {window}; {:.1} us CPU/get, \
         {reader_io_us:.1} us of it on the reading node's I/O thread, {:.2} cores busy){}",
        threads * per_thread,
        cpu_s * 1e6 / (threads * per_thread).max(1) as f64,
        cpu_s / secs,
        tally.human()
    );
    (json, Row { name, human })
}

/// `threads` writers, writer t on node t, each setting `per_thread` new keys; timed until
/// each writer's last key reads back from its node, then until all keys read back from the
/// last node.
fn set_throughput(
    nodes: &[ChordTable],
    threads: usize,
    per_thread: usize,
    window: usize,
) -> (String, Row) {
    let prefixes: Vec<String> = (0..threads).map(|t| format!("w{threads}t{t}")).collect();
    let start = Instant::now();
    let cpu_start = process_cpu_s();
    let outcomes: Vec<(f64, f64, Option<String>)> = thread::scope(|scope| {
        let handles: Vec<_> = prefixes
            .iter()
            .enumerate()
            .map(|(t, prefix)| {
                let node = &nodes[t % nodes.len()];
                scope.spawn(move || {
                    for i in 0..per_thread {
                        if let Err(e) = node.set(key(prefix, i), value(prefix, i)) {
                            let at = start.elapsed().as_secs_f64();
                            return (at, at, Some(format!("set {i} failed: {e}")));
                        }
                    }
                    let handed = start.elapsed().as_secs_f64();
                    let last = per_thread - 1;
                    let want = value(prefix, last);
                    let end = Instant::now() + VISIBLE_DEADLINE;
                    loop {
                        match node.get_timeout(key(prefix, last), GET_TIMEOUT) {
                            Ok(Some(v)) if v == want => {
                                return (handed, start.elapsed().as_secs_f64(), None)
                            }
                            other if Instant::now() >= end => {
                                return (
                                    handed,
                                    start.elapsed().as_secs_f64(),
                                    Some(format!("last key not readable: {other:?}")),
                                )
                            }
                            _ => {}
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or((0.0, 0.0, Some("writer thread panicked".into())))
            })
            .collect()
    });
    let visible_s = outcomes.iter().map(|o| o.1).fold(0.0, f64::max).max(1e-9);
    let handed_s = outcomes.iter().map(|o| o.0).fold(0.0, f64::max);
    let error = outcomes.iter().find_map(|o| o.2.clone());
    let cpu_s = process_cpu_s() - cpu_start;
    let reader = &nodes[nodes.len() - 1];
    let mut tally = Tally::default();
    for prefix in &prefixes {
        let t = read_back(reader, prefix, 0..per_thread, window);
        tally.ok += t.ok;
        tally.wrong += t.wrong;
        tally.failed += t.failed;
        if tally.first_problem.is_none() {
            tally.first_problem = t.first_problem;
        }
    }
    let all_s = start.elapsed().as_secs_f64();
    let total = threads * per_thread;
    let rate = total as f64 / visible_s;
    let rate_all = tally.ok as f64 / all_s;
    let name = format!("set_throughput_{threads}thread");
    let json = format!(
        "{},\"op\":\"set\",\"threads\":{threads},\"count\":{total},\"seconds\":{visible_s:.4},\
         \"ops_per_s\":{rate:.0},\"handover_s\":{handed_s:.4},\"all_read_back_s\":{all_s:.4},\
         \"ops_per_s_all\":{rate_all:.0},{},{}{}}}",
        head(&name, "throughput", nodes.len()),
        cpu_json(cpu_s, total, visible_s),
        tally.json(),
        error
            .as_ref()
            .map(|e| format!(",\"error\":{e:?}"))
            .unwrap_or_default()
    );
    let human = format!(
        "{rate:>10.0} sets/s  ({total} new keys, {threads} thread(s); all {tally_ok} read back at {rate_all:.0}/s; {:.1} us CPU/set){}{}",
        cpu_s * 1e6 / total.max(1) as f64,
        tally.human(),
        error.map(|e| format!("  ERROR {e}")).unwrap_or_default(),
        tally_ok = tally.ok,
    );
    (json, Row { name, human })
}

fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("chord bench: {e}");
            std::process::exit(2);
        }
    };
    let nodes = match network(options.nodes) {
        Ok(n) => n,
        Err(e) => {
            println!("{{\"bench\":\"chord\",\"impl\":\"rs2p-rust\",\"scenario\":\"setup\",\"error\":{e:?}}}");
            std::process::exit(1);
        }
    };
    println!(
        "{{\"bench\":\"chord\",\"impl\":\"rs2p-rust\",\"scenario\":\"setup\",\"nodes\":{},\"links\":{}}}",
        nodes.len(),
        links_json(&nodes)
    );
    let mut rows = Vec::new();
    let mut emit = |(json, row): (String, Row)| {
        println!("{json}");
        rows.push(row);
    };
    let window = options.window;
    for threads in [1, 2] {
        let name = format!("set_throughput_{threads}thread");
        if options.wants(&name) {
            let per_thread = options.count(50_000.0) / threads;
            emit(set_throughput(&nodes, threads, per_thread, window));
        }
    }
    let wants_gets = [
        "get_latency",
        "get_throughput_1thread",
        "get_throughput_2thread",
        "get_throughput_1thread_w",
    ]
    .iter()
    .any(|s| options.wants(s));
    let preloaded = options.count(10_000.0);
    if wants_gets {
        if let Err(e) = preload(
            &nodes[0],
            &nodes[nodes.len() - 1],
            PRELOAD_PREFIX,
            preloaded,
            window,
        ) {
            println!("{{\"bench\":\"chord\",\"impl\":\"rs2p-rust\",\"scenario\":\"preload\",\"error\":{e:?}}}");
            std::process::exit(1);
        }
    }
    if options.wants("get_latency") {
        emit(get_latency(&nodes, preloaded, options.count(5_000.0)));
    }
    if options.wants("set_latency") {
        emit(set_latency(&nodes, options.count(2_000.0)));
    }
    for threads in [1, 2] {
        let name = format!("get_throughput_{threads}thread");
        if options.wants(&name) {
            let per_thread = options.count(200_000.0) / threads;
            emit(get_throughput(
                name, &nodes, threads, preloaded, per_thread, window,
            ));
        }
    }
    // The same with a tenth of the window: how much the number of reads in flight matters
    // (it used to, when every answer scanned every read; see docs/performance.md, "Chord
    // table").
    let small = (window / 10).max(1);
    let name = format!("get_throughput_1thread_w{small}");
    if options.wants(&name) && small != window {
        let count = options.count(200_000.0);
        emit(get_throughput(name, &nodes, 1, preloaded, count, small));
    }
    for node in &nodes {
        node.close();
    }
    println!();
    println!(
        "rs2p chord, Rust API, {} storing nodes, 127.0.0.1, one process",
        options.nodes
    );
    for row in &rows {
        println!("  {:<24} {}", row.name, row.human);
    }
}
