//! Compression containers of the protocol: zlib (RFC 1950, code 0x13) and gzip (RFC 1952,
//! code 0x11) on miniz_oxide, with bounded incremental decompression, and the choice of a
//! sender's method from two advertised lists. Not here: bz2, lzma, snappy (never advertised by
//! rs2p, so never sent to it by a conforming peer).
//!
//! TODO(wire helper): implement.
