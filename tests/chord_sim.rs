//! The chord routing study: lookups reach the responsible node, in few hops.

use rs2p::sim::scenario::chord::{hop_study, hop_table};

#[test]
fn lookups_reach_the_responsible_node_in_logarithmic_hops() {
    let small = hop_study(100, 2_000, 1);
    let large = hop_study(1_000, 2_000, 1);
    println!("{}", hop_table(&[small.clone(), large.clone()]));
    assert_eq!(small.misrouted, 0);
    assert_eq!(large.misrouted, 0);
    // log2(1000) ≈ 10: a lookup never needs more hops than the ring has bits of nodes.
    assert!(large.max_hops <= 10, "max hops {}", large.max_hops);
    assert!(small.max_hops <= 7, "max hops {}", small.max_hops);
}
