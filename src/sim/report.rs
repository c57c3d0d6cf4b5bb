//! Turns study results into Markdown tables (printed, and pasted into docs/simulator.md) and
//! SVG charts. Formatting only; no simulation here.

use std::fmt::Write;

use super::network::Latency;
use super::scenario::mesh::StudyResult;
use super::svg::{LineChart, Series};

fn ms(v: Option<u64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_else(|| "—".into())
}

fn bytes(v: Option<u64>) -> String {
    match v {
        Some(b) if b >= 10 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
        None => "n/a".into(),
    }
}

/// The run's settings in one line, for chart subtitles.
fn settings_line(r: &StudyResult, per: &str) -> String {
    let c = &r.config;
    let latency = match c.network.latency {
        Latency::Fixed { ms } => format!("latency {ms} ms"),
        Latency::Uniform { min_ms, max_ms } => format!("latency {min_ms}..{max_ms} ms"),
        Latency::LogNormal { median_ms, .. } => {
            format!("latency log-normal, median {median_ms} ms")
        }
    };
    format!(
        "seed {}, {latency}, max_outgoing {}\n\
         one broadcast from a random node per {per}; dashed: after {} % of the nodes crashed",
        c.seed,
        c.max_outgoing,
        (c.crash_fraction * 100.0).round()
    )
}

/// The topology table: one row per network size.
pub fn topology_table(results: &[StudyResult]) -> String {
    let mut s = String::from(
        "| nodes | open connections | mean degree | max degree | joined component | heap per node | RSS per node | events | wall time |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {} | {} | {} | {} | {} | {:.1} s |",
            r.config.nodes,
            r.open_links,
            r.mean_degree,
            r.max_degree,
            r.joined_component,
            bytes(r.heap_per_node),
            bytes(r.rss_per_node),
            r.events,
            r.wall_ms as f64 / 1000.0
        );
    }
    s
}

/// Where each run's host time and simulated traffic went, stage by stage.
pub fn cost_table(results: &[StudyResult]) -> String {
    let mut s = String::from(
        "| nodes | stage | wall time | events | frames | MB on the wire |\n|---:|:---|---:|---:|---:|---:|\n",
    );
    for r in results {
        for st in &r.stages {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} s | {} | {} | {:.1} |",
                r.config.nodes,
                st.name,
                st.wall_ms as f64 / 1000.0,
                st.events,
                st.frames,
                st.bytes as f64 / 1e6
            );
        }
    }
    s
}

/// The broadcast table: one row per network size and phase.
pub fn broadcast_table(results: &[StudyResult]) -> String {
    let mut s = String::from(
        "| nodes | phase | live | reachable | reached | delivered twice | frames/node | relays/node | t99 (ms) | t100 (ms) |\n|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        for p in &r.phases {
            let o = &p.outcome;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} % | {} | {:.2} | {:.2} | {} | {} |",
                r.config.nodes,
                p.label,
                o.live_nodes,
                o.reachable,
                100.0 * o.reached_fraction(),
                o.delivered_twice,
                o.frames_per_node(),
                o.relayed as f64 / o.live_nodes.max(1) as f64,
                ms(o.time_to(0.99)),
                ms(o.time_to(1.0)),
            );
        }
    }
    s
}

/// Fraction of reachable nodes reached over time, one line per phase, for one network size.
pub fn delivery_chart(r: &StudyResult) -> LineChart {
    let series = r
        .phases
        .iter()
        .map(|p| {
            let o = &p.outcome;
            let total = o.reachable.max(1) as f64;
            let mut points = vec![(0.0, 0.0)];
            for (i, t) in o.delivery_ms.iter().enumerate() {
                points.push((*t as f64, (i + 1) as f64 / total * 100.0));
            }
            Series {
                label: p.label.clone(),
                points,
                dashed: p.after_crash,
            }
        })
        .collect();
    LineChart {
        title: format!(
            "One broadcast, {} nodes: share of reachable nodes reached over time",
            r.config.nodes
        ),
        subtitle: settings_line(r, "line"),
        x_label: "virtual ms after sending".into(),
        y_label: "% of reachable nodes".into(),
        log_x: false,
        series,
    }
}

/// One value per phase label as the network grows.
fn by_size(
    results: &[StudyResult],
    title: &str,
    y_label: &str,
    value: impl Fn(&super::scenario::mesh::Phase) -> Option<f64>,
) -> LineChart {
    let mut labels: Vec<(String, bool)> = Vec::new();
    for r in results {
        for p in &r.phases {
            if !labels.iter().any(|(l, _)| *l == p.label) {
                labels.push((p.label.clone(), p.after_crash));
            }
        }
    }
    let series = labels
        .into_iter()
        .map(|(label, dashed)| Series {
            dashed,
            points: results
                .iter()
                .filter_map(|r| {
                    let p = r.phases.iter().find(|p| p.label == label)?;
                    Some((f64::from(r.config.nodes), value(p)?))
                })
                .collect(),
            label,
        })
        .collect();
    LineChart {
        title: title.into(),
        subtitle: results
            .first()
            .map(|r| settings_line(r, "point"))
            .unwrap_or_default(),
        x_label: "nodes in the mesh (log scale)".into(),
        y_label: y_label.into(),
        log_x: true,
        series,
    }
}

pub fn t99_chart(results: &[StudyResult]) -> LineChart {
    by_size(
        results,
        "Time to reach 99 % of reachable nodes",
        "virtual ms after sending",
        |p| p.outcome.time_to(0.99).map(|v| v as f64),
    )
}

pub fn frames_chart(results: &[StudyResult]) -> LineChart {
    by_size(
        results,
        "Frames sent per live node while one broadcast spread",
        "frames per node",
        |p| Some(p.outcome.frames_per_node()),
    )
}
