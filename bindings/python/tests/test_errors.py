"""Failures from the library arrive as rs2p.errors exceptions carrying the library's detail."""

import hashlib

import msgpack
import pytest

import rs2p
from rs2p import errors


@pytest.fixture
def plain_frame(vectors) -> bytes:
    return bytes.fromhex(vectors["messages"][0]["frame_hex"])


def assert_detailed(err: errors.Rs2pError, status: int) -> None:
    assert err.status == status
    assert err.message, "the exception should carry the library's explanation"
    assert str(status) in str(err)


def test_truncated_frame(plain_frame):
    with pytest.raises(errors.Truncated) as caught:
        rs2p.decode_frame(plain_frame[:-1])
    assert_detailed(caught.value, 13)
    assert isinstance(caught.value, errors.WireError)


def test_truncated_length_prefix(plain_frame):
    with pytest.raises(errors.Truncated):
        rs2p.decode_frame(plain_frame[:3])
    with pytest.raises(errors.Truncated):
        rs2p.decode_frame(b"")


def test_bad_checksum(plain_frame):
    corrupt = bytearray(plain_frame)
    corrupt[-1] ^= 0xFF
    with pytest.raises(errors.BadChecksum) as caught:
        rs2p.decode_frame(bytes(corrupt))
    assert_detailed(caught.value, 15)


def test_frame_too_large():
    announced_2_gib = b"\x7f\xff\xff\xff" + b"\0" * 64
    with pytest.raises(errors.FrameTooLarge) as caught:
        rs2p.decode_frame(announced_2_gib)
    assert_detailed(caught.value, 10)


def test_unknown_compression_code(plain_frame):
    with pytest.raises(errors.UnknownCompression) as caught:
        rs2p.encode_frame(plain_frame[36:], rs2p.flags.bz2)
    assert_detailed(caught.value, 23)


def test_unknown_compression_name_is_refused_before_calling_the_library(plain_frame):
    with pytest.raises(ValueError, match="zlib"):
        rs2p.encode_frame(plain_frame[36:], "brotli")


def test_message_that_is_not_an_array_is_refused():
    # The library may refuse to frame it, or frame it and leave the shape check to the
    # unpacking; either way the user sees BadMessageShape.
    with pytest.raises(errors.BadMessageShape):
        rs2p.decode_message(rs2p.encode_frame(msgpack.packb([1, 2])))


def test_error_classes_cover_every_status_of_the_c_api():
    expected = {
        1: errors.NullArgument,
        2: errors.InvalidArgument,
        3: errors.BufferTooSmall,
        4: errors.Panic,
        5: errors.InvalidUtf8Argument,
        10: errors.FrameTooLarge,
        11: errors.DecompressedTooLarge,
        12: errors.BadCompression,
        13: errors.Truncated,
        14: errors.TrailingBytes,
        15: errors.BadChecksum,
        16: errors.InvalidUtf8,
        17: errors.TooDeep,
        18: errors.UnsupportedMsgpack,
        19: errors.DuplicateMapKey,
        20: errors.LengthOverflow,
        21: errors.BadMessageShape,
        22: errors.BadBase58,
        23: errors.UnknownCompression,
    }
    for status, cls in expected.items():
        err = errors.error_for_status(status, "detail")
        assert type(err) is cls and err.status == status and err.message == "detail"
    assert type(errors.error_for_status(99, "from a newer library")) is errors.Rs2pError
    for family_member in (errors.InvalidUtf8, errors.TooDeep, errors.DuplicateMapKey):
        assert issubclass(family_member, errors.BadMsgpack)
    assert issubclass(errors.InvalidArgument, ValueError)


def hand_made_frame(packed: bytes) -> bytes:
    """A frame built without the library, so that the library's decoder can be shown bad input."""
    body = hashlib.sha256(packed).digest() + packed
    return len(body).to_bytes(4, "big") + body


EXT_MESSAGE = msgpack.packb([0, b"sender", 1764000000, msgpack.ExtType(1, b"x")])


def test_encoding_refuses_msgpack_the_protocol_forbids():
    with pytest.raises(errors.UnsupportedMsgpack) as caught:
        rs2p.encode_frame(EXT_MESSAGE)
    assert isinstance(caught.value, errors.BadMsgpack)
    assert_detailed(caught.value, 18)


def test_decoding_refuses_msgpack_the_protocol_forbids():
    with pytest.raises(errors.BadMsgpack) as caught:
        rs2p.decode_frame(hand_made_frame(EXT_MESSAGE))
    assert_detailed(caught.value, 18)


def test_decoding_refuses_a_message_of_the_wrong_shape():
    with pytest.raises(errors.BadMessageShape) as caught:
        rs2p.decode_frame(hand_made_frame(msgpack.packb({"not": "an array"})))
    assert_detailed(caught.value, 21)
