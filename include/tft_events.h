/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ring-buffer records shared by bpf/tcpflow.bpf.c and src/core/.
 * Fixed-width types only, so both compilers lay them out identically;
 * fields marked __be are in network byte order, as on the wire.
 */
#ifndef TFT_EVENTS_H
#define TFT_EVENTS_H

#include <linux/types.h>

/* TCP header flags, as in the flags byte of struct tft_tcp_event. */
#define TFT_TCP_FIN 0x01
#define TFT_TCP_SYN 0x02
#define TFT_TCP_RST 0x04
#define TFT_TCP_PSH 0x08
#define TFT_TCP_ACK 0x10

/* Which program saw the packet. */
enum tft_hook {
	TFT_HOOK_INGRESS = 0,
	TFT_HOOK_EGRESS = 1,
};

/* Record types in the ring buffer; the first byte of every record. */
enum tft_record_type {
	TFT_REC_TCP = 1, /* struct tft_tcp_event: IPv6 in the ring; every TCP record past capture */
	TFT_REC_DNS = 2, /* struct tft_dns_event */
	TFT_REC_TCP4 = 3,	/* struct tft_tcp4_rec: IPv4, in the ring only */
	TFT_REC_TCP4_OWNED = 4, /* struct tft_tcp4_owned_rec: an IPv4 SYN and its socket's owner */
	TFT_REC_TCP_OWNED = 5,	/* struct tft_tcp_owned_event: an IPv6 SYN and its socket's owner */
	/*
	 * Record files only: the owner of the TCP record that follows, with the
	 * user and cgroup names resolved when it was recorded (record_file.h).
	 */
	TFT_REC_OWNER = 6,
	TFT_REC_SOCK = 7, /* struct tft_sock_event: an established or closed socket (sockops) */
};

/* Indexes of the programs' global counters[] array (in .bss, read through mmap). */
enum tft_counter {
	TFT_CNT_RB_FULL = 0,   /* ring buffer reservation failed: an event was lost */
	TFT_CNT_DNS_TRUNC = 1, /* a DNS message was longer than TFT_DNS_MAX and cut */
	/* a UDP DNS answer matched no query seen (id, ports, addresses), or came too late: ignored
	 */
	TFT_CNT_DNS_UNMATCHED = 2,
	TFT_CNT_MAX = 4,
};

/*
 * One TCP control packet (SYN, SYN-ACK or RST): user space tells a new flow
 * from a retransmission and an answer from noise. Addresses and ports are the
 * packet's own: for a SYN-ACK or RST the source is the flow's responder.
 * IPv4 addresses sit in the first 4 bytes of saddr/daddr.
 */
struct tft_tcp_event {
	__u8 type;   /* TFT_REC_TCP */
	__u8 flags;  /* TCP flags byte: SYN, SYN-ACK, RST or RST-ACK */
	__u8 hook;   /* enum tft_hook */
	__u8 family; /* 4 or 6 */
	__be16 sport;
	__be16 dport;
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 seq;   /* host order: a retransmitted SYN repeats its sequence number */
	__u32 ack;   /* host order: a SYN-ACK or RST-ACK acknowledges seq + 1 */
	__u8 saddr[16];
	__u8 daddr[16];
};

/*
 * The ring's form of an IPv4 TCP control packet: the fields of struct
 * tft_tcp_event with 4-byte addresses, 32 bytes instead of 56, so a record
 * and its ring header share one cache line with room to spare. capture.c
 * turns it into a struct tft_tcp_event before anything else sees it (record
 * files hold that form).
 */
struct tft_tcp4_rec {
	__u8 type;  /* TFT_REC_TCP4 */
	__u8 flags; /* TCP flags byte */
	__u8 hook;  /* enum tft_hook */
	__u8 zero;
	__be16 sport;
	__be16 dport;
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 seq;   /* host order */
	__u32 ack;   /* host order */
	__u8 saddr[4];
	__u8 daddr[4];
};

/*
 * Who owns a socket: the process that sent its SYN (connect), or, for a
 * listener, the one that bound it (cgroup/post_bind). Ids are those of the
 * initial namespaces.
 */
struct tft_owner {
	__u32 tgid;	 /* process id */
	__u32 pid;	 /* thread id */
	__u32 uid;	 /* real uid */
	__u32 gid;	 /* real gid */
	__u64 cgroup_id; /* cgroup v2 id: the inode of the cgroup's directory */
	char comm[16];	 /* command name as the process set it: untrusted bytes */
};

/*
 * A SYN without ACK whose socket has an owner: the SYN of a connect()
 * leaving, or a SYN arriving at a listener. Every other TCP record keeps its
 * owner-less form, so the common records stay small.
 */
struct tft_tcp4_owned_rec {
	struct tft_tcp4_rec tcp; /* tcp.type: TFT_REC_TCP4_OWNED */
	struct tft_owner owner;
};

struct tft_tcp_owned_event {
	struct tft_tcp_event tcp; /* tcp.type: TFT_REC_TCP_OWNED */
	struct tft_owner owner;
};

