// Connection load generator for the datapath benchmark (bench/connections/run.sh).
//
//   loadgen tcp|udp --host ADDR --port FIRST [--ports N] [--threads T] [--seconds S] [--warmup W]
//                   [--timeout-ms MS] [--rate R] [--first-source-port P] [--source-ports N]
//                   [--flows N|all] [--source ADDR] [--sources K] [--flow-offset O]
//
// tcp: T threads each open a blocking TCP connection (RFC 9293 three-way handshake) to HOST:FIRST+k, cycling k over
//      N ports, and time connect() with CLOCK_MONOTONIC: from the SYN leaving (connect entered) to the SYN-ACK
//      having been processed (connect returned). Each socket is closed with SO_LINGER {1, 0}, which sends an RST
//      and leaves no TIME_WAIT behind on either end, so the ephemeral ports never run out. A connect that fails or
//      exceeds --timeout-ms (SO_SNDTIMEO bounds a blocking connect on Linux) counts as a failure. With --rate R
//      each thread starts at most R connections per second (paced with an absolute clock_nanosleep), which
//      measures connect latency on an idle path instead of under saturation.
// udp: T threads each send one datagram (RFC 768) from a NEW socket explicitly bound to the next source port of the
//      thread's own slice, to HOST:FIRST+k, and close it. Every datagram has a 5-tuple conntrack has not seen
//      for a while (the script lowers the node's UDP conntrack timeout to 1 s; a tuple repeats only after
//      N ports x the slice have been used), so each one is the first packet of a new conntrack entry and is queued.
//      The server counts what arrives; this side reports what it sent.
//
// --flows: spread the load over distinct flow keys, the key of Tollgate's flow cache and kernel allow cache
//      (source address, protocol, destination port, destination address). Key k is destination port FIRST + k mod
//      N_ports and source address ADDR + (k / N_ports) mod K (each socket is bound to it; the addresses must be
//      local in the client's namespace, e.g. through `ip route add local ADDR/PREFIX dev lo`). Every connection
//      or datagram takes the next key of one counter shared by the threads, starting at --flow-offset: with
//      --flows N the keys cycle through offset .. offset + N - 1; with --flows all they never cycle (the key space
//      N_ports x K wraps only after that many connections), so no connection repeats an earlier one's key.
//      Without --flows the load keeps its original shape (per-thread port rotation, no source binding).
//
// Only the measurement window counts: the first W seconds warm up (caches, conntrack, the queue), then S seconds
// are measured. The result is one JSON line on stdout; window_start_ns and window_end_ns are CLOCK_MONOTONIC, the
// same clock server.c samples with, so the script can read the server's count over exactly this window.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Latency histogram: 1 us buckets up to 100 ms; slower connects land in the last bucket (and in max_us).
#define LATENCY_BUCKETS 100000

enum mode { MODE_TCP, MODE_UDP };

struct options {
    enum mode mode;
    struct sockaddr_in server;
    int first_port;
    int port_count;
    int threads;
    double seconds;
    double warmup;
    int timeout_ms;
    double rate;
    int first_source_port;
    int source_port_count;
    // Distinct flows (see --flows): 0 = off, FLOWS_ALL = never repeat a key.
    long long flows;
    struct in_addr first_source;
    long source_count;
    long long flow_offset;
};

#define FLOWS_ALL (-1LL)

// The next flow key, shared by every thread.
static atomic_ullong next_key;

// Fills in the destination port and the source address of the next flow key.
static void next_flow(const struct options *o, struct sockaddr_in *server, struct sockaddr_in *source) {
    unsigned long long counter = atomic_fetch_add_explicit(&next_key, 1, memory_order_relaxed);
    unsigned long long space = (unsigned long long)o->port_count * (unsigned long long)o->source_count;
    unsigned long long key = o->flows == FLOWS_ALL ? counter : counter % (unsigned long long)o->flows;
    key = ((unsigned long long)o->flow_offset + key) % space;
    server->sin_port = htons((uint16_t)(o->first_port + (int)(key % (unsigned long long)o->port_count)));
    source->sin_addr.s_addr =
        htonl(ntohl(o->first_source.s_addr) + (uint32_t)((key / (unsigned long long)o->port_count)));
}

