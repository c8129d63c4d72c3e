/*
 * Record files (-w, -r): every ring record as it was read, so a session can
 * be fed again through the same pipeline, as tcpdump -w/-r does for packets.
 *
 * Layout (integers little-endian):
 *   header:  magic "TFTREC\r\n", u16 version, u16 header length (bytes,
 *            magic included), then the struct record_file_info fields in
 *            order: i64 wall_minus_mono_ns, u64 start_ns, u32 ring_bytes,
 *            u8 n_dns_ports, u8 byte order of ring records (1 little),
 *            u16 dns_ports[4], u16 cgroup length, cgroup bytes.
 *   records: u32 payload length, u8 kind, 3 zero bytes, payload.
 * A ring payload is the record exactly as the programs wrote it (host byte
 * order, __be fields in network order); a DNS record is cut after its
 * message. A counters payload is u64 time then TFT_CNT_MAX u64 totals.
 * An owner (struct record_owner, type TFT_REC_OWNER, cut after its cgroup
 * path) precedes the TCP record whose SYN it owns; a reader that does not
 * know it skips it as a newer program's record, and still reads every flow.
 * A newer version refuses to be read rather than be misread.
 */
#ifndef TFT_RECORD_FILE_H
#define TFT_RECORD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tft_events.h"

#define RECORD_FILE_VERSION 1
/* Longest payload a valid file holds; anything longer is corruption. */
#define RECORD_PAYLOAD_MAX ((uint32_t)sizeof(struct tft_dns_event))

enum record_kind {
	RECORD_RING = 1,     /* one ring-buffer record (struct tft_tcp_event, tft_dns_event) */
	RECORD_COUNTERS = 2, /* the programs' counters changed: their totals now */
};

#define RECORD_OWNER_USER_MAX 32
#define RECORD_OWNER_CGROUP_MAX 512

/*
 * A SYN's owner as recorded, with the names this host gave its uid and
 * cgroup id then (another host, or this one later, may give others).
 */
struct record_owner {
	uint8_t type;	     /* TFT_REC_OWNER */
	uint8_t user_len;    /* bytes of user; 0: unknown */
	uint16_t cgroup_len; /* bytes of cgroup; 0: unknown */
	uint32_t zero;
	struct tft_owner owner;
	char user[RECORD_OWNER_USER_MAX];     /* not NUL-terminated */
	char cgroup[RECORD_OWNER_CGROUP_MAX]; /* cgroup v2 path, not NUL-terminated */
};

/* The part of a struct record_owner before its cgroup path. */
#define RECORD_OWNER_FIXED offsetof(struct record_owner, cgroup)

/* The capture a file was made with. */
struct record_file_info {
	int64_t wall_minus_mono_ns; /* clock anchor: CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t start_ns;	    /* CLOCK_MONOTONIC when recording began */
	uint32_t ring_bytes;
	uint8_t n_dns_ports; /* 0: names were off (--no-dns) */
	uint16_t dns_ports[TFT_MAX_DNS_PORTS];
	char cgroup[256]; /* the watched cgroup, NUL-terminated, cut if longer */
};

/* Counter totals at one instant (enum tft_counter order). */
struct record_counters {
	uint64_t at_ns;
	uint64_t total[TFT_CNT_MAX];
};

/* ---- writing ---- */

struct record_writer;

/*
 * Creates path for writing: exclusive (an existing file or symlink is an
 * error, never followed or truncated), mode 0600, then writes the header.
 * owner/group (not -1) are given the file, so the user who ran sudo can read
 * it after the privilege drop. NULL with errno and a one-line reason in err.
 */
struct record_writer *record_writer_new(const char *path, const struct record_file_info *info,
					uid_t owner, gid_t group, char *err, size_t errlen);
/* Flushes and closes. Returns 0 or -errno of the first failed write. NULL is fine. */
int record_writer_free(struct record_writer *w);
/* Buffered appends: call record_writer_flush after a batch. 0 or -errno (sticky). */
int record_writer_ring(struct record_writer *w, const void *rec, size_t size);
int record_writer_counters(struct record_writer *w, const struct record_counters *c);
int record_writer_flush(struct record_writer *w);

/* ---- reading ---- */

struct record_reader;

/* One record read: borrowed, valid until the next record_reader_next. */
struct record_entry {
	enum record_kind kind;
	uint64_t offset; /* of its length prefix in the file */
	/* RECORD_RING: the record, DNS ones zero-padded to their full size */
	const void *ring;
	size_t ring_size;
	struct record_counters counters; /* RECORD_COUNTERS */
};

/*
 * Opens a record file and reads its header into *info ("-" reads stdin).
 * NULL with errno and a one-line reason in err (not a record file, a newer
 * version, another byte order, a cut header).
 */
struct record_reader *record_reader_open(const char *path, struct record_file_info *info, char *err,
					 size_t errlen);
struct record_reader *record_reader_from_fd(int fd, struct record_file_info *info, char *err,
					    size_t errlen);
void record_reader_free(struct record_reader *r);

/*
 * The next record: 1 and *e filled, 0 at a clean end of file, or -errno
 * (-EBADMSG corrupt, -EPROTO cut short, or a read error) with one line in
 * err naming the byte offset. Every record before a bad one was returned.
 */
int record_reader_next(struct record_reader *r, struct record_entry *e, char *err, size_t errlen);
/* Records returned so far. */
uint64_t record_reader_count(const struct record_reader *r);

#endif /* TFT_RECORD_FILE_H */
