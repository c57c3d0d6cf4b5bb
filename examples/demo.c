/*
 * rs2p C demo: prints the protocol IDs of py2p's default subnets and decodes a reference
 * frame (a whisper from py2p 0.7, embedded as hex). Build and run: `make demo`.
 */
#include <rs2p.h>

#include <stdio.h>
#include <string.h>

/* A whisper of the text "unicode text é", as py2p 0.7 frames it (uncompressed). */
static const char FRAME_HEX[] =
    "0000007c68a61d285980903b4651675af20a3457b2ea8eec149d7035cf6459421348d4b49502c44241447364"
    "4b647761394741554867437135667a5067334c4567314a596b505147416d48536175596f4c56344371395038"
    "4b775365674e4c7147356467556369476444ce6924810002af756e69636f6465207465787420c3a9";

static size_t from_hex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = 0;
    unsigned int byte;
    while (hex[0] != '\0' && hex[1] != '\0' && n < cap && sscanf(hex, "%2x", &byte) == 1) {
        out[n++] = (unsigned char)byte;
        hex += 2;
    }
    return n;
}

static void print_hex(const unsigned char *bytes, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) printf("%02x", bytes[i]);
    printf("\n");
}

static int fail(const char *what, rs2p_status status) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, rs2p_status_str(status), rs2p_last_error());
    return 1;
}

int main(void) {
    static const char *const subnets[] = {"mesh", "sync1", "sync0", "chord"};
    unsigned char frame[512], packed[512], id[RS2P_MESSAGE_ID_LEN];
    size_t i, frame_len, packed_len, consumed;
    rs2p_status status;

    printf("rs2p %s (header %d.%d.%d)\n\n", rs2p_version(), RS2P_VERSION_MAJOR,
           RS2P_VERSION_MINOR, RS2P_VERSION_PATCH);

    printf("Protocol IDs of the default subnets (encryption Plaintext):\n");
    for (i = 0; i < sizeof subnets / sizeof subnets[0]; i++) {
        char protocol_id[128];
        size_t id_len;
        status = rs2p_protocol_id(subnets[i], "Plaintext", protocol_id, sizeof protocol_id,
                                  &id_len);
        if (status != RS2P_OK) return fail("rs2p_protocol_id", status);
        printf("  %-6s %s\n", subnets[i], protocol_id);
    }

    frame_len = from_hex(FRAME_HEX, frame, sizeof frame);
    status = rs2p_frame_decode(frame, frame_len, packed, sizeof packed, &packed_len, id,
                               &consumed);
    if (status != RS2P_OK) return fail("rs2p_frame_decode", status);
    printf("\nDecoded a %zu-byte reference frame (%zu bytes used):\n", frame_len, consumed);
    printf("  message ID  ");
    print_hex(id, sizeof id);
    printf("  msgpack     ");
    print_hex(packed, packed_len);
    printf("  payload     \"%.*s\"\n", 15, (const char *)packed + packed_len - 15);
    return 0;
}