/* What happened to a socket (struct tft_sock_event op). */
enum tft_sock_op {
	TFT_SOCK_ESTABLISHED =
	    1,		     /* a passive socket completed its handshake (the final ACK came) */
	TFT_SOCK_CLOSED = 2, /* an established socket reached CLOSE */
};

/* Which end of the connection the socket is (struct tft_sock_event side). */
enum tft_sock_side {
	TFT_SIDE_ACTIVE = 1,  /* it called connect(): an outgoing flow */
	TFT_SIDE_PASSIVE = 2, /* a listener accepted it: an incoming flow */
};

/* How an established socket ended, as the socket itself saw it. */
enum tft_sock_end {
	TFT_SOCK_END_FIN_LOCAL = 1,   /* this end sent the first FIN */
	TFT_SOCK_END_FIN_PEER = 2,    /* the peer sent the first FIN */
	TFT_SOCK_END_RESET_PEER = 3,  /* a RST arrived */
	TFT_SOCK_END_RESET_LOCAL = 4, /* this end aborted it (a RST leaves right after) */
	TFT_SOCK_END_TIMEOUT = 5,     /* retransmissions ran out */
};

/*
 * A socket's established or closed moment, from the sockops program: a
 * callback per socket, never per packet. The figures are the socket's own
 * counters at that moment (on a close, the final ones). IPv4 addresses sit
 * in the first 4 bytes; an IPv6 socket talking IPv4 reports v4-mapped ones.
 */
struct tft_sock_event {
	__u8 type;   /* TFT_REC_SOCK */
	__u8 op;     /* enum tft_sock_op */
	__u8 side;   /* enum tft_sock_side */
	__u8 family; /* 4 or 6 */
	__u8 end;    /* TFT_SOCK_CLOSED: enum tft_sock_end */
	__u8 zero[3];
	__be16 lport;
	__be16 rport;
	__u32 srtt_us;	      /* smoothed RTT in microseconds */
	__u64 ts_ns;	      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 bytes_received; /* tcp_sock bytes_received (RFC 4898) */
	__u64 bytes_acked;    /* tcp_sock bytes_acked (RFC 4898) */
	__u32 segs_in;
	__u32 segs_out;
	__u32 total_retrans; /* every retransmitted segment, SYN included */
	__u32 zero2;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* Bytes of a DNS message copied up; longer messages are cut and flagged. >= 512. */
#define TFT_DNS_MAX 1024

/*
 * A DNS response (QR set) seen on a DNS port, UDP or, when the whole message
 * sits in one segment, TCP (msg then starts after the 2-byte length prefix).
 * Ports and addresses are the packet's own: on ingress the host received it
 * (its own lookup), on egress a resolver on this host sent it.
 */
struct tft_dns_event {
	__u8 type;	/* TFT_REC_DNS */
	__u8 hook;	/* enum tft_hook */
	__u8 family;	/* 4 or 6 */
	__u8 flags;	/* TFT_DNS_F_* */
	__u16 len;	/* bytes valid in msg, <= TFT_DNS_MAX */
	__u16 orig_len; /* the message's own length before truncation */
	__be16 sport;
	__be16 dport;
	__u32 reserved; /* zero */
	/*
	 * bpf_get_socket_cookie() of the local socket: the receiver on
	 * ingress, the sender on egress; 0 if none. Lets user space drop the
	 * answers to its own reverse lookups exactly (SO_COOKIE).
	 */
	__u64 sk_cookie;
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 msg[TFT_DNS_MAX];
};

#define TFT_DNS_F_TRUNCATED 0x1 /* orig_len > len: the message was cut at TFT_DNS_MAX */
#define TFT_DNS_F_TCP 0x2	/* came over TCP (length prefix stripped) */

/* DNS source ports watched, 53 included (rodata dns_ports, set at load time). */
#define TFT_MAX_DNS_PORTS 4

/* Outstanding UDP DNS queries the programs remember, and how long an answer may take. */
#define TFT_DNS_QUERIES_MAX 4096
#define TFT_DNS_ANSWER_WINDOW_NS (15ull * 1000000000ull)

#ifndef __bpf__
_Static_assert(sizeof(struct tft_tcp_event) == 56, "tft_tcp_event layout");
_Static_assert(sizeof(struct tft_tcp4_rec) == 32, "tft_tcp4_rec layout");
_Static_assert(sizeof(struct tft_owner) == 40, "tft_owner layout");
_Static_assert(sizeof(struct tft_tcp4_owned_rec) == 72, "tft_tcp4_owned_rec layout");
_Static_assert(sizeof(struct tft_tcp_owned_event) == 96, "tft_tcp_owned_event layout");
_Static_assert(sizeof(struct tft_sock_event) == 88, "tft_sock_event layout");
_Static_assert(sizeof(struct tft_dns_event) == 56 + TFT_DNS_MAX, "tft_dns_event layout");
_Static_assert(TFT_DNS_MAX >= 512 && TFT_DNS_MAX < 2048, "TFT_DNS_MAX bounds the copy mask");
#endif

#endif /* TFT_EVENTS_H */
