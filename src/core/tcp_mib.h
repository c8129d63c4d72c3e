/*
 * The kernel's TCP listen counters (TcpExt in /proc/net/netstat, as
 * `nstat` shows them): SYN cookies sent and checked, and connections a full
 * accept queue turned away. They count for the whole network namespace of
 * the reading thread, since boot or the namespace's creation; a caller
 * shows differences between two reads.
 */
#ifndef TFT_TCP_MIB_H
#define TFT_TCP_MIB_H

#include <stdint.h>

struct tcp_mib {
	uint64_t syncookies_sent;   /* SyncookiesSent: SYN-ACKs that carried a cookie */
	uint64_t syncookies_recv;   /* SyncookiesRecv: ACKs whose cookie was valid */
	uint64_t syncookies_failed; /* SyncookiesFailed: ACKs whose cookie was not */
	uint64_t listen_overflows;  /* ListenOverflows: accept queue full */
	uint64_t listen_drops;	    /* ListenDrops: every SYN or ACK a listener dropped */
};

/*
 * Reads TcpExt from <proc_root>/net/netstat (proc_root "/proc", or a test's
 * tree) into out, by name: counters this kernel does not have stay 0. 0, or
 * -errno: -ENOENT when the file is missing, -EPROTO when it has no TcpExt
 * lines or they are malformed (names and values differ in count, a value is
 * not a 64-bit number), -EFBIG when the file is implausibly large.
 */
int tcp_mib_read(const char *proc_root, struct tcp_mib *out);

#endif /* TFT_TCP_MIB_H */
