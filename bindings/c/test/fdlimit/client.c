/* fdlimit client: runs an echo host under a low descriptor limit and makes
 * more connections to it than it has descriptors.
 *
 *   client LIMIT COUNT WAVE HOST-COMMAND...
 *
 * HOST-COMMAND runs with an RLIMIT_NOFILE of LIMIT and its stdout on a
 * pipe to this program. The host prints "listening on HOST:PORT", a line
 * "EMFILE after N connections: ..." for each accept that failed with EMFILE,
 * and a last line of figures; it accepts COUNT connections, echoes each until
 * EOF, and exits 0 if all were served. This program makes the COUNT
 * connections in waves of WAVE (more than the host can hold): a wave
 * connects all its connections (the kernel queues what the host cannot
 * accept) and closes none before the host reported EMFILE for it, so every
 * wave meets the limit whatever the timing; then, in order, it sends one line
 * on each connection, reads the echo and closes it, which frees the host's
 * descriptor for the next one queued. It prints the host's lines (the first
 * EMFILE line of each wave) and "served N of COUNT", and exits 0 if every
 * echo came back, every wave met the limit and the host exited 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

enum { LINE = 512, GUARD_MS = 60000 /* a hang guard only */ };

static int host_out = -1;
static char pending[LINE * 4];
static size_t have;

/* host_line reads the host's next line into line (without the newline);
 * 0 at EOF, or when the host printed nothing for GUARD_MS. */
static int host_line(char *line) {
    for (;;) {
        char *nl = memchr(pending, '\n', have);
        if (nl != NULL) {
            size_t len = (size_t)(nl - pending);
            size_t keep = len < LINE - 1 ? len : LINE - 1;
            memcpy(line, pending, keep);
            line[keep] = 0;
            have -= len + 1;
            memmove(pending, nl + 1, have);
            return 1;
        }
        struct pollfd p = {.fd = host_out, .events = POLLIN};
        if (have == sizeof pending || poll(&p, 1, GUARD_MS) != 1) {
            return 0;
        }
        ssize_t n = read(host_out, pending + have, sizeof pending - have);
        if (n <= 0) {
            return 0;
        }
        have += (size_t)n;
    }
}

/* echo_once sends a line on fd and reports whether the same bytes came back. */
static int echo_once(int fd, int i) {
    char msg[64], got[64];
    int len = snprintf(msg, sizeof msg, "connection %d\n", i);
    if (write(fd, msg, (size_t)len) != len) {
        return 0;
    }
    int got_len = 0;
    while (got_len < len) {
        ssize_t k = read(fd, got + got_len, (size_t)(len - got_len));
        if (k <= 0) {
            return 0;
        }
        got_len += (int)k;
    }
    return memcmp(msg, got, (size_t)len) == 0;
}

/* start_host runs argv under the descriptor limit, its stdout on host_out. */
static pid_t start_host(int limit, char **argv) {
    int p[2];
    if (pipe(p) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* no host left behind by a killed client */
#endif
        /* The hard limit too, as `ulimit -n` sets it: Go programs, and so
         * libasync.so when it loads, raise the soft limit to the hard one. */
        struct rlimit lim = {(rlim_t)limit, (rlim_t)limit};
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0 || dup2(p[1], 1) < 0) {
            _exit(127);
        }
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        perror("client: exec");
        _exit(127);
    }
    close(p[1]);
    host_out = p[0];
    return pid;
}

/* parse_addr parses "HOST:PORT" (IPv4) into sa. */
static int parse_addr(const char *text, struct sockaddr_in *sa) {
    char host[64];
    snprintf(host, sizeof host, "%s", text);
    char *colon = strrchr(host, ':');
    if (colon == NULL) {
        return 0;
    }
    *colon = 0;
    *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1;
}

int main(int argc, char **argv) {
    int limit = argc > 4 ? atoi(argv[1]) : 0, count = argc > 4 ? atoi(argv[2]) : 0;
    int wave = argc > 4 ? atoi(argv[3]) : 0;
    if (limit <= 0 || count <= 0 || wave <= limit) {
        fprintf(stderr, "usage: client LIMIT COUNT WAVE HOST-COMMAND... (WAVE > LIMIT)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t host = start_host(limit, argv + 4);
    if (host < 0) {
        perror("client: starting the host");
        return 1;
    }
    char line[LINE], addr[64];
    struct sockaddr_in sa;
    int ok = host_line(line) && sscanf(line, "listening on %63s", addr) == 1 && parse_addr(addr, &sa);
    if (ok) {
        printf("host: %s\n", line);
    }
    struct timeval guard = {.tv_sec = GUARD_MS / 1000};
    int *fds = calloc((size_t)wave, sizeof *fds);
    int served = 0, waves_at_limit = 0, waves = 0;
    for (int base = 0; ok && base < count; base += wave, waves++) {
        int n = count - base < wave ? count - base : wave, opened = 0;
        for (; ok && opened < n; opened++) {
            fds[opened] = socket(AF_INET, SOCK_STREAM, 0);
            setsockopt(fds[opened], SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
            if (connect(fds[opened], (struct sockaddr *)&sa, sizeof sa) != 0) {
                perror("client: connect"); /* the host is gone */
                ok = 0;
            }
        }
        /* The host's EMFILE lines name how many it had accepted: this
         * wave's come after base of them. */
        int after = -1;
        while (ok && after < base && host_line(line)) {
            if (sscanf(line, "EMFILE after %d", &after) != 1 || after >= base) {
                printf("host: %s\n", line);
            }
        }
        ok = ok && after >= base;
        waves_at_limit += ok;
        for (int i = 0; i < opened; i++) {
            served += ok && echo_once(fds[i], base + i);
            close(fds[i]);
        }
    }
    free(fds);
    if (!ok) {
        kill(host, SIGKILL);
    }
    while (host_line(line)) {
        if (strncmp(line, "EMFILE after ", 13) != 0) {
            printf("host: %s\n", line);
        }
    }
    int status;
    waitpid(host, &status, 0);
    int host_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("served %d of %d; %d of %d waves met the limit of %d descriptors; host %s\n", served, count,
           waves_at_limit, waves, limit, host_ok ? "exited 0" : "failed");
    return ok && served == count && host_ok ? 0 : 1;
}
