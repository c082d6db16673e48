// The far end of the datapath benchmark (bench/connections/run.sh): accepts and closes TCP connections and counts
// UDP datagrams, and samples both counters to a file so that the script can read the count over the load
// generator's exact measurement window.
//
//   server --tcp-port FIRST [--tcp-ports N] --udp-port FIRST [--udp-ports N] --samples FILE
//
// TCP: one thread per listening port, accept4 and close (the client resets the connection right after connect,
// so nothing lingers). UDP: one thread drains every UDP socket with epoll and recvmmsg. A sampler thread appends
// "MONOTONIC_NS TCP_ACCEPTED UDP_RECEIVED" to FILE every 10 ms (CLOCK_MONOTONIC is shared by every network
// namespace, so the numbers line up with loadgen's window). SIGTERM or SIGINT: prints the totals as one JSON line
// and exits.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 1024
#define RECEIVE_BATCH 64

static atomic_uint_fast64_t tcp_accepted;
static atomic_uint_fast64_t tcp_accept_errors;
static atomic_uint_fast64_t udp_received;
static FILE *samples;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int listen_on(int type, int port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (type == SOCK_DGRAM) {
        int size = 8 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) perror("SO_RCVBUFFORCE");
    }
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        fprintf(stderr, "server: bind port %d: %s\n", port, strerror(errno));
        exit(1);
    }
    if (type == SOCK_STREAM && listen(fd, 4096) < 0) { perror("listen"); exit(1); }
    return fd;
}

static void *accept_loop(void *argument) {
    int listener = (int)(intptr_t)argument;
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR) atomic_fetch_add_explicit(&tcp_accept_errors, 1, memory_order_relaxed);
            continue;
        }
        close(fd);
        atomic_fetch_add_explicit(&tcp_accepted, 1, memory_order_relaxed);
    }
    return NULL;
}

struct udp_sockets {
    int epoll;
};

static void *udp_loop(void *argument) {
    struct udp_sockets *sockets = argument;
    static char buffers[RECEIVE_BATCH][64];
    struct mmsghdr messages[RECEIVE_BATCH];
    struct iovec vectors[RECEIVE_BATCH];
    struct epoll_event events[64];
    for (;;) {
        int ready = epoll_wait(sockets->epoll, events, 64, -1);
        if (ready < 0) continue;
        for (int e = 0; e < ready; e++) {
            int fd = events[e].data.fd;
            for (;;) {
                memset(messages, 0, sizeof messages);
                for (int i = 0; i < RECEIVE_BATCH; i++) {
                    vectors[i].iov_base = buffers[i];
                    vectors[i].iov_len = sizeof buffers[i];
                    messages[i].msg_hdr.msg_iov = &vectors[i];
                    messages[i].msg_hdr.msg_iovlen = 1;
                }
                int received = recvmmsg(fd, messages, RECEIVE_BATCH, MSG_DONTWAIT, NULL);
                if (received <= 0) break;
                atomic_fetch_add_explicit(&udp_received, (uint64_t)received, memory_order_relaxed);
                if (received < RECEIVE_BATCH) break;
            }
        }
    }
    return NULL;
}

static void *sample_loop(void *argument) {
    (void)argument;
    struct timespec interval = {0, 10 * 1000 * 1000};
    for (;;) {
        fprintf(samples, "%llu %llu %llu\n", (unsigned long long)now_ns(),
                (unsigned long long)atomic_load_explicit(&tcp_accepted, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&udp_received, memory_order_relaxed));
        fflush(samples);
        nanosleep(&interval, NULL);
    }
    return NULL;
}

static long number(const char *text, const char *option, long low, long high) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || value < low || value > high) {
        fprintf(stderr, "server: %s must be an integer in %ld...%ld, got '%s'\n", option, low, high, text);
        exit(2);
    }
    return value;
}

static void start(void *(*body)(void *), void *argument) {
    pthread_t thread;
    int error = pthread_create(&thread, NULL, body, argument);
    if (error != 0) {
        fprintf(stderr, "server: pthread_create: %s\n", strerror(error));
        exit(1);
    }
    pthread_detach(thread);
}

int main(int argc, char **argv) {
    int tcp_port = 0, tcp_ports = 1, udp_port = 0, udp_ports = 1;
    const char *samples_path = NULL;
    static const struct option long_options[] = {
        {"tcp-port", required_argument, NULL, 't'}, {"tcp-ports", required_argument, NULL, 'T'},
        {"udp-port", required_argument, NULL, 'u'}, {"udp-ports", required_argument, NULL, 'U'},
        {"samples", required_argument, NULL, 's'},  {NULL, 0, NULL, 0},
    };
    int option;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 't': tcp_port = (int)number(optarg, "--tcp-port", 1, 65535); break;
        case 'T': tcp_ports = (int)number(optarg, "--tcp-ports", 1, MAX_PORTS); break;
        case 'u': udp_port = (int)number(optarg, "--udp-port", 1, 65535); break;
        case 'U': udp_ports = (int)number(optarg, "--udp-ports", 1, MAX_PORTS); break;
        case 's': samples_path = optarg; break;
        default:
            fprintf(stderr, "usage: %s --tcp-port P [--tcp-ports N] --udp-port P [--udp-ports N] --samples FILE\n",
                    argv[0]);
            return 2;
        }
    }
    if (tcp_port == 0 || udp_port == 0 || samples_path == NULL || tcp_port + tcp_ports > 65536 ||
        udp_port + udp_ports > 65536) {
        fprintf(stderr, "server: --tcp-port, --udp-port and --samples are required and ports must fit\n");
        return 2;
    }
    samples = fopen(samples_path, "w");
    if (samples == NULL) { perror(samples_path); return 1; }

    // Only the main thread takes the stop signals.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    for (int i = 0; i < tcp_ports; i++) start(accept_loop, (void *)(intptr_t)listen_on(SOCK_STREAM, tcp_port + i));
    static struct udp_sockets sockets;
    sockets.epoll = epoll_create1(EPOLL_CLOEXEC);
    if (sockets.epoll < 0) { perror("epoll_create1"); return 1; }
    for (int i = 0; i < udp_ports; i++) {
        int fd = listen_on(SOCK_DGRAM, udp_port + i);
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(sockets.epoll, EPOLL_CTL_ADD, fd, &event) < 0) { perror("epoll_ctl"); return 1; }
    }
    start(udp_loop, &sockets);
    start(sample_loop, NULL);
    fprintf(stderr, "server: tcp %d-%d, udp %d-%d ready\n", tcp_port, tcp_port + tcp_ports - 1, udp_port,
            udp_port + udp_ports - 1);

    int signal_number = 0;
    sigwait(&stop, &signal_number);
    printf("{\"tcp_accepted\":%llu,\"tcp_accept_errors\":%llu,\"udp_received\":%llu}\n",
           (unsigned long long)atomic_load(&tcp_accepted), (unsigned long long)atomic_load(&tcp_accept_errors),
           (unsigned long long)atomic_load(&udp_received));
    fflush(stdout);
    return 0;
}
