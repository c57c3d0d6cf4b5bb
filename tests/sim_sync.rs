//! The production sync core in the simulator: after a partition heals, what both sides wrote
//! reaches every node.

use rs2p::sim::scenario::sync::{sync_study, SyncStudyConfig};

#[test]
fn probe() {
    for redial in [false, true] {
    let mut cfg = SyncStudyConfig::new(20, 1);
    cfg.keys_per_side = 10;
    cfg.conflict_keys = 2;
    cfg.redial_after_heal = redial;
    let r = sync_study(&cfg);
    println!("across before {} own {} full {:?} dumps {}", r.links_across_before, r.own_side_converged, r.full_convergence_ms, r.dump_entries_after_heal);
    for s in r.samples.iter().step_by(20) { println!("{:?}", s); }
    }
}
