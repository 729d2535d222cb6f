/* uv_echo: a TCP echo server on libuv, the peer that bench/echo measures the
 * project's C echo servers against (`bash ci/bench.sh echo-c`). It is written
 * as a libuv user writes one: each connection owns one 4 KiB buffer, which
 * the allocation callback hands to every read; an echo goes out with
 * uv_try_write, and only what that left unwritten is queued with uv_write,
 * reading paused until it is done (the buffer holds it meanwhile).
 *
 *   uv_echo [-addr HOST:PORT]   serve until killed (default 127.0.0.1:7000)
 *
 * As the other servers bench/echo runs, it raises its open-file limit to
 * the hard one (a descriptor a connection) and says "listening on" on
 * stderr once it listens.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <uv.h>

enum { BUF = 4096 };

typedef struct conn {
    uv_tcp_t tcp; /* first, so that the handle's address is the connection's */
    uv_write_t write;
    char buf[BUF];
} conn;

static void on_closed(uv_handle_t *h) { free(h); }

static void conn_close(conn *c) {
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
}

static void alloc_buf(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    *buf = uv_buf_init(((conn *)h)->buf, BUF);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* on_written ends a queued write: the buffer is free again, so reading
 * resumes. */
static void on_written(uv_write_t *req, int status) {
    conn *c = (conn *)((char *)req - offsetof(conn, write));
    if (status < 0 || uv_read_start((uv_stream_t *)&c->tcp, alloc_buf, on_read) < 0) {
        conn_close(c);
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    conn *c = (conn *)s;
    if (n < 0) {
        conn_close(c); /* the peer's EOF or an error */
        return;
    }
    if (n == 0) {
        return; /* nothing to read after all (EAGAIN) */
    }
    uv_buf_t rest = uv_buf_init(buf->base, (unsigned)n);
    int w = uv_try_write(s, &rest, 1);
    if (w == n) {
        return;
    }
    if (w < 0 && w != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (w > 0) {
        rest.base += w;
        rest.len -= (size_t)w;
    }
    uv_read_stop(s);
    if (uv_write(&c->write, s, &rest, 1, on_written) < 0) {
        conn_close(c);
    }
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) {
        return; /* a failed accept (out of descriptors): keep listening */
    }
    conn *c = malloc(sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "uv_echo: out of memory\n");
        exit(1);
    }
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    /* Nagle's algorithm off, as on the streams of Go's net and libasync. */
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_buf, on_read) < 0) {
        conn_close(c);
    }
}

/* parse_addr reads HOST:PORT, HOST an IPv4 address or a bracketed IPv6 one. */
static int parse_addr(const char *text, struct sockaddr_storage *sa) {
    char host[128];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= sizeof host) {
        return UV_EINVAL;
    }
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    int port = atoi(colon + 1);
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host[len - 1] = 0;
        return uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)sa);
    }
    return uv_ip4_addr(host, port, (struct sockaddr_in *)sa);
}

static void fail(const char *what, int rc) {
    fprintf(stderr, "uv_echo: %s: %s\n", what, uv_strerror(rc));
    exit(1);
}

int main(int argc, char **argv) {
    const char *addr = "127.0.0.1:7000";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-addr") == 0 && i + 1 < argc) {
            addr = argv[++i];
        } else {
            fprintf(stderr, "usage: uv_echo [-addr HOST:PORT]\n");
            return 2;
        }
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim); /* failure leaves the limit as it was */
    }
    struct sockaddr_storage sa;
    int rc = parse_addr(addr, &sa);
    if (rc < 0) {
        fail(addr, rc);
    }
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    if ((rc = uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0)) < 0) {
        fail("bind", rc);
    }
    if ((rc = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection)) < 0) {
        fail("listen", rc);
    }
    fprintf(stderr, "uv_echo: listening on %s\n", addr);
    return uv_run(loop, UV_RUN_DEFAULT);
}
