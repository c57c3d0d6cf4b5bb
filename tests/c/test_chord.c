/*
 * C test of the chord slice of the rs2p C API on 127.0.0.1: one storing node sets, reads
 * (blocking and through read operations), deletes and merges; a missing key is
 * RS2P_ERR_NOT_FOUND; a small buffer is RS2P_ERR_BUFFER_TOO_SMALL with the size needed and
 * the operation keeps its result; several reads are in flight at once; three storing nodes
 * read each other's keys and the chord callback reports added and deleted keys; NULL for
 * every pointer argument is RS2P_ERR_NULL_ARGUMENT; a closed node answers RS2P_ERR_CLOSED.
 *
 * Compiled as C11 and as C++17 with -Wall -Wextra -Werror -pedantic (see the Makefile) and
 * linked against the shared library. Every wait is bounded (WAIT_MS): events are waited for
 * on a condition variable with a deadline, other conditions are polled until a deadline.
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "rs2p.h"
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 30000


/* ---- helpers ------------------------------------------------------------------------- */

static const uint8_t *key_of(const char *text) { return (const uint8_t *)text; }

/* A chord node on a free port of 127.0.0.1 with the default settings, joined when asked. */
static rs2p_chord *start_chord(int join) {
    rs2p_chord *chord = NULL;
    if (rs2p_chord_new(NULL, NULL, 0, &chord) != RS2P_OK) return NULL;
    if (join && rs2p_chord_join(chord) != RS2P_OK) {
        rs2p_chord_free(chord);
        return NULL;
    }
    return chord;
}

static size_t peer_count(rs2p_chord *chord) {
    rs2p_peer_list *list = NULL;
    size_t n;
    if (rs2p_mesh_peers(rs2p_chord_mesh(chord), &list) != RS2P_OK) return 0;
    n = rs2p_peer_list_len(list);
    rs2p_peer_list_free(list);
    return n;
}

/* Polls until every node of `nodes` links to all `count - 1` others and knows they store. */
static int wait_for_ring(rs2p_chord **nodes, size_t count) {
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        size_t i, settled = 0;
        for (i = 0; i < count; i++) {
            rs2p_chord_stats stats;
            if (rs2p_chord_stats_get(nodes[i], &stats) != RS2P_OK) return 0;
            if (peer_count(nodes[i]) == count - 1 && stats.storing_peers == count - 1) settled++;
        }
        if (settled == count) return 1;
        poll_pause();
    }
    return 0;
}

/* Reads `key` at `chord` until it holds exactly the msgpack `want` (a write travels to the
   key's positions asynchronously); 1 on success, 0 at the deadline. */
static int read_until(rs2p_chord *chord, const char *key, const uint8_t *want, size_t want_len) {
    long long deadline = now_ms() + WAIT_MS;
    uint8_t buf[256];
    while (now_ms() < deadline) {
        size_t len = 0;
        rs2p_status st = rs2p_chord_get(chord, key_of(key), strlen(key), 0, buf, sizeof buf, &len);
        if (st == RS2P_OK && len == want_len && memcmp(buf, want, len) == 0) return 1;
        poll_pause();
    }
    return 0;
}

/* Reads `key` at `chord` until every position says it holds nothing. */
static int read_until_gone(rs2p_chord *chord, const char *key) {
    long long deadline = now_ms() + WAIT_MS;
    uint8_t buf[256];
    while (now_ms() < deadline) {
        size_t len = 0;
        if (rs2p_chord_get(chord, key_of(key), strlen(key), 0, buf, sizeof buf, &len) ==
            RS2P_ERR_NOT_FOUND)
            return 1;
        poll_pause();
    }
    return 0;
}

/* ---- the chord callback's record ------------------------------------------------------- */

#define MAX_EVENTS 64

typedef struct {
    int32_t kind;
    char key[32];
} seen_event;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    seen_event events[MAX_EVENTS];
    int count;
    int freed;
} event_log;

static void log_init(event_log *log) {
    memset(log, 0, sizeof *log);
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->changed, NULL);
}

