/*
 * Listening TCP sockets that existed before tcpflowtop started, and their
 * owners, read from /proc: a socket created earlier never passed the
 * cgroup/sock_create program, so its incoming flows would have no owner.
 * /proc/net/tcp and tcp6 give each listener's address, port and socket
 * inode; the socket:[inode] links in /proc/PID/fd give its process.
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

/*
 * Scans proc_root ("/proc", or a test's tree) now. cgroup_root is the cgroup
 * v2 mount (a process's cgroup id is the inode of its directory there); NULL
 * leaves cgroup ids 0. Returns NULL with errno on failure (no /proc).
 */
struct proc_listeners *proc_listeners_new(const char *proc_root, const char *cgroup_root);
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
