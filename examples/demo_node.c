/*
 * A non-interactive mesh node for the mixed-language demo (C, Python and Node nodes on one
 * mesh):
 *
 *   demo_node --name C --port P [--connect HOST:PORT] [--expect N] [--timeout S]
 *   demo_node --sync --name C --port P [--connect HOST:PORT] [--expect N] [--timeout S] [--stay]
 *
 * It starts on 127.0.0.1:P (0 for a free port), dials HOST:PORT if given and waits for that
 * handshake, then prints "ready <port> <id>" and waits for a line "go" on stdin. It then
 * broadcasts "hello from <name>" and prints each message it receives as
 * "<name> got: <text> from <short id>" until N messages arrived (exit 0) or S seconds passed
 * (exit 1). Defaults: --expect 1, --timeout 30.
 *
 * With --sync the node is a sync table instead (subnet "sync", leasing on: py2p's default
 * SyncSocket). After "go" it sets the key <name> to the text "hello from <name>" (a msgpack
 * str), waits until its table holds N keys (its own included) or S seconds passed, then
 * prints the table on one line, sorted by key:
 *
 *   C table: {C: hello from C, Node: hello from Node, Python: hello from Python}
 *
 * and exits 0 (on timeout it prints "demo_node C: timed out with K of N keys: {...}" on
 * stderr and exits 1). With --stay it keeps relaying after that until stdin closes.
 */
#define _POSIX_C_SOURCE 200809L
#include "rs2p.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHORT_ID 8
#define VALUE_BUF 1024

struct connects {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int count;
};

static void on_event(void *userdata, const rs2p_event *ev) {
    struct connects *c = (struct connects *)userdata;
    if (ev->kind != RS2P_EVENT_CONNECT) return;
    pthread_mutex_lock(&c->lock);
    c->count++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *name, const char *what, rs2p_status status) {
    fprintf(stderr, "demo_node %s: %s failed: %s (%s)\n", name, what, rs2p_status_str(status),
            rs2p_last_error());
    return 1;
}

static int parse_addr(const char *text, char *host, size_t host_cap, uint16_t *port) {
    const char *colon = strrchr(text, ':');
    long value;
    char *end = NULL;
    if (colon == NULL || colon == text || (size_t)(colon - text) + 1 > host_cap) return 0;
    value = strtol(colon + 1, &end, 10);
    if (*end != '\0' || value <= 0 || value > 65535) return 0;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (uint16_t)value;
    return 1;
}

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--sync] --name NAME --port P [--connect HOST:PORT] [--expect N] "
            "[--timeout S] [--stay (with --sync)]\n",
            argv0);
    return 2;
}

/* Waits until the callback saw a handshake, up to `deadline_ms`; true if it did. */
static int wait_connected(struct connects *c, long long deadline_ms) {
    int ok;
    pthread_mutex_lock(&c->lock);
    while (c->count == 0 && now_ms() < deadline_ms) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->changed, &c->lock, &until);
    }
    ok = c->count > 0;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* ---- sync mode -------------------------------------------------------------------------- */

/* Wakes the waiting main thread on each table change. */
static void on_sync_event(void *userdata, const rs2p_sync_event *ev) {
    struct connects *c = (struct connects *)userdata;
    (void)ev;
    pthread_mutex_lock(&c->lock);
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

/* Waits on `c->changed` for at most 50 ms (the caller holds `c->lock`). */
static void wait_a_little(struct connects *c) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 50 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec += 1;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->changed, &c->lock, &until);
}

/* `text` as a msgpack str (fixstr, str8 or str16) into `out`; returns the length, 0 if it does
   not fit. */
static size_t msgpack_str(const char *text, uint8_t *out, size_t cap) {
    size_t len = strlen(text), head;
    if (len < 32) {
        out[0] = (uint8_t)(0xa0 | len);
        head = 1;
    } else if (len < 256) {
        out[0] = 0xd9;
        out[1] = (uint8_t)len;
        head = 2;
    } else if (len < 65536) {
        out[0] = 0xda;
        out[1] = (uint8_t)(len >> 8);
        out[2] = (uint8_t)(len & 0xff);
        head = 3;
    } else {
        return 0;
    }
    if (head + len > cap) return 0;
    memcpy(out + head, text, len);
    return head + len;
}