static void log_destroy(event_log *log) {
    pthread_cond_destroy(&log->changed);
    pthread_mutex_destroy(&log->lock);
}

static void record_event(void *userdata, const rs2p_chord_event *ev) {
    event_log *log = (event_log *)userdata;
    pthread_mutex_lock(&log->lock);
    if (log->count < MAX_EVENTS) {
        seen_event *e = &log->events[log->count++];
        size_t key_len = ev->key_len < sizeof e->key - 1 ? ev->key_len : sizeof e->key - 1;
        memset(e, 0, sizeof *e);
        e->kind = ev->kind;
        if (key_len > 0) memcpy(e->key, ev->key, key_len);
    }
    pthread_cond_broadcast(&log->changed);
    pthread_mutex_unlock(&log->lock);
}

static void note_freed(void *userdata) {
    event_log *log = (event_log *)userdata;
    pthread_mutex_lock(&log->lock);
    log->freed++;
    pthread_cond_broadcast(&log->changed);
    pthread_mutex_unlock(&log->lock);
}

/* The absolute CLOCK_REALTIME time WAIT_MS from now, for pthread_cond_timedwait. */
static struct timespec wait_deadline(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    return ts;
}

static int find_event(const event_log *log, int32_t kind, const char *key) {
    int i;
    for (i = 0; i < log->count; i++) {
        if (log->events[i].kind == kind && strcmp(log->events[i].key, key) == 0) return i;
    }
    return -1;
}

/* Waits (on the log's condition variable, up to WAIT_MS) for an event of `kind` for `key`;
   1 if it came. */
static int wait_for_event(event_log *log, int32_t kind, const char *key) {
    struct timespec deadline = wait_deadline();
    int found, rc = 0;
    pthread_mutex_lock(&log->lock);
    while ((found = find_event(log, kind, key)) < 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&log->changed, &log->lock, &deadline);
    pthread_mutex_unlock(&log->lock);
    return found >= 0;
}

/* Waits until the user data was freed `want` times (a callback call in progress delays it). */
static int wait_for_freed(event_log *log, int want) {
    struct timespec deadline = wait_deadline();
    int freed, rc = 0;
    pthread_mutex_lock(&log->lock);
    while ((freed = log->freed) != want && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&log->changed, &log->lock, &deadline);
    pthread_mutex_unlock(&log->lock);
    return freed == want;
}

/* A callback that closes its own node on the first event (closing is safe from a callback). */
typedef struct {
    event_log log;
    rs2p_chord *self;
    rs2p_status close_status;
} closing_callback;

static void close_on_event(void *userdata, const rs2p_chord_event *ev) {
    closing_callback *c = (closing_callback *)userdata;
    c->close_status = rs2p_chord_close(c->self);
    record_event(&c->log, ev); /* after the close: the user data lives until the call ends */
}

static void closing_freed(void *userdata) { note_freed(&((closing_callback *)userdata)->log); }

/* ---- msgpack values used below ------------------------------------------------------- */

static const uint8_t HELLO[] = {0xa5, 'h', 'e', 'l', 'l', 'o'};          /* "hello" */
static const uint8_t FORTY_TWO[] = {0x2a};                                /* 42 */
static const uint8_t NIL[] = {0xc0};                                      /* nil */
static const uint8_t FIELD_A[] = {0x81, 0xa1, 'a', 0x01};                 /* {"a": 1} */
static const uint8_t FIELD_B[] = {0x81, 0xa1, 'b', 0x02};                 /* {"b": 2} */
static const uint8_t MERGED[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02}; /* {"a": 1, "b": 2} */
static const uint8_t BROKEN[] = {0x92, 0x01};                             /* array cut short */

/* ---- the tests ------------------------------------------------------------------------- */

/* NULL for every pointer argument of every chord function: RS2P_ERR_NULL_ARGUMENT, no crash,
   nothing written. */
