"""The bindings reproduce py2p 0.7.878's protocol IDs and frames byte for byte."""

import msgpack
import pytest

import rs2p

FRAME_KINDS = ("frame_hex", "zlib_frame_hex", "gzip_frame_hex")


def test_every_protocol_id_matches_py2p(vectors):
    assert vectors["protocols"], "no protocol vectors"
    for case in vectors["protocols"]:
        assert rs2p.protocol_id(case["subnet"], case["encryption"]) == case["id"], case


def test_encryption_defaults_to_plaintext(vectors):
    mesh = next(c for c in vectors["protocols"] if c["subnet"] == "mesh" and c["encryption"] == "Plaintext")
    assert rs2p.protocol_id("mesh") == mesh["id"]


def test_decodes_plain_zlib_and_gzip_frames_of_every_message(vectors):
    assert vectors["messages"], "no message vectors"
    for message in vectors["messages"]:
        plain = bytes.fromhex(message["frame_hex"])
        expected_packed = plain[4 + 32 :]
        for kind in FRAME_KINDS:
            frame = bytes.fromhex(message[kind])
            opened = rs2p.decode_frame(frame)
            assert opened.packed == expected_packed, (message["name"], kind)
            assert opened.id.hex() == message["id_hex"], (message["name"], kind)
            assert opened.consumed == len(frame), (message["name"], kind)


def test_encode_reproduces_the_plain_frame(vectors):
    for message in vectors["messages"]:
        plain = bytes.fromhex(message["frame_hex"])
        assert rs2p.encode_frame(plain[4 + 32 :]) == plain, message["name"]


@pytest.mark.parametrize("compression", ["zlib", "gzip"])
def test_compressed_frames_round_trip(vectors, compression):
    for message in vectors["messages"]:
        packed = bytes.fromhex(message["frame_hex"])[4 + 32 :]
        frame = rs2p.encode_frame(packed, compression)
        opened = rs2p.decode_frame(frame)
        assert (opened.packed, opened.id.hex()) == (packed, message["id_hex"])


def test_decode_message_gives_the_fields_py2p_sent(vectors):
    for message in vectors["messages"]:
        for kind in FRAME_KINDS:
            decoded = rs2p.decode_message(bytes.fromhex(message[kind]))
            assert decoded.msg_type == message["msg_type"]
            assert decoded.sender == message["sender"].encode("ascii")
            assert decoded.time == message["time"]
            assert decoded.id.hex() == message["id_hex"]
            packed = bytes.fromhex(message["frame_hex"])[4 + 32 :]
            assert decoded.payload == msgpack.unpackb(packed, raw=False)[3:]


def test_decode_message_keeps_bin_as_bytes_and_str_as_str(vectors):
    by_name = {m["name"]: m for m in vectors["messages"]}
    broadcast = rs2p.decode_message(bytes.fromhex(by_name["broadcast of bytes and int"]["frame_hex"]))
    assert broadcast.payload == [rs2p.flags.broadcast, b"hello", 3]
    whisper = rs2p.decode_message(bytes.fromhex(by_name["whisper of str"]["frame_hex"]))
    assert whisper.payload[0] == rs2p.flags.whisper
    assert isinstance(whisper.payload[1], str)


def test_first_frame_of_a_stream_reports_what_it_consumed(vectors):
    first, second = (bytes.fromhex(m["frame_hex"]) for m in vectors["messages"][:2])
    opened = rs2p.decode_frame(first + second)
    assert opened.consumed == len(first)
    assert rs2p.decode_frame((first + second)[opened.consumed :]).packed == second[36:]


def test_large_compressed_frame_grows_the_output_buffer():
    packed = msgpack.packb([0, b"sender", 1764000000, 0, b"\0" * 200_000], use_bin_type=True)
    frame = rs2p.encode_frame(packed, "zlib")
    assert len(frame) < len(packed) // 10, "a run of zeros should compress well"
    assert rs2p.decode_frame(frame).packed == packed


def test_accepts_bytearray_and_memoryview(vectors):
    frame = bytes.fromhex(vectors["messages"][0]["frame_hex"])
    assert rs2p.decode_frame(bytearray(frame)) == rs2p.decode_frame(memoryview(frame))


def test_versions():
    assert rs2p.__version__ == "0.1.0"
    assert rs2p.library_version().split(".")[:2] == rs2p.__version__.split(".")[:2]
