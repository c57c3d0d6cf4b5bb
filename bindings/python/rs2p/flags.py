"""Protocol flag values, under the names py2p uses (``py2p.flags``), so code written for
py2p can keep saying ``flags.whisper`` or ``flags.zlib``.

Main flags go in a message's ``msg_type``; sub-flags are ``payload[0]``; compression
codes are what handshakes advertise and what frames may be compressed with. Several
sub-flags share a value with a main flag (``broadcast``, ``whisper``, ``ping``, ``pong``).
"""

from typing import Tuple

#: Every value below 0x30 is reserved for protocol flags.
reserved: Tuple[int, ...] = tuple(range(0x30))

# Main flags (msg_type).
broadcast = 0x00
renegotiate = 0x01
whisper = 0x02
ping = 0x03  # reserved, never sent
pong = 0x04  # reserved, never sent

# Sub-flags (payload[0]); broadcast, whisper, ping and pong double as sub-flags.
compression = 0x01
handshake = 0x05
notify = 0x06
peers = 0x07
request = 0x08
resend = 0x09
response = 0x0A
store = 0x0B
retrieve = 0x0C
retrieved = 0x0D
forward = 0x0E
new_paths = 0x0F
revoke_paths = 0x10
delta = 0x11

# Compression method codes that py2p implements. rs2p reads and writes zlib and gzip.
bz2 = 0x10
gzip = 0x11
lzma = 0x12
zlib = 0x13
snappy = 0x20

# Codes named after compressjs's methods; nobody implements them.
bwtc = 0x14
context1 = 0x15
defsum = 0x16
dmc = 0x17
fenwick = 0x18
huffman = 0x19
lzjb = 0x1A
lzjbr = 0x1B
lzp3 = 0x1C
mtf = 0x1D
ppmd = 0x1E
simple = 0x1F