struct worker {
    pthread_t thread;
    int index;
    const struct options *options;
    uint64_t window_start_ns;
    uint64_t window_end_ns;
    // Results, read by main after join.
    uint64_t completed;
    uint64_t failures;
    uint64_t timeouts;
    uint64_t max_ns;
    uint64_t first_errno;
    uint32_t *histogram;  // LATENCY_BUCKETS counters, tcp only
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void note_failure(struct worker *w, int error) {
    w->failures++;
    if (error == EINPROGRESS || error == EAGAIN || error == ETIMEDOUT) w->timeouts++;
    if (w->first_errno == 0) w->first_errno = (uint64_t)error;
}

static void *tcp_worker(void *argument) {
    struct worker *w = argument;
    const struct options *o = w->options;
    struct sockaddr_in server = o->server;
    struct timeval timeout = {o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000};
    struct linger reset = {1, 0};
    unsigned port_offset = (unsigned)w->index;
    uint64_t interval = o->rate > 0 ? (uint64_t)(1e9 / o->rate) : 0;
    uint64_t next = now_ns();
    for (;;) {
        if (interval > 0) {
            next += interval;
            struct timespec wake = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL) == EINTR) {}
        }
        uint64_t started = now_ns();
        if (started >= w->window_end_ns) break;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (started >= w->window_start_ns) note_failure(w, errno);
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        if (o->flows != 0) {
            struct sockaddr_in source = {.sin_family = AF_INET};
            next_flow(o, &server, &source);
            // The port is chosen at connect time, per destination: the ephemeral range is not split by source.
            int one = 1;
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            if (bind(fd, (struct sockaddr *)&source, sizeof source) < 0) {
                int error = errno;
                close(fd);
                if (started >= w->window_start_ns) note_failure(w, error);
                continue;
            }
        } else {
            server.sin_port = htons((uint16_t)(o->first_port + (int)(port_offset++ % (unsigned)o->port_count)));
        }
        uint64_t before = now_ns();
        int result = connect(fd, (struct sockaddr *)&server, sizeof server);
        uint64_t after = now_ns();
        int error = errno;
        close(fd);
        if (before < w->window_start_ns) continue;  // warm-up
        if (result < 0) {
            note_failure(w, error);
            continue;
        }
        uint64_t elapsed = after - before;
        uint64_t micros = elapsed / 1000;
        w->histogram[micros < LATENCY_BUCKETS ? micros : LATENCY_BUCKETS - 1]++;
        if (elapsed > w->max_ns) w->max_ns = elapsed;
        w->completed++;
    }
    return NULL;
}

static void *udp_worker(void *argument) {
    struct worker *w = argument;
    const struct options *o = w->options;
    struct sockaddr_in server = o->server;
    // Each thread owns a disjoint slice of source ports, so explicit binds never collide between threads.
    int slice = o->source_port_count / o->threads;
    int slice_start = o->first_source_port + w->index * slice;
    uint64_t tuple = 0;
    struct sockaddr_in source;
    memset(&source, 0, sizeof source);
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(INADDR_ANY);
    static const char payload[16] = "tollgate-bench";
    for (;;) {
        uint64_t started = now_ns();
        if (started >= w->window_end_ns) break;
        int counted = started >= w->window_start_ns;
        if (o->flows != 0) {
            // The flow key picks the destination port and the source address; the source port still cycles
            // through the thread's slice, so the 5-tuple is new too.
            next_flow(o, &server, &source);
            source.sin_port = htons((uint16_t)(slice_start + (int)(tuple % (uint64_t)slice)));
        } else {
            // Destination port varies fastest, then the source port: the tuple space is ports x slice.
            server.sin_port = htons((uint16_t)(o->first_port + (int)(tuple % (uint64_t)o->port_count)));
            source.sin_port =
                htons((uint16_t)(slice_start + (int)((tuple / (uint64_t)o->port_count) % (uint64_t)slice)));
        }
        tuple++;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            if (counted) note_failure(w, errno);
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&source, sizeof source) < 0) {
            int error = errno;
            close(fd);
            if (counted) note_failure(w, error);
            continue;
        }
        ssize_t sent = sendto(fd, payload, sizeof payload, 0, (struct sockaddr *)&server, sizeof server);
        int error = errno;
        close(fd);
        if (!counted) continue;
        if (sent < 0) note_failure(w, error);
        else w->completed++;
    }
    return NULL;
}

// The smallest latency (us) with at least `fraction` of the samples at or below it.
static double percentile(const uint64_t *histogram, uint64_t total, double fraction) {
    if (total == 0) return 0;
    uint64_t wanted = (uint64_t)(fraction * (double)total);
    if (wanted == 0) wanted = 1;
    uint64_t running = 0;
    for (int bucket = 0; bucket < LATENCY_BUCKETS; bucket++) {
        running += histogram[bucket];
        if (running >= wanted) return bucket + 0.5;  // bucket b holds [b, b+1) us
    }
    return LATENCY_BUCKETS;
}

