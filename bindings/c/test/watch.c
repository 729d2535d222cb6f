/* Watches of the host's own descriptors: async_fd_watch, async_fd_poll,
 * async_fd_ready (additions to the contract). */
#include "tests.h"

#ifdef ASYNC_HAS_FD_WATCH
#ifdef _WIN32
#include <winsock2.h>
typedef SOCKET host_fd;
#define host_close closesocket
#define OS_EBADF WSAENOTSOCK
static int host_send(host_fd fd, const char *p, int n) { return send(fd, p, n, 0); }
static int host_recv(host_fd fd, char *p, int n) { return recv(fd, p, n, 0); }

/* host_pair makes two connected sockets of the host's own (loopback TCP:
 * Windows has no socketpair). */
static int host_pair(host_fd fds[2]) {
    WSADATA wsa;
    CHECK(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
    SOCKET l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int len = sizeof sa;
    CHECK(l != INVALID_SOCKET && bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 1) == 0);
    CHECK(getsockname(l, (struct sockaddr *)&sa, &len) == 0);
    fds[1] = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(fds[1], (struct sockaddr *)&sa, sizeof sa) == 0);
    fds[0] = accept(l, NULL, NULL);
    closesocket(l);
    CHECK(fds[0] != INVALID_SOCKET);
    return 1;
}
#else
#include <sys/socket.h>
#include <unistd.h>
typedef int host_fd;
#define host_close close
#define OS_EBADF EBADF
static int host_send(host_fd fd, const char *p, int n) { return (int)write(fd, p, (size_t)n); }
static int host_recv(host_fd fd, char *p, int n) { return (int)read(fd, p, (size_t)n); }

static int host_pair(host_fd fds[2]) {
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    return 1;
}
#endif

/* A watch reports readiness level-triggered: ready while a byte waits,
 * pending once the host read it; the descriptor stays the host's. */
static int test_fd_watch(void) {
    async_runtime rt = new_runtime();
    host_fd fds[2];
    CHECK(host_pair(fds));
    async_handle w;
    OK(async_fd_watch(rt, (int64_t)fds[0], &w));
    counted_waker cw = {0};
    async_waker wk = counted(&cw);
    uint32_t ready = 0;
    CHECK_RC(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_PENDING);
    CHECK(atomic_load(&cw.live) == 1);
    CHECK_RC(async_fd_poll(w, ASYNC_READABLE, NULL, &ready), ASYNC_PENDING);
    CHECK_RC(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_PENDING);
    CHECK(atomic_load(&cw.live) == 1 && atomic_load(&cw.clones) == 1); /* the same waker is kept */
    OK(async_fd_poll(w, ASYNC_WRITABLE, NULL, &ready));
    CHECK(ready == ASYNC_WRITABLE);
    int seen = atomic_load(&cw.wakes);
    CHECK(host_send(fds[1], "x", 1) == 1);
    CHECK(woken_since(&cw, seen));
    for (int i = 0; i < 2; i++) { /* level: still ready until read */
        OK(async_fd_poll(w, ASYNC_READABLE | ASYNC_WRITABLE, &wk, &ready));
        CHECK(ready == (ASYNC_READABLE | ASYNC_WRITABLE));
    }
    char c;
    CHECK(host_recv(fds[0], &c, 1) == 1 && c == 'x');
    CHECK_RC(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_PENDING);
    /* The future form. */
    async_future f, g;
    uint64_t v;
    OK(async_fd_ready(w, ASYNC_READABLE, &f)); /* ends the poll's wait on the direction */
    sleep_ms(10);
    drive_a_little(); /* the future's first poll, which found no waiter left */
    CHECK_ERR(async_fd_ready(w, ASYNC_READABLE, &g), ASYNC_EINVAL);
    CHECK_ERR(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_EINVAL);
    OK(async_fd_poll(w, ASYNC_WRITABLE, &wk, &ready)); /* the other direction is free */
    CHECK(host_send(fds[1], "y", 1) == 1);
    counted_waker cf = {0};
    OK(poll_until_done(f, &cf, &v));
    CHECK(v == ASYNC_READABLE && atomic_load(&cf.live) == 0);
    OK(async_future_free(f));
    OK(async_fd_ready(w, ASYNC_READABLE | ASYNC_WRITABLE, &f)); /* free again; ready at once */
    OK(poll_until_done(f, &cf, &v));
    CHECK(v == ASYNC_READABLE || v == ASYNC_WRITABLE);
    OK(async_future_free(f));
    OK(async_fd_ready(w, ASYNC_READABLE, &f)); /* freed unfinished: the direction is free again */
    OK(async_future_free(f));
    OK(async_fd_poll(w, ASYNC_READABLE, &wk, &ready));
    /* Closing the watch drops its clones and leaves the descriptor open. */
    OK(async_close(w));
    CHECK(atomic_load(&cw.live) == 0);
    CHECK_ERR(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_EINVAL); /* released */
    CHECK_ERR(async_close(w), ASYNC_EINVAL);
    CHECK(host_recv(fds[0], &c, 1) == 1 && c == 'y');
    CHECK(host_send(fds[0], "z", 1) == 1 && host_recv(fds[1], &c, 1) == 1 && c == 'z');
    /* Watched again after the close. */
    OK(async_fd_watch(rt, (int64_t)fds[0], &w));
    OK(async_close(w));
    host_close(fds[0]);
    host_close(fds[1]);
    OK(async_runtime_close(rt));
    return 1;
}

