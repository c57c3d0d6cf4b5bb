//! Conversions from everyday Rust values into message packets ([`Value`]); byte strings become
//! msgpack bin, text becomes str. Not the msgpack codec.

use crate::wire::Value;

/// Anything that can be one packet of a message.
pub trait IntoPacket {
    fn into_packet(self) -> Value;
}

impl IntoPacket for Value {
    fn into_packet(self) -> Value {
        self
    }
}

impl IntoPacket for &Value {
    fn into_packet(self) -> Value {
        self.clone()
    }
}

impl IntoPacket for Vec<u8> {
    fn into_packet(self) -> Value {
        Value::Bin(self)
    }
}

impl IntoPacket for &Vec<u8> {
    fn into_packet(self) -> Value {
        Value::Bin(self.clone())
    }
}

impl IntoPacket for &[u8] {
    fn into_packet(self) -> Value {
        Value::Bin(self.to_vec())
    }
}

impl<const N: usize> IntoPacket for [u8; N] {
    fn into_packet(self) -> Value {
        Value::Bin(self.to_vec())
    }
}

impl<const N: usize> IntoPacket for &[u8; N] {
    fn into_packet(self) -> Value {
        Value::Bin(self.to_vec())
    }
}

impl IntoPacket for String {
    fn into_packet(self) -> Value {
        Value::Str(self)
    }
}

impl IntoPacket for &str {
    fn into_packet(self) -> Value {
        Value::Str(self.to_owned())
    }
}

impl IntoPacket for u64 {
    fn into_packet(self) -> Value {
        Value::UInt(self)
    }
}

impl IntoPacket for i64 {
    fn into_packet(self) -> Value {
        if self < 0 {
            Value::Int(self)
        } else {
            Value::UInt(self as u64)
        }
    }
}

impl IntoPacket for bool {
    fn into_packet(self) -> Value {
        Value::Bool(self)
    }
}

/// Converts packets given in any [`IntoPacket`] form.
pub(crate) fn collect_packets<P: IntoPacket>(packets: impl IntoIterator<Item = P>) -> Vec<Value> {
    packets.into_iter().map(IntoPacket::into_packet).collect()
}
