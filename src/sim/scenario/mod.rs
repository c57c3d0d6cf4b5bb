//! Measurements built on the engine. Each study sets up a world of production cores, runs it
//! and returns plain numbers for [`super::report`] and [`super::svg`].
//!
//! Studies: `mesh` (one broadcast, loss, crash), `sync` (a partition heals), `chord` (the
//! routing-table model) and `chord_net` (chord at message level: hops, reads, a crash). Each
//! world follows [`mesh::MeshWorld`]'s pattern (hosts named by [`host_addr`], one seed for
//! everything). The binary `rs2p-sim` picks studies by name (`--study mesh,sync,chord`).

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
