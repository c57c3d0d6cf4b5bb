//! The I/O driver: one mio event-loop thread per node. TODO(driver work).
