// The C surface of libnetfilter_queue and libmnl that NetfilterQueue uses.
// <netinet/in.h> comes before any <linux/...> header, or clean builds fail with duplicate in_addr definitions.
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
