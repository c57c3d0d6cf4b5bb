//! Protocol IDs and node IDs (PROTOCOL.md §5).
//!
//! TODO(wire helper): implement.
