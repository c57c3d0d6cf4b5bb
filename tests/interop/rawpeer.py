"""A raw-socket client of the p2p 0.7 wire protocol, in pure Python.

What it is: a small, reusable test client that speaks the protocol's frames
byte by byte (msgpack + hashlib + zlib, no py2p), so that tests can say
exactly what goes on the wire: our own handshake, any frame, arbitrary bytes
(the "bad input" client), frames padded to a chosen length, frames paced one
per send() call. It decodes what the other side sends, with a timeout.

What it is not: a node. It keeps no routing table, relays nothing, answers
nothing by itself.

Frame layout (see docs/reference-notes.md): a 4-byte big-endian length, then
the body; the body is `sha256(packed) ++ packed`, optionally compressed, and
`packed` is the msgpack array `[msg_type, sender, time, *payload]`.

Values are msgpack'd with bin for Python `bytes` and str for Python `str`;
decoded bin comes back as `bytes`, str as `str`.
"""

import bz2
import fcntl
import hashlib
import lzma
import socket
import struct
import time
import zlib
from collections import namedtuple

import msgpack

# Main flags and sub-flags of protocol 0.7.
BROADCAST, RENEGOTIATE, WHISPER = 0x00, 0x01, 0x02
HANDSHAKE, PEERS, REQUEST, RESPONSE = 0x05, 0x07, 0x08, 0x0A
COMPRESSION, RESEND, STORE, DELTA, NOTIFY = 0x01, 0x09, 0x0B, 0x11, 0x06
BZ2, GZIP, LZMA, ZLIB, SNAPPY = 0x10, 0x11, 0x12, 0x13, 0x20

B58_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

# Linux: bytes in a socket's send queue not yet sent (include/uapi/linux/sockios.h).
SIOCOUTQNSD = 0x894B


def b58encode_int(value):
    """Base58 text (bytes) of a non-negative integer; 0 is b'1'."""
    if value == 0:
        return B58_ALPHABET[:1]
    digits = bytearray()
    while value:
        value, rem = divmod(value, 58)
        digits.append(B58_ALPHABET[rem])
    return bytes(reversed(digits))


def b58decode_int(text):
    if isinstance(text, str):
        text = text.encode()
    value = 0
    for ch in text:
        value = value * 58 + B58_ALPHABET.index(ch)
    return value


def protocol_id(subnet, encryption="Plaintext", version="0.7"):
    """The protocol ID as py2p makes it: base58 of sha256(subnet+enc+version)."""
    digest = hashlib.sha256((subnet + encryption + version).encode()).hexdigest()
    return b58encode_int(int(digest, 16))


def random_node_id():
    """A node ID made like py2p's (base58 of a SHA-384), from random bytes."""
    import os

    return b58encode_int(int(hashlib.sha384(os.urandom(32)).hexdigest(), 16))


def pack(value):
    return msgpack.packb(value, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def packed_message(msg_type, sender, timestamp, payload):
    """The msgpack'd array [msg_type, sender, time, *payload]."""
    return pack([msg_type, sender, timestamp] + list(payload))


def zlib_padded(data, modulus=8, prefix_len=4, residue=0):
    """A valid zlib stream of `data` whose length + prefix_len is ≡ residue
    (mod modulus), for modulus 8.

    The deflate data ends with a sync flush (an empty non-final stored block,
    byte aligned); then k more empty non-final stored blocks (5 bytes each),
    a final empty stored block and the Adler-32 trailer. 5 is coprime with 8,
    so some k in 0..7 reaches any residue.
    """
    comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15)
    head = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
    tail = b"\x01\x00\x00\xff\xff" + struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)
    for k in range(modulus):
        stream = head + b"\x00\x00\x00\xff\xff" * k + tail
        if (len(stream) + prefix_len) % modulus == residue % modulus:
            return stream
    raise ValueError("no padding reaches residue %d mod %d" % (residue, modulus))


def encode_frame(msg_type, sender, timestamp, payload, compression=None, pad8=False):
    """A whole frame (length prefix included).

    compression: None (plain), ZLIB or GZIP (zlib's default container /
    gzip container), BZ2, LZMA. pad8=True: zlib container padded so that the
    whole frame's length is ≡ 0 (mod 8) (implies zlib).
    """
    packed = packed_message(msg_type, sender, timestamp, payload)
    body = hashlib.sha256(packed).digest() + packed
    return frame_from_body(compress_body(body, compression, pad8))


def compress_body(body, compression=None, pad8=False):
    if pad8:
        return zlib_padded(body)
    if compression is None:
        return body
    if compression == ZLIB:
        return zlib.compress(body)
    if compression == GZIP:
        c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 31)
        return c.compress(body) + c.flush()
    if compression == BZ2:
        return bz2.compress(body)
    if compression == LZMA:
        return lzma.compress(body)
    raise ValueError("unsupported compression code %r" % (compression,))


def frame_from_body(body):
    return struct.pack(">I", len(body)) + body