static int test_fd_watch_bad_input(void) {
    async_runtime rt = new_runtime();
    host_fd fds[2];
    CHECK(host_pair(fds));
    async_handle w = 77, w2;
    async_future f;
    uint32_t ready;
    counted_waker cw = {0};
    async_waker wk = counted(&cw);
    CHECK_ERR(async_fd_watch(rt, -1, &w), ASYNC_EINVAL);
    CHECK_ERR(async_fd_watch(rt, (int64_t)fds[0], NULL), ASYNC_EINVAL);
    CHECK_ERR(async_fd_watch(0, (int64_t)fds[0], &w), ASYNC_EINVAL);
    CHECK(w == 77);
    OK(async_fd_watch(rt, (int64_t)fds[0], &w));
    CHECK(async_fd_watch(rt, (int64_t)fds[0], &w2) < 0); /* one watch per descriptor */
    CHECK_ERR(async_fd_poll(w, 0, &wk, &ready), ASYNC_EINVAL);
    CHECK_ERR(async_fd_poll(w, 4, &wk, &ready), ASYNC_EINVAL);
    CHECK_ERR(async_fd_poll(w, ASYNC_READABLE, &wk, NULL), ASYNC_EINVAL);
    CHECK_ERR(async_fd_ready(w, 0, &f), ASYNC_EINVAL);
    CHECK_ERR(async_fd_ready(w, ASYNC_READABLE, NULL), ASYNC_EINVAL);
    CHECK_ERR(async_fd_poll(rt, ASYNC_READABLE, &wk, &ready), ASYNC_EINVAL); /* wrong kind */
    CHECK_ERR(async_fd_poll(0, ASYNC_READABLE, &wk, &ready), ASYNC_EINVAL);
    async_waker_vtable holey = counted_vtable;
    holey.drop = NULL;
    async_waker bad = {&cw, &holey};
    CHECK_ERR(async_fd_poll(w, ASYNC_READABLE, &bad, &ready), ASYNC_EINVAL);
    char addr[64];
    CHECK_ERR(async_tcp_local_addr(w, addr, sizeof addr), ASYNC_EINVAL); /* not a stream */
    CHECK_ERR(async_read(w, addr, sizeof addr, &f), ASYNC_EINVAL);
    /* A descriptor that is not open. */
    host_fd gone[2];
    CHECK(host_pair(gone));
    host_close(gone[0]);
    host_close(gone[1]);
#ifdef _WIN32
    /* iocp watches sockets only, and a closed handle is no socket: Winsock
     * says WSAENOTSOCK, which the driver reports as not supported. */
    CHECK_ERR(async_fd_watch(rt, (int64_t)gone[0], &w2), ASYNC_ENOTSUP);
#else
    CHECK_ERR(async_fd_watch(rt, (int64_t)gone[0], &w2), ASYNC_EIO);
    CHECK(async_last_os_error() != 0);
#endif
    /* The runtime's close drops the clones; then the watch is closed only. */
    CHECK_RC(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_PENDING);
    OK(async_fd_ready(w, ASYNC_WRITABLE, &f));
    OK(async_runtime_close(rt));
    CHECK(atomic_load(&cw.live) == 0);
    CHECK_ERR(async_fd_poll(w, ASYNC_READABLE, &wk, &ready), ASYNC_ECLOSED);
    CHECK_ERR(async_fd_ready(w, ASYNC_READABLE, &f), ASYNC_ECLOSED);
    CHECK_ERR(async_fd_watch(rt, (int64_t)fds[0], &w2), ASYNC_EINVAL); /* consumed */
    OK(async_future_free(f));
    OK(async_close(w));
    CHECK(host_send(fds[0], "z", 1) == 1); /* still the host's */
    host_close(fds[0]);
    host_close(fds[1]);
    return 1;
}
#endif

const struct test watch_tests[] = {
#ifdef ASYNC_HAS_FD_WATCH
    {"fd_watch", test_fd_watch, 0},
    {"fd_watch_bad_input", test_fd_watch_bad_input, 0},
#endif
    {NULL, NULL, 0},
};
