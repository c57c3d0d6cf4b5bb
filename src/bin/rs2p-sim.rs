//! `rs2p-sim`: runs the simulator's studies and prints Markdown tables, writing SVG charts and
//! the same tables under `--out`. Not a test: it measures, it asserts nothing.
//!
//! Usage: `rs2p-sim [--out DIR] [--seed N] [--nodes 100,1000,10000] [--study mesh]`

use std::path::PathBuf;
use std::process::ExitCode;

use rs2p::sim::report;
use rs2p::sim::scenario::mesh::{study, StudyConfig, StudyResult};

struct Args {
    out: PathBuf,
    seed: u64,
    nodes: Vec<u32>,
    study: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: PathBuf::from("build/sim"),
        seed: 1,
        nodes: vec![100, 1_000, 10_000],
        study: "mesh".into(),
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
            "--nodes" => {
                let v = value()?;
                args.nodes = v
                    .split(',')
                    .map(|n| n.trim().replace('_', "").parse::<u32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("--nodes wants a comma-separated list, got {v:?}"))?;
            }
            "--study" => args.study = value()?,
            "-h" | "--help" => return Err(
                "usage: rs2p-sim [--out DIR] [--seed N] [--nodes 100,1000,10000] [--study mesh]"
                    .into(),
            ),
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    // Extension point: "sync" and "chord" studies go here once those cores exist.
    if args.study != "mesh" {
        return Err(format!(
            "unknown study {:?}: only \"mesh\" exists so far",
            args.study
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

    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let header = format!(
        "command: {}\nseed: {}\n{settings}\n",
        command.join(" "),
        args.seed
    );
    write(args.out.join("mesh.md"), &format!("{header}\n{tables}"))?;
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
    println!("\ncharts and tables written under {}", args.out.display());
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