static void usage(const char *program) {
    fprintf(stderr,
            "usage: %s tcp|udp --host IPV4 --port FIRST [--ports N] [--threads T] [--seconds S] [--warmup W]\n"
            "          [--timeout-ms MS] [--rate R] [--first-source-port P] [--source-ports N]\n"
            "          [--flows N|all] [--source IPV4] [--sources K] [--flow-offset O]\n",
            program);
    exit(2);
}

static long number(const char *text, const char *option, long low, long high) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || value < low || value > high) {
        fprintf(stderr, "loadgen: %s must be an integer in %ld...%ld, got '%s'\n", option, low, high, text);
        exit(2);
    }
    return value;
}

static double seconds_value(const char *text, const char *option) {
    char *end = NULL;
    double value = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(value >= 0) || value > 3600) {
        fprintf(stderr, "loadgen: %s must be 0-3600 seconds, got '%s'\n", option, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    if (argc < 2) usage(argv[0]);
    struct options o = {
        .first_port = 0, .port_count = 1, .threads = 4, .seconds = 10, .warmup = 1, .timeout_ms = 1000,
        .first_source_port = 20000, .source_port_count = 40000, .source_count = 1,
    };
    int have_source = 0;
    if (strcmp(argv[1], "tcp") == 0) o.mode = MODE_TCP;
    else if (strcmp(argv[1], "udp") == 0) o.mode = MODE_UDP;
    else usage(argv[0]);
    o.server.sin_family = AF_INET;
    int have_host = 0;
    static const struct option long_options[] = {
        {"host", required_argument, NULL, 'h'},        {"port", required_argument, NULL, 'p'},
        {"ports", required_argument, NULL, 'n'},       {"threads", required_argument, NULL, 't'},
        {"seconds", required_argument, NULL, 's'},     {"warmup", required_argument, NULL, 'w'},
        {"timeout-ms", required_argument, NULL, 'o'},  {"first-source-port", required_argument, NULL, 'f'},
        {"source-ports", required_argument, NULL, 'c'}, {"rate", required_argument, NULL, 'r'},
        {"flows", required_argument, NULL, 'F'},       {"source", required_argument, NULL, 'S'},
        {"sources", required_argument, NULL, 'K'},     {"flow-offset", required_argument, NULL, 'O'},
        {NULL, 0, NULL, 0},
    };
    optind = 2;
    int option;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 'h':
            if (inet_pton(AF_INET, optarg, &o.server.sin_addr) != 1) {
                fprintf(stderr, "loadgen: --host must be an IPv4 address, got '%s'\n", optarg);
                return 2;
            }
            have_host = 1;
            break;
        case 'p': o.first_port = (int)number(optarg, "--port", 1, 65535); break;
        case 'n': o.port_count = (int)number(optarg, "--ports", 1, 4096); break;
        case 't': o.threads = (int)number(optarg, "--threads", 1, 256); break;
        case 's': o.seconds = seconds_value(optarg, "--seconds"); break;
        case 'w': o.warmup = seconds_value(optarg, "--warmup"); break;
        case 'o': o.timeout_ms = (int)number(optarg, "--timeout-ms", 1, 60000); break;
        case 'f': o.first_source_port = (int)number(optarg, "--first-source-port", 1024, 65535); break;
        case 'r': o.rate = (double)number(optarg, "--rate", 1, 1000000); break;
        case 'c': o.source_port_count = (int)number(optarg, "--source-ports", 1, 64511); break;
        case 'F':
            o.flows = strcmp(optarg, "all") == 0 ? FLOWS_ALL : number(optarg, "--flows", 1, 1L << 40);
            break;
        case 'S':
            if (inet_pton(AF_INET, optarg, &o.first_source) != 1) {
                fprintf(stderr, "loadgen: --source must be an IPv4 address, got '%s'\n", optarg);
                return 2;
            }
            have_source = 1;
            break;
        case 'K': o.source_count = number(optarg, "--sources", 1, 1L << 20); break;
        case 'O': o.flow_offset = number(optarg, "--flow-offset", 0, 1L << 40); break;
        default: usage(argv[0]);
        }
    }
    if (!have_host || o.first_port == 0 || o.seconds <= 0) usage(argv[0]);
    if (o.flows != 0 && !have_source) {
        fprintf(stderr, "loadgen: --flows needs --source (the first of --sources local client addresses)\n");
        return 2;
    }
    if (o.flows > 0 && o.flows > (long long)o.port_count * o.source_count) {
        fprintf(stderr, "loadgen: --flows %lld exceeds the key space, --ports x --sources = %lld\n", o.flows,
                (long long)o.port_count * o.source_count);
        return 2;
    }
    if (ntohl(o.first_source.s_addr) > UINT32_MAX - (uint32_t)o.source_count) {
        fprintf(stderr, "loadgen: --source + --sources runs past 255.255.255.255\n");
        return 2;
    }
    if (o.first_port + o.port_count - 1 > 65535) {
        fprintf(stderr, "loadgen: --port + --ports exceeds 65535\n");
        return 2;
    }
    if (o.mode == MODE_UDP) {
        if (o.rate > 0) {
            fprintf(stderr, "loadgen: --rate applies to tcp only\n");
            return 2;
        }
        if (o.first_source_port + o.source_port_count - 1 > 65535 || o.source_port_count / o.threads < 1) {
            fprintf(stderr, "loadgen: the source-port range must fit in 1024-65535 and give each thread a port\n");
            return 2;
        }
    }

    struct worker *workers = calloc((size_t)o.threads, sizeof *workers);
    if (workers == NULL) { perror("calloc"); return 1; }
    uint64_t start = now_ns();
    uint64_t window_start = start + (uint64_t)(o.warmup * 1e9);
    uint64_t window_end = window_start + (uint64_t)(o.seconds * 1e9);
    for (int i = 0; i < o.threads; i++) {
        workers[i].index = i;
        workers[i].options = &o;
        workers[i].window_start_ns = window_start;
        workers[i].window_end_ns = window_end;
        if (o.mode == MODE_TCP) {
            workers[i].histogram = calloc(LATENCY_BUCKETS, sizeof(uint32_t));
            if (workers[i].histogram == NULL) { perror("calloc"); return 1; }
        }
        int error = pthread_create(&workers[i].thread, NULL, o.mode == MODE_TCP ? tcp_worker : udp_worker, &workers[i]);
        if (error != 0) {
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(error));
            return 1;
        }
    }
    uint64_t completed = 0, failures = 0, timeouts = 0, max_ns = 0, first_errno = 0;
    uint64_t *histogram = calloc(LATENCY_BUCKETS, sizeof(uint64_t));
    if (histogram == NULL) { perror("calloc"); return 1; }
    for (int i = 0; i < o.threads; i++) {
        pthread_join(workers[i].thread, NULL);
        completed += workers[i].completed;
        failures += workers[i].failures;
        timeouts += workers[i].timeouts;
        if (workers[i].max_ns > max_ns) max_ns = workers[i].max_ns;
        if (first_errno == 0) first_errno = workers[i].first_errno;
        if (workers[i].histogram != NULL) {
            for (int b = 0; b < LATENCY_BUCKETS; b++) histogram[b] += workers[i].histogram[b];
            free(workers[i].histogram);
        }
    }
    double window = (double)(window_end - window_start) / 1e9;
    char error_text[96] = "";
    if (first_errno != 0) snprintf(error_text, sizeof error_text, "%s", strerror((int)first_errno));
    if (o.mode == MODE_TCP) {
        printf("{\"mode\":\"tcp\",\"threads\":%d,\"seconds\":%.3f,\"warmup\":%.3f,\"connections\":%llu,"
               "\"failures\":%llu,\"timeouts\":%llu,\"first_error\":\"%s\",\"conn_per_sec\":%.1f,"
               "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
               "\"rate_per_thread\":%.0f,\"flows\":%lld,\"sources\":%ld,\"flow_offset\":%lld,"
               "\"keys_drawn\":%llu,\"window_start_ns\":%llu,\"window_end_ns\":%llu}\n",
               o.threads, window, o.warmup, (unsigned long long)completed, (unsigned long long)failures,
               (unsigned long long)timeouts, error_text, (double)completed / window,
               percentile(histogram, completed, 0.50), percentile(histogram, completed, 0.90),
               percentile(histogram, completed, 0.99), (double)max_ns / 1e3, o.rate, o.flows, o.source_count,
               o.flow_offset, (unsigned long long)atomic_load(&next_key), (unsigned long long)window_start,
               (unsigned long long)window_end);
    } else {
        printf("{\"mode\":\"udp\",\"threads\":%d,\"seconds\":%.3f,\"warmup\":%.3f,\"sent\":%llu,\"failures\":%llu,"
               "\"first_error\":\"%s\",\"sent_per_sec\":%.1f,\"flows\":%lld,\"sources\":%ld,\"flow_offset\":%lld,"
               "\"keys_drawn\":%llu,\"window_start_ns\":%llu,\"window_end_ns\":%llu}\n",
               o.threads, window, o.warmup, (unsigned long long)completed, (unsigned long long)failures, error_text,
               (double)completed / window, o.flows, o.source_count, o.flow_offset,
               (unsigned long long)atomic_load(&next_key), (unsigned long long)window_start,
               (unsigned long long)window_end);
    }
    free(histogram);
    free(workers);
    return 0;
}
