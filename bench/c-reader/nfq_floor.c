// The NFQUEUE floor: the least a userspace reader can do per packet. It binds the queue named by argv[1] with the
// classic libnetfilter_queue API, copies 128 bytes of each packet, and accepts every packet with one verdict per
// packet (nfq_set_verdict, one sendto each). Tollgate's reader is measured against this baseline.
//
// Usage: nfq_floor QUEUE_NUMBER [SECONDS]   (runs until killed, or for SECONDS; prints packets and packets/s)
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stopping = 0;
static unsigned long long accepted = 0;
static unsigned long long verdict_failures = 0;
static double first_packet = 0, last_packet = 0;

static double now_seconds(void);

static void on_signal(int signal_number) { (void)signal_number; stopping = 1; }

static int on_packet(struct nfq_q_handle *queue, struct nfgenmsg *message, struct nfq_data *data, void *context) {
    (void)message;
    (void)context;
    struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr(data);
    if (header == NULL) return 0;
    if (nfq_set_verdict(queue, ntohl(header->packet_id), NF_ACCEPT, 0, NULL) < 0) {
        verdict_failures++;
    } else {
        accepted++;
        last_packet = now_seconds();
        if (first_packet == 0) first_packet = last_packet;
    }
    return 0;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s QUEUE_NUMBER [SECONDS]\n", argv[0]);
        return 2;
    }
    char *end = NULL;
    long number = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || number < 0 || number > 65535) {
        fprintf(stderr, "nfq_floor: queue number must be 0-65535, got '%s'\n", argv[1]);
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 0;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;  // no SA_RESTART: recv returns EINTR and the loop ends
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    struct nfq_handle *handle = nfq_open();
    if (handle == NULL) { perror("nfq_open"); return 1; }
    struct nfq_q_handle *queue = nfq_create_queue(handle, (uint16_t)number, on_packet, NULL);
    if (queue == NULL) { perror("nfq_create_queue"); nfq_close(handle); return 1; }
    if (nfq_set_mode(queue, NFQNL_COPY_PACKET, 128) < 0) { perror("nfq_set_mode"); return 1; }
    int fd = nfq_fd(handle);
    int buffer_size = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size) < 0) perror("SO_RCVBUFFORCE");
    if (seconds > 0) {
        struct timeval timeout = {0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    fprintf(stderr, "nfq_floor: queue %ld bound\n", number);
    fflush(stderr);

    char buffer[4096] __attribute__((aligned));
    unsigned long long overflows = 0;
    double start = now_seconds();
    while (!stopping && (seconds <= 0 || now_seconds() - start < seconds)) {
        ssize_t length = recv(fd, buffer, sizeof buffer, 0);
        if (length < 0) {
            if (errno == ENOBUFS) { overflows++; continue; }
            if (errno == EINTR || errno == EAGAIN) continue;
            perror("recv");
            break;
        }
        nfq_handle_packet(handle, buffer, (int)length);
    }
    // The rate counts from the first to the last accepted packet, so idle time before and after does not dilute it.
    double elapsed = last_packet - first_packet;
    printf("accepted %llu packets in %.3f s (%.0f packets/s), %llu ENOBUFS, %llu verdict failures\n",
           accepted, elapsed, elapsed > 0 ? accepted / elapsed : 0.0, overflows, verdict_failures);
    nfq_destroy_queue(queue);
    nfq_close(handle);
    return 0;
}
