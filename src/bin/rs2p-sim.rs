//! `rs2p-sim`: runs the simulator's studies and prints Markdown tables, writing SVG charts and
//! the same tables under `--out`. Not a test: it measures, it asserts nothing.
//!
//! Usage: `rs2p-sim [--out DIR] [--seed N] [--nodes 100,1000,10000] [--sync-nodes 100]
//! [--chord-nodes 100,1000] [--study mesh,sync,chord]`

use std::path::PathBuf;
use std::process::ExitCode;

use rs2p::sim::report;
use rs2p::sim::scenario::chord::hop_study;
use rs2p::sim::scenario::chord_net::{
    chord_hops_chart, chord_net_study, chord_net_table, ChordStudyConfig,
};
use rs2p::sim::scenario::mesh::{study, StudyConfig, StudyResult};
use rs2p::sim::scenario::sync::{sync_chart, sync_study, sync_table, SyncStudyConfig};

struct Args {
    out: PathBuf,
    seed: u64,
    nodes: Vec<u32>,
    sync_nodes: u32,
    chord_nodes: Vec<u32>,
    studies: Vec<String>,
}

fn node_list(flag: &str, v: &str) -> Result<Vec<u32>, String> {
    v.split(',')
        .map(|n| n.trim().replace('_', "").parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{flag} wants a comma-separated list, got {v:?}"))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: PathBuf::from("build/sim"),
        seed: 1,
        nodes: vec![100, 1_000, 10_000],
        sync_nodes: 100,
        chord_nodes: vec![100, 1_000],
        studies: vec!["mesh".into(), "sync".into(), "chord".into()],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--seed" => {
                let v = value()?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed wants an unsigned integer, got {v:?}"))?;
            }
            "--nodes" => args.nodes = node_list("--nodes", &value()?)?,
            "--chord-nodes" => args.chord_nodes = node_list("--chord-nodes", &value()?)?,
            "--sync-nodes" => {
                let v = value()?;
                args.sync_nodes = v
                    .parse()
                    .map_err(|_| format!("--sync-nodes wants a number, got {v:?}"))?;
            }
            "--study" => args.studies = value()?.split(',').map(str::to_string).collect(),
            "-h" | "--help" => return Err(
                "usage: rs2p-sim [--out DIR] [--seed N] [--nodes 100,1000,10000] [--sync-nodes 100] \
                 [--chord-nodes 100,1000] [--study mesh,sync,chord]"
                    .into(),
            ),
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    if let Some(bad) = args
        .studies
        .iter()
        .find(|s| !["mesh", "sync", "chord"].contains(&s.as_str()))
    {
        return Err(format!(
            "unknown study {bad:?}: pick from mesh, sync, chord"
        ));
    }
    Ok(args)
}

fn write(path: PathBuf, text: &str) -> Result<(), String> {
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn run(args: &Args) -> Result<(), String> {
    let command: Vec<String> = std::env::args().collect();
    println!("command: {}", command.join(" "));
    println!(
        "seed: {}  (rerun with --seed {} for the same run)",
        args.seed, args.seed
    );
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let header = format!("command: {}\nseed: {}\n", command.join(" "), args.seed);
    if args.studies.iter().any(|s| s == "mesh") {
        run_mesh(args, &header)?;
    }
    if args.studies.iter().any(|s| s == "sync") {
        run_sync(args, &header)?;
    }
    if args.studies.iter().any(|s| s == "chord") {
        run_chord(args, &header)?;
    }
    println!("\ncharts and tables written under {}", args.out.display());
    Ok(())
}

fn run_sync(args: &Args, header: &str) -> Result<(), String> {
    let mut results = Vec::new();
    for cfg in SyncStudyConfig::variants(args.sync_nodes, args.seed) {
        eprintln!("sync study: {} nodes, {} ...", cfg.nodes, cfg.variant());
        let r = sync_study(&cfg);
        eprintln!(
            "  done in {:.1} s wall, trace hash {:016x}",
            r.wall_ms as f64 / 1000.0,
            r.trace_hash
        );
        results.push(r);
    }
    let table = format!(
        "## Sync: keys converged after a partition heals\n\n{}",
        sync_table(&results)
    );
    println!("\n{table}");
    write(args.out.join("sync.md"), &format!("{header}\n{table}"))?;
    write(
        args.out.join("sync-heal.svg"),
        &sync_chart(&results).render(),
    )
}

fn run_chord(args: &Args, header: &str) -> Result<(), String> {
    let mut results = Vec::new();
    for &n in &args.chord_nodes {
        let cfg = ChordStudyConfig::new(n, args.seed);
        eprintln!("chord study: {n} storing nodes ...");
        let r = chord_net_study(&cfg);
        eprintln!(
            "  done in {:.1} s wall, trace hash {:016x}",
            r.wall_ms as f64 / 1000.0,
            r.trace_hash
        );
        results.push(r);
    }
    let model: Vec<_> = [100usize, 1_000, 10_000]
        .iter()
        .map(|&n| hop_study(n, 2_000, args.seed))
        .collect();
    let table = format!(
        "## Chord: hops per lookup and keys readable after a crash\n\n{}",
        chord_net_table(&results, &model)
    );
    println!("\n{table}");
    write(args.out.join("chord.md"), &format!("{header}\n{table}"))?;
    write(
        args.out.join("chord-hops.svg"),
        &chord_hops_chart(&results, &model).render(),
    )
}

fn run_mesh(args: &Args, header: &str) -> Result<(), String> {
    let mut results: Vec<StudyResult> = Vec::new();
    for &n in &args.nodes {
        let cfg = StudyConfig::new(n, args.seed);
        eprintln!("mesh study: {n} nodes ...");
        let r = study(&cfg);
        eprintln!(
            "  done in {:.1} s wall, {} events, trace hash {:016x}\n  network: {:?}",
            r.wall_ms as f64 / 1000.0,
            r.events,
            r.trace_hash,
            r.net
        );
        results.push(r);
    }
    let first = StudyConfig::new(0, args.seed);
    let settings = format!(
        "network: {:?}\nmax_outgoing {}, one join every {} ms, settle {} ms, crash {} %\n",
        first.network,
        first.max_outgoing,
        first.join_interval_ms,
        first.settle_ms,
        first.crash_fraction * 100.0
    );
    let tables = format!(
        "## Topology after joining\n\n{}\n## One broadcast\n\n{}\n## Cost of the run, by stage\n\n{}",
        report::topology_table(&results),
        report::broadcast_table(&results),
        report::cost_table(&results)
    );
    println!("\n{settings}\n{tables}");
    for r in &results {
        println!(
            "trace hash, {} nodes: {:016x}",
            r.config.nodes, r.trace_hash
        );
    }

    write(
        args.out.join("mesh.md"),
        &format!("{header}{settings}\n\n{tables}"),
    )?;
    for r in &results {
        let name = format!("mesh-delivery-{}.svg", r.config.nodes);
        write(args.out.join(name), &report::delivery_chart(r).render())?;
    }
    if results.len() > 1 {
        write(
            args.out.join("mesh-t99.svg"),
            &report::t99_chart(&results).render(),
        )?;
        write(
            args.out.join("mesh-frames.svg"),
            &report::frames_chart(&results).render(),
        )?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rs2p-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
