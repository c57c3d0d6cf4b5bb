"""A py2p 0.7.878 reference node, driven over stdin/stdout with JSON lines.

What it is: the test harness's handle on the Python reference. Run it with a
python that has py2p==0.7.878 installed:

    python py2p_peer.py --kind mesh|sync|chord [--port N] [--subnet S] [--leasing 0|1]
                        [--max-outgoing N]

--max-outgoing sets py2p.mesh.max_outgoing (the peers py2p dials by itself
from peer lists; 0: it dials only when told to, so a line of nodes stays a line).

It binds 127.0.0.1 (a free port unless --port), then prints one JSON object
per line on stdout. What it is not: a fix of py2p; it changes nothing in the
library's behaviour (py2p's own prints go to stderr, not stdout).

Events (stdout), each with an "event" field:
    {"event": "ready", "kind": k, "port": N, "id": "<node id text>", "protocol_id": "<text>"}
    {"event": "connect"}                                  py2p's 'connect' (routing table 0 -> 1)
    {"event": "message", "sender": V, "sender_text": s, "time": t,
     "msg_id": "<hex>", "packets": [V, ...]}              a message for the user;
                                                          packets[0] is the sub-flag
    {"event": "disconnect", "peer": V|null}              py2p closed a connection
    {"event": "update", "key": V, "value": V, "owner": V, "time": t}   sync
    {"event": "delete", "key": V}                         sync and chord
    {"event": "add", "key": V}                            chord
    {"event": "reply", "req": R, "ok": true, "result": V}
    {"event": "reply", "req": R, "ok": false, "error": "..."}

Commands (stdin), one JSON object per line, "req" echoed in the reply:
    {"req": 1, "cmd": "connect", "host": h, "port": p [, "peer_id": V]}
    {"req": 2, "cmd": "send", "packets": [V...] [, "flag": n, "type": n]}
    {"req": 3, "cmd": "whisper", "peer_id": V, "packets": [V...]}
    {"req": 4, "cmd": "routing_table"}
          -> [{"id": V, "addr": [h, p], "outgoing": b, "compression": [...]}]
             (chord: also "leeching": b, the peer's state as this node last heard it)
    {"cmd": "status"}      -> {"status": "Nominal" | [traceback...], "routing_table": [...], "awaiting": n}
    {"cmd": "request_peers"}                      py2p's own request_peers()
    sync:  {"cmd": "sync_set", "key": V, "value": V}; {"cmd": "sync_get", "key": V}
           -> {"found": b, "value": V}; {"cmd": "sync_delete", "key": V};
           {"cmd": "sync_update", "items": {...}}; {"cmd": "sync_delta", "key": V, "delta": {...}};
           {"cmd": "sync_items"} -> [[k, v, owner, time], ...]
    chord: {"cmd": "chord_join"}; {"cmd": "chord_unjoin"}; {"cmd": "chord_set", "key": V, "value": V};
           {"cmd": "chord_get", "key": V [, "timeout": s]} -> {"found": b, "value": V} (getSync,
           answered from a worker thread); {"cmd": "chord_delete", "key": V}
    {"cmd": "quit"}

Value encoding (JSON cannot carry bytes):
    bytes            -> {"b": "<hex>"}
    str              -> a JSON string
    int/float/bool/None -> themselves;  list/tuple -> JSON array
    dict             -> a JSON object when every key is a str and it is not a
                        one-key object named "b" or "m"; otherwise
                        {"m": [[key, value], ...]}
Decoding inverts this: a one-key object {"b": hex} is bytes, {"m": [...]} a
dict with those pairs, any other object a dict.

The process exits when stdin closes or on "quit", closing py2p within a
bound (3 s) and then leaving with os._exit.
"""

import argparse
import errno
import json
import os
import socket
import sys
import threading
import time

OUT = sys.stdout
sys.stdout = sys.stderr  # py2p prints (level 0 errors) go to stderr, not our JSON stream
_out_lock = threading.Lock()


def enc(v):
    if isinstance(v, (bytes, bytearray)):
        return {"b": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v) and not (len(v) == 1 and next(iter(v)) in ("b", "m")):
            return {k: enc(x) for k, x in v.items()}
        return {"m": [[enc(k), enc(x)] for k, x in v.items()]}
    return v


