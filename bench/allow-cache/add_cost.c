// What one element add to the kernel allow cache costs the sending thread, for the two kernel interfaces the
// cache can use: an ip set (`hash:ip,port,ip`, IPSET_CMD_ADD messages, as Sources/KernelAllowCache writes them for
// the iptables back end) and an nft set (`ipv4_addr . inet_proto . inet_service . ipv4_addr` with timeouts,
// NFT_MSG_NEWSETELEM inside an nfnetlink batch, for the nft back end). Run by bench/allow-cache/run.sh inside a
// network namespace that holds both sets.
//
//   add_cost ipset|nft --batch B --elements N [--distinct D] [--offset O]
//
// Sends N adds in sendto calls of B messages each (like a worker after a receive batch of B allowed packets), the
// elements' keys cycling over D distinct (source 10.0.0.0 + k / 256, TCP port 8000 + k % 256) (D = N: every add a new element; D
// small: refreshes of existing ones; keys start at O), and prints one JSON line: nanoseconds per add and per send (CLOCK_MONOTONIC
// around the sends, and CLOCK_THREAD_CPUTIME_ID: the kernel's work is done in the sender's context), and error
// replies (a full set, for example).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netlink.h>

static uint8_t buffer[1 << 16];
static size_t used;
static uint32_t sequence;

static void put16(size_t at, uint16_t v) { memcpy(buffer + at, &v, 2); }
static void put32(size_t at, uint32_t v) { memcpy(buffer + at, &v, 4); }
static void pad(void) { while (used % 4) buffer[used++] = 0; }

static size_t begin_message(uint16_t type, uint16_t flags, uint8_t family, uint16_t resource) {
    size_t start = used;
    put32(used, 0); put16(used + 4, type); put16(used + 6, flags); put32(used + 8, ++sequence); put32(used + 12, 0);
    buffer[used + 16] = family; buffer[used + 17] = 0; put16(used + 18, htons(resource));
    used += 20;
    return start;
}
static void end_message(size_t start) { put32(start, (uint32_t)(used - start)); }
static size_t attribute(uint16_t type, const void *data, size_t length) {
    size_t start = used;
    put16(used, (uint16_t)(4 + length)); put16(used + 2, type);
    used += 4;
    if (length) memcpy(buffer + used, data, length);
    used += length;
    pad();
    return start;
}
static size_t nest(uint16_t type) { return attribute(type | NLA_F_NESTED, NULL, 0); }
static void end_nest(size_t start) { put16(start, (uint16_t)(used - start)); }

static void ipset_add(uint32_t source, uint16_t port, uint32_t destination) {
    size_t m = begin_message(6 << 8 | 9 /* IPSET_CMD_ADD */, NLM_F_REQUEST, 2, 0);
    uint8_t protocol = 7;
    attribute(1, &protocol, 1);
    attribute(2, "tollgate-allow-v4", 18);
    size_t data = nest(7);
    size_t ip = nest(1); uint32_t s = htonl(source); attribute(1 | NLA_F_NET_BYTEORDER, &s, 4); end_nest(ip);
    uint16_t p = htons(port); attribute(4 | NLA_F_NET_BYTEORDER, &p, 2);
    uint8_t tcp = 6; attribute(7, &tcp, 1);
    size_t ip2 = nest(20); uint32_t d = htonl(destination); attribute(1 | NLA_F_NET_BYTEORDER, &d, 4); end_nest(ip2);
    uint32_t timeout = htonl(60); attribute(6 | NLA_F_NET_BYTEORDER, &timeout, 4);
    end_nest(data);
    end_message(m);
}