struct key_ref {
    const uint8_t *key;
    size_t len;
};

static int compare_keys(const void *a, const void *b) {
    const struct key_ref *x = (const struct key_ref *)a, *y = (const struct key_ref *)b;
    size_t common = x->len < y->len ? x->len : y->len;
    int order = common > 0 ? memcmp(x->key, y->key, common) : 0;
    if (order != 0) return order;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

/* Prints "{key: value, ...}" sorted by key to `out` (values that are not text or bytes show as
   "<msgpack N bytes>"); returns the number of keys. */
static size_t print_table(rs2p_sync *sync, FILE *out) {
    rs2p_key_list *list = NULL;
    struct key_ref *keys;
    size_t count, i;
    if (rs2p_sync_keys(sync, &list) != RS2P_OK) {
        fprintf(out, "{}");
        return 0;
    }
    count = rs2p_key_list_len(list);
    keys = (struct key_ref *)calloc(count > 0 ? count : 1, sizeof *keys);
    if (keys == NULL) count = 0;
    for (i = 0; i < count; i++) rs2p_key_list_get(list, i, &keys[i].key, &keys[i].len);
    if (count > 1) qsort(keys, count, sizeof *keys, compare_keys);
    fputc('{', out);
    for (i = 0; i < count; i++) {
        uint8_t value[VALUE_BUF];
        size_t len = 0;
        rs2p_status status;
        fprintf(out, "%s%.*s: ", i > 0 ? ", " : "", (int)keys[i].len, (const char *)keys[i].key);
        status = rs2p_sync_get_bytes(sync, keys[i].key, keys[i].len, value, sizeof value, &len);
        if (status == RS2P_OK) {
            fprintf(out, "%.*s", (int)len, (const char *)value);
        } else if (rs2p_sync_get(sync, keys[i].key, keys[i].len, NULL, 0, &len) ==
                   RS2P_ERR_BUFFER_TOO_SMALL) {
            fprintf(out, "<msgpack %zu bytes>", len);
        } else {
            fprintf(out, "<%s>", rs2p_status_str(status));
        }
    }
    fputc('}', out);
    free(keys);
    rs2p_key_list_free(list);
    return count;
}

static size_t table_len(rs2p_sync *sync) {
    size_t len = 0;
    if (rs2p_sync_len(sync, &len) != RS2P_OK) return 0;
    return len;
}

static int run_sync(const char *name, uint16_t port, const char *host, uint16_t peer_port,
                    long expect, long timeout_s, int stay) {
    long long deadline = now_ms() + timeout_s * 1000LL;
    char id[128], line[256], hello[300];
    uint8_t value[400];
    size_t id_len = 0, value_len, held;
    uint16_t bound = 0;
    int exit_code = 1;
    rs2p_mesh_config *cfg = NULL;
    rs2p_sync *sync = NULL;
    rs2p_mesh *mesh;
    rs2p_status status;
    rs2p_mesh_stats before, after;
    struct connects connects;

    pthread_mutex_init(&connects.lock, NULL);
    pthread_cond_init(&connects.changed, NULL);
    connects.count = 0;

    if ((status = rs2p_mesh_config_new(&cfg)) != RS2P_OK) return fail(name, "config", status);
    rs2p_mesh_config_set_bind(cfg, "127.0.0.1", port);
    status = rs2p_sync_new(cfg, "sync", 1, &sync);
    rs2p_mesh_config_free(cfg);
    if (status != RS2P_OK) return fail(name, "starting the sync node", status);
    /* The borrowed mesh handle: connects, peers, stats (never rs2p_mesh_free). */
    mesh = rs2p_sync_mesh(sync);
    rs2p_mesh_set_callback(mesh, on_event, &connects, NULL, 0);
    rs2p_sync_set_callback(sync, on_sync_event, &connects, NULL);
    rs2p_mesh_port(mesh, &bound);
    rs2p_mesh_id(mesh, id, sizeof id, &id_len);

    if (host != NULL) {
        status = rs2p_mesh_connect(mesh, host, peer_port);
        if (status != RS2P_OK) {
            rs2p_sync_free(sync);
            return fail(name, "connecting", status);
        }
        if (!wait_connected(&connects, deadline)) {
            fprintf(stderr, "demo_node %s: no handshake with %s:%u within %ld s\n", name, host,
                    (unsigned)peer_port, timeout_s);
            rs2p_sync_free(sync);
            return 1;
        }
    }
    printf("ready %u %s\n", (unsigned)bound, id);
    fflush(stdout);

    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "go") == 0) break;
    }
    if (strcmp(line, "go") != 0) {
        fprintf(stderr, "demo_node %s: stdin ended before \"go\"\n", name);
        rs2p_sync_free(sync);
        return 1;
    }

    rs2p_mesh_stats_get(mesh, &before);
    snprintf(hello, sizeof hello, "hello from %s", name);
    value_len = msgpack_str(hello, value, sizeof value);
    status = rs2p_sync_set(sync, (const uint8_t *)name, strlen(name), value, value_len);
    if (status != RS2P_OK) {
        rs2p_sync_free(sync);
        return fail(name, "setting its key", status);
    }

    pthread_mutex_lock(&connects.lock);
    while ((held = table_len(sync)) < (size_t)expect && now_ms() < deadline) {
        wait_a_little(&connects);
    }
    pthread_mutex_unlock(&connects.lock);
    if (held >= (size_t)expect) {
        printf("%s table: ", name);
        print_table(sync, stdout);
        printf("\n");
        exit_code = 0;
    } else {
        fprintf(stderr, "demo_node %s: timed out with %zu of %ld keys: ", name, held, expect);
        print_table(sync, stderr);
        fprintf(stderr, "\n");
    }
    fflush(stdout);

    if (stay) {
        /* Keep relaying for the others until stdin closes. */
        while (fgets(line, sizeof line, stdin) != NULL) {
        }
    }
    /* Closing drops unsent data: wait (bounded) until our write has left if it has peers. */
    for (;;) {
        rs2p_peer_list *list = NULL;
        size_t peers = 0;
        if (rs2p_mesh_peers(mesh, &list) == RS2P_OK) peers = rs2p_peer_list_len(list);
        rs2p_peer_list_free(list);
        rs2p_mesh_stats_get(mesh, &after);
        if (peers == 0 || after.frames_out > before.frames_out || now_ms() >= deadline) break;
        pthread_mutex_lock(&connects.lock);
        wait_a_little(&connects);
        pthread_mutex_unlock(&connects.lock);
    }
    rs2p_sync_free(sync);
    pthread_mutex_destroy(&connects.lock);
    pthread_cond_destroy(&connects.changed);
    return exit_code;
}

