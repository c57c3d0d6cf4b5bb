"""rs2p.flags has py2p's flag names with py2p's values, so py2p code can switch imports."""

import py2p.flags

from rs2p import flags


def public_values(module):
    return {
        name: getattr(module, name)
        for name in dir(module)
        if not name.startswith("_") and isinstance(getattr(module, name), (int, tuple))
    }


def test_same_names_and_values_as_py2p():
    assert public_values(flags) == public_values(py2p.flags)
