/*
 * A non-interactive mesh node for the mixed-language demo (C, Python and Node nodes on one
 * mesh):
 *
 *   demo_node --name C --port P [--connect HOST:PORT] [--expect N] [--timeout S]
 *
 * It starts on 127.0.0.1:P (0 for a free port), dials HOST:PORT if given and waits for that
 * handshake, then prints "ready <port> <id>" and waits for a line "go" on stdin. It then
 * broadcasts "hello from <name>" and prints each message it receives as
 * "<name> got: <text> from <short id>" until N messages arrived (exit 0) or S seconds passed
 * (exit 1). Defaults: --expect 1, --timeout 30.
 */
#define _POSIX_C_SOURCE 200809L
#include "rs2p.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHORT_ID 8

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
            "usage: %s --name NAME --port P [--connect HOST:PORT] [--expect N] [--timeout S]\n",
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

int main(int argc, char **argv) {
    const char *name = NULL;
    long port = -1, expect = 1, timeout_s = 30;
    int has_peer = 0, i, received = 0, exit_code = 1;
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
    if (name == NULL || port < 0 || port > 65535 || expect < 0 || timeout_s <= 0) {
        return usage(argv[0]);
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
