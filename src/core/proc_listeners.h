/*
 * Listening TCP sockets that existed before tcpflowtop started, and their
 * owners: a listener bound earlier never passed the cgroup/post_bind
 * programs, so its incoming flows would have no owner. The kernel lists the
 * listeners with their socket inodes; the socket:[inode] links in
 * /proc/PID/fd give each one's process.
 *
 * The list comes from a sock_diag dump of listening sockets only, which
 * costs as many records as there are listeners. /proc/net/tcp and tcp6, the
 * fallback where sock_diag is missing, print every socket: on a host
 * holding 100,000 TIME_WAIT sockets one read takes about 400 ms, and the
 * reader would stall for that long on each rescan.
 *
 * Reading another user's /proc/PID/fd needs root: the scan runs before the
 * privilege drop. A later rescan (on a miss, at most every
 * PROC_LISTENERS_RESCAN_S seconds) finds new listeners only in processes the
 * dropped user may read.
 */
#ifndef TFT_PROC_LISTENERS_H
#define TFT_PROC_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tft_events.h"

#define PROC_LISTENERS_RESCAN_S 10

struct proc_listeners;

/* Where the list of listening sockets comes from. */
enum listener_table {
	/* this network namespace's, from the kernel; /proc/net from the first failure on */
	LISTENER_TABLE_SOCK_DIAG,
	/* proc_root's net/tcp and net/tcp6 */
	LISTENER_TABLE_PROC_NET,
};

/*
 * Scans now: the listeners from table, their owners from proc_root ("/proc",
 * or a test's tree). cgroup_root is the cgroup v2 mount (a process's cgroup
 * id is the inode of its directory there); NULL leaves cgroup ids 0.
 * Returns NULL with errno on failure (no proc_root).
 */
struct proc_listeners *proc_listeners_new(const char *proc_root, const char *cgroup_root,
					  enum listener_table table);
void proc_listeners_free(struct proc_listeners *l);

/*
 * The owner of the listener a SYN to (family, addr, port) arrived at: bound
 * to that address or to the wildcard (an IPv6 wildcard takes IPv4 too).
 * False when none is known; then, at most every PROC_LISTENERS_RESCAN_S
 * seconds (now_ns, CLOCK_MONOTONIC), /proc is read again first.
 */
bool proc_listeners_owner(struct proc_listeners *l, uint8_t family, const uint8_t addr[16],
			  uint16_t port, uint64_t now_ns, struct tft_owner *out);

/* Listeners with a known owner. */
size_t proc_listeners_count(const struct proc_listeners *l);

#endif /* TFT_PROC_LISTENERS_H */
