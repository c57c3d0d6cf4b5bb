//! Turning one packed message into frames for several links: one frame per encoding kind
//! (plain, aligned zlib, aligned gzip), built on first use and cloned for every further
//! link of that kind, so a broadcast to many peers compresses at most once per kind.
//! Not here: choosing the kind of a link (see `conn.rs`).

use super::conn::LinkKind;
use crate::wire::compression::Method;
use crate::wire::frame::{self, MessageId};

/// Frames of one message align to this many bytes towards possible py2p peers.
pub(super) const PY2P_ALIGN: usize = 8;

/// The frames of one message, by encoding kind.
pub(super) struct FrameSet<'a> {
    id: &'a MessageId,
    packed: &'a [u8],
    plain: Option<Vec<u8>>,
    zlib: Option<Vec<u8>>,
    gzip: Option<Vec<u8>>,
}

impl<'a> FrameSet<'a> {
    pub(super) fn new(id: &'a MessageId, packed: &'a [u8]) -> Self {
        FrameSet {
            id,
            packed,
            plain: None,
            zlib: None,
            gzip: None,
        }
    }

    /// The whole frame for a link of `kind` (a fresh copy the caller owns). With `last` set
    /// (no further link will ask) the kept frame itself is handed over instead of a copy.
    pub(super) fn frame_for(&mut self, kind: LinkKind, last: bool) -> Vec<u8> {
        let (id, packed) = (self.id, self.packed);
        let slot = match kind {
            LinkKind::Rs2p | LinkKind::PlainPaced => &mut self.plain,
            LinkKind::Aligned(Method::Zlib) => &mut self.zlib,
            LinkKind::Aligned(Method::Gzip) => &mut self.gzip,
        };
        match (last, slot.take()) {
            (true, Some(frame)) => frame,
            (true, None) => build(id, packed, kind),
            (false, kept) => slot
                .insert(kept.unwrap_or_else(|| build(id, packed, kind)))
                .clone(),
        }
    }
}

/// One frame of `packed` for a link of `kind`.
pub(super) fn build(id: &MessageId, packed: &[u8], kind: LinkKind) -> Vec<u8> {
    let mut out = Vec::with_capacity(packed.len() + 48);
    match kind {
        LinkKind::Rs2p | LinkKind::PlainPaced => frame::write_frame(id, packed, None, &mut out),
        LinkKind::Aligned(method) => {
            frame::write_frame_aligned(id, packed, method, PY2P_ALIGN, &mut out)
        }
    }
    out
}