static void test_null_arguments(void) {
    const char *ctx = "NULL arguments";
    rs2p_chord *chord = NULL;
    rs2p_chord_get_op *op = NULL;
    rs2p_key_list *list = NULL;
    rs2p_chord_stats stats;
    uint8_t buf[16];
    size_t len = 0;
    int32_t flag = 0;

    /* A NULL node. */
    CHECK_STATUS(ctx, rs2p_chord_new(NULL, NULL, 0, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, rs2p_chord_mesh(NULL) == NULL);
    CHECK_STATUS(ctx, rs2p_chord_join(NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_unjoin(NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_is_joined(NULL, &flag), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_set(NULL, key_of("k"), 1, HELLO, sizeof HELLO),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_set_bytes(NULL, key_of("k"), 1, key_of("v"), 1),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_delete(NULL, key_of("k"), 1, &flag), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(NULL, key_of("k"), 1, FIELD_A, sizeof FIELD_A),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get(NULL, key_of("k"), 1, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(NULL, key_of("k"), 1, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_start(NULL, key_of("k"), 1, 0, &op), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, op == NULL);
    CHECK_STATUS(ctx, rs2p_chord_get_wait(NULL, 0, buf, sizeof buf, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_len(NULL, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_keys(NULL, &list), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, list == NULL);
    CHECK_STATUS(ctx, rs2p_chord_set_callback(NULL, NULL, NULL, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_stats_get(NULL, &stats), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_close(NULL), RS2P_ERR_NULL_ARGUMENT);
    rs2p_chord_free(NULL);
    rs2p_chord_get_free(NULL);

    /* A live node, each other pointer NULL in turn. */
    CHECK_STATUS(ctx, rs2p_chord_new(NULL, NULL, 0, &chord), RS2P_OK);
    if (chord == NULL) return;
    CHECK_STATUS(ctx, rs2p_chord_is_joined(chord, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_set(chord, NULL, 1, HELLO, sizeof HELLO), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("k"), 1, NULL, sizeof HELLO),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_set_bytes(chord, NULL, 1, key_of("v"), 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_set_bytes(chord, key_of("k"), 1, NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_delete(chord, NULL, 1, &flag), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(chord, NULL, 1, FIELD_A, sizeof FIELD_A),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(chord, key_of("m"), 1, NULL, sizeof FIELD_A),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, NULL, 1, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("k"), 1, 0, NULL, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("k"), 1, 0, buf, sizeof buf, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, NULL, 1, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("k"), 1, 0, NULL, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("k"), 1, 0, buf, sizeof buf, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, NULL, 1, 0, &op), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of("k"), 1, 0, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, op == NULL);
    CHECK_STATUS(ctx, rs2p_chord_len(chord, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_keys(chord, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_stats_get(chord, NULL), RS2P_ERR_NULL_ARGUMENT);
    /* The op's own out-parameters (the op is a real read of a missing key). */
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of("k"), 1, 0, &op), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get_wait(op, 0, NULL, sizeof buf, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_get_wait(op, 0, buf, sizeof buf, NULL), RS2P_ERR_NULL_ARGUMENT);
    rs2p_chord_get_free(op);
    /* `existed` may be NULL; a key this node never heard of is not sent. */
    CHECK_STATUS(ctx, rs2p_chord_delete(chord, key_of("k"), 1, NULL), RS2P_OK);
    /* Not NULL but wrong: bad msgpack, a delta that is not a map, bad UTF-8 in the subnet. */
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("k"), 1, BROKEN, sizeof BROKEN),
                 RS2P_ERR_INVALID_MSGPACK_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(chord, key_of("m"), 1, HELLO, sizeof HELLO),
                 RS2P_ERR_INVALID_MSGPACK_ARGUMENT);
    {
        rs2p_chord *bad = NULL;
        CHECK_STATUS(ctx, rs2p_chord_new(NULL, "ch\xff", 0, &bad), RS2P_ERR_INVALID_UTF8_ARGUMENT);
        CHECK(ctx, bad == NULL);
    }
    /* None of those wrote anything. */
    CHECK_STATUS(ctx, rs2p_chord_len(chord, &len), RS2P_OK);
    CHECK(ctx, len == 0);
    /* The node's last error, through the mesh handle, names the failing chord call. */
    CHECK_STATUS(ctx, rs2p_chord_stats_get(chord, NULL), RS2P_ERR_NULL_ARGUMENT);
    {
        char detail[512];
        size_t detail_len = 0;
        CHECK_STATUS(ctx,
                     rs2p_mesh_last_error(rs2p_chord_mesh(chord), detail, sizeof detail,
                                          &detail_len),
                     RS2P_OK);
        CHECK(ctx, strstr(detail, "rs2p_chord_stats_get") != NULL);
    }
    rs2p_chord_free(chord);
}

/* One storing node alone holds all five positions of every key. */
static void test_one_node(void) {
    const char *ctx = "one node";
    rs2p_chord *chord = start_chord(1);
    uint8_t buf[64];
    size_t len = 0;
    int32_t flag = -1;
    rs2p_key_list *list = NULL;

    CHECK(ctx, chord != NULL);
    if (chord == NULL) return;
    CHECK_STATUS(ctx, rs2p_chord_is_joined(chord, &flag), RS2P_OK);
    CHECK(ctx, flag == 1);

    /* set / get */
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("greeting"), 8, HELLO, sizeof HELLO), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("greeting"), 8, 0, buf, sizeof buf, &len),
                 RS2P_OK);
    CHECK(ctx, len == sizeof HELLO && memcmp(buf, HELLO, len) == 0);
    /* get_bytes of a str, and of a bin with a NUL inside */
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("greeting"), 8, 0, buf, sizeof buf, &len),
                 RS2P_OK);
    CHECK(ctx, len == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_STATUS(ctx, rs2p_chord_set_bytes(chord, key_of("raw"), 3, key_of("bytes\0here"), 10),
                 RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("raw"), 3, 0, buf, sizeof buf, &len),
                 RS2P_OK);
    CHECK(ctx, len == 10 && memcmp(buf, "bytes\0here", 10) == 0);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("raw"), 3, 0, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == 12 && buf[0] == 0xc4 && buf[1] == 10); /* bin8 */
    /* A non-byte value: RS2P_ERR_NOT_BYTES, readable as msgpack. */
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("num"), 3, FORTY_TWO, sizeof FORTY_TWO),
                 RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("num"), 3, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_BYTES);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("num"), 3, 0, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == 1 && buf[0] == 0x2a);

    /* A missing key: RS2P_ERR_NOT_FOUND (every position answered), blocking and as an op. */
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("absent"), 6, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_FOUND);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("absent"), 6, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_FOUND);

    /* A size query with the blocking read: BUFFER_TOO_SMALL with the size needed. */
    len = 0;
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("greeting"), 8, 0, NULL, 0, &len),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK(ctx, len == sizeof HELLO);

    /* apply_delta merges maps. */
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(chord, key_of("map"), 3, FIELD_A, sizeof FIELD_A),
                 RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(chord, key_of("map"), 3, FIELD_B, sizeof FIELD_B),
                 RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("map"), 3, 0, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == sizeof MERGED && memcmp(buf, MERGED, len) == 0);

    /* len / keys: the node's own sets, in byte order (a delta announces no key, as in py2p). */
    CHECK_STATUS(ctx, rs2p_chord_len(chord, &len), RS2P_OK);
    CHECK(ctx, len == 3);
    CHECK_STATUS(ctx, rs2p_chord_keys(chord, &list), RS2P_OK);
    CHECK(ctx, rs2p_key_list_len(list) == 3);
    {
        const uint8_t *key = NULL;
        size_t key_len = 0;
        CHECK_STATUS(ctx, rs2p_key_list_get(list, 0, &key, &key_len), RS2P_OK);
        CHECK(ctx, key_len == 8 && memcmp(key, "greeting", 8) == 0);
        CHECK_STATUS(ctx, rs2p_key_list_get(list, 2, &key, &key_len), RS2P_OK);
        CHECK(ctx, key_len == 3 && memcmp(key, "raw", 3) == 0);
        CHECK_STATUS(ctx, rs2p_key_list_get(list, 3, &key, &key_len), RS2P_ERR_INVALID_ARGUMENT);
    }
    rs2p_key_list_free(list);

    /* delete: existed 1, then the key reads as missing; a second delete: existed 0. */
    CHECK_STATUS(ctx, rs2p_chord_delete(chord, key_of("num"), 3, &flag), RS2P_OK);
    CHECK(ctx, flag == 1);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("num"), 3, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_FOUND);
    CHECK_STATUS(ctx, rs2p_chord_delete(chord, key_of("num"), 3, &flag), RS2P_OK);
    CHECK(ctx, flag == 0);
    /* A nil value deletes too. */
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("raw"), 3, NIL, sizeof NIL), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("raw"), 3, 0, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_FOUND);

    /* The counters saw this node hold entries and answer its own reads. */
    {
        rs2p_chord_stats stats;
        memset(&stats, 0xff, sizeof stats);
        CHECK_STATUS(ctx, rs2p_chord_stats_get(chord, &stats), RS2P_OK);
        CHECK(ctx, stats.stored > 0);
        CHECK(ctx, stats.storing_peers == 0);
        CHECK(ctx, stats.bad_messages == 0);
        CHECK(ctx, stats.reserved[0] == 0 && stats.reserved[7] == 0);
    }

    /* unjoin: the node no longer stores (alone, it keeps what it held). */
    CHECK_STATUS(ctx, rs2p_chord_unjoin(chord), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_is_joined(chord, &flag), RS2P_OK);
    CHECK(ctx, flag == 0);
    rs2p_chord_free(chord);
}

