//! The chord routing study: how many hops a lookup takes among N storing nodes whose links
//! are the ones the chord layer asks for (ring successor, predecessor and finger peers, see
//! `proto::chord::routing`), each hop choosing the production rule (the linked storing node,
//! or itself, with the smallest distance to the position).
//!
//! This is a routing-table model, not a message-level run: every node is assumed to know
//! all storing nodes (as peer lists spread them) and to hold the links it wants, links
//! being two-way. It measures the shape the dial policy gives, at sizes (10,000) the
//! message-level study (`chord_net.rs`) cannot reach in minutes. Not here: latency, loss,
//! crashes.

use crate::proto::chord::ring::{key_positions, RingPos};
use crate::proto::chord::routing::{closest, wanted_links};
use sha2::{Digest, Sha384};
use std::collections::BTreeSet;

/// What the lookups of one network size cost.
#[derive(Clone, Debug, PartialEq)]
pub struct HopStudy {
    pub nodes: usize,
    pub lookups: usize,
    /// Links per node (mean).
    pub mean_links: f64,
    pub mean_hops: f64,
    pub p99_hops: usize,
    pub max_hops: usize,
    /// Lookups that ended at a node other than the globally responsible one (must be 0).
    pub misrouted: usize,
}

/// Runs `lookups` lookups (of keys `key0`, `key1`, … from requesters spread over the ring)
/// among `n` storing nodes whose IDs derive from `seed`.
pub fn hop_study(n: usize, lookups: usize, seed: u64) -> HopStudy {
    let positions: Vec<RingPos> = (0..n)
        .map(|i| {
            let mut h = Sha384::new();
            h.update(seed.to_be_bytes());
            h.update((i as u64).to_be_bytes());
            RingPos::reduce(&h.finalize())
        })
        .collect();
    let index_of = |p: &RingPos| positions.iter().position(|q| q == p);
    let mut links: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, me) in positions.iter().enumerate() {
        for p in wanted_links(me, &positions) {
            if let Some(j) = index_of(&p) {
                links[i].insert(j);
                links[j].insert(i);
            }
        }
    }
    let mut hops: Vec<usize> = Vec::with_capacity(lookups);
    let mut misrouted = 0;
    for k in 0..lookups {
        let key = format!("key{k}");
        let target = key_positions(key.as_bytes())[k % 5].ring();
        let mut at = (k * 7919) % n;
        let mut count = 0;
        loop {
            let candidates = std::iter::once((&positions[at], at))
                .chain(links[at].iter().map(|&j| (&positions[j], j)));
            let next = closest(&target, candidates).map_or(at, |(_, j)| j);
            if next == at {
                break;
            }
            at = next;
            count += 1;
        }
        let global = closest(&target, positions.iter().enumerate().map(|(i, p)| (p, i)));
        if global.map(|(_, i)| i) != Some(at) {
            misrouted += 1;
        }
        hops.push(count);
    }
    hops.sort_unstable();
    let mean_hops = hops.iter().sum::<usize>() as f64 / lookups.max(1) as f64;
    let p99_index = ((lookups as f64 * 0.99).ceil() as usize).clamp(1, lookups.max(1)) - 1;
    HopStudy {
        nodes: n,
        lookups,
        mean_links: links.iter().map(BTreeSet::len).sum::<usize>() as f64 / n.max(1) as f64,
        mean_hops,
        p99_hops: hops.get(p99_index).copied().unwrap_or(0),
        max_hops: hops.last().copied().unwrap_or(0),
        misrouted,
    }
}

/// The study as a Markdown table.
pub fn hop_table(results: &[HopStudy]) -> String {
    let mut out = String::from(
        "| storing nodes | lookups | links/node | mean hops | p99 hops | max hops | misrouted |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.2} | {} | {} | {} |\n",
            r.nodes, r.lookups, r.mean_links, r.mean_hops, r.p99_hops, r.max_hops, r.misrouted
        ));
    }
    out
}
