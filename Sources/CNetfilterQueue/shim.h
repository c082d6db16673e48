// The C surface of libnetfilter_queue and libmnl that NetfilterQueue uses.
// <netinet/in.h> comes before any <linux/...> header, or clean builds fail with duplicate in_addr definitions.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

// struct mmsghdr, recvmmsg and MSG_WAITFORONE need _GNU_SOURCE, which Swift's Glibc module is not built with;
// this is the same layout as glibc's struct mmsghdr (recvmmsg(2)).
struct tg_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

#define TG_MSG_WAITFORONE 0x10000

// recvmmsg(2) through the raw system call, so no _GNU_SOURCE declaration is needed. Returns -1 and sets errno.
static inline int tg_recvmmsg(int fd, struct tg_mmsghdr *vector, unsigned int length, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vector, length, flags, (struct timespec *)0);
}

// errno as a function: Swift reads it right after the failing call.
static inline int tg_errno(void) { return errno; }
