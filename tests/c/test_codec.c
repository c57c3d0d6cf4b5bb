/*
 * C test of the codec slice of the rs2p C API: protocol IDs, frame decode and encode against
 * the py2p reference vectors, and every error path a C caller can hit (truncated input, bad
 * checksum, oversized prefix, NULL pointers, small buffers, unknown compression codes).
 *
 * Compiled as C11 and as C++17 with -Wall -Wextra -Werror -pedantic (see the Makefile) and
 * linked against the shared library. Prints "N passed, M failed"; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "rs2p.h"
#include "check.h"
#include "vectors.h"

#include <stdio.h>
#include <string.h>

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))
#define SENTINEL ((size_t)0x5eed)


static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into out (capacity cap); returns the byte count, or 0 on bad input. */
static size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap) {
    size_t len = strlen(hex);
    size_t i;
    if (len % 2 != 0 || len / 2 > cap) return 0;
    for (i = 0; i < len / 2; i++) {
        int high = hex_digit(hex[2 * i]);
        int low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) return 0;
        out[i] = (uint8_t)(high * 16 + low);
    }
    return len / 2;
}

enum { BUF = 1024, FRAME_HEADER = 4 + RS2P_MESSAGE_ID_LEN };

/* The first reference message as a plain frame, its packed message and its ID. */
struct reference {
    uint8_t frame[BUF];
    size_t frame_len;
    const uint8_t *packed;
    size_t packed_len;
    uint8_t id[RS2P_MESSAGE_ID_LEN];
};

static void load_reference(struct reference *ref, size_t index) {
    ref->frame_len = hex_to_bytes(FRAME_VECTORS[index].frame_hex, ref->frame, BUF);
    ref->packed = ref->frame + FRAME_HEADER;
    ref->packed_len = ref->frame_len - FRAME_HEADER;
    hex_to_bytes(FRAME_VECTORS[index].id_hex, ref->id, sizeof ref->id);
}

static void test_no_error_before_any_failure(void) {
    CHECK("fresh thread", strcmp(rs2p_last_error(), "") == 0);
}

static void test_version(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", RS2P_VERSION_MAJOR, RS2P_VERSION_MINOR,
             RS2P_VERSION_PATCH);
    CHECK("version", rs2p_version() != NULL);
    CHECK("version matches header macros", strcmp(rs2p_version(), expected) == 0);
}

static void test_status_strings(void) {
    static const rs2p_status codes[] = {
        RS2P_OK, RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_ARGUMENT, RS2P_ERR_BUFFER_TOO_SMALL,
        RS2P_ERR_PANIC, RS2P_ERR_INVALID_UTF8_ARGUMENT, RS2P_ERR_FRAME_TOO_LARGE,
        RS2P_ERR_DECOMPRESSED_TOO_LARGE, RS2P_ERR_BAD_COMPRESSION, RS2P_ERR_TRUNCATED,
        RS2P_ERR_TRAILING_BYTES, RS2P_ERR_BAD_CHECKSUM, RS2P_ERR_INVALID_UTF8, RS2P_ERR_TOO_DEEP,
        RS2P_ERR_UNSUPPORTED_MSGPACK, RS2P_ERR_DUPLICATE_MAP_KEY, RS2P_ERR_LENGTH_OVERFLOW,
        RS2P_ERR_BAD_MESSAGE_SHAPE, RS2P_ERR_BAD_BASE58, RS2P_ERR_UNKNOWN_COMPRESSION};
    const char *unknown = rs2p_status_str(9999);
    size_t i, j;
    CHECK("status numbers", RS2P_OK == 0 && RS2P_ERR_PANIC == 4 && RS2P_ERR_TRUNCATED == 13 &&
                                RS2P_ERR_UNKNOWN_COMPRESSION == 23);
    CHECK("unknown status", unknown != NULL && unknown[0] != '\0');
    CHECK("negative status", rs2p_status_str(-1) != NULL && rs2p_status_str(-1)[0] != '\0');
    for (i = 0; i < COUNT_OF(codes); i++) {
        const char *text = rs2p_status_str(codes[i]);
        CHECK("status_str non-empty", text != NULL && text[0] != '\0');
        CHECK("status_str distinct from unknown", strcmp(text, unknown) != 0);
        for (j = 0; j < i; j++) {
            CHECK("status_str distinct", strcmp(text, rs2p_status_str(codes[j])) != 0);
        }
    }
}