/* One blocking reader thread: reads "greeting" and keeps the status and value. */
typedef struct {
    rs2p_chord *chord;
    rs2p_status status;
    uint8_t value[64];
    size_t len;
} reader;

static void *read_greeting(void *arg) {
    reader *r = (reader *)arg;
    r->status = rs2p_chord_get(r->chord, key_of("greeting"), 8, 0, r->value, sizeof r->value,
                               &r->len);
    return NULL;
}

/* Read operations: a small buffer keeps the result for a second call; several reads in
   flight at once are each collected. */
static void test_read_operations(void) {
    const char *ctx = "read operations";
    rs2p_chord *chord = start_chord(1);
    rs2p_chord_get_op *ops[8];
    uint8_t buf[64];
    char key[16];
    size_t len = 0;
    int i;

    memset(ops, 0, sizeof ops);
    CHECK(ctx, chord != NULL);
    if (chord == NULL) return;
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("greeting"), 8, HELLO, sizeof HELLO), RS2P_OK);

    /* BUFFER_TOO_SMALL with the size needed, then the same op gives the value. */
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of("greeting"), 8, 0, &ops[0]), RS2P_OK);
    len = 0;
    CHECK_STATUS(ctx, rs2p_chord_get_wait(ops[0], WAIT_MS, buf, 2, &len),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK(ctx, len == sizeof HELLO);
    CHECK_STATUS(ctx, rs2p_chord_get_wait(ops[0], 0, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == sizeof HELLO && memcmp(buf, HELLO, len) == 0);
    /* The result stays: asking again gives it again. */
    CHECK_STATUS(ctx, rs2p_chord_get_wait(ops[0], 0, buf, sizeof buf, &len), RS2P_OK);
    rs2p_chord_get_free(ops[0]);
    ops[0] = NULL;

    /* Eight reads in flight: keys 0-3 hold their number, keys 4-7 are missing. */
    for (i = 0; i < 4; i++) {
        uint8_t value = (uint8_t)i; /* positive fixint */
        snprintf(key, sizeof key, "key%d", i);
        CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of(key), strlen(key), &value, 1), RS2P_OK);
    }
    for (i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "key%d", i);
        CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of(key), strlen(key), 0, &ops[i]),
                     RS2P_OK);
    }
    /* Collected in reverse order, each with a bounded wait. */
    for (i = 7; i >= 0; i--) {
        rs2p_status st = RS2P_ERR_WOULD_BLOCK;
        long long deadline = now_ms() + WAIT_MS;
        while (st == RS2P_ERR_WOULD_BLOCK && now_ms() < deadline)
            st = rs2p_chord_get_wait(ops[i], 100, buf, sizeof buf, &len);
        if (i < 4) {
            CHECK_STATUS(ctx, st, RS2P_OK);
            CHECK(ctx, len == 1 && buf[0] == (uint8_t)i);
        } else {
            CHECK_STATUS(ctx, st, RS2P_ERR_NOT_FOUND);
        }
        rs2p_chord_get_free(ops[i]);
        ops[i] = NULL;
    }

    /* Blocking reads from several threads at once. */
    {
        pthread_t threads[4];
        reader readers[4];
        int started[4];
        for (i = 0; i < 4; i++) {
            memset(&readers[i], 0, sizeof readers[i]);
            readers[i].chord = chord;
            readers[i].status = -1;
            started[i] = pthread_create(&threads[i], NULL, read_greeting, &readers[i]) == 0;
            CHECK(ctx, started[i]);
        }
        for (i = 0; i < 4; i++) {
            if (!started[i]) continue;
            pthread_join(threads[i], NULL);
            CHECK_STATUS(ctx, readers[i].status, RS2P_OK);
            CHECK(ctx, readers[i].len == sizeof HELLO &&
                           memcmp(readers[i].value, HELLO, sizeof HELLO) == 0);
        }
    }

    /* An op freed before it is collected is fine too. */
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of("greeting"), 8, 0, &ops[0]), RS2P_OK);
    rs2p_chord_get_free(ops[0]);
    {
        rs2p_chord_stats stats;
        long long deadline = now_ms() + WAIT_MS;
        int drained = 0;
        while (!drained && now_ms() < deadline) {
            if (rs2p_chord_stats_get(chord, &stats) == RS2P_OK && stats.gets_in_flight == 0)
                drained = 1;
            else
                poll_pause();
        }
        CHECK(ctx, drained);
    }
    rs2p_chord_free(chord);
}

