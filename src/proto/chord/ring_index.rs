//! [`RingIndex`]: the storing candidates of one node (itself and its storing peers) sorted by
//! ring position, so that the responsible one for a position is a binary search rather than a
//! distance to every candidate. It answers exactly as [`super::routing::closest`] does over the
//! same candidates in the same order (ties to the first), and is rebuilt whenever the
//! candidates change. Not here: who the candidates are (the handler decides).

use super::ring::RingPos;

/// Candidates sorted by (position, order given).
#[derive(Debug)]
pub struct RingIndex<T> {
    sorted: Vec<(RingPos, usize, T)>,
}

impl<T> Default for RingIndex<T> {
    fn default() -> Self {
        RingIndex { sorted: Vec::new() }
    }
}

impl<T> RingIndex<T> {
    /// Indexes `candidates`; among equal positions the first given wins, as in `closest`.
    pub fn rebuild(&mut self, candidates: impl IntoIterator<Item = (RingPos, T)>) {
        self.sorted.clear();
        self.sorted.extend(
            candidates
                .into_iter()
                .enumerate()
                .map(|(order, (pos, item))| (pos, order, item)),
        );
        self.sorted
            .sort_unstable_by_key(|(pos, order, _)| (*pos, *order));
    }

    /// How many candidates are indexed.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The candidate with the smallest clockwise distance to `target`: the last one at or
    /// before it, or (none being so) the last on the ring.
    pub fn closest(&self, target: &RingPos) -> Option<&T> {
        let after = self.sorted.partition_point(|(pos, _, _)| pos <= target);
        let best = match after {
            0 => self.sorted.last()?.0,
            n => self.sorted[n - 1].0,
        };
        let first = self.sorted.partition_point(|(pos, _, _)| *pos < best);
        self.sorted.get(first).map(|(_, _, item)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::super::routing::closest;
    use super::super::test_draw::Draw;
    use super::*;

    trait RingDraw {
        fn pos(&mut self) -> RingPos;
    }

    impl RingDraw for Draw {
        fn pos(&mut self) -> RingPos {
            let mut bytes = [0u8; super::super::ring::RING_BYTES];
            for chunk in bytes.chunks_mut(8) {
                chunk.copy_from_slice(&self.next().to_be_bytes());
            }
            RingPos(bytes)
        }
    }

    #[test]
    fn answers_as_the_linear_search_does() {
        let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
        for n in [1usize, 2, 3, 8, 31] {
            let mut nodes: Vec<(RingPos, usize)> = (0..n).map(|i| (draw.pos(), i)).collect();
            // A duplicate position: the first given must win, as in `closest`.
            if n > 2 {
                nodes[n - 1].0 = nodes[1].0;
            }
            let mut index = RingIndex::default();
            index.rebuild(nodes.iter().copied());
            let mut targets: Vec<RingPos> = (0..200).map(|_| draw.pos()).collect();
            targets.extend(nodes.iter().map(|(p, _)| *p));
            targets.push(RingPos([0; super::super::ring::RING_BYTES]));
            targets.push(RingPos([0xff; super::super::ring::RING_BYTES]));
            for target in &targets {
                let linear = closest(target, nodes.iter().map(|(p, i)| (p, *i))).map(|b| b.1);
                assert_eq!(index.closest(target).copied(), linear, "n = {n}");
            }
        }
    }

    #[test]
    fn no_candidates_no_answer() {
        let index: RingIndex<u8> = RingIndex::default();
        assert_eq!(
            index.closest(&RingPos([7; super::super::ring::RING_BYTES])),
            None
        );
    }
}