int main(int argc, char **argv) {
    const char *name = NULL;
    long port = -1, expect = 1, timeout_s = 30;
    int has_peer = 0, i, received = 0, exit_code = 1, sync_mode = 0, stay = 0;
    char host[256], id[128], line[256], hello[300];
    uint16_t peer_port = 0, bound = 0;
    size_t id_len = 0;
    rs2p_mesh_config *cfg = NULL;
    rs2p_mesh *mesh = NULL;
    rs2p_status status;
    rs2p_bytes packet;
    rs2p_mesh_stats before, after;
    long long deadline;
    struct connects connects;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--sync") == 0) {
            sync_mode = 1;
            continue;
        }
        if (strcmp(arg, "--stay") == 0) {
            stay = 1;
            continue;
        }
        if (value == NULL) return usage(argv[0]);
        if (strcmp(arg, "--name") == 0) name = value;
        else if (strcmp(arg, "--port") == 0) port = strtol(value, NULL, 10);
        else if (strcmp(arg, "--connect") == 0) {
            if (!parse_addr(value, host, sizeof host, &peer_port)) return usage(argv[0]);
            has_peer = 1;
        } else if (strcmp(arg, "--expect") == 0) expect = strtol(value, NULL, 10);
        else if (strcmp(arg, "--timeout") == 0) timeout_s = strtol(value, NULL, 10);
        else return usage(argv[0]);
        i++;
    }
    if (name == NULL || port < 0 || port > 65535 || expect < 0 || timeout_s <= 0 ||
        (stay && !sync_mode)) {
        return usage(argv[0]);
    }
    if (sync_mode) {
        return run_sync(name, (uint16_t)port, has_peer ? host : NULL, peer_port, expect,
                        timeout_s, stay);
    }
    deadline = now_ms() + timeout_s * 1000LL;

    pthread_mutex_init(&connects.lock, NULL);
    pthread_cond_init(&connects.changed, NULL);
    connects.count = 0;

    if ((status = rs2p_mesh_config_new(&cfg)) != RS2P_OK) return fail(name, "config", status);
    rs2p_mesh_config_set_bind(cfg, "127.0.0.1", (uint16_t)port);
    status = rs2p_mesh_new(cfg, &mesh);
    rs2p_mesh_config_free(cfg);
    if (status != RS2P_OK) return fail(name, "starting the node", status);
    rs2p_mesh_set_callback(mesh, on_event, &connects, NULL, 0);
    rs2p_mesh_port(mesh, &bound);
    rs2p_mesh_id(mesh, id, sizeof id, &id_len);

    if (has_peer) {
        status = rs2p_mesh_connect(mesh, host, peer_port);
        if (status != RS2P_OK) {
            rs2p_mesh_free(mesh);
            return fail(name, "connecting", status);
        }
        if (!wait_connected(&connects, deadline)) {
            fprintf(stderr, "demo_node %s: no handshake with %s:%u within %ld s\n", name, host,
                    (unsigned)peer_port, timeout_s);
            rs2p_mesh_free(mesh);
            return 1;
        }
    }
    printf("ready %u %s\n", (unsigned)bound, id);
    fflush(stdout);

    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "go") == 0) break;
    }
    if (strcmp(line, "go") != 0) {
        fprintf(stderr, "demo_node %s: stdin ended before \"go\"\n", name);
        rs2p_mesh_free(mesh);
        return 1;
    }

    rs2p_mesh_stats_get(mesh, &before);
    snprintf(hello, sizeof hello, "hello from %s", name);
    packet.ptr = (const uint8_t *)hello;
    packet.len = strlen(hello);
    status = rs2p_mesh_send(mesh, &packet, 1, 5000);
    if (status != RS2P_OK) {
        rs2p_mesh_free(mesh);
        return fail(name, "broadcasting", status);
    }

    while (received < expect) {
        rs2p_message *msg = NULL;
        const uint8_t *text = NULL;
        size_t len = 0;
        long long left = deadline - now_ms();
        if (left <= 0) break;
        status = rs2p_mesh_recv(mesh, (int32_t)(left > 1000000 ? 1000000 : left), &msg);
        if (status == RS2P_ERR_TIMEOUT) break;
        if (status != RS2P_OK) {
            fail(name, "receiving", status);
            break;
        }
        if (rs2p_message_packet(msg, 0, &text, &len) == RS2P_OK) {
            printf("%s got: %.*s from %.*s\n", name, (int)len, (const char *)text, SHORT_ID,
                   rs2p_message_sender(msg));
        } else {
            printf("%s got: (not text) from %.*s\n", name, SHORT_ID, rs2p_message_sender(msg));
        }
        fflush(stdout);
        rs2p_message_free(msg);
        received++;
    }
    if (received >= expect) {
        exit_code = 0;
    } else {
        fprintf(stderr, "demo_node %s: timed out with %d of %ld messages\n", name, received,
                expect);
    }

    /* Closing drops unsent data: wait (bounded) until our broadcast has left if it has peers. */
    for (;;) {
        rs2p_peer_list *list = NULL;
        size_t peers = 0;
        if (rs2p_mesh_peers(mesh, &list) == RS2P_OK) peers = rs2p_peer_list_len(list);
        rs2p_peer_list_free(list);
        rs2p_mesh_stats_get(mesh, &after);
        if (peers == 0 || after.frames_out > before.frames_out || now_ms() >= deadline) break;
        {
            /* A bounded wait that also drains late messages. */
            rs2p_message *late = NULL;
            if (rs2p_mesh_recv(mesh, 10, &late) == RS2P_OK) rs2p_message_free(late);
        }
    }
    rs2p_mesh_free(mesh);
    pthread_mutex_destroy(&connects.lock);
    pthread_cond_destroy(&connects.changed);
    return exit_code;
}