static void nft_add(uint32_t source, uint16_t port, uint32_t destination) {
    size_t m = begin_message(10 << 8 | 12 /* NFT_MSG_NEWSETELEM */, NLM_F_REQUEST | NLM_F_CREATE, 1, 0);
    attribute(1, "tollgate", 9);
    attribute(2, "allow-v4", 9);
    size_t elements = nest(3);
    size_t element = nest(1);
    uint64_t timeout = __builtin_bswap64(60000);
    attribute(4, &timeout, 8);
    size_t key = nest(1);
    uint8_t value[16] = {0};
    uint32_t s = htonl(source), d = htonl(destination);
    uint16_t p = htons(port);
    memcpy(value, &s, 4); value[4] = 6; memcpy(value + 8, &p, 2); memcpy(value + 12, &d, 4);
    attribute(1, value, 16);
    end_nest(key);
    end_nest(element);
    end_nest(elements);
    end_message(m);
}

static uint64_t now(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int drain(int fd) {
    static uint8_t replies[1 << 16];
    int errors = 0;
    for (;;) {
        ssize_t n = recv(fd, replies, sizeof replies, MSG_DONTWAIT);
        if (n <= 0) break;
        for (struct nlmsghdr *h = (struct nlmsghdr *)replies; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR && ((struct nlmsgerr *)NLMSG_DATA(h))->error != 0) errors++;
        }
    }
    return errors;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: add_cost ipset|nft --batch B --elements N [--distinct D] [--offset O]\n"); return 2; }
    int nft = strcmp(argv[1], "nft") == 0;
    if (!nft && strcmp(argv[1], "ipset") != 0) { fprintf(stderr, "add_cost: ipset or nft\n"); return 2; }
    long batch = 64, elements = 100000, distinct = 0, offset = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--batch") == 0) batch = v;
        else if (strcmp(argv[i], "--elements") == 0) elements = v;
        else if (strcmp(argv[i], "--distinct") == 0) distinct = v;
        else if (strcmp(argv[i], "--offset") == 0) offset = v;
        else { fprintf(stderr, "add_cost: unknown option %s\n", argv[i]); return 2; }
    }
    if (batch < 1 || batch > 200 || elements < 1) { fprintf(stderr, "add_cost: --batch 1-200, --elements >= 1\n"); return 2; }
    if (distinct <= 0) distinct = elements;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) { perror("socket"); return 1; }
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    long sent = 0, sends = 0, errors = 0, send_failures = 0;
    uint64_t wall = 0, cpu = 0;
    while (sent < elements) {
        used = 0;
        if (nft) end_message(begin_message(NLMSG_MIN_TYPE /* NFNL_MSG_BATCH_BEGIN */, NLM_F_REQUEST, 0, 10));
        long in_batch = 0;
        for (; in_batch < batch && sent + in_batch < elements; in_batch++) {
            long k = offset + (sent + in_batch) % distinct;
            uint32_t source = 0x0a000000u + (uint32_t)(k / 256);
            uint16_t port = (uint16_t)(8000 + k % 256);
            if (nft) nft_add(source, port, 0x0af4020a);
            else ipset_add(source, port, 0x0af4020a);
        }
        if (nft) end_message(begin_message(NLMSG_MIN_TYPE + 1 /* NFNL_MSG_BATCH_END */, NLM_F_REQUEST, 0, 10));
        uint64_t w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
        if (send(fd, buffer, used, 0) < 0) send_failures++;
        cpu += now(CLOCK_THREAD_CPUTIME_ID) - c0;
        wall += now(CLOCK_MONOTONIC) - w0;
        sent += in_batch;
        sends++;
        if (sends % 16 == 0) errors += drain(fd);
    }
    errors += drain(fd);
    printf("{\"kind\":\"%s\",\"batch\":%ld,\"elements\":%ld,\"distinct\":%ld,\"offset\":%ld,\"sends\":%ld,\"ns_per_add_wall\":%.1f,"
           "\"ns_per_add_cpu\":%.1f,\"us_per_send_wall\":%.2f,\"error_replies\":%ld,\"send_failures\":%ld}\n",
           argv[1], batch, elements, distinct, offset, sends, (double)wall / elements, (double)cpu / elements,
           (double)wall / sends / 1000, errors, send_failures);
    return 0;
}
