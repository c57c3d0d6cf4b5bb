/*
 * C test of the sync-table slice of the rs2p C API on 127.0.0.1: three sync nodes in a chain
 * (A - B - C) share one table. A write at one end reaches the other (relayed by B) with its
 * metadata; a key leased by another node is refused with RS2P_ERR_LEASED and nothing changes;
 * deletes and deltas cross; a late joiner gets the table in the handshake dump; the sync
 * callback reports updates and deletes; the borrowed mesh handle works with rs2p_mesh_*;
 * argument checks (NULL pointers, bad msgpack, small buffers) and closed nodes.
 *
 * Compiled as C11 and as C++17 with -Wall -Wextra -Werror -pedantic (see the Makefile) and
 * linked against the shared library. Every wait is bounded (WAIT_MS): a condition is polled
 * until a deadline. Prints "N passed, M failed"; exits 1 on any failure.
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

static const uint8_t *key_of(const char *text) { return (const uint8_t *)text; }

/* A leasing sync node on a free port of 127.0.0.1 that dials only what it is told to. */
static rs2p_sync *start_sync(void) {
    rs2p_mesh_config *cfg = NULL;
    rs2p_sync *sync = NULL;
    if (rs2p_mesh_config_new(&cfg) != RS2P_OK) return NULL;
    rs2p_mesh_config_set_max_outgoing(cfg, 0);
    if (rs2p_sync_new(cfg, NULL, 1, &sync) != RS2P_OK) sync = NULL;
    rs2p_mesh_config_free(cfg);
    return sync;
}

static void node_id(rs2p_sync *sync, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    rs2p_mesh_id(rs2p_sync_mesh(sync), out, cap, &len);
}

static int has_peer(rs2p_mesh *mesh, const char *id) {
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

/* Connects a to b through their mesh handles and polls until both list each other. */
static int link_syncs(rs2p_sync *a, rs2p_sync *b) {
    char id_a[128], id_b[128];
    uint16_t port_b = 0;
    long long deadline = now_ms() + WAIT_MS;
    node_id(a, id_a, sizeof id_a);
    node_id(b, id_b, sizeof id_b);
    if (rs2p_mesh_port(rs2p_sync_mesh(b), &port_b) != RS2P_OK) return 0;
    if (rs2p_mesh_connect(rs2p_sync_mesh(a), "127.0.0.1", port_b) != RS2P_OK) return 0;
    while (now_ms() < deadline) {
        if (has_peer(rs2p_sync_mesh(a), id_b) && has_peer(rs2p_sync_mesh(b), id_a)) return 1;
        poll_pause();
    }
    return 0;
}

/* Polls until `sync` holds `key` with exactly the msgpack `want` (want NULL: until the key is
   gone); returns 1 on success, 0 at the deadline. */
static int wait_for_value(rs2p_sync *sync, const char *key, const uint8_t *want, size_t want_len) {
    long long deadline = now_ms() + WAIT_MS;
    uint8_t buf[256];
    while (now_ms() < deadline) {
        size_t len = 0;
        rs2p_status st = rs2p_sync_get(sync, key_of(key), strlen(key), buf, sizeof buf, &len);
        if (want == NULL && st == RS2P_ERR_NOT_FOUND) return 1;
        if (want != NULL && st == RS2P_OK && len == want_len && memcmp(buf, want, len) == 0)
            return 1;
        poll_pause();
    }
    return 0;
}

static int wait_for_len(rs2p_sync *sync, size_t want) {
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        size_t len = 0;
        if (rs2p_sync_len(sync, &len) == RS2P_OK && len == want) return 1;
        poll_pause();
    }
    return 0;
}

/* Polls until the wall clock (Unix seconds) is past `second`. */
static int wait_for_second_after(int64_t second) {
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        if ((int64_t)time(NULL) > second) return 1;
        poll_pause();
    }
    return 0;
}

/* ---- the sync callback's record -------------------------------------------------------- */

#define MAX_EVENTS 64