def dec(v):
    if isinstance(v, list):
        return [dec(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and isinstance(v.get("b"), str):
            return bytes.fromhex(v["b"])
        if len(v) == 1 and isinstance(v.get("m"), list):
            return {_hashable(dec(k)): dec(x) for k, x in v["m"]}
        return {k: dec(x) for k, x in v.items()}
    return v


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def text(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return None if v is None else str(v)


def emit(obj):
    line = json.dumps(obj, separators=(",", ":"))
    with _out_lock:
        OUT.write(line + "\n")
        OUT.flush()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=("mesh", "sync", "chord"), default="mesh")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--subnet", default=None)
    ap.add_argument("--leasing", type=int, choices=(0, 1), default=1)
    ap.add_argument("--max-outgoing", type=int, default=None)
    args = ap.parse_args()

    from py2p import base, chord, mesh, sync, flags

    if args.max_outgoing is not None:
        mesh.max_outgoing = args.max_outgoing

    def make_node(port):
        if args.kind == "mesh":
            prot = base.Protocol(args.subnet if args.subnet is not None else "mesh", "Plaintext")
            return mesh.MeshSocket("127.0.0.1", port, prot=prot, debug_level=0)
        if args.kind == "sync":
            prot = base.Protocol(args.subnet if args.subnet is not None else "sync", "Plaintext")
            return sync.SyncSocket("127.0.0.1", port, prot=prot, debug_level=0, leasing=bool(args.leasing))
        prot = base.Protocol(args.subnet if args.subnet is not None else "chord", "Plaintext")
        return chord.ChordSocket("127.0.0.1", port, prot=prot, debug_level=0)

    # py2p needs its port up front (it advertises it), so a free one is picked and then bound
    # by py2p; another process may take it in between (the machine is shared): pick again.
    # py2p binds before it starts any thread, so a failed attempt leaves nothing running.
    attempts = 1 if args.port else 20
    for attempt in range(attempts):
        port = args.port or free_port()
        try:
            node = make_node(port)
            break
        except OSError as e:
            if e.errno != errno.EADDRINUSE or attempt + 1 == attempts:
                raise

    def on_message(sock):
        while True:
            msg = sock.recv()
            if msg is None:
                return
            emit({
                "event": "message",
                "sender": enc(msg.sender),
                "sender_text": text(msg.sender),
                "time": msg.time,
                "msg_id": bytes(msg.id).hex() if isinstance(msg.id, (bytes, bytearray)) else str(msg.id),
                "packets": enc(list(msg.packets)),
            })

    node.on("message", on_message)
    node.on("connect", lambda sock: emit({"event": "connect"}))
    if args.kind == "sync":
        node.on("update", lambda sock, key, value, meta: emit(
            {"event": "update", "key": enc(key), "value": enc(value), "owner": enc(meta.owner), "time": meta.timestamp}))
        node.on("delete", lambda sock, key: emit({"event": "delete", "key": enc(key)}))
    if args.kind == "chord":
        node.on("add", lambda sock, key: emit({"event": "add", "key": enc(key)}))
        node.on("delete", lambda sock, key: emit({"event": "delete", "key": enc(key)}))

    original_disconnect = node.disconnect

    def disconnect(handler):
        emit({"event": "disconnect", "peer": enc(handler.id)})
        return original_disconnect(handler)

    node.disconnect = disconnect

    def table():
        rows = []
        for k, h in list(node.routing_table.items()):
            row = {"id": k, "addr": h.addr, "outgoing": bool(h.outgoing), "compression": h.compression}
            if hasattr(h, "leeching"):  # chord: whether this node has heard the peer stores
                row["leeching"] = bool(h.leeching)
            rows.append(row)
        return rows

    def peer(v):
        key = dec(v)
        if isinstance(key, str):
            key = key.encode()
        h = node.routing_table.get(key) or node.routing_table.get(text(key))
        if h is None:
            raise KeyError("no peer %r in the routing table" % (v,))
        return h

    missing = object()

    def run(cmd):
        c = cmd.get("cmd")
        if c == "connect":
            return node.connect(cmd["host"], int(cmd["port"]), dec(cmd.get("peer_id")))
        if c == "send":
            node.send(*dec(cmd.get("packets", [])), flag=cmd.get("flag", flags.broadcast),
                      type=cmd.get("type", flags.broadcast))
            return None
        if c == "whisper":
            peer(cmd["peer_id"]).send(flags.whisper, flags.whisper, *dec(cmd.get("packets", [])))
            return None
        if c == "routing_table":
            return table()
        if c == "status":
            return {"status": node.status, "routing_table": table(), "awaiting": len(node.awaiting_ids),
                    "id": text(node.id)}
        if c == "request_peers":
            node.request_peers()
            return None
        if c == "sync_set":
            node[dec(cmd["key"])] = dec(cmd["value"])
            return None
        if c == "sync_get":
            value = node.get(dec(cmd["key"]), missing)
            return {"found": value is not missing, "value": None if value is missing else value}
        if c == "sync_delete":
            del node[dec(cmd["key"])]
            return None
        if c == "sync_update":
            node.update(dec(cmd["items"]))
            return None
        if c == "sync_delta":
            node.apply_delta(dec(cmd["key"]), dec(cmd["delta"]))
            return None
        if c == "sync_items":
            return [[k, node.data[k], node.metadata[k].owner, node.metadata[k].timestamp]
                    for k in list(node.data)]
        if c == "chord_join":
            node.join()
            return None
        if c == "chord_unjoin":
            node.unjoin()
            return None
        if c == "chord_set":
            node.set(dec(cmd["key"]), dec(cmd["value"]))
            return None
        if c == "chord_delete":
            del node[dec(cmd["key"])]
            return None
        if c == "chord_get":
            value = node.getSync(dec(cmd["key"]), missing, timeout=cmd.get("timeout", 10))
            return {"found": value is not missing, "value": None if value is missing else value}
        raise ValueError("unknown command %r" % (c,))

    def answer(cmd):
        req = cmd.get("req")
        try:
            emit({"event": "reply", "req": req, "ok": True, "result": enc(run(cmd))})
        except Exception as e:  # report, keep serving
            emit({"event": "reply", "req": req, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})

    emit({"event": "ready", "kind": args.kind, "port": port, "id": text(node.id),
          "protocol_id": text(node.protocol.id)})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except ValueError as e:
            emit({"event": "reply", "req": None, "ok": False, "error": "bad JSON: %s" % e})
            continue
        if cmd.get("cmd") == "quit":
            emit({"event": "reply", "req": cmd.get("req"), "ok": True, "result": None})
            break
        if cmd.get("cmd") == "chord_get":
            threading.Thread(target=answer, args=(cmd,), daemon=True).start()
        else:
            answer(cmd)

    # stdin closed or quit: close py2p within a bound, then leave.
    threading.Timer(3.0, lambda: os._exit(0)).start()
    try:
        node.daemon.alive = False
        node.close()
    except Exception:
        pass
    with _out_lock:
        OUT.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