Frame = namedtuple(
    "Frame", "msg_type sender time payload compressed msg_id raw length body"
)
Frame.__doc__ = """A decoded frame. payload[0] is the sub-flag. compressed is
None for a plain body, else the name of the decoder that took it ("zlib/gzip",
"bz2", "lzma"); body is the body as received, raw the packed message."""


class ProtocolError(Exception):
    """The bytes received are not a valid frame."""


def decode_body(body):
    """Decode one frame body (without its length prefix) into a Frame."""
    candidates = [(None, body)]
    for name, fn in (
        ("zlib/gzip", lambda b: zlib.decompress(b, zlib.MAX_WBITS | 32)),
        ("bz2", bz2.decompress),
        ("lzma", lzma.decompress),
    ):
        try:
            candidates.append((name, fn(body)))
        except Exception:
            pass
    for name, plain in candidates:
        if len(plain) >= 32 and hashlib.sha256(plain[32:]).digest() == plain[:32]:
            items = unpack(plain[32:])
            if not isinstance(items, list) or len(items) < 3:
                raise ProtocolError("packed message is not an array of >= 3 items")
            return Frame(
                items[0], items[1], items[2], items[3:], name, plain[:32], plain[32:], len(body) + 4, body
            )
    raise ProtocolError("checksum fails for the body as is and decompressed")


def unsent_bytes(sock):
    """Bytes still in the socket's send queue and not yet sent (Linux)."""
    buf = fcntl.ioctl(sock.fileno(), SIOCOUTQNSD, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


class RawPeer:
    """One TCP connection speaking raw frames.

    Usage:
        p = RawPeer.connect("127.0.0.1", port)
        p.send_handshake(my_id, protocol_id("mesh"), ("127.0.0.1", 1), [ZLIB])
        f = p.read_frame(timeout=2)
    """

    def __init__(self, sock, node_id=None):
        self.sock = sock
        self.node_id = node_id or random_node_id()
        self.buffer = bytearray()
        self.eof = False

    @classmethod
    def connect(cls, host, port, timeout=5.0, node_id=None):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, node_id)

    # ---- sending -------------------------------------------------------

    def send_bytes(self, data):
        self.sock.sendall(data)

    def handshake_frame(self, prot_id, addr=("127.0.0.1", 1), methods=(ZLIB,), node_id=None, timestamp=None):
        node_id = self.node_id if node_id is None else node_id
        return encode_frame(
            WHISPER,
            node_id,
            int(time.time()) if timestamp is None else timestamp,
            [HANDSHAKE, node_id, prot_id, list(addr), list(methods)],
        )

    def send_handshake(self, prot_id, addr=("127.0.0.1", 1), methods=(ZLIB,), node_id=None):
        frame = self.handshake_frame(prot_id, addr, methods, node_id)
        self.send_bytes(frame)
        return frame

    def frame(self, msg_type, payload, compression=None, pad8=False, sender=None, timestamp=None):
        return encode_frame(
            msg_type,
            self.node_id if sender is None else sender,
            int(time.time()) if timestamp is None else timestamp,
            payload,
            compression,
            pad8,
        )

    def send_frame(self, msg_type, payload, compression=None, pad8=False, sender=None, timestamp=None):
        frame = self.frame(msg_type, payload, compression, pad8, sender, timestamp)
        self.send_bytes(frame)
        return frame

    def send_paced(self, data, deadline=None):
        """Write data with its own send() call(s), then wait until the socket's
        send queue holds no unsent byte. Returns False if the deadline passed."""
        self.sock.sendall(data)
        deadline = deadline or (time.monotonic() + 5.0)
        while unsent_bytes(self.sock) > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0002)
        return True

    # ---- receiving -----------------------------------------------------

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete frame before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no complete frame before the deadline")
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            raise ConnectionError("peer closed the connection")
        self.buffer.extend(data)

    def read_frame(self, timeout=5.0):
        """The next frame, decoded. Raises TimeoutError, ConnectionError (EOF)
        or ProtocolError."""
        deadline = time.monotonic() + timeout
        while len(self.buffer) < 4:
            self._fill(deadline)
        length = struct.unpack(">I", bytes(self.buffer[:4]))[0]
        while len(self.buffer) < 4 + length:
            self._fill(deadline)
        body = bytes(self.buffer[4 : 4 + length])
        del self.buffer[: 4 + length]
        return decode_body(body)

    def read_frames(self, timeout=1.0):
        """Every frame that arrives within `timeout` (stops early at EOF)."""
        frames = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                frames.append(self.read_frame(max(0.0, deadline - time.monotonic()) or 0.001))
            except (TimeoutError, ConnectionError):
                return frames

    def read_until(self, predicate, timeout=5.0):
        """Read frames until one satisfies predicate; returns (match, skipped)."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            f = self.read_frame(max(0.001, deadline - time.monotonic()))
            if predicate(f):
                return f, skipped
            skipped.append(f)

    def wait_closed(self, timeout=5.0):
        """True if the peer closes the connection within timeout (frames
        arriving meanwhile are discarded)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            try:
                self._fill(deadline)
                self.buffer.clear()
            except ConnectionError:
                return True
            except TimeoutError:
                return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
