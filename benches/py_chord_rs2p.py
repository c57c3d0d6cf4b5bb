"""The chord bench of benches/py_chord.py for the rs2p Python wrapper (``rs2p.chord.ChordSocket``,
bindings/python): same network (8 storing nodes, one process per node, joined before
connecting), same scenarios and output, reads in flight through ``get()`` futures (window
``--window``, default 1,000). Not a test: it measures and prints.

    RS2P_LIBRARY=target/release/librs2p.so build/venv/bin/python benches/py_chord_rs2p.py [--scale F]

Prints ``not_measured`` records (with the reason) when the wrapper has no ChordSocket or
cannot start a node.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import py_chord  # noqa: E402 - after the path is set

if __name__ == "__main__":
    sys.exit(py_chord.main(default_impl="rs2p"))
