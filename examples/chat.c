/*
 * A terminal chat over the rs2p mesh. Run it in two terminals:
 *
 *   ./build/examples/chat 4444
 *   ./build/examples/chat 4445 127.0.0.1:4444
 *
 * Every line typed is broadcast to the whole mesh; every line received is printed with the
 * sender's short ID. Commands: /peers lists the connected peers, /quit (or end of input,
 * Ctrl-D) leaves. The node listens on 127.0.0.1 only.
 */
#define _POSIX_C_SOURCE 200809L
#include "rs2p.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_ID 8

static int fail(const char *what, rs2p_status status) {
    fprintf(stderr, "chat: %s failed: %s (%s)\n", what, rs2p_status_str(status),
            rs2p_last_error());
    return 1;
}

/* Prints who joined and left; runs on the node's dispatcher thread. */
static void on_event(void *userdata, const rs2p_event *ev) {
    (void)userdata;
    if (ev->kind == RS2P_EVENT_CONNECT) {
        printf("* %.*s joined\n", SHORT_ID, ev->peer_id);
    } else if (ev->kind == RS2P_EVENT_DISCONNECT) {
        printf("* %.*s left\n", SHORT_ID, ev->peer_id);
    }
    fflush(stdout);
}

/* Prints received messages until the node closes. */
static void *receive_loop(void *arg) {
    rs2p_mesh *mesh = (rs2p_mesh *)arg;
    for (;;) {
        rs2p_message *msg = NULL;
        const uint8_t *text = NULL;
        size_t len = 0;
        rs2p_status status = rs2p_mesh_recv(mesh, -1, &msg);
        if (status != RS2P_OK) break; /* RS2P_ERR_CLOSED: we are leaving */
        if (rs2p_message_packet(msg, 0, &text, &len) == RS2P_OK) {
            printf("[%.*s] %.*s\n", SHORT_ID, rs2p_message_sender(msg), (int)len,
                   (const char *)text);
        } else {
            printf("[%.*s] (a message that is not text)\n", SHORT_ID, rs2p_message_sender(msg));
        }
        fflush(stdout);
        rs2p_message_free(msg);
    }
    return NULL;
}

static void print_peers(const rs2p_mesh *mesh) {
    rs2p_peer_list *list = NULL;
    size_t i, n;
    if (rs2p_mesh_peers(mesh, &list) != RS2P_OK) return;
    n = rs2p_peer_list_len(list);
    printf("* %zu peer%s\n", n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
        printf("*   %s at %s:%u (%s)\n", rs2p_peer_list_id(list, i), rs2p_peer_list_host(list, i),
               (unsigned)rs2p_peer_list_port(list, i),
               rs2p_peer_list_outgoing(list, i) == 1 ? "we dialled" : "they dialled");
    }
    fflush(stdout);
    rs2p_peer_list_free(list);
}

/* Splits "host:port"; false if it is not that. */
static int parse_addr(const char *text, char *host, size_t host_cap, uint16_t *port) {
    const char *colon = strrchr(text, ':');
    long value;
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - text) + 1 > host_cap || colon == text) return 0;
    value = strtol(colon + 1, &end, 10);
    if (*end != '\0' || value <= 0 || value > 65535) return 0;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (uint16_t)value;
    return 1;
}

int main(int argc, char **argv) {
    rs2p_mesh_config *cfg = NULL;
    rs2p_mesh *mesh = NULL;
    rs2p_status status;
    pthread_t receiver;
    char id[128], line[4096], host[256];
    size_t id_len = 0;
    uint16_t peer_port = 0;
    long port;

    if (argc < 2 || argc > 3 || (port = strtol(argv[1], NULL, 10)) < 0 || port > 65535 ||
        (argc == 3 && !parse_addr(argv[2], host, sizeof host, &peer_port))) {
        fprintf(stderr, "usage: %s PORT [HOST:PORT]\n", argv[0]);
        return 2;
    }
    if ((status = rs2p_mesh_config_new(&cfg)) != RS2P_OK) return fail("config", status);
    rs2p_mesh_config_set_bind(cfg, "127.0.0.1", (uint16_t)port);
    status = rs2p_mesh_new(cfg, &mesh);
    rs2p_mesh_config_free(cfg);
    if (status != RS2P_OK) return fail("starting the node", status);

    rs2p_mesh_id(mesh, id, sizeof id, &id_len);
    printf("* you are %.*s (%s), listening on 127.0.0.1:%ld\n", SHORT_ID, id, id, port);
    printf("* type a line to send it; /peers, /quit\n");
    fflush(stdout);
    rs2p_mesh_set_callback(mesh, on_event, NULL, NULL, 0);
    if (argc == 3 && (status = rs2p_mesh_connect(mesh, host, peer_port)) != RS2P_OK) {
        rs2p_mesh_free(mesh);
        return fail("connecting", status);
    }
    if (pthread_create(&receiver, NULL, receive_loop, mesh) != 0) {
        rs2p_mesh_free(mesh);
        fprintf(stderr, "chat: cannot start the receiving thread\n");
        return 1;
    }

    while (fgets(line, sizeof line, stdin) != NULL) {
        rs2p_bytes packet;
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "/quit") == 0) break;
        if (strcmp(line, "/peers") == 0) {
            print_peers(mesh);
            continue;
        }
        if (line[0] == '\0') continue;
        packet.ptr = (const uint8_t *)line;
        packet.len = strlen(line);
        status = rs2p_mesh_send(mesh, &packet, 1, 5000);
        if (status != RS2P_OK) fail("sending", status);
    }

    rs2p_mesh_close(mesh); /* wakes the receiving thread */
    pthread_join(receiver, NULL);
    rs2p_mesh_free(mesh);
    printf("* bye\n");
    return 0;
}
