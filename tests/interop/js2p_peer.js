#!/usr/bin/env node
// A js2p 0.7.870 reference node, driven over stdin/stdout with JSON lines.
//
// What it is: the test harness's handle on the JavaScript reference, the
// twin of py2p_peer.py (same events, same commands, same value encoding; see
// that file's header). Run from this folder after `npm install`:
//
//     node js2p_peer.js --kind mesh|sync|chord [--port N] [--subnet S] [--leasing 0|1]
//
// What it is not: a fix of js2p. js2p's own warnings go to stderr.
//
// Value encoding: a Buffer <-> {"b": "<hex>"}; a string <-> a JSON string;
// objects as in py2p_peer.py ({"m": [[k, v], ...]} for maps needing it).
// js2p itself sends IDs as str, so "sender" is usually a JSON string here.
//
// Differences from py2p_peer.py: no "disconnect" event (js2p drops a link
// inside its socket handlers); chord_get uses js2p's promise get().
'use strict';

const net = require('net');
const readline = require('readline');

// js2p prints warnings with console.warn/console.log: keep stdout for JSON.
const out = process.stdout;
console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
console.warn = console.log;
console.info = console.log;

function emit(obj) {
    out.write(JSON.stringify(obj) + '\n');
}

function enc(v) {
    if (Buffer.isBuffer(v)) return {b: v.toString('hex')};
    if (v instanceof Uint8Array) return {b: Buffer.from(v).toString('hex')};
    if (Array.isArray(v)) return v.map(enc);
    if (v && typeof v === 'object' && typeof v.toJSNumber === 'function') return v.toJSNumber();
    if (v && typeof v === 'object') {
        const keys = Object.keys(v);
        if (keys.length === 1 && (keys[0] === 'b' || keys[0] === 'm')) {
            return {m: keys.map((k) => [k, enc(v[k])])};
        }
        const o = {};
        for (const k of keys) o[k] = enc(v[k]);
        return o;
    }
    return v === undefined ? null : v;
}

function dec(v) {
    if (Array.isArray(v)) return v.map(dec);
    if (v && typeof v === 'object') {
        const keys = Object.keys(v);
        if (keys.length === 1 && keys[0] === 'b' && typeof v.b === 'string') return Buffer.from(v.b, 'hex');
        if (keys.length === 1 && keys[0] === 'm' && Array.isArray(v.m)) {
            const o = {};
            for (const [k, x] of v.m) o[dec(k).toString()] = dec(x);
            return o;
        }
        const o = {};
        for (const k of keys) o[k] = dec(v[k]);
        return o;
    }
    return v;
}

