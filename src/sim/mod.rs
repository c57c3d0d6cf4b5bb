//! Deterministic in-process simulator. TODO(simulator work).
