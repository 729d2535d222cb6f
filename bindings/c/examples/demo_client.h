/* demo_client.h: the blocking client that the echo examples run against
 * their own server with -demo: 20 connections on plain sockets, 200 rounds
 * of a message on each, every echo compared with what was sent. */
#ifndef DEMO_CLIENT_H
#define DEMO_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* demo_roundtrips talks to the echo server at addr ("IPv4:port") and
 * returns 1 if every message came back intact. */
static int demo_roundtrips(const char *addr) {
    char host[64];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (colon == NULL) {
        return 0;
    }
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int ok = 1;
    enum { CLIENTS = 20, ROUNDS = 200 };
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        ok = ok && connect(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0;
    }
    for (int r = 0; ok && r < ROUNDS; r++) {
        for (int i = 0; ok && i < CLIENTS; i++) {
            char msg[64], got[64];
            int len = snprintf(msg, sizeof msg, "message %d from client %d", r, i);
            ok = write(fds[i], msg, (size_t)len) == len;
            int have = 0;
            while (ok && have < len) {
                ssize_t k = read(fds[i], got + have, (size_t)(len - have));
                ok = k > 0;
                have += (int)k;
            }
            ok = ok && memcmp(msg, got, (size_t)len) == 0;
        }
    }
    for (int i = 0; i < CLIENTS; i++) {
        close(fds[i]);
    }
    return ok;
}

#endif