typedef struct {
    int32_t kind;
    char key[32];
    uint8_t value[64];
    size_t value_len;
    char owner[128];
    int64_t time;
} seen_event;

typedef struct {
    pthread_mutex_t lock;
    seen_event events[MAX_EVENTS];
    int count;
    int freed;
} event_log;

static void record_event(void *userdata, const rs2p_sync_event *ev) {
    event_log *log = (event_log *)userdata;
    pthread_mutex_lock(&log->lock);
    if (log->count < MAX_EVENTS) {
        seen_event *e = &log->events[log->count++];
        size_t key_len = ev->key_len < sizeof e->key - 1 ? ev->key_len : sizeof e->key - 1;
        memset(e, 0, sizeof *e);
        e->kind = ev->kind;
        if (key_len > 0) memcpy(e->key, ev->key, key_len);
        e->value_len = ev->value_len <= sizeof e->value ? ev->value_len : 0;
        if (ev->value != NULL && e->value_len > 0) memcpy(e->value, ev->value, e->value_len);
        strncpy(e->owner, ev->owner, sizeof e->owner - 1);
        e->time = ev->time;
    }
    pthread_mutex_unlock(&log->lock);
}

static void note_freed(void *userdata) {
    event_log *log = (event_log *)userdata;
    pthread_mutex_lock(&log->lock);
    log->freed++;
    pthread_mutex_unlock(&log->lock);
}

/* Index of the first event of `kind` for `key`, polled until the deadline; -1 if none. */
static int wait_for_event(event_log *log, int32_t kind, const char *key) {
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        int i, found = -1;
        pthread_mutex_lock(&log->lock);
        for (i = 0; i < log->count && found < 0; i++) {
            if (log->events[i].kind == kind && strcmp(log->events[i].key, key) == 0) found = i;
        }
        pthread_mutex_unlock(&log->lock);
        if (found >= 0) return found;
        poll_pause();
    }
    return -1;
}

/* Polls until the user data was freed `want` times (a callback call in progress delays it). */
static int wait_for_freed(event_log *log, int want) {
    long long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        int freed;
        pthread_mutex_lock(&log->lock);
        freed = log->freed;
        pthread_mutex_unlock(&log->lock);
        if (freed == want) return 1;
        poll_pause();
    }
    return 0;
}

/* ---- msgpack values used below ------------------------------------------------------- */

static const uint8_t HELLO[] = {0xa5, 'h', 'e', 'l', 'l', 'o'};          /* "hello" */
static const uint8_t FORTY_TWO[] = {0x2a};                                /* 42 */
static const uint8_t NIL[] = {0xc0};                                      /* nil */
static const uint8_t FIELD_A[] = {0x81, 0xa1, 'a', 0x01};                 /* {"a": 1} */
static const uint8_t FIELD_B[] = {0x81, 0xa1, 'b', 0x02};                 /* {"b": 2} */
static const uint8_t MERGED[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02}; /* {"a": 1, "b": 2} */
static const uint8_t BROKEN[] = {0x92, 0x01};                             /* array cut short */

/* ---- the tests ------------------------------------------------------------------------- */

