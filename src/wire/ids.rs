//! Protocol IDs and node IDs (PROTOCOL.md §5).
//!
//! TODO(wire helper): implement.

/// The protocol ID: base58 of SHA-256(subnet ‖ encryption ‖ "0.7").
pub fn protocol_id(subnet: &str, encryption: &str) -> String {
    let _ = (subnet, encryption);
    todo!()
}

/// Python's `repr` of an `(host, port)` tuple, e.g. `('127.0.0.1', 44565)`.
pub fn out_addr_repr(host: &str, port: u16) -> String {
    let _ = (host, port);
    todo!()
}

/// A node ID: base58 of SHA-384(out_addr_repr ‖ protocol_id ‖ salt).
pub fn node_id(out_addr_repr: &str, protocol_id: &str, salt: &str) -> String {
    let _ = (out_addr_repr, protocol_id, salt);
    todo!()
}

/// A fresh random UUID4 text (from the OS random source), used as the node-ID salt.
pub fn new_salt() -> String {
    todo!()
}