/* Three storing nodes: a key set at any one is read at each other; the chord callback of the
   others reports it added, then deleted. */
static void test_network(void) {
    const char *ctx = "network";
    rs2p_chord *nodes[3] = {NULL, NULL, NULL};
    event_log logs[3];
    uint16_t port0 = 0;
    char key[16];
    int i, j;

    for (i = 0; i < 3; i++) {
        log_init(&logs[i]);
        nodes[i] = start_chord(1);
        CHECK(ctx, nodes[i] != NULL);
    }
    if (nodes[0] == NULL || nodes[1] == NULL || nodes[2] == NULL) goto done;
    for (i = 0; i < 3; i++)
        CHECK_STATUS(ctx, rs2p_chord_set_callback(nodes[i], record_event, &logs[i], note_freed),
                     RS2P_OK);

    /* The borrowed mesh handle works; rs2p_mesh_free on it does nothing. */
    rs2p_mesh_free(rs2p_chord_mesh(nodes[0]));
    CHECK_STATUS(ctx, rs2p_mesh_port(rs2p_chord_mesh(nodes[0]), &port0), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_connect(rs2p_chord_mesh(nodes[1]), "127.0.0.1", port0), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_mesh_connect(rs2p_chord_mesh(nodes[2]), "127.0.0.1", port0), RS2P_OK);
    /* Node 2 learns node 1 from node 0's peer list and dials it: a full ring of three. */
    CHECK(ctx, wait_for_ring(nodes, 3));

    for (i = 0; i < 3; i++) {
        uint8_t value = (uint8_t)(10 + i);
        snprintf(key, sizeof key, "net%d", i);
        CHECK_STATUS(ctx, rs2p_chord_set(nodes[i], key_of(key), strlen(key), &value, 1), RS2P_OK);
    }
    for (i = 0; i < 3; i++) {
        uint8_t value = (uint8_t)(10 + i);
        snprintf(key, sizeof key, "net%d", i);
        for (j = 0; j < 3; j++) {
            if (j == i) continue;
            CHECK(ctx, read_until(nodes[j], key, &value, 1));
            CHECK(ctx, wait_for_event(&logs[j], RS2P_CHORD_EVENT_ADD, key));
        }
    }
    /* Each node knows all three keys. */
    for (j = 0; j < 3; j++) {
        size_t len = 0;
        CHECK_STATUS(ctx, rs2p_chord_len(nodes[j], &len), RS2P_OK);
        CHECK(ctx, len == 3);
    }

    /* A delete at node 0 reaches the others' reads and callbacks. */
    CHECK_STATUS(ctx, rs2p_chord_delete(nodes[0], key_of("net1"), 4, NULL), RS2P_OK);
    for (j = 1; j < 3; j++) {
        CHECK(ctx, read_until_gone(nodes[j], "net1"));
        CHECK(ctx, wait_for_event(&logs[j], RS2P_CHORD_EVENT_DELETE, "net1"));
    }

    /* Some reads were answered for other nodes. */
    {
        uint64_t answered = 0;
        for (j = 0; j < 3; j++) {
            rs2p_chord_stats stats;
            CHECK_STATUS(ctx, rs2p_chord_stats_get(nodes[j], &stats), RS2P_OK);
            answered += stats.retrieves_answered;
        }
        CHECK(ctx, answered > 0);
    }

    /* Replacing the callback frees the old user data once; NULL removes it. */
    CHECK_STATUS(ctx, rs2p_chord_set_callback(nodes[2], NULL, NULL, NULL), RS2P_OK);
    CHECK(ctx, wait_for_freed(&logs[2], 1));

    /* A callback may close its own node. */
    {
        closing_callback closing;
        uint8_t buf[16];
        size_t len = 0;
        log_init(&closing.log);
        closing.self = nodes[2];
        closing.close_status = -1;
        CHECK_STATUS(ctx, rs2p_chord_set_callback(nodes[2], close_on_event, &closing, closing_freed),
                     RS2P_OK);
        CHECK_STATUS(ctx, rs2p_chord_set(nodes[0], key_of("last"), 4, HELLO, sizeof HELLO), RS2P_OK);
        CHECK(ctx, wait_for_event(&closing.log, RS2P_CHORD_EVENT_ADD, "last"));
        CHECK(ctx, wait_for_freed(&closing.log, 1));
        CHECK_STATUS(ctx, closing.close_status, RS2P_OK);
        CHECK_STATUS(ctx, rs2p_chord_get(nodes[2], key_of("last"), 4, 0, buf, sizeof buf, &len),
                     RS2P_ERR_CLOSED);
        log_destroy(&closing.log);
    }

done:
    for (i = 0; i < 3; i++) rs2p_chord_free(nodes[i]);
    /* Freeing a node frees its callback's user data. */
    CHECK(ctx, wait_for_freed(&logs[0], nodes[0] != NULL ? 1 : 0));
    CHECK(ctx, wait_for_freed(&logs[1], nodes[1] != NULL ? 1 : 0));
    for (i = 0; i < 3; i++) log_destroy(&logs[i]);
}

