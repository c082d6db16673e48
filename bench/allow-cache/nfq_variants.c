// Three ways for an NFQUEUE reader to accept a first packet and cache its flow, one verdict per packet (like
// bench/c-reader/nfq_floor), run by bench/allow-cache/reader-variants.sh:
//   accept   NF_ACCEPT, no cache (the floor)
//   netlink  NF_ACCEPT, then one IPSET_CMD_ADD of (source, protocol:destination port, destination) per packet over
//            netlink, as Tollgate's workers do (they send one per receive batch)
//   repeat   NF_REPEAT with mark bit 0x100000 ORed into the packet's mark: the kernel runs the hook's chain again,
//            where a rule adds the flow to the set itself (-j SET --add-set ... --exist --timeout 60) and returns;
//            no netlink add at all
//
//   nfq_variants QUEUE accept|netlink|repeat      (until SIGINT/SIGTERM; prints packets, adds, failures)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stopping = 0;
static int mode;  // 0 accept, 1 netlink, 2 repeat
static int set_fd;
static unsigned long long packets, failures, adds;
static void on_signal(int s) { (void)s; stopping = 1; }

static uint8_t buffer[512];
static size_t used;
static void put16(size_t at, uint16_t v) { memcpy(buffer + at, &v, 2); }
static void put32(size_t at, uint32_t v) { memcpy(buffer + at, &v, 4); }
static size_t attribute(uint16_t type, const void *data, size_t length) {
    size_t start = used;
    put16(used, (uint16_t)(4 + length)); put16(used + 2, type); used += 4;
    if (length) memcpy(buffer + used, data, length);
    used += length;
    while (used % 4) buffer[used++] = 0;
    return start;
}
static size_t nest(uint16_t type) { return attribute(type | NLA_F_NESTED, NULL, 0); }
static void end_nest(size_t start) { put16(start, (uint16_t)(used - start)); }

static void ipset_add(uint32_t source, uint8_t proto, uint16_t port, uint32_t destination) {
    used = 0;
    put32(0, 0); put16(4, 6 << 8 | 9); put16(6, NLM_F_REQUEST); put32(8, 0); put32(12, 0);
    buffer[16] = 2; buffer[17] = 0; put16(18, 0); used = 20;
    uint8_t protocol = 7; attribute(1, &protocol, 1);
    attribute(2, "tollgate-allow-v4", 18);
    size_t data = nest(7);
    size_t ip = nest(1); attribute(1 | NLA_F_NET_BYTEORDER, &source, 4); end_nest(ip);
    attribute(4 | NLA_F_NET_BYTEORDER, &port, 2);
    attribute(7, &proto, 1);
    size_t ip2 = nest(20); attribute(1 | NLA_F_NET_BYTEORDER, &destination, 4); end_nest(ip2);
    uint32_t timeout = htonl(60); attribute(6 | NLA_F_NET_BYTEORDER, &timeout, 4);
    end_nest(data);
    put32(0, (uint32_t)used);
    if (send(set_fd, buffer, used, 0) < 0) failures++; else adds++;
}

static int on_packet(struct nfq_q_handle *queue, struct nfgenmsg *message, struct nfq_data *data, void *context) {
    (void)message; (void)context;
    struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr(data);
    if (header == NULL) return 0;
    uint32_t id = ntohl(header->packet_id);
    int result;
    if (mode == 2) {
        result = nfq_set_verdict2(queue, id, NF_REPEAT, nfq_get_nfmark(data) | 0x100000, 0, NULL);
    } else {
        result = nfq_set_verdict(queue, id, NF_ACCEPT, 0, NULL);
        unsigned char *payload;
        int length = nfq_get_payload(data, &payload);
        if (mode == 1 && length >= 24 && (payload[0] >> 4) == 4) {
            int ihl = (payload[0] & 15) * 4;
            uint8_t proto = payload[9];
            if ((proto == 6 || proto == 17) && length >= ihl + 4) {
                uint32_t s, d; uint16_t port;
                memcpy(&s, payload + 12, 4); memcpy(&d, payload + 16, 4); memcpy(&port, payload + ihl + 2, 2);
                ipset_add(s, proto, port, d);
            }
        }
    }
    if (result < 0) failures++; else packets++;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: nfq_variants QUEUE accept|netlink|repeat\n"); return 2; }
    mode = strcmp(argv[2], "netlink") == 0 ? 1 : strcmp(argv[2], "repeat") == 0 ? 2 : 0;
    struct sigaction action; memset(&action, 0, sizeof action); action.sa_handler = on_signal;
    sigaction(SIGINT, &action, NULL); sigaction(SIGTERM, &action, NULL);
    set_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    struct nfq_handle *handle = nfq_open();
    struct nfq_q_handle *queue = nfq_create_queue(handle, (uint16_t)atoi(argv[1]), on_packet, NULL);
    if (queue == NULL) { perror("nfq_create_queue"); return 1; }
    nfq_set_mode(queue, NFQNL_COPY_PACKET, 128);
    int fd = nfq_fd(handle);
    int size = 8 << 20; setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    fprintf(stderr, "nfq_variants: queue %s bound, mode %s\n", argv[1], argv[2]);
    char packet[4096] __attribute__((aligned));
    while (!stopping) {
        ssize_t n = recv(fd, packet, sizeof packet, 0);
        if (n < 0) { if (errno == EINTR || errno == ENOBUFS) continue; break; }
        nfq_handle_packet(handle, packet, (int)n);
    }
    printf("packets %llu, adds %llu, failures %llu\n", packets, adds, failures);
    return 0;
}
