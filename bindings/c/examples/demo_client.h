/* demo_client.h: the blocking client that the echo examples run against
 * their own server with -demo: 20 connections on plain sockets (TCP, or a
 * Unix socket), 200 rounds of a message on each, every echo compared with
 * what was sent. */
#ifndef DEMO_CLIENT_H
#define DEMO_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* demo_connect opens a blocking connection to addr: "IPv4:port", or a
 * Unix socket's path when over_unix. */
static int demo_connect(const char *addr, int over_unix) {
    if (over_unix) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        memcpy(sa.sun_path, addr, strnlen(addr, sizeof sa.sun_path - 1));
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        return connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? fd : -1;
    }
    char host[128];
    if (strlen(addr) >= sizeof host) {
        return -1;
    }
    memcpy(host, addr, strlen(addr) + 1);
    char *colon = strrchr(host, ':');
    if (colon == NULL) {
        return -1;
    }
    *colon = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    return connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? fd : -1;
}

/* demo_roundtrips talks to the echo server at addr and returns 1 if every
 * message came back intact. */
static int demo_roundtrips(const char *addr, int over_unix) {
    int ok = 1;
    enum { CLIENTS = 20, ROUNDS = 200 };
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = demo_connect(addr, over_unix);
        ok = ok && fds[i] >= 0;
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