/* A closed node: every call but stats, is_joined and free answers RS2P_ERR_CLOSED. */
static void test_closed(void) {
    const char *ctx = "closed";
    rs2p_chord *chord = start_chord(1);
    rs2p_chord *via_mesh = start_chord(0);
    rs2p_chord_get_op *op = NULL;
    rs2p_key_list *list = NULL;
    event_log log;
    uint8_t buf[64];
    size_t len = 0;
    int32_t flag = 0;

    log_init(&log);
    CHECK(ctx, chord != NULL && via_mesh != NULL);
    if (chord == NULL || via_mesh == NULL) goto done;
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("greeting"), 8, HELLO, sizeof HELLO), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_set_callback(chord, record_event, &log, note_freed), RS2P_OK);

    CHECK_STATUS(ctx, rs2p_chord_close(chord), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_close(chord), RS2P_OK); /* idempotent */
    CHECK(ctx, wait_for_freed(&log, 1));                 /* close dropped the callback */
    CHECK_STATUS(ctx, rs2p_chord_get(chord, key_of("greeting"), 8, 0, buf, sizeof buf, &len),
                 RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_get_bytes(chord, key_of("greeting"), 8, 0, buf, sizeof buf, &len),
                 RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of("greeting"), 8, 0, &op), RS2P_ERR_CLOSED);
    CHECK(ctx, op == NULL);
    CHECK_STATUS(ctx, rs2p_chord_set(chord, key_of("x"), 1, HELLO, sizeof HELLO), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_set_bytes(chord, key_of("x"), 1, key_of("v"), 1), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_delete(chord, key_of("greeting"), 8, NULL), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_apply_delta(chord, key_of("m"), 1, FIELD_A, sizeof FIELD_A),
                 RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_join(chord), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_unjoin(chord), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_len(chord, &len), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_keys(chord, &list), RS2P_ERR_CLOSED);
    CHECK(ctx, list == NULL);
    CHECK_STATUS(ctx, rs2p_chord_set_callback(chord, record_event, &log, note_freed),
                 RS2P_ERR_CLOSED);
    CHECK(ctx, wait_for_freed(&log, 2)); /* a failed registration frees its user data */
    {
        rs2p_chord_stats stats;
        CHECK_STATUS(ctx, rs2p_chord_stats_get(chord, &stats), RS2P_OK);
        CHECK_STATUS(ctx, rs2p_chord_is_joined(chord, &flag), RS2P_OK);
    }

    /* rs2p_mesh_close on the borrowed handle closes the chord node too. */
    CHECK_STATUS(ctx, rs2p_mesh_close(rs2p_chord_mesh(via_mesh)), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get(via_mesh, key_of("k"), 1, 0, buf, sizeof buf, &len),
                 RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_chord_set(via_mesh, key_of("k"), 1, HELLO, sizeof HELLO),
                 RS2P_ERR_CLOSED);

