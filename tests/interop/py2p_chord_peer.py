"""A py2p 0.7.878 chord node that advertises an address nobody listens on: py2p_peer.py with one
more option, for tests that need a LINE of chord nodes.

    python py2p_chord_peer.py --advertise-port N [py2p_peer.py options...]

Why: py2p's ChordSocket dials the peers it hears of in peer lists (its own ``_handle_peers``:
ring neighbours always, others up to ``chord.max_outgoing``), so py2p nodes on a line would
link around the node between them. A node whose advertised address (py2p's ``out_addr``, sent
in its handshake and in peer lists) refuses connections cannot be dialled that way; the test
makes the links it wants by dialling the real port. py2p's protocol behaviour is unchanged:
only the address it advertises differs.

What it is not: another harness. Commands and events are py2p_peer.py's, and
:func:`start` returns a :class:`peer.RefPeer` for it.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def start(advertise_port, max_outgoing=0, ready_timeout=15.0):
    """A :class:`peer.RefPeer` driving a py2p chord node that advertises 127.0.0.1:
    ``advertise_port`` (and dials nothing from peer lists beyond what py2p insists on)."""
    from peer import RefPeer, py2p_python

    argv = [py2p_python(), os.path.join(HERE, "py2p_chord_peer.py"),
            "--advertise-port", str(int(advertise_port)), "--kind", "chord",
            "--max-outgoing", str(int(max_outgoing))]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=HERE)
    try:
        return RefPeer(proc, "py2p", ready_timeout)
    except Exception:
        proc.kill()
        proc.wait(5)
        raise


def _take_advertise_port(argv):
    if "--advertise-port" not in argv:
        raise SystemExit("py2p_chord_peer.py needs --advertise-port N")
    at = argv.index("--advertise-port")
    port = int(argv[at + 1])
    del argv[at:at + 2]
    return port


def main():
    port = _take_advertise_port(sys.argv)
    sys.path.insert(0, HERE)
    from py2p import chord

    original_init = chord.ChordSocket.__init__

    def init(self, addr, port_, prot=chord.default_protocol, out_addr=None, debug_level=0):
        original_init(self, addr, port_, prot, ("127.0.0.1", port), debug_level)

    chord.ChordSocket.__init__ = init
    import py2p_peer

    py2p_peer.main()


if __name__ == "__main__":
    main()
