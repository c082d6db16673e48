// The C surface of libnetfilter_conntrack that ConntrackRevocation uses.
// <netinet/in.h> comes before any <linux/...> header, or clean builds fail with duplicate in_addr definitions.
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
// enum tcp_state (TCP_CONNTRACK_*), for the TCP state of the entries revocation creates.
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
