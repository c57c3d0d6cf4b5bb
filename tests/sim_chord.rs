//! The production chord core at message level in the simulator.

use rs2p::sim::scenario::chord_net::{chord_net_study, ChordStudyConfig};

#[test]
fn probe() {
    let mut cfg = ChordStudyConfig::new(200, 1);
    cfg.gets = 100;
    let r = chord_net_study(&cfg);
    println!("{r:#?}");
}
