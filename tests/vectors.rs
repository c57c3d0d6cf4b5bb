//! Byte-exact checks against the reference vectors produced by py2p 0.7.878
//! (tests/data/py2p-0.7.json): protocol IDs, whole frames (plain, zlib, gzip), message IDs,
//! chord positions, base58 integers and the node-ID recipe. Every entry of the file is checked;
//! a missing or changed file fails the test rather than skipping it.

use rs2p::wire::base58;
use rs2p::wire::frame::{decode_body, message_id, pack, write_frame, FrameSplitter, Message};
use rs2p::wire::ids::{chord_positions_b58, node_id, out_addr_repr, protocol_id};
use rs2p::wire::Limits;
use serde_json::Value as Json;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/py2p-0.7.json");

fn load() -> Json {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| {
        panic!("cannot read the reference vectors at {VECTORS}: {e}; restore tests/data/py2p-0.7.json from git")
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{VECTORS} is not valid JSON: {e}"))
}

fn field<'a>(entry: &'a Json, name: &str) -> &'a Json {
    entry
        .get(name)
        .unwrap_or_else(|| panic!("vector entry lacks `{name}`: {entry}"))
}

fn text<'a>(entry: &'a Json, name: &str) -> &'a str {
    field(entry, name)
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is not a string in {entry}"))
}

fn list<'a>(doc: &'a Json, name: &str) -> &'a Vec<Json> {
    field(doc, name)
        .as_array()
        .unwrap_or_else(|| panic!("`{name}` is not a list"))
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex: {s}")))
        .collect()
}

/// A decimal integer as minimal big-endian bytes.
fn decimal_to_be(s: &str) -> Vec<u8> {
    let mut le: Vec<u8> = Vec::new();
    for ch in s.bytes() {
        assert!(ch.is_ascii_digit(), "not a decimal integer: {s}");
        let mut carry = u32::from(ch - b'0');
        for byte in le.iter_mut() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            le.push(carry as u8);
            carry >>= 8;
        }
    }
    le.reverse();
    le
}

/// Reads exactly one frame out of `frame`, feeding it byte by byte to exercise the splitter.
fn read_one_frame(frame: &[u8], what: &str) -> (Message, Vec<u8>) {
    let mut splitter = FrameSplitter::new(Limits::DEFAULT);
    let mut bodies = Vec::new();
    for byte in frame {
        splitter.push(std::slice::from_ref(byte));
        while let Some(body) = splitter
            .next_body()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
        {
            bodies.push(body);
        }
    }
    assert_eq!(bodies.len(), 1, "{what}: expected exactly one frame");
    assert!(
        !splitter.has_partial(),
        "{what}: bytes left after the frame"
    );
    decode_body(&bodies[0], &Limits::DEFAULT).unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn every_reference_vector_matches() {
    let doc = load();
    let known_sections = [
        "source",
        "protocols",
        "messages",
        "chord_hashes",
        "base58_int",
        "node_id_example",
    ];
    let sections = doc.as_object().expect("the vector file is a JSON object");
    for key in sections.keys() {
        assert!(
            known_sections.contains(&key.as_str()),
            "vector section `{key}` is not checked by this test; add a check for it"
        );
    }
    let mut checked = 0usize;

    for entry in list(&doc, "protocols") {
        let got = protocol_id(text(entry, "subnet"), text(entry, "encryption"));
        assert_eq!(got, text(entry, "id"), "protocol ID of {entry}");
        checked += 1;
    }

    for entry in list(&doc, "messages") {
        let name = text(entry, "name");
        let frame = unhex(text(entry, "frame_hex"));
        let id = unhex(text(entry, "id_hex"));
        let (msg, packed) = read_one_frame(&frame, name);
        assert_eq!(
            u64::from(msg.msg_type),
            field(entry, "msg_type").as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(msg.sender, text(entry, "sender").as_bytes(), "{name}");
        assert_eq!(msg.time, field(entry, "time").as_i64().unwrap(), "{name}");
        assert_eq!(msg.id.to_vec(), id, "{name}: message ID");
        assert_eq!(
            message_id(&packed).to_vec(),
            id,
            "{name}: SHA-256 of packed"
        );

        // Our encoder writes the same bytes as py2p for the same message.
        let repacked = pack(msg.msg_type, &msg.sender, msg.time, &msg.payload);
        assert_eq!(repacked, packed, "{name}: pack");
        let mut ours = Vec::new();
        write_frame(&message_id(&repacked), &repacked, None, &mut ours);
        assert_eq!(ours, frame, "{name}: write_frame");

        // The compressed forms decode to the same message.
        for key in ["zlib_frame_hex", "gzip_frame_hex"] {
            let (other, other_packed) = read_one_frame(&unhex(text(entry, key)), name);
            assert_eq!(other, msg, "{name}: {key}");
            assert_eq!(other_packed, packed, "{name}: {key}");
        }
        checked += 1;
    }

    for entry in list(&doc, "chord_hashes") {
        let key = unhex(text(entry, "key_hex"));
        let methods = list(entry, "methods");
        let b58 = list(entry, "b58");
        let ours = chord_positions_b58(&key);
        assert_eq!(methods.len(), 5);
        assert_eq!(b58.len(), 5);
        for (i, (method, position)) in ours.iter().enumerate() {
            assert_eq!(Some(*method), methods[i].as_str(), "chord method {i}");
            assert_eq!(
                Some(position.as_str()),
                b58[i].as_str(),
                "{method} of {entry}"
            );
        }
        checked += 1;
    }

    for entry in list(&doc, "base58_int") {
        let be = decimal_to_be(text(entry, "int"));
        let b58 = text(entry, "b58");
        assert_eq!(base58::encode(&be), b58, "encode {entry}");
        assert_eq!(
            base58::decode(b58.as_bytes()).unwrap(),
            be,
            "decode {entry}"
        );
        checked += 1;
    }

    let example = field(&doc, "node_id_example");
    let repr = text(example, "out_addr_repr");
    assert_eq!(out_addr_repr("127.0.0.1", 44565), repr);
    let got = node_id(repr, text(example, "protocol_id"), text(example, "salt"));
    assert_eq!(got, text(example, "id"), "node ID example");
    checked += 1;

    let expected = list(&doc, "protocols").len()
        + list(&doc, "messages").len()
        + list(&doc, "chord_hashes").len()
        + list(&doc, "base58_int").len()
        + 1;
    assert_eq!(checked, expected, "every vector entry is checked");
    assert!(checked >= 26, "the vector file shrank to {checked} entries");
}
