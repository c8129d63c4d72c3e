/*
 * The kernel's table of TCP sockets, read as `ss -ti` reads it: a sock_diag
 * dump (NETLINK_SOCK_DIAG, inet_diag_req_v2) with each socket's tcp_info
 * (INET_DIAG_INFO). It needs no privilege and sees the sockets of the
 * caller's network namespace, every user's. Used to sample live byte counts,
 * RTTs and idle times of flows the BPF programs only saw start.
 */
#ifndef TFT_SOCK_DIAG_H
#define TFT_SOCK_DIAG_H

#include <stdint.h>

/* One TCP socket as the dump shows it. Fields the kernel did not report stay 0. */
struct sock_diag_entry {
	uint8_t family;	       /* 4 or 6 */
	uint8_t state;	       /* TCP_ESTABLISHED ... as in netinet/tcp.h */
	uint16_t lport, rport; /* host order */
	/*
	 * Network order; IPv4 in the first 4 bytes, rest zero. A v4-mapped IPv6
	 * socket (::ffff:a.b.c.d) carries IPv4 traffic: it is reported as family
	 * 4 with the IPv4 address, as the packets show it.
	 */
	uint8_t laddr[16], raddr[16];
	/*
	 * tcp_info: absent for request (SYN_RECV) and TIME_WAIT sockets, then 0.
	 * The byte counts are sequence space, not payload only: the connecting
	 * side's bytes_acked includes its SYN (+1; the accepting side's does not
	 * include its SYN-ACK), bytes_received never includes the peer's SYN,
	 * and a FIN adds 1 to both once acknowledged or received.
	 */
	uint64_t bytes_acked, bytes_received;	       /* tcpi_bytes_acked, tcpi_bytes_received */
	uint32_t segs_in, segs_out;		       /* tcpi_segs_in, tcpi_segs_out */
	uint32_t rtt_us, total_retrans;		       /* tcpi_rtt, tcpi_total_retrans */
	uint32_t last_data_recv_ms, last_data_sent_ms; /* tcpi_last_data_recv, _sent */
	uint64_t inode; /* the socket's inode; 0 for request and TIME_WAIT sockets */
};

/* e is valid only during the call. */
typedef void (*sock_diag_cb)(const struct sock_diag_entry *e, void *ctx);

struct sock_diag;

/* A netlink socket and its receive buffer. NULL with errno on failure. */
struct sock_diag *sock_diag_open(void);

/*
 * Calls cb once per TCP socket, IPv4 then IPv6, whose state is in state_mask
 * (1 << TCP_ESTABLISHED | 1 << TCP_SYN_RECV ...). 0, or -errno: a failed
 * dump may have called cb for part of the sockets. A dump of N sockets costs
 * O(N) time and reuses one buffer; cb must not dump on the same d.
 */
int sock_diag_dump(struct sock_diag *d, uint32_t state_mask, sock_diag_cb cb, void *ctx);

/* Accepts NULL. */
void sock_diag_close(struct sock_diag *d);

#endif /* TFT_SOCK_DIAG_H */
