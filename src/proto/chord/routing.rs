//! Who is responsible for a position, and whom a node wants links to (PROTOCOL.md §8).
//!
//! Responsibility: among this node (if storing) and its storing peers, the smallest
//! `distance(node, position)`; ties go to the first found, this node first, then peers in
//! ID order. A node that is not responsible hands a request to the responsible peer it
//! knows: each hop strictly shrinks the distance, so a request never loops.
//!
//! Links: a storing node wants its [`RING_SUCCESSORS`] nearest successors and its
//! predecessor among the storing nodes it knows, and the first storing node at or after
//! `self + 2^i` for each bit `i` (finger-table style), so greedy forwarding needs O(log N)
//! hops. The second successor is there for churn: when the successor dies, the link to the
//! node now responsible after us already exists, so there is no moment when we take
//! ourselves for responsible for its range. This only picks whom to dial; the wire is
//! unchanged. Pure functions, shared by the handler and the simulator's routing study.

use super::ring::{distance, RingPos};

/// The candidate with the smallest `distance(candidate, target)`; ties to the first.
pub fn closest<'a, T>(
    target: &RingPos,
    candidates: impl IntoIterator<Item = (&'a RingPos, T)>,
) -> Option<(RingPos, T)> {
    let mut best: Option<(RingPos, RingPos, T)> = None;
    for (pos, item) in candidates {
        let d = distance(pos, target);
        if !best.as_ref().is_some_and(|(bd, _, _)| d >= *bd) {
            best = Some((d, *pos, item));
        }
    }
    best.map(|(_, pos, item)| (pos, item))
}

/// The storing node that follows `from` most closely clockwise (`from` itself excluded).
pub fn successor<'a>(
    from: &RingPos,
    known: impl IntoIterator<Item = &'a RingPos>,
) -> Option<RingPos> {
    known
        .into_iter()
        .filter(|p| *p != from)
        .min_by_key(|p| distance(from, p))
        .copied()
}

/// The storing node that precedes `of` most closely (`of` itself excluded).
pub fn predecessor<'a>(
    of: &RingPos,
    known: impl IntoIterator<Item = &'a RingPos>,
) -> Option<RingPos> {
    known
        .into_iter()
        .filter(|p| *p != of)
        .min_by_key(|p| distance(p, of))
        .copied()
}

/// How many of its nearest successors a storing node keeps links to (a successor list, as
/// in Chord): one node may die without leaving its predecessor unlinked from the next.
pub const RING_SUCCESSORS: usize = 2;

/// Positions of the nodes `me` wants links to: the nearest successors, the predecessor and
/// the fingers (first node at or after `me + 2^i`), without duplicates and without `me`.
pub fn wanted_links(me: &RingPos, known: &[RingPos]) -> Vec<RingPos> {
    // Clockwise offsets from me, sorted: the first node at or after me + 2^i is the first
    // offset >= 2^i (wrapping to the smallest offset, the successor, when there is none).
    let mut offsets: Vec<(RingPos, RingPos)> = known
        .iter()
        .filter(|p| *p != me)
        .map(|p| (distance(me, p), *p))
        .collect();
    offsets.sort();
    offsets.dedup();
    let mut out: Vec<RingPos> = Vec::new();
    let mut push = |p: Option<RingPos>| {
        if let Some(p) = p {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    push(offsets.first().map(|o| o.1));
    push(predecessor(me, known));
    for next in offsets.iter().take(RING_SUCCESSORS).skip(1) {
        push(Some(next.1));
    }
    let zero = RingPos([0; super::ring::RING_BYTES]);
    for bit in (0..384).rev() {
        let step = zero.plus_pow2(bit);
        let at = offsets.partition_point(|(d, _)| *d < step);
        push(offsets.get(at).or(offsets.first()).map(|o| o.1));
    }
    out
}
