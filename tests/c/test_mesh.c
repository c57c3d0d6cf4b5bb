/*
 * C test of the mesh slice of the rs2p C API on 127.0.0.1: two nodes connect, broadcast both
 * ways, whisper, reply; callbacks run on another thread, may send from inside and may close
 * the node; peers, counters, config setters, and every argument check (NULL pointers, closed
 * nodes, bad msgpack, out-of-range indexes); the redial counters once a dialled peer is gone.
 *
 * Compiled as C11 and as C++17 with -Wall -Wextra -Werror -pedantic (see the Makefile) and
 * linked against the shared library. Every wait is bounded (WAIT_MS) and waits on an event:
 * rs2p_mesh_recv with a timeout, a condition variable, or a condition polled until a
 * deadline. Prints "N passed, M failed"; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "rs2p.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 10000


/* ---- helpers ------------------------------------------------------------------------- */

static rs2p_bytes text_bytes(const char *text) {
    rs2p_bytes b;
    b.ptr = (const uint8_t *)text;
    b.len = strlen(text);
    return b;
}

/* A node on a free port of 127.0.0.1 that dials only what it is told to. */
static rs2p_mesh *start_node(void) {
    rs2p_mesh_config *cfg = NULL;
    rs2p_mesh *mesh = NULL;
    if (rs2p_mesh_config_new(&cfg) != RS2P_OK) return NULL;
    rs2p_mesh_config_set_max_outgoing(cfg, 0);
    if (rs2p_mesh_new(cfg, &mesh) != RS2P_OK) mesh = NULL;
    rs2p_mesh_config_free(cfg);
    return mesh;
}

static void node_id(const rs2p_mesh *mesh, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    rs2p_mesh_id(mesh, out, cap, &len);
}

static uint16_t node_port(const rs2p_mesh *mesh) {
    uint16_t port = 0;
    rs2p_mesh_port(mesh, &port);
    return port;
}

/* True if `mesh` lists a peer with ID `id`. */
static int has_peer(const rs2p_mesh *mesh, const char *id) {
    rs2p_peer_list *list = NULL;
    size_t i;
    int found = 0;
    if (rs2p_mesh_peers(mesh, &list) != RS2P_OK) return 0;
    for (i = 0; i < rs2p_peer_list_len(list); i++) {
        if (strcmp(rs2p_peer_list_id(list, i), id) == 0) found = 1;
    }
    rs2p_peer_list_free(list);
    return found;
}

/* Connects a to b and polls until both list each other, up to WAIT_MS. */
static int link_nodes(rs2p_mesh *a, rs2p_mesh *b) {
    char id_a[128], id_b[128];
    long long deadline = now_ms() + WAIT_MS;
    node_id(a, id_a, sizeof id_a);
    node_id(b, id_b, sizeof id_b);
    if (rs2p_mesh_connect(a, "127.0.0.1", node_port(b)) != RS2P_OK) return 0;
    while (now_ms() < deadline) {
        if (has_peer(a, id_b) && has_peer(b, id_a)) return 1;
        poll_pause();
    }
    return 0;
}

/* True if packet `index` of msg holds exactly `text`. */
static int packet_is(const rs2p_message *msg, size_t index, const char *text) {
    const uint8_t *ptr = NULL;
    size_t len = 0;
    if (rs2p_message_packet(msg, index, &ptr, &len) != RS2P_OK) return 0;
    return len == strlen(text) && memcmp(ptr, text, len) == 0;
}

/* Receives until a message whose first packet is `text` arrives (others are dropped). */
static rs2p_message *recv_text(rs2p_mesh *mesh, const char *text) {
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        rs2p_message *msg = NULL;
        if (rs2p_mesh_recv(mesh, 100, &msg) == RS2P_OK) {
            if (packet_is(msg, 0, text)) return msg;
            rs2p_message_free(msg);
        }
    }
    return NULL;
}

/* ---- what callbacks record ------------------------------------------------------------- */

struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t main_thread;
    int connects;
    int messages;
    int on_other_thread;
    int sent_from_callback;
    int closed_from_callback;
    rs2p_message *kept;       /* a clone of the first message, kept past the callback */
    rs2p_mesh *mesh;          /* the node the callback belongs to */
    int *freed;               /* set by recorder_free */
};

static void recorder_init(struct recorder *r, rs2p_mesh *mesh, int *freed) {
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    r->main_thread = pthread_self();
    r->connects = 0;
    r->messages = 0;
    r->on_other_thread = 1;
    r->sent_from_callback = 0;
    r->closed_from_callback = 0;
    r->kept = NULL;
    r->mesh = mesh;
    r->freed = freed;
}

static void recorder_destroy(struct recorder *r) {
    rs2p_message_free(r->kept);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
}

static void recorder_free(void *userdata) {
    struct recorder *r = (struct recorder *)userdata;
    pthread_mutex_lock(&r->lock);
    *r->freed += 1;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

/* Waits until *counter reaches `want` or WAIT_MS pass; true if it did. */
static int wait_count(struct recorder *r, const int *counter, int want) {
    struct timespec until;
    int ok;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&r->lock);
    while (*counter < want) {
        if (pthread_cond_timedwait(&r->changed, &r->lock, &until) != 0) break;
    }
    ok = *counter >= want;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* Records events; answers "ping" with a broadcast "pong" sent from inside the callback, and
   closes its own node on "close". */
static void record_event(void *userdata, const rs2p_event *ev) {
    struct recorder *r = (struct recorder *)userdata;
    int reply = 0, close_now = 0;
    pthread_mutex_lock(&r->lock);
    if (pthread_equal(pthread_self(), r->main_thread)) r->on_other_thread = 0;
    if (ev->kind == RS2P_EVENT_CONNECT && ev->peer_id != NULL && ev->message == NULL) {
        r->connects++;
    }
    if (ev->kind == RS2P_EVENT_MESSAGE && ev->message != NULL) {
        if (r->kept == NULL) rs2p_message_clone(ev->message, &r->kept);
        reply = packet_is(ev->message, 0, "ping");
        close_now = packet_is(ev->message, 0, "close");
    }
    pthread_mutex_unlock(&r->lock);

    if (reply) {
        rs2p_bytes pong = text_bytes("pong");
        rs2p_status sent = rs2p_mesh_send(r->mesh, &pong, 1, WAIT_MS);
        pthread_mutex_lock(&r->lock);
        r->sent_from_callback += sent == RS2P_OK;
        pthread_mutex_unlock(&r->lock);
    }
    if (close_now) {
        rs2p_status closed = rs2p_mesh_close(r->mesh);
        pthread_mutex_lock(&r->lock);
        r->closed_from_callback += closed == RS2P_OK;
        pthread_mutex_unlock(&r->lock);
    }
    if (ev->kind == RS2P_EVENT_MESSAGE) {
        pthread_mutex_lock(&r->lock);
        r->messages++;
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->lock);
    } else {
        pthread_mutex_lock(&r->lock);
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->lock);
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_status_strings(void) {
    const char *unknown = rs2p_status_str(9999);
    rs2p_status code;
    for (code = 30; code <= 38; code++) {
        CHECK("mesh status strings", strcmp(rs2p_status_str(code), unknown) != 0);
    }
    CHECK("status numbers", RS2P_ERR_IO == 30 && RS2P_ERR_ADDR_IN_USE == 31 &&
                                RS2P_ERR_CLOSED == 32 && RS2P_ERR_WOULD_BLOCK == 33 &&
                                RS2P_ERR_TIMEOUT == 34 && RS2P_ERR_UNKNOWN_PEER == 35 &&
                                RS2P_ERR_UNSUPPORTED == 36 && RS2P_ERR_NOT_BYTES == 37 &&
                                RS2P_ERR_INVALID_MSGPACK_ARGUMENT == 38);
    CHECK("drop reasons", strcmp(rs2p_drop_reason_str(0), "frame_too_large") == 0);
    CHECK("drop reasons", strcmp(rs2p_drop_reason_str(14), "queue_full") == 0);
    CHECK("drop reasons", strcmp(rs2p_drop_reason_str(RS2P_DROP_REASONS), "") == 0);
}

static void test_config(void) {
    rs2p_mesh_config *cfg = NULL;
    rs2p_mesh *mesh = NULL, *second = NULL;
    uint16_t port = 0;

    CHECK_STATUS("config new", rs2p_mesh_config_new(&cfg), RS2P_OK);
    CHECK_STATUS("set bind", rs2p_mesh_config_set_bind(cfg, "127.0.0.1", 0), RS2P_OK);
    CHECK_STATUS("set out addr", rs2p_mesh_config_set_out_addr(cfg, "127.0.0.1", 4444), RS2P_OK);
    CHECK_STATUS("set protocol", rs2p_mesh_config_set_protocol(cfg, "test", "Plaintext"),
                 RS2P_OK);
    CHECK_STATUS("set max outgoing", rs2p_mesh_config_set_max_outgoing(cfg, 2), RS2P_OK);
    CHECK_STATUS("set limits", rs2p_mesh_config_set_limits(cfg, 1 << 20, 2 << 20), RS2P_OK);
    CHECK_STATUS("set queue", rs2p_mesh_config_set_queue_capacity(cfg, 100), RS2P_OK);
    CHECK_STATUS("set handshake", rs2p_mesh_config_set_handshake_timeout(cfg, 5), RS2P_OK);

    CHECK_STATUS("empty host", rs2p_mesh_config_set_bind(cfg, "", 0), RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("out port 0", rs2p_mesh_config_set_out_addr(cfg, "h", 0),
                 RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("tiny limits", rs2p_mesh_config_set_limits(cfg, 1, 1), RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("handshake 0", rs2p_mesh_config_set_handshake_timeout(cfg, 0),
                 RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("bad utf-8", rs2p_mesh_config_set_protocol(cfg, "\xff", "Plaintext"),
                 RS2P_ERR_INVALID_UTF8_ARGUMENT);

    CHECK_STATUS("node from config", rs2p_mesh_new(cfg, &mesh), RS2P_OK);
    CHECK_STATUS("port", rs2p_mesh_port(mesh, &port), RS2P_OK);
    CHECK("a free port was picked", port != 0);

    /* The same port again is taken. */
    CHECK_STATUS("bind taken port", rs2p_mesh_config_set_bind(cfg, "127.0.0.1", port), RS2P_OK);
    CHECK_STATUS("address in use", rs2p_mesh_new(cfg, &second), RS2P_ERR_ADDR_IN_USE);
    CHECK("no node on failure", second == NULL);

    CHECK_STATUS("ssl set", rs2p_mesh_config_set_bind(cfg, "127.0.0.1", 0), RS2P_OK);
    CHECK_STATUS("ssl set", rs2p_mesh_config_set_protocol(cfg, "", "SSL"), RS2P_OK);
    CHECK_STATUS("ssl unsupported", rs2p_mesh_new(cfg, &second), RS2P_ERR_UNSUPPORTED);
    CHECK("no node on failure", second == NULL);

    rs2p_mesh_free(mesh);
    rs2p_mesh_config_free(cfg);

    /* NULL config: the defaults. */
    CHECK_STATUS("defaults", rs2p_mesh_new(NULL, &mesh), RS2P_OK);
    rs2p_mesh_free(mesh);
}

static void test_null_arguments(void) {
    rs2p_mesh *mesh = start_node();
    rs2p_mesh_config *cfg = NULL;
    rs2p_message *msg = NULL;
    rs2p_peer_list *list = NULL;
    rs2p_mesh_stats stats;
    rs2p_bytes one = text_bytes("x");
    const uint8_t *ptr = NULL;
    size_t len = 0;
    char buf[8];
    uint16_t port = 0;
    const uint8_t array[] = {0x90};
    const char *ctx = "NULL arguments";

    CHECK(ctx, mesh != NULL);
    CHECK_STATUS(ctx, rs2p_mesh_config_new(NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_bind(NULL, "127.0.0.1", 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_out_addr(NULL, "h", 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_protocol(NULL, "", "Plaintext"),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_max_outgoing(NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_limits(NULL, 1 << 20, 1 << 20),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_queue_capacity(NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_handshake_timeout(NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_new(&cfg), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_bind(cfg, NULL, 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_config_set_protocol(cfg, NULL, "Plaintext"),
                 RS2P_ERR_NULL_ARGUMENT);
    rs2p_mesh_config_free(cfg);

    CHECK_STATUS(ctx, rs2p_mesh_new(NULL, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_id(NULL, buf, sizeof buf, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_id(mesh, buf, sizeof buf, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_id(mesh, NULL, 8, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_port(NULL, &port), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_port(mesh, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_connect(NULL, "127.0.0.1", 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_connect(mesh, NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_send(NULL, &one, 1, 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_send(mesh, NULL, 1, 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_send_msgpack(NULL, 0, array, 1, 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_send_msgpack(mesh, 0, NULL, 1, 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_whisper(NULL, "id", &one, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_whisper(mesh, NULL, &one, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_whisper(mesh, "id", NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_whisper_msgpack(NULL, "id", 2, array, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_whisper_msgpack(mesh, NULL, 2, array, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_recv(NULL, 0, &msg), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_recv(mesh, 0, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_set_callback(NULL, NULL, NULL, NULL, 0), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_peers(NULL, &list), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_peers(mesh, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_stats_get(NULL, &stats), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_stats_get(mesh, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_last_error(NULL, buf, sizeof buf, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_close(NULL), RS2P_ERR_NULL_ARGUMENT);

    CHECK_STATUS(ctx, rs2p_message_packet(NULL, 0, &ptr, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_message_packets_msgpack(NULL, &ptr, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_message_reply(NULL, &one, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_message_reply_msgpack(NULL, array, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_message_clone(NULL, &msg), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, strcmp(rs2p_message_sender(NULL), "") == 0);
    CHECK(ctx, rs2p_message_id(NULL) == NULL);
    CHECK(ctx, rs2p_message_time(NULL) == 0 && rs2p_message_type(NULL) == 0);
    CHECK(ctx, rs2p_message_subflag(NULL) == 0 && rs2p_message_packet_count(NULL) == 0);
    CHECK(ctx, rs2p_peer_list_len(NULL) == 0 && rs2p_peer_list_id(NULL, 0) == NULL);
    CHECK(ctx, rs2p_peer_list_host(NULL, 0) == NULL && rs2p_peer_list_port(NULL, 0) == 0);
    CHECK(ctx, rs2p_peer_list_outgoing(NULL, 0) == -1);
    CHECK(ctx, msg == NULL && list == NULL);

    /* Bad values. */
    CHECK_STATUS("bad timeout", rs2p_mesh_recv(mesh, -2, &msg), RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("bad timeout", rs2p_mesh_send(mesh, &one, 1, -5), RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("bad flags", rs2p_mesh_set_callback(mesh, record_event, NULL, NULL, 2),
                 RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("port 0", rs2p_mesh_connect(mesh, "127.0.0.1", 0), RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS("buffer too small", rs2p_mesh_id(mesh, buf, 4, &len), RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("needed length reported", len > 4);
    CHECK_STATUS("empty recv", rs2p_mesh_recv(mesh, 0, &msg), RS2P_ERR_TIMEOUT);
    CHECK_STATUS("short recv", rs2p_mesh_recv(mesh, 20, &msg), RS2P_ERR_TIMEOUT);
    CHECK(ctx, msg == NULL);

    /* Freeing NULL is fine. */
    rs2p_mesh_free(NULL);
    rs2p_mesh_config_free(NULL);
    rs2p_message_free(NULL);
    rs2p_peer_list_free(NULL);
    rs2p_mesh_free(mesh);
}

static void test_two_nodes(void) {
    rs2p_mesh *a = start_node(), *b = start_node();
    char id_a[128], id_b[128], detail[256];
    rs2p_message *msg = NULL, *copy = NULL;
    rs2p_peer_list *list = NULL;
    rs2p_mesh_stats stats;
    rs2p_bytes two[2];
    const uint8_t *ptr = NULL;
    size_t len = 0;
    /* msgpack ["text", 7] */
    const uint8_t str_and_int[] = {0x92, 0xa4, 't', 'e', 'x', 't', 0x07};
    const uint8_t not_array[] = {0x07};
    const uint8_t truncated[] = {0x92, 0xa4, 't'};
    const char *ctx = "two nodes";

    CHECK(ctx, a != NULL && b != NULL);
    if (a == NULL || b == NULL) return;
    node_id(a, id_a, sizeof id_a);
    node_id(b, id_b, sizeof id_b);
    CHECK(ctx, strlen(id_a) > 20 && strcmp(id_a, id_b) != 0);
    CHECK(ctx, link_nodes(a, b));

    /* Broadcast a -> b, two packets. */
    two[0] = text_bytes("from a");
    two[1] = text_bytes("second");
    CHECK_STATUS(ctx, rs2p_mesh_send(a, two, 2, WAIT_MS), RS2P_OK);
    msg = recv_text(b, "from a");
    CHECK(ctx, msg != NULL);
    if (msg != NULL) {
        CHECK(ctx, strcmp(rs2p_message_sender(msg), id_a) == 0);
        CHECK(ctx, rs2p_message_type(msg) == 0 && rs2p_message_subflag(msg) == 0);
        CHECK(ctx, rs2p_message_packet_count(msg) == 2 && packet_is(msg, 1, "second"));
        CHECK(ctx, rs2p_message_time(msg) > 1500000000);
        CHECK(ctx, rs2p_message_id(msg) != NULL);
        CHECK_STATUS(ctx, rs2p_message_packet(msg, 2, &ptr, &len), RS2P_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(ctx, rs2p_message_packets_msgpack(msg, &ptr, &len), RS2P_OK);
        CHECK(ctx, len == 1 + 2 + 6 + 2 + 6 && ptr[0] == 0x92 && ptr[1] == 0xc4);
        CHECK_STATUS(ctx, rs2p_message_clone(msg, &copy), RS2P_OK);
        /* Reply b -> a: a whisper, since a is a neighbour. */
        two[0] = text_bytes("reply");
        CHECK_STATUS(ctx, rs2p_message_reply(msg, two, 1), RS2P_OK);
        rs2p_message_free(msg);
    }
    if (copy != NULL) {
        CHECK(ctx, packet_is(copy, 0, "from a") && strcmp(rs2p_message_sender(copy), id_a) == 0);
        rs2p_message_free(copy);
    }
    msg = recv_text(a, "reply");
    CHECK(ctx, msg != NULL && rs2p_message_subflag(msg) == 2);
    CHECK(ctx, msg != NULL && strcmp(rs2p_message_sender(msg), id_b) == 0);
    rs2p_message_free(msg);

    /* Broadcast b -> a, msgpack with a str and an int. */
    CHECK_STATUS(ctx, rs2p_mesh_send_msgpack(b, 0, str_and_int, sizeof str_and_int, -1), RS2P_OK);
    msg = recv_text(a, "text");
    CHECK(ctx, msg != NULL);
    if (msg != NULL) {
        CHECK(ctx, strcmp(rs2p_message_sender(msg), id_b) == 0);
        CHECK_STATUS(ctx, rs2p_message_packet(msg, 1, &ptr, &len), RS2P_ERR_NOT_BYTES);
        CHECK_STATUS(ctx, rs2p_message_packets_msgpack(msg, &ptr, &len), RS2P_OK);
        CHECK(ctx, len == sizeof str_and_int && memcmp(ptr, str_and_int, len) == 0);
        rs2p_message_free(msg);
    }

    /* Whisper a -> b, plain and with msgpack. */
    two[0] = text_bytes("psst");
    CHECK_STATUS(ctx, rs2p_mesh_whisper(a, id_b, two, 1), RS2P_OK);
    msg = recv_text(b, "psst");
    CHECK(ctx, msg != NULL && rs2p_message_type(msg) == 2 && rs2p_message_subflag(msg) == 2);
    rs2p_message_free(msg);
    CHECK_STATUS(ctx, rs2p_mesh_whisper_msgpack(a, id_b, 2, str_and_int, sizeof str_and_int),
                 RS2P_OK);
    msg = recv_text(b, "text");
    CHECK(ctx, msg != NULL && rs2p_message_packet_count(msg) == 2);
    rs2p_message_free(msg);

    /* Errors on a live node. */
    CHECK_STATUS(ctx, rs2p_mesh_whisper(a, "QmNotAPeer", two, 1), RS2P_ERR_UNKNOWN_PEER);
    CHECK_STATUS(ctx, rs2p_mesh_last_error(a, detail, sizeof detail, &len), RS2P_OK);
    CHECK(ctx, strstr(detail, "rs2p_mesh_whisper") != NULL && len == strlen(detail));
    CHECK_STATUS(ctx, rs2p_mesh_send_msgpack(a, 0, not_array, sizeof not_array, 0),
                 RS2P_ERR_INVALID_MSGPACK_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_send_msgpack(a, 0, truncated, sizeof truncated, 0),
                 RS2P_ERR_INVALID_MSGPACK_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_mesh_last_error(a, NULL, 0, &len), RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK(ctx, len > 0);

    /* Peers. */
    CHECK_STATUS(ctx, rs2p_mesh_peers(a, &list), RS2P_OK);
    CHECK(ctx, rs2p_peer_list_len(list) == 1);
    CHECK(ctx, strcmp(rs2p_peer_list_id(list, 0), id_b) == 0);
    CHECK(ctx, strcmp(rs2p_peer_list_host(list, 0), "127.0.0.1") == 0);
    CHECK(ctx, rs2p_peer_list_port(list, 0) == node_port(b));
    CHECK(ctx, rs2p_peer_list_outgoing(list, 0) == 1);
    CHECK(ctx, rs2p_peer_list_id(list, 1) == NULL && rs2p_peer_list_outgoing(list, 1) == -1);
    rs2p_peer_list_free(list);
    CHECK_STATUS(ctx, rs2p_mesh_peers(b, &list), RS2P_OK);
    CHECK(ctx, rs2p_peer_list_len(list) == 1 && rs2p_peer_list_outgoing(list, 0) == 0);
    rs2p_peer_list_free(list);

    /* Counters moved, and nothing is left half-open (polled: a connection from a stranger,
       e.g. another program redialling a port this node reuses, may be pending a moment). */
    {
        long long deadline = now_ms() + WAIT_MS;
        rs2p_status status;
        while ((status = rs2p_mesh_stats_get(b, &stats)) == RS2P_OK && stats.pending != 0 &&
               now_ms() < deadline) {
            poll_pause();
        }
        CHECK_STATUS(ctx, status, RS2P_OK);
    }
    CHECK(ctx, stats.frames_in >= 3 && stats.frames_out >= 2);
    CHECK(ctx, stats.bytes_in > 0 && stats.bytes_out > 0);
    CHECK(ctx, stats.delivered >= 3);
    CHECK(ctx, stats.queue_len == 0);
    CHECK(ctx, stats.pending == 0);
    if (stats.queue_len != 0 || stats.pending != 0) {
        fprintf(stderr, "  two nodes: delivered %llu, queue_len %llu, pending %llu\n",
                (unsigned long long)stats.delivered, (unsigned long long)stats.queue_len,
                (unsigned long long)stats.pending);
    }

    rs2p_mesh_free(a);
    rs2p_mesh_free(b);
}

static void test_callbacks(void) {
    rs2p_mesh *a = start_node(), *b = start_node();
    struct recorder first, second;
    int freed_first = 0, freed_second = 0;
    rs2p_bytes ping = text_bytes("ping"), other = text_bytes("other");
    rs2p_bytes third = text_bytes("third");
    rs2p_message *msg = NULL;
    const char *ctx = "callbacks";

    CHECK(ctx, a != NULL && b != NULL);
    if (a == NULL || b == NULL) return;
    recorder_init(&first, b, &freed_first);
    recorder_init(&second, b, &freed_second);

    CHECK_STATUS(ctx, rs2p_mesh_set_callback(b, record_event, &first, recorder_free, 0),
                 RS2P_OK);
    CHECK(ctx, link_nodes(a, b));
    CHECK(ctx, wait_count(&first, &first.connects, 1));

    /* The callback sends "pong" from inside; the message is also queued (flags 0). */
    CHECK_STATUS(ctx, rs2p_mesh_send(a, &ping, 1, WAIT_MS), RS2P_OK);
    msg = recv_text(a, "pong");
    CHECK(ctx, msg != NULL);
    rs2p_message_free(msg);
    CHECK(ctx, wait_count(&first, &first.sent_from_callback, 1));
    msg = recv_text(b, "ping");
    CHECK(ctx, msg != NULL);
    rs2p_message_free(msg);
    pthread_mutex_lock(&first.lock);
    CHECK(ctx, first.on_other_thread == 1);
    CHECK(ctx, first.kept != NULL && packet_is(first.kept, 0, "ping"));
    pthread_mutex_unlock(&first.lock);

    /* Replacing the callback frees the first one's user data; CONSUME keeps messages out
       of the queue. */
    CHECK_STATUS(ctx, rs2p_mesh_set_callback(b, record_event, &second, recorder_free,
                                             RS2P_CALLBACK_CONSUME_MESSAGES),
                 RS2P_OK);
    CHECK(ctx, wait_count(&first, &freed_first, 1));
    CHECK_STATUS(ctx, rs2p_mesh_send(a, &other, 1, WAIT_MS), RS2P_OK);
    CHECK(ctx, wait_count(&second, &second.messages, 1));
    CHECK_STATUS(ctx, rs2p_mesh_recv(b, 0, &msg), RS2P_ERR_TIMEOUT);
    pthread_mutex_lock(&second.lock);
    CHECK(ctx, second.kept != NULL && packet_is(second.kept, 0, "other"));
    pthread_mutex_unlock(&second.lock);

    /* Removing it frees its user data too; messages are queued again. */
    CHECK_STATUS(ctx, rs2p_mesh_set_callback(b, NULL, NULL, NULL, 0), RS2P_OK);
    CHECK(ctx, wait_count(&second, &freed_second, 1));
    /* (A new text: the same packets within the same second make the same message ID, which
       the mesh drops as a duplicate.) */
    CHECK_STATUS(ctx, rs2p_mesh_send(a, &third, 1, WAIT_MS), RS2P_OK);
    msg = recv_text(b, "third");
    CHECK(ctx, msg != NULL);
    rs2p_message_free(msg);

    rs2p_mesh_free(a);
    rs2p_mesh_free(b);
    CHECK(ctx, freed_first == 1 && freed_second == 1);
    recorder_destroy(&first);
    recorder_destroy(&second);
}

static void test_close(void) {
    rs2p_mesh *a = start_node(), *b = start_node();
    struct recorder rec;
    int freed = 0;
    rs2p_bytes close_word = text_bytes("close");
    rs2p_message *msg = NULL;
    rs2p_peer_list *list = NULL;
    rs2p_mesh_stats stats;
    char id[128];
    size_t len = 0;
    uint16_t port = 0;
    const uint8_t array[] = {0x90};
    const char *ctx = "close";

    CHECK(ctx, a != NULL && b != NULL);
    if (a == NULL || b == NULL) return;
    recorder_init(&rec, b, &freed);
    CHECK_STATUS(ctx, rs2p_mesh_set_callback(b, record_event, &rec, recorder_free, 0), RS2P_OK);
    CHECK(ctx, link_nodes(a, b));

    /* b closes itself from inside its callback; that must not deadlock. */
    CHECK_STATUS(ctx, rs2p_mesh_send(a, &close_word, 1, WAIT_MS), RS2P_OK);
    CHECK(ctx, wait_count(&rec, &rec.closed_from_callback, 1));
    CHECK(ctx, wait_count(&rec, &freed, 1));

    /* Every call on the closed node says so. */
    node_id(a, id, sizeof id);
    CHECK_STATUS(ctx, rs2p_mesh_send(b, &close_word, 1, 0), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_send_msgpack(b, 0, array, 1, 0), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_whisper(b, id, &close_word, 1), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_whisper_msgpack(b, id, 2, array, 1), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_recv(b, 0, &msg), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_recv(b, -1, &msg), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_connect(b, "127.0.0.1", node_port(a)), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_peers(b, &list), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_mesh_set_callback(b, record_event, &rec, NULL, 0), RS2P_ERR_CLOSED);
    CHECK(ctx, msg == NULL && list == NULL);
    /* ... except the informational ones, and close is idempotent. */
    CHECK_STATUS(ctx, rs2p_mesh_id(b, id, sizeof id, &len), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_port(b, &port), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_stats_get(b, &stats), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_close(b), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_close(b), RS2P_OK);

    /* A receiver blocked without a timeout wakes up when its node closes from another
       thread: here the node closes first, so the wait ends at once. */
    CHECK_STATUS(ctx, rs2p_mesh_close(a), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_recv(a, -1, &msg), RS2P_ERR_CLOSED);
    rs2p_mesh_free(a);
    rs2p_mesh_free(b);
    recorder_destroy(&rec);
}

/* A thread that waits in rs2p_mesh_recv without a timeout. */
static void *blocked_receiver(void *arg) {
    rs2p_mesh *mesh = (rs2p_mesh *)arg;
    rs2p_message *msg = NULL;
    static rs2p_status result;
    result = rs2p_mesh_recv(mesh, -1, &msg);
    rs2p_message_free(msg);
    return &result;
}

static void test_close_wakes_a_blocked_recv(void) {
    rs2p_mesh *mesh = start_node();
    pthread_t thread;
    void *result = NULL;
    const char *ctx = "close wakes recv";
    CHECK(ctx, mesh != NULL);
    if (mesh == NULL) return;
    CHECK(ctx, pthread_create(&thread, NULL, blocked_receiver, mesh) == 0);
    CHECK_STATUS(ctx, rs2p_mesh_close(mesh), RS2P_OK);
    CHECK(ctx, pthread_join(thread, &result) == 0);
    CHECK(ctx, result != NULL && *(rs2p_status *)result == RS2P_ERR_CLOSED);
    rs2p_mesh_free(mesh);
}

/* A fresh node has redialled nobody; once a peer it dialled is gone (freed: its connection
   ends without a word), it dials that peer again (the first attempt is due 1 s after the
   loss). */
static void test_redial_counters(void) {
    rs2p_mesh *a = start_node(), *b = start_node();
    rs2p_mesh_stats stats;
    long long deadline;
    size_t i;
    int reserved_zero = 1;
    const char *ctx = "redial counters";

    CHECK(ctx, a != NULL && b != NULL);
    if (a == NULL || b == NULL) {
        rs2p_mesh_free(a);
        rs2p_mesh_free(b);
        return;
    }
    CHECK_STATUS(ctx, rs2p_mesh_stats_get(a, &stats), RS2P_OK);
    CHECK(ctx, stats.redials == 0 && stats.redials_given_up == 0);
    for (i = 0; i < sizeof stats.reserved / sizeof stats.reserved[0]; i++) {
        if (stats.reserved[i] != 0) reserved_zero = 0;
    }
    CHECK(ctx, reserved_zero);
    CHECK(ctx, link_nodes(a, b));

    rs2p_mesh_free(b);
    deadline = now_ms() + WAIT_MS;
    {
        rs2p_status status;
        while ((status = rs2p_mesh_stats_get(a, &stats)) == RS2P_OK && stats.redials < 1 &&
               now_ms() < deadline) {
            poll_pause();
        }
        CHECK_STATUS(ctx, status, RS2P_OK);
    }
    CHECK(ctx, stats.redials >= 1);
    rs2p_mesh_free(a);
}

int main(void) {
    test_status_strings();
    test_config();
    test_null_arguments();
    test_two_nodes();
    test_callbacks();
    test_close();
    test_close_wakes_a_blocked_recv();
    test_redial_counters();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