static void test_protocol_ids(void) {
    size_t i;
    for (i = 0; i < COUNT_OF(PROTOCOL_VECTORS); i++) {
        const struct protocol_vector *v = &PROTOCOL_VECTORS[i];
        char out[128];
        size_t out_len = SENTINEL;
        rs2p_status status = rs2p_protocol_id(v->subnet, v->encryption, out, sizeof out, &out_len);
        CHECK_STATUS(v->id, status, RS2P_OK);
        CHECK(v->id, status == RS2P_OK && strcmp(out, v->id) == 0);
        CHECK(v->id, out_len == strlen(v->id));
    }
}

static void test_protocol_id_buffer_sizes(void) {
    const char *expected = "EpAmyZWv9rZUKmjQgU3FTUD4GrJHvVEXizmghVBc8eGD";
    size_t id_len = strlen(expected);
    char out[128];
    size_t out_len = SENTINEL;

    CHECK_STATUS("size query", rs2p_protocol_id("mesh", "Plaintext", NULL, 0, &out_len),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("size query gives the length without NUL", out_len == id_len);

    memset(out, 'x', sizeof out);
    out_len = SENTINEL;
    CHECK_STATUS("no room for NUL", rs2p_protocol_id("mesh", "Plaintext", out, id_len, &out_len),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("needed length reported", out_len == id_len);
    CHECK("buffer untouched on failure", out[0] == 'x' && out[id_len - 1] == 'x');
    CHECK("last error set", rs2p_last_error()[0] != '\0');

    CHECK_STATUS("exact fit", rs2p_protocol_id("mesh", "Plaintext", out, id_len + 1, &out_len),
                 RS2P_OK);
    CHECK("exact fit text", strcmp(out, expected) == 0 && out_len == id_len);
}

static void test_protocol_id_bad_arguments(void) {
    char out[128];
    size_t out_len = SENTINEL;
    CHECK_STATUS("NULL subnet", rs2p_protocol_id(NULL, "Plaintext", out, sizeof out, &out_len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("NULL encryption", rs2p_protocol_id("mesh", NULL, out, sizeof out, &out_len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("NULL out_len", rs2p_protocol_id("mesh", "Plaintext", out, sizeof out, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("NULL out with capacity",
                 rs2p_protocol_id("mesh", "Plaintext", NULL, 16, &out_len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK("out_len untouched by NULL errors", out_len == SENTINEL);
    CHECK("NULL detail names the argument", strstr(rs2p_last_error(), "out") != NULL);
    CHECK_STATUS("invalid UTF-8",
                 rs2p_protocol_id("\xff\xfe", "Plaintext", out, sizeof out, &out_len),
                 RS2P_ERR_INVALID_UTF8_ARGUMENT);
    CHECK("out_len untouched by UTF-8 error", out_len == SENTINEL);
    CHECK("UTF-8 detail names the argument", strstr(rs2p_last_error(), "subnet") != NULL);
}

/* Decodes every vector frame (plain, zlib, gzip) and compares with the plain frame. */
static void test_decode_vectors(void) {
    size_t i, k;
    for (i = 0; i < COUNT_OF(FRAME_VECTORS); i++) {
        const struct frame_vector *v = &FRAME_VECTORS[i];
        const char *kinds[3];
        struct reference ref;
        load_reference(&ref, i);
        kinds[0] = v->frame_hex;
        kinds[1] = v->zlib_frame_hex;
        kinds[2] = v->gzip_frame_hex;
        for (k = 0; k < 3; k++) {
            uint8_t frame[BUF], packed[BUF], id[RS2P_MESSAGE_ID_LEN];
            size_t frame_len = hex_to_bytes(kinds[k], frame, sizeof frame);
            size_t packed_len = SENTINEL, consumed = SENTINEL;
            rs2p_status status = rs2p_frame_decode(frame, frame_len, packed, sizeof packed,
                                                   &packed_len, id, &consumed);
            CHECK_STATUS(v->name, status, RS2P_OK);
            CHECK(v->name, consumed == frame_len);
            CHECK(v->name, packed_len == ref.packed_len &&
                               memcmp(packed, ref.packed, ref.packed_len) == 0);
            CHECK(v->name, memcmp(id, ref.id, sizeof id) == 0);
        }
    }
}

static void test_encode_reproduces_plain_frames(void) {
    size_t i;
    for (i = 0; i < COUNT_OF(FRAME_VECTORS); i++) {
        struct reference ref;
        uint8_t out[BUF];
        size_t out_len = SENTINEL;
        load_reference(&ref, i);
        CHECK_STATUS(FRAME_VECTORS[i].name,
                     rs2p_frame_encode(ref.packed, ref.packed_len, 0, out, sizeof out, &out_len),
                     RS2P_OK);
        CHECK(FRAME_VECTORS[i].name,
              out_len == ref.frame_len && memcmp(out, ref.frame, ref.frame_len) == 0);
    }
}

static void test_encode_compressed_round_trips(void) {
    static const uint8_t methods[] = {0x11, 0x13};
    size_t i, m;
    for (i = 0; i < COUNT_OF(FRAME_VECTORS); i++) {
        struct reference ref;
        load_reference(&ref, i);
        for (m = 0; m < COUNT_OF(methods); m++) {
            uint8_t frame[BUF], packed[BUF], id[RS2P_MESSAGE_ID_LEN];
            size_t frame_len = 0, packed_len = 0, consumed = 0;
            CHECK_STATUS(FRAME_VECTORS[i].name,
                         rs2p_frame_encode(ref.packed, ref.packed_len, methods[m], frame,
                                           sizeof frame, &frame_len),
                         RS2P_OK);
            CHECK_STATUS(FRAME_VECTORS[i].name,
                         rs2p_frame_decode(frame, frame_len, packed, sizeof packed, &packed_len,
                                           id, &consumed),
                         RS2P_OK);
            CHECK(FRAME_VECTORS[i].name, consumed == frame_len);
            CHECK(FRAME_VECTORS[i].name, packed_len == ref.packed_len &&
                                             memcmp(packed, ref.packed, packed_len) == 0);
            CHECK(FRAME_VECTORS[i].name, memcmp(id, ref.id, sizeof id) == 0);
        }
    }
}

static void test_decode_stops_after_first_frame(void) {
    struct reference first, second;
    uint8_t stream[2 * BUF], packed[BUF], id[RS2P_MESSAGE_ID_LEN];
    size_t packed_len = 0, consumed = 0;
    load_reference(&first, 0);
    load_reference(&second, 1);
    memcpy(stream, first.frame, first.frame_len);
    memcpy(stream + first.frame_len, second.frame, second.frame_len);

    CHECK_STATUS("first of two", rs2p_frame_decode(stream, first.frame_len + second.frame_len,
                                                   packed, sizeof packed, &packed_len, id,
                                                   &consumed),
                 RS2P_OK);
    CHECK("first of two", consumed == first.frame_len && packed_len == first.packed_len);
    CHECK("first of two", memcmp(id, first.id, sizeof id) == 0);
    CHECK_STATUS("second of two", rs2p_frame_decode(stream + consumed, second.frame_len, packed,
                                                    sizeof packed, &packed_len, id, &consumed),
                 RS2P_OK);
    CHECK("second of two", memcmp(id, second.id, sizeof id) == 0);
}

static void test_decode_truncated(void) {
    struct reference ref;
    uint8_t packed[BUF], id[RS2P_MESSAGE_ID_LEN];
    size_t cut, packed_len = SENTINEL, consumed = SENTINEL;
    int all_truncated = 1;
    load_reference(&ref, 0);
    for (cut = 0; cut < ref.frame_len; cut++) {
        rs2p_status status =
            rs2p_frame_decode(ref.frame, cut, packed, sizeof packed, &packed_len, id, &consumed);
        if (status != RS2P_ERR_TRUNCATED) {
            all_truncated = 0;
            fprintf(stderr, "  prefix of %zu bytes gave status %d\n", cut, (int)status);
        }
    }
    CHECK("every proper prefix is RS2P_ERR_TRUNCATED", all_truncated);
    CHECK("out-params untouched", packed_len == SENTINEL && consumed == SENTINEL);
    CHECK_STATUS("empty input as NULL",
                 rs2p_frame_decode(NULL, 0, packed, sizeof packed, &packed_len, id, &consumed),
                 RS2P_ERR_TRUNCATED);
}

static void test_decode_bad_checksum(void) {
    struct reference ref;
    uint8_t packed[BUF], id[RS2P_MESSAGE_ID_LEN];
    size_t packed_len = SENTINEL, consumed = SENTINEL;
    load_reference(&ref, 0);
    ref.frame[4] ^= 0x01; /* first checksum byte */
    CHECK_STATUS("checksum byte flipped", rs2p_frame_decode(ref.frame, ref.frame_len, packed,
                                                            sizeof packed, &packed_len, id,
                                                            &consumed),
                 RS2P_ERR_BAD_CHECKSUM);
    load_reference(&ref, 0);
    ref.frame[ref.frame_len - 1] ^= 0x01; /* last payload byte */
    CHECK_STATUS("payload byte flipped", rs2p_frame_decode(ref.frame, ref.frame_len, packed,
                                                           sizeof packed, &packed_len, id,
                                                           &consumed),
                 RS2P_ERR_BAD_CHECKSUM);
    CHECK("out-params untouched", packed_len == SENTINEL && consumed == SENTINEL);
    CHECK("detail recorded", rs2p_last_error()[0] != '\0');
}

static void test_decode_oversized_prefix(void) {
    /* 16 MiB + 1 and 4 GiB - 1: rejected from the prefix alone, without waiting for a body. */
    static const uint8_t just_over[4] = {0x01, 0x00, 0x00, 0x01};
    static const uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    static const uint8_t at_limit[4] = {0x01, 0x00, 0x00, 0x00};
    uint8_t packed[BUF], id[RS2P_MESSAGE_ID_LEN];
    size_t packed_len = 0, consumed = 0;
    CHECK_STATUS("16 MiB + 1", rs2p_frame_decode(just_over, sizeof just_over, packed,
                                                 sizeof packed, &packed_len, id, &consumed),
                 RS2P_ERR_FRAME_TOO_LARGE);
    CHECK_STATUS("0xffffffff", rs2p_frame_decode(huge, sizeof huge, packed, sizeof packed,
                                                 &packed_len, id, &consumed),
                 RS2P_ERR_FRAME_TOO_LARGE);
    CHECK_STATUS("exactly 16 MiB is allowed (needs more bytes)",
                 rs2p_frame_decode(at_limit, sizeof at_limit, packed, sizeof packed, &packed_len,
                                   id, &consumed),
                 RS2P_ERR_TRUNCATED);
}

static void test_null_arguments(void) {
    struct reference ref;
    uint8_t packed[BUF], id[RS2P_MESSAGE_ID_LEN], out[BUF];
    size_t packed_len = SENTINEL, consumed = SENTINEL, out_len = SENTINEL;
    load_reference(&ref, 0);

    CHECK_STATUS("decode: NULL frame with length",
                 rs2p_frame_decode(NULL, 10, packed, sizeof packed, &packed_len, id, &consumed),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("decode: NULL packed_out with capacity",
                 rs2p_frame_decode(ref.frame, ref.frame_len, NULL, 10, &packed_len, id,
                                   &consumed),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("decode: NULL packed_len",
                 rs2p_frame_decode(ref.frame, ref.frame_len, packed, sizeof packed, NULL, id,
                                   &consumed),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("decode: NULL id_out",
                 rs2p_frame_decode(ref.frame, ref.frame_len, packed, sizeof packed, &packed_len,
                                   NULL, &consumed),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("decode: NULL consumed",
                 rs2p_frame_decode(ref.frame, ref.frame_len, packed, sizeof packed, &packed_len,
                                   id, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK("decode: out-params untouched", packed_len == SENTINEL && consumed == SENTINEL);

    CHECK_STATUS("encode: NULL packed with length",
                 rs2p_frame_encode(NULL, 5, 0, out, sizeof out, &out_len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("encode: NULL out with capacity",
                 rs2p_frame_encode(ref.packed, ref.packed_len, 0, NULL, 10, &out_len),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK_STATUS("encode: NULL out_len",
                 rs2p_frame_encode(ref.packed, ref.packed_len, 0, out, sizeof out, NULL),
                 RS2P_ERR_NULL_ARGUMENT);
    CHECK("encode: out_len untouched", out_len == SENTINEL);
}

static void test_small_buffers(void) {
    struct reference ref;
    uint8_t packed[BUF], id[RS2P_MESSAGE_ID_LEN], out[BUF];
    size_t packed_len = SENTINEL, consumed = SENTINEL, out_len = SENTINEL;
    load_reference(&ref, 0);
    memset(id, 0xaa, sizeof id);
    memset(packed, 0xaa, sizeof packed);

    CHECK_STATUS("decode: one byte short",
                 rs2p_frame_decode(ref.frame, ref.frame_len, packed, ref.packed_len - 1,
                                   &packed_len, id, &consumed),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("decode: needed size reported", packed_len == ref.packed_len);
    CHECK("decode: other outputs untouched", consumed == SENTINEL && id[0] == 0xaa &&
                                                 packed[0] == 0xaa);
    packed_len = SENTINEL;
    CHECK_STATUS("decode: size query with NULL, 0",
                 rs2p_frame_decode(ref.frame, ref.frame_len, NULL, 0, &packed_len, id, &consumed),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("decode: size query result", packed_len == ref.packed_len);

    memset(out, 0xaa, sizeof out);
    CHECK_STATUS("encode: one byte short",
                 rs2p_frame_encode(ref.packed, ref.packed_len, 0, out, ref.frame_len - 1,
                                   &out_len),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("encode: needed size reported", out_len == ref.frame_len);
    CHECK("encode: buffer untouched", out[0] == 0xaa);
    out_len = SENTINEL;
    CHECK_STATUS("encode: size query with NULL, 0",
                 rs2p_frame_encode(ref.packed, ref.packed_len, 0, NULL, 0, &out_len),
                 RS2P_ERR_BUFFER_TOO_SMALL);
    CHECK("encode: size query result", out_len == ref.frame_len);
}

static void test_unknown_compression_codes(void) {
    /* bz2 (0x10), lzma (0x12) and snappy (0x20) exist in the protocol but not in rs2p. */
    static const uint8_t codes[] = {0x01, 0x10, 0x12, 0x20, 0xff};
    struct reference ref;
    uint8_t out[BUF];
    size_t i, out_len = SENTINEL;
    load_reference(&ref, 0);
    for (i = 0; i < COUNT_OF(codes); i++) {
        CHECK_STATUS("unknown compression",
                     rs2p_frame_encode(ref.packed, ref.packed_len, codes[i], out, sizeof out,
                                       &out_len),
                     RS2P_ERR_UNKNOWN_COMPRESSION);
    }
    CHECK("out_len untouched", out_len == SENTINEL);
}

static void test_encode_rejects_non_messages(void) {
    static const uint8_t two_items[3] = {0x92, 0x01, 0x02}; /* [1, 2] */
    static const uint8_t not_array[1] = {0x05};              /* 5 */
    uint8_t out[BUF];
    size_t out_len = SENTINEL;
    CHECK_STATUS("[1, 2]", rs2p_frame_encode(two_items, sizeof two_items, 0, out, sizeof out,
                                             &out_len),
                 RS2P_ERR_BAD_MESSAGE_SHAPE);
    CHECK_STATUS("5", rs2p_frame_encode(not_array, sizeof not_array, 0, out, sizeof out,
                                        &out_len),
                 RS2P_ERR_BAD_MESSAGE_SHAPE);
    CHECK("empty input fails",
          rs2p_frame_encode(NULL, 0, 0, out, sizeof out, &out_len) != RS2P_OK);
    CHECK("out_len untouched", out_len == SENTINEL);
}

static void test_last_error_detail(void) {
    struct reference ref;
    uint8_t packed[BUF], id[RS2P_MESSAGE_ID_LEN];
    size_t packed_len = 0, consumed = 0;
    char saved[512];
    load_reference(&ref, 0);

    CHECK_STATUS("truncated", rs2p_frame_decode(ref.frame, 10, packed, sizeof packed,
                                                &packed_len, id, &consumed),
                 RS2P_ERR_TRUNCATED);
    CHECK("detail names the function", strstr(rs2p_last_error(), "rs2p_frame_decode") != NULL);
    snprintf(saved, sizeof saved, "%s", rs2p_last_error());
    CHECK_STATUS("a success", rs2p_frame_decode(ref.frame, ref.frame_len, packed, sizeof packed,
                                                &packed_len, id, &consumed),
                 RS2P_OK);
    CHECK("a success leaves the detail alone", strcmp(rs2p_last_error(), saved) == 0);
}

int main(void) {
    test_no_error_before_any_failure();
    test_version();
    test_status_strings();
    test_protocol_ids();
    test_protocol_id_buffer_sizes();
    test_protocol_id_bad_arguments();
    test_decode_vectors();
    test_encode_reproduces_plain_frames();
    test_encode_compressed_round_trips();
    test_decode_stops_after_first_frame();
    test_decode_truncated();
    test_decode_bad_checksum();
    test_decode_oversized_prefix();
    test_null_arguments();
    test_small_buffers();
    test_unknown_compression_codes();
    test_encode_rejects_non_messages();
    test_last_error_detail();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