done:
    rs2p_chord_free(via_mesh);
    rs2p_chord_free(chord);
    log_destroy(&log);
}

/* A read in flight when its node closes ends with RS2P_ERR_CLOSED, not at its timeout; its
   operation outlives the node. */
static void test_close_ends_reads(void) {
    const char *ctx = "close ends reads";
    /* A leeching node with no peers: nobody answers, so the read stays in flight. */
    rs2p_chord *chord = start_chord(0);
    rs2p_chord_get_op *op = NULL;
    uint8_t buf[16];
    size_t len = 0;

    CHECK(ctx, chord != NULL);
    if (chord == NULL) return;
    CHECK_STATUS(ctx, rs2p_chord_get_start(chord, key_of("k"), 1, 600000, &op), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_chord_get_wait(op, 0, buf, sizeof buf, &len), RS2P_ERR_WOULD_BLOCK);
    CHECK_STATUS(ctx, rs2p_chord_close(chord), RS2P_OK);
    /* Ended by the close: not RS2P_ERR_WOULD_BLOCK after the wait, nor a timeout. */
    CHECK_STATUS(ctx, rs2p_chord_get_wait(op, WAIT_MS, buf, sizeof buf, &len), RS2P_ERR_CLOSED);
    rs2p_chord_free(chord);
    CHECK_STATUS(ctx, rs2p_chord_get_wait(op, 0, buf, sizeof buf, &len), RS2P_ERR_CLOSED);
    rs2p_chord_get_free(op);
}

int main(void) {
    test_null_arguments();
    test_one_node();
    test_read_operations();
    test_network();
    test_closed();
    test_close_ends_reads();
    printf("test_chord: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
