//! Measurements built on the engine. Each study sets up a world of production cores, runs it
//! and returns plain numbers for [`super::report`] and [`super::svg`].
//!
//! Extension point: a sync-table or chord study goes in its own file here (`sync.rs`,
//! `chord.rs`), implements [`super::SimNode`] for its core if that core is not a `Mesh`, and
//! reuses [`mesh::MeshWorld`]'s pattern (hosts named by [`host_addr`], one seed for
//! everything). The binary `rs2p-sim` picks studies by name (`--study mesh`).

pub mod chord;
pub mod chord_net;
pub mod mesh;
pub mod sync;

/// The virtual address of host `i`: `10.x.y.z:4444`, unique for up to 2^24 hosts.
pub fn host_addr(i: u32) -> (String, u16) {
    (
        format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
        4444,
    )
}
