//! Frames: `u32 length ‖ maybe_compress(sha256(packed) ‖ packed)` where `packed` is the msgpack
//! array `[msg_type, sender, time, payload...]`. Splitting a byte stream into bodies, checking
//! checksums, packing and unpacking messages. Not here: what a message means.
//!
//! TODO(wire helper): implement.