function parseArgs(argv) {
    const a = {kind: 'mesh', port: 0, subnet: null, leasing: 1};
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        const v = argv[i + 1];
        if (k === '--kind') { a.kind = v; i++; }
        else if (k === '--port') { a.port = parseInt(v, 10); i++; }
        else if (k === '--subnet') { a.subnet = v; i++; }
        else if (k === '--leasing') { a.leasing = parseInt(v, 10); i++; }
    }
    return a;
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const port = s.address().port;
            s.close(() => resolve(port));
        });
    });
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const js2p = require('js2p');
    const base = js2p.base;
    function makeNode(port) {
        if (args.kind === 'mesh') {
            return new js2p.mesh.MeshSocket('127.0.0.1', port,
                new base.Protocol(args.subnet !== null ? args.subnet : 'mesh', 'Plaintext'));
        } else if (args.kind === 'sync') {
            // js2p's SyncSocket appends the leasing digit to the subnet itself.
            return new js2p.sync.SyncSocket('127.0.0.1', port,
                new base.Protocol(args.subnet !== null ? args.subnet : 'sync', 'Plaintext'), args.leasing === 1);
        } else if (args.kind === 'chord') {
            return new js2p.chord.ChordSocket('127.0.0.1', port,
                new base.Protocol(args.subnet !== null ? args.subnet : 'chord', 'Plaintext'));
        }
        throw new Error('unknown --kind ' + args.kind);
    }

    // js2p needs its port up front (it advertises it), so a free one is picked and then
    // bound by js2p; another process may take it in between (the machine is shared): pick
    // again. js2p listens asynchronously: the node is used only once it accepts.
    let port;
    let node;
    for (let attempt = 1; ; attempt++) {
        port = args.port || await freePort();
        node = makeNode(port);
        const server = node.incoming;
        const failed = !server || server.listening ? null : await new Promise((resolve) => {
            server.once('listening', () => resolve(null));
            server.once('error', resolve);
        });
        if (failed === null) break;
        if (failed.code !== 'EADDRINUSE' || args.port || attempt >= 20) throw failed;
    }

    node.on('message', (sock) => {
        for (;;) {
            const msg = sock.recv();
            if (!msg) return;
            emit({
                event: 'message',
                sender: enc(msg.sender),
                sender_text: msg.sender === undefined ? null : msg.sender.toString(),
                time: enc(msg.time),
                msg_id: Buffer.isBuffer(msg.id) ? msg.id.toString('hex') : String(msg.id),
                packets: enc(msg.packets),
            });
        }
    });
    node.on('connect', () => emit({event: 'connect'}));
    if (args.kind === 'sync') {
        node.on('update', (sock, key, value, meta) => emit({
            event: 'update', key: enc(key), value: enc(value),
            owner: enc(meta && meta.owner), time: enc(meta && meta.timestamp)}));
        node.on('delete', (sock, key) => emit({event: 'delete', key: enc(key)}));
    }
    if (args.kind === 'chord') {
        node.on('add', (sock, key) => emit({event: 'add', key: enc(key)}));
        node.on('delete', (sock, key) => emit({event: 'delete', key: enc(key)}));
    }

    function table() {
        const rows = [];
        for (const [k, h] of node.routing_table.entries()) {
            rows.push({id: enc(k), addr: enc(h.addr), outgoing: !!h.outgoing, compression: enc(h.compression)});
        }
        return rows;
    }

    function peer(v) {
        const key = dec(v).toString();
        for (const [k, h] of node.routing_table.entries()) {
            if (k.toString() === key) return h;
        }
        throw new Error('no peer ' + key + ' in the routing table');
    }

    async function run(cmd) {
        switch (cmd.cmd) {
        case 'connect': {
            const r = node.connect(cmd.host, cmd.port, cmd.peer_id === undefined ? undefined : dec(cmd.peer_id));
            return r === undefined ? null : r;
        }
        case 'send':
            node.send(dec(cmd.packets || []), cmd.flag, cmd.type);
            return null;
        case 'whisper':
            peer(cmd.peer_id).send(base.flags.whisper, [base.flags.whisper, ...dec(cmd.packets || [])]);
            return null;
        case 'routing_table':
            return table();
        case 'status':
            return {status: node.status === undefined ? 'Nominal' : enc(node.status), routing_table: table(),
                awaiting: node.awaiting_ids.length, id: node.id.toString()};
        case 'sync_set':
            node.set(dec(cmd.key), dec(cmd.value));
            return null;
        case 'sync_get': {
            const v = node.get(dec(cmd.key));
            return {found: v !== undefined && v !== null, value: v === undefined ? null : enc(v)};
        }
        case 'sync_delete':
            node.del(dec(cmd.key));
            return null;
        case 'sync_update':
            node.update(dec(cmd.items));
            return null;
        case 'sync_delta':
            node.apply_delta(dec(cmd.key), dec(cmd.delta));
            return null;
        case 'chord_join':
            node.join();
            return null;
        case 'chord_unjoin':
            node.unjoin();
            return null;
        case 'chord_set':
            node.set(dec(cmd.key), dec(cmd.value));
            return null;
        case 'chord_delete':
            node.del(dec(cmd.key));
            return null;
        case 'chord_get': {
            const missing = {};
            const v = await node.get(dec(cmd.key), missing, cmd.timeout || 10);
            return {found: v !== missing, value: v === missing ? null : enc(v)};
        }
        default:
            throw new Error('unknown command ' + cmd.cmd);
        }
    }

    function quit() {
        setTimeout(() => process.exit(0), 3000).unref();
        try {
            if (node.incoming && node.incoming.close) node.incoming.close();
            for (const h of [...node.routing_table.values(), ...node.awaiting_ids]) {
                try { node.disconnect(h); } catch (e) { /* already gone */ }
            }
        } catch (e) { /* closing anyway */ }
        process.exit(0);
    }

    // js2p throws from socket callbacks on some inputs: report, stay up.
    process.on('uncaughtException', (e) => emit({event: 'error', error: String(e && e.stack || e)}));
    process.on('unhandledRejection', (e) => emit({event: 'error', error: String(e && e.stack || e)}));

    emit({event: 'ready', kind: args.kind, port: port, id: node.id.toString(),
        protocol_id: node.protocol.id.toString()});

    const rl = readline.createInterface({input: process.stdin});
    rl.on('line', async (line) => {
        line = line.trim();
        if (!line) return;
        let cmd;
        try { cmd = JSON.parse(line); } catch (e) {
            emit({event: 'reply', req: null, ok: false, error: 'bad JSON: ' + e});
            return;
        }
        if (cmd.cmd === 'quit') {
            emit({event: 'reply', req: cmd.req, ok: true, result: null});
            quit();
            return;
        }
        try {
            emit({event: 'reply', req: cmd.req, ok: true, result: await run(cmd)});
        } catch (e) {
            emit({event: 'reply', req: cmd.req, ok: false, error: String(e && e.message || e)});
        }
    });
    rl.on('close', quit);
}

main().catch((e) => {
    process.stderr.write(String(e && e.stack || e) + '\n');
    process.exit(1);
});