static void test_arguments(void) {
    const char *ctx = "arguments";
    rs2p_sync *sync = NULL;
    rs2p_key_list *list = NULL;
    uint8_t buf[8];
    size_t len = 0;
    const uint8_t *key = NULL;
    rs2p_sync_stats stats;

    CHECK_STATUS(ctx, rs2p_sync_new(NULL, NULL, 1, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, rs2p_sync_mesh(NULL) == NULL);
    CHECK_STATUS(ctx, rs2p_sync_set(NULL, key_of("k"), 1, HELLO, sizeof HELLO),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_set_bytes(NULL, key_of("k"), 1, key_of("v"), 1),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_delete(NULL, key_of("k"), 1, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_apply_delta(NULL, key_of("k"), 1, FIELD_A, sizeof FIELD_A),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_get(NULL, key_of("k"), 1, buf, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_get_bytes(NULL, key_of("k"), 1, buf, sizeof buf, &len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_metadata(NULL, key_of("k"), 1, NULL, 0, &len, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_len(NULL, &len), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_keys(NULL, &list), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_set_callback(NULL, NULL, NULL, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_stats_get(NULL, &stats), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_close(NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK(ctx, rs2p_key_list_len(NULL) == 0);
    CHECK_STATUS(ctx, rs2p_key_list_get(NULL, 0, &key, &len), RS2P_ERR_NULL_ARGUMENT);
    rs2p_sync_free(NULL);
    rs2p_key_list_free(NULL);

    sync = start_sync();
    CHECK(ctx, sync != NULL);
    if (sync == NULL) return;
    /* A key pointer NULL with a length, NULL out-parameters, bad msgpack, nil. */
    CHECK_STATUS(ctx, rs2p_sync_set(sync, NULL, 3, HELLO, sizeof HELLO), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_set(sync, key_of("k"), 1, NULL, 1), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_set(sync, key_of("k"), 1, BROKEN, sizeof BROKEN),
                 RS2P_ERR_INVALID_MSGPACK_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_set(sync, key_of("k"), 1, NIL, sizeof NIL),
                 RS2P_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_apply_delta(sync, key_of("m"), 1, HELLO, sizeof HELLO),
                 RS2P_ERR_INVALID_MSGPACK_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_get(sync, key_of("k"), 1, buf, sizeof buf, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_len(sync, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_keys(sync, NULL), RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS(ctx, rs2p_sync_stats_get(sync, NULL), RS2P_ERR_NULL_ARGUMENT);
    /* None of those changed the table. */
    CHECK_STATUS(ctx, rs2p_sync_len(sync, &len), RS2P_OK);
    CHECK(ctx, len == 0);
    CHECK_STATUS(ctx, rs2p_sync_get(sync, key_of("k"), 1, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_FOUND);
    /* The node's last error, through the mesh handle, names the failing sync call. */
    {
        char detail[512];
        size_t detail_len = 0;
        CHECK_STATUS(ctx,
                     rs2p_mesh_last_error(rs2p_sync_mesh(sync), detail, sizeof detail, &detail_len),
                     RS2P_OK);
        CHECK(ctx, strstr(detail, "rs2p_sync_get") != NULL);
    }
    rs2p_sync_free(sync);
}

static void test_local_reads(rs2p_sync *a) {
    const char *ctx = "local reads";
    uint8_t buf[64];
    size_t len = 0;
    rs2p_key_list *list = NULL;
    int32_t existed = -1;

    CHECK_STATUS(ctx, rs2p_sync_set_bytes(a, key_of("raw"), 3, key_of("bytes\0here"), 10),
                 RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_get_bytes(a, key_of("raw"), 3, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == 10 && memcmp(buf, "bytes\0here", 10) == 0);
    /* A size query: BUFFER_TOO_SMALL with the size needed. */
    len = 0;
    CHECK_STATUS(ctx, rs2p_sync_get(a, key_of("raw"), 3, NULL, 0, &len), RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK(ctx, len == 12); /* bin8: 0xc4, length, 10 bytes */
    /* A non-byte value. */
    CHECK_STATUS(ctx, rs2p_sync_set(a, key_of("num"), 3, FORTY_TWO, sizeof FORTY_TWO), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_get_bytes(a, key_of("num"), 3, buf, sizeof buf, &len),
                 RS2P_ERR_NOT_BYTES);
    CHECK_STATUS(ctx, rs2p_sync_get(a, key_of("num"), 3, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == 1 && buf[0] == 0x2a);
    /* The empty key is a key like any other. */
    CHECK_STATUS(ctx, rs2p_sync_set(a, NULL, 0, HELLO, sizeof HELLO), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_get_bytes(a, NULL, 0, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == 5 && memcmp(buf, "hello", 5) == 0);
    /* Keys. */
    CHECK_STATUS(ctx, rs2p_sync_keys(a, &list), RS2P_OK);
    CHECK(ctx, rs2p_key_list_len(list) == 3);
    {
        size_t i, total = 0;
        for (i = 0; i < rs2p_key_list_len(list); i++) {
            const uint8_t *key = NULL;
            size_t key_len = 99;
            CHECK_STATUS(ctx, rs2p_key_list_get(list, i, &key, &key_len), RS2P_OK);
            total += key_len;
        }
        CHECK(ctx, total == 6); /* "raw", "num", "" */
    }
    {
        const uint8_t *key = NULL;
        size_t key_len = 0;
        CHECK_STATUS(ctx, rs2p_key_list_get(list, 3, &key, &key_len), RS2P_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(ctx, rs2p_key_list_get(list, 0, NULL, &key_len), RS2P_ERR_NULL_ARGUMENT);
    }
    rs2p_key_list_free(list);
    /* Delete: existed 1, then 0 for a key that is gone. */
    CHECK_STATUS(ctx, rs2p_sync_delete(a, key_of("num"), 3, &existed), RS2P_OK);
    CHECK(ctx, existed == 1);
    CHECK_STATUS(ctx, rs2p_sync_delete(a, key_of("num"), 3, &existed), RS2P_OK);
    CHECK(ctx, existed == 0);
    CHECK_STATUS(ctx, rs2p_sync_delete(a, NULL, 0, NULL), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_delete(a, key_of("raw"), 3, NULL), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_len(a, &len), RS2P_OK);
    CHECK(ctx, len == 0);
}

static void test_network(void) {
    const char *ctx = "network";
    rs2p_sync *a = start_sync(), *b = start_sync(), *c = start_sync(), *late = NULL;
    char id_a[128], id_b[128], owner[128];
    uint8_t buf[64];
    size_t len = 0;
    int64_t when = 0;
    event_log log;
    int i;

    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.lock, NULL);
    CHECK(ctx, a != NULL && b != NULL && c != NULL);
    if (a == NULL || b == NULL || c == NULL) goto done;
    node_id(a, id_a, sizeof id_a);
    node_id(b, id_b, sizeof id_b);

    test_local_reads(a);

    /* The borrowed mesh handle: rs2p_mesh_free on it does nothing, the node stays usable. */
    rs2p_mesh_free(rs2p_sync_mesh(a));
    CHECK(ctx, link_syncs(a, b));
    CHECK(ctx, link_syncs(c, b));
    CHECK_STATUS(ctx, rs2p_sync_set_callback(c, record_event, &log, note_freed), RS2P_OK);

    /* A set at A reaches B and, relayed by B, C; the metadata names A. */
    CHECK_STATUS(ctx, rs2p_sync_set(a, key_of("greeting"), 8, HELLO, sizeof HELLO), RS2P_OK);
    CHECK(ctx, wait_for_value(b, "greeting", HELLO, sizeof HELLO));
    CHECK(ctx, wait_for_value(c, "greeting", HELLO, sizeof HELLO));
    owner[0] = '\0';
    CHECK_STATUS(ctx,
                 rs2p_sync_metadata(c, key_of("greeting"), 8, owner, sizeof owner, &len, &when),
                 RS2P_OK);
    CHECK(ctx, strcmp(owner, id_a) == 0 && len == strlen(id_a));
    CHECK(ctx, when > 1600000000); /* Unix seconds, not milliseconds or 0 */
    CHECK_STATUS(ctx, rs2p_sync_metadata(c, key_of("greeting"), 8, NULL, 0, &len, NULL),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK(ctx, len == strlen(id_a));
    CHECK_STATUS(ctx, rs2p_sync_metadata(c, key_of("absent"), 6, owner, sizeof owner, &len, NULL),
                 RS2P_ERR_NOT_FOUND);

    /* The callback saw the update with its value and owner. */
    i = wait_for_event(&log, RS2P_SYNC_EVENT_UPDATE, "greeting");
    CHECK(ctx, i >= 0);
    if (i >= 0) {
        seen_event *e = &log.events[i];
        CHECK(ctx, e->value_len == sizeof HELLO && memcmp(e->value, HELLO, sizeof HELLO) == 0);
        CHECK(ctx, strcmp(e->owner, id_a) == 0 && e->time == when);
    }

    /* B may not overwrite A's leased key: RS2P_ERR_LEASED naming A; nothing changes. The
       protocol lets a write in the very second of the held one through when its writer's ID
       sorts first, so B challenges once the wall clock has passed A's second. */
    CHECK(ctx, wait_for_second_after(when));
    CHECK_STATUS(ctx, rs2p_sync_set(b, key_of("greeting"), 8, FORTY_TWO, sizeof FORTY_TWO),
                 RS2P_ERR_LEASED);
    CHECK(ctx, strstr(rs2p_last_error(), id_a) != NULL);
    CHECK_STATUS(ctx, rs2p_sync_delete(b, key_of("greeting"), 8, NULL), RS2P_ERR_LEASED);
    CHECK_STATUS(ctx, rs2p_sync_get(b, key_of("greeting"), 8, buf, sizeof buf, &len), RS2P_OK);
    CHECK(ctx, len == sizeof HELLO && memcmp(buf, HELLO, len) == 0);
    CHECK_STATUS(ctx, rs2p_sync_metadata(b, key_of("greeting"), 8, owner, sizeof owner, &len, NULL),
                 RS2P_OK);
    CHECK(ctx, strcmp(owner, id_a) == 0);

    /* Deltas cross and merge; a delta onto a non-map is refused. */
    CHECK_STATUS(ctx, rs2p_sync_apply_delta(b, key_of("map"), 3, FIELD_A, sizeof FIELD_A), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_apply_delta(b, key_of("map"), 3, FIELD_B, sizeof FIELD_B), RS2P_OK);
    CHECK(ctx, wait_for_value(a, "map", MERGED, sizeof MERGED));
    CHECK(ctx, wait_for_value(c, "map", MERGED, sizeof MERGED));
    CHECK_STATUS(ctx, rs2p_sync_metadata(a, key_of("map"), 3, owner, sizeof owner, &len, NULL),
                 RS2P_OK);
    CHECK(ctx, strcmp(owner, id_b) == 0);
    CHECK_STATUS(ctx, rs2p_sync_apply_delta(a, key_of("greeting"), 8, FIELD_A, sizeof FIELD_A),
                 RS2P_ERR_INVALID_ARGUMENT);

    /* A late joiner gets the whole table through the handshake dump. */
    late = start_sync();
    CHECK(ctx, late != NULL);
    if (late != NULL) {
        CHECK(ctx, link_syncs(late, a));
        CHECK(ctx, wait_for_value(late, "greeting", HELLO, sizeof HELLO));
        CHECK(ctx, wait_for_value(late, "map", MERGED, sizeof MERGED));
        CHECK_STATUS(ctx,
                     rs2p_sync_metadata(late, key_of("map"), 3, owner, sizeof owner, &len, NULL),
                     RS2P_OK);
        CHECK(ctx, strcmp(owner, id_b) == 0);
    }

    /* A delete crosses; the callback sees it. */
    CHECK_STATUS(ctx, rs2p_sync_delete(a, key_of("greeting"), 8, NULL), RS2P_OK);
    CHECK(ctx, wait_for_value(c, "greeting", NULL, 0));
    CHECK(ctx, wait_for_value(b, "greeting", NULL, 0));
    CHECK(ctx, wait_for_event(&log, RS2P_SYNC_EVENT_DELETE, "greeting") >= 0);
    i = wait_for_event(&log, RS2P_SYNC_EVENT_UPDATE, "map");
    CHECK(ctx, i >= 0);
    if (i >= 0) CHECK(ctx, strcmp(log.events[i].owner, id_b) == 0);
    /* Once deleted, the key is free for B to write. */
    CHECK_STATUS(ctx, rs2p_sync_set(b, key_of("greeting"), 8, FORTY_TWO, sizeof FORTY_TWO), RS2P_OK);
    CHECK(ctx, wait_for_value(a, "greeting", FORTY_TWO, sizeof FORTY_TWO));
    CHECK(ctx, wait_for_len(c, 2));

    /* Counters: C applied remote writes; none were refused. */
    {
        rs2p_sync_stats stats;
        memset(&stats, 0xff, sizeof stats);
        CHECK_STATUS(ctx, rs2p_sync_stats_get(c, &stats), RS2P_OK);
        CHECK(ctx, stats.accepted >= 4);
        CHECK(ctx, stats.refused_leased == 0 && stats.refused_delta_on_non_map == 0);
        /* The pass-on counters are filled in (not left as the 0xff pattern). */
        CHECK(ctx, stats.dump_entries_passed_on != UINT64_MAX);
        CHECK(ctx, stats.pass_on_skipped != UINT64_MAX);
        CHECK(ctx, stats.reserved[0] == 0 && stats.reserved[5] == 0);
    }

    /* Replacing the callback frees the old user data once; NULL removes it. */
    CHECK_STATUS(ctx, rs2p_sync_set_callback(c, NULL, NULL, NULL), RS2P_OK);
    CHECK(ctx, wait_for_freed(&log, 1));

    /* Closed: rs2p_sync_close, and rs2p_mesh_close on the borrowed handle. */
    CHECK_STATUS(ctx, rs2p_sync_close(c), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_close(c), RS2P_OK);
    CHECK_STATUS(ctx, rs2p_sync_set(c, key_of("x"), 1, HELLO, sizeof HELLO), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_sync_get(c, key_of("map"), 3, buf, sizeof buf, &len), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_sync_len(c, &len), RS2P_ERR_CLOSED);
    CHECK_STATUS(ctx, rs2p_sync_set_callback(c, record_event, &log, note_freed), RS2P_ERR_CLOSED);
    CHECK(ctx, wait_for_freed(&log, 2)); /* a failed registration frees its user data */
    {
        rs2p_sync_stats stats;
        CHECK_STATUS(ctx, rs2p_sync_stats_get(c, &stats), RS2P_OK);
    }
    if (late != NULL) {
        CHECK_STATUS(ctx, rs2p_mesh_close(rs2p_sync_mesh(late)), RS2P_OK);
        CHECK_STATUS(ctx, rs2p_sync_set(late, key_of("x"), 1, HELLO, sizeof HELLO),
                     RS2P_ERR_CLOSED);
        CHECK_STATUS(ctx, rs2p_sync_delete(late, key_of("map"), 3, NULL), RS2P_ERR_CLOSED);
    }

done:
    rs2p_sync_free(late);
    rs2p_sync_free(c);
    rs2p_sync_free(b);
    rs2p_sync_free(a);
    pthread_mutex_destroy(&log.lock);
}

/* A callback registered on a node that is then freed: its user data is freed exactly once. */
static void test_free_runs_userdata_free(void) {
    const char *ctx = "free";
    event_log log;
    rs2p_sync *sync = start_sync();
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.lock, NULL);
    CHECK(ctx, sync != NULL);
    if (sync != NULL) {
        CHECK_STATUS(ctx, rs2p_sync_set_callback(sync, record_event, &log, note_freed), RS2P_OK);
        CHECK_STATUS(ctx, rs2p_sync_set(sync, key_of("k"), 1, HELLO, sizeof HELLO), RS2P_OK);
        CHECK(ctx, wait_for_event(&log, RS2P_SYNC_EVENT_UPDATE, "k") >= 0);
        rs2p_sync_free(sync);
    }
    CHECK(ctx, wait_for_freed(&log, 1));
    pthread_mutex_destroy(&log.lock);
}

int main(void) {
    test_arguments();
    test_network();
    test_free_runs_userdata_free();
    printf("test_sync: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
