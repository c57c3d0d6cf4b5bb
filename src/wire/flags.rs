//! Flag numbers of the p2p protocol 0.7 (PROTOCOL.md §3–4) as named constants.
//! Main flags go in a message's `msg_type`; sub-flags are its first payload item.

/// Main flag: the frame floods the network.
pub const BROADCAST: u8 = 0x00;
/// Main flag: connection maintenance (compression lists, resend).
pub const RENEGOTIATE: u8 = 0x01;
/// Main flag: the frame goes to one peer only.
pub const WHISPER: u8 = 0x02;
/// Main flag, reserved: never sent.
pub const PING: u8 = 0x03;
/// Main flag, reserved: never sent.
pub const PONG: u8 = 0x04;

/// Sub-flags (the first payload item).
pub mod sub {
    pub const BROADCAST: u8 = 0x00;
    pub const COMPRESSION: u8 = 0x01;
    pub const WHISPER: u8 = 0x02;
    pub const PING: u8 = 0x03;
    pub const PONG: u8 = 0x04;
    pub const HANDSHAKE: u8 = 0x05;
    pub const NOTIFY: u8 = 0x06;
    pub const PEERS: u8 = 0x07;
    pub const REQUEST: u8 = 0x08;
    pub const RESEND: u8 = 0x09;
    pub const RESPONSE: u8 = 0x0A;
    pub const STORE: u8 = 0x0B;
    pub const RETRIEVE: u8 = 0x0C;
    pub const RETRIEVED: u8 = 0x0D;
    pub const FORWARD: u8 = 0x0E;
    pub const NEW_PATHS: u8 = 0x0F;
    pub const REVOKE_PATHS: u8 = 0x10;
    pub const DELTA: u8 = 0x11;
}

/// Highest flag value reserved for the protocol itself; user sub-flags must be above it.
pub const RESERVED_MAX: u8 = 0x2F;

/// Compression method codes.
pub mod method {
    pub const BZ2: u8 = 0x10;
    pub const GZIP: u8 = 0x11;
    pub const LZMA: u8 = 0x12;
    pub const ZLIB: u8 = 0x13;
    pub const SNAPPY: u8 = 0x20;
}
