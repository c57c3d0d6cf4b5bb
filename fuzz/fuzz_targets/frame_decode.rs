//! Fuzz target: arbitrary bytes as a peer's stream. The first byte picks how the stream is cut
//! into reads; the rest goes through FrameSplitter, then every body through decode_body, and
//! the whole input through Value::decode. Nothing may panic, and whatever decodes must survive
//! re-encoding: a decoded message re-packed gives a frame that decodes to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rs2p::wire::frame::{decode_body, message_id, pack, write_frame, FrameSplitter};
use rs2p::wire::{Limits, Value};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_frame_len: 1 << 20,
        max_decompressed_len: 1 << 20,
        max_depth: 32,
    };
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(cut % 17) + 1;

    let mut splitter = FrameSplitter::new(limits);
    'feed: for piece in stream.chunks(chunk) {
        splitter.push(piece);
        loop {
            match splitter.next_body() {
                Ok(Some(body)) => check_body(&body, &limits),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    // Bodies are also tried directly, so the decoder sees inputs without a valid prefix.
    check_body(stream, &limits);

    if let Ok(value) = Value::decode(stream, limits.max_depth) {
        let again = Value::decode(&value.to_bytes(), limits.max_depth + 1);
        assert!(values_match(again.as_ref().ok(), &value), "value round trip");
    }
});

fn check_body(body: &[u8], limits: &Limits) {
    if let Ok((msg, packed)) = decode_body(body, limits) {
        assert_eq!(msg.id, message_id(&packed));
        let repacked = pack(msg.msg_type, &msg.sender, msg.time, &msg.payload);
        let mut frame = Vec::new();
        write_frame(&message_id(&repacked), &repacked, None, &mut frame);
        let relaxed = Limits {
            max_depth: limits.max_depth + 1,
            ..*limits
        };
        let (again, _) = decode_body(&frame[4..], &relaxed).expect("re-encoded frame decodes");
        assert_eq!(again.msg_type, msg.msg_type);
        assert_eq!(again.sender, msg.sender);
        assert_eq!(again.time, msg.time);
        assert_eq!(again.payload.len(), msg.payload.len());
    }
}

/// Equality that treats NaN as equal to itself (decoded floats may be NaN).
fn values_match(a: Option<&Value>, b: &Value) -> bool {
    match (a, b) {
        (Some(Value::F64(x)), Value::F64(y)) => x.to_bits() == y.to_bits(),
        (Some(Value::F32(x)), Value::F32(y)) => x.to_bits() == y.to_bits(),
        (Some(Value::Array(xs)), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| values_match(Some(x), y))
        }
        (Some(Value::Map(xs)), Value::Map(ys)) => {
            xs.len() == ys.len()
                && xs.iter().zip(ys).all(|((xk, xv), (yk, yv))| {
                    values_match(Some(xk), yk) && values_match(Some(xv), yv)
                })
        }
        (Some(x), y) => x == y,
        (None, _) => false,
    }
}
