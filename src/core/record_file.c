/*
 * Record files: the writer keeps its own buffer and the first write error,
 * like the output stream; the reader checks every length against what the
 * kind allows before copying, so a hostile file can only be refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err_msg.h"
#include "record_file.h"

#define MAGIC "TFTREC\r\n"
#define MAGIC_LEN 8
/* Fixed part of the header after the magic, before the cgroup bytes. */
#define HEADER_FIXED (MAGIC_LEN + 2 + 2 + 8 + 8 + 4 + 1 + 1 + 2 * TFT_MAX_DNS_PORTS + 2)
#define HEADER_MAX (HEADER_FIXED + 4096)
#define REC_PREFIX 8
#define WBUF_SIZE (256 * 1024)
#define RBUF_SIZE (256 * 1024)
/* A DNS record's fixed part: everything before msg. */
#define DNS_FIXED offsetof(struct tft_dns_event, msg)

_Static_assert(sizeof(struct record_owner) <= RECORD_PAYLOAD_MAX, "an owner fits a record");

static bool host_little_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- writing ---- */

struct record_writer {
	int fd;	      /* owned */
	uint8_t *buf; /* owned, WBUF_SIZE */
	size_t len;
	int err; /* first write error, as -errno */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int record_writer_flush(struct record_writer *w)
{
	if (!w->err && w->len)
		w->err = write_all(w->fd, w->buf, w->len);
	w->len = 0;
	return w->err;
}

/* Room for n more bytes; 0 or the sticky error. */
static int reserve(struct record_writer *w, size_t n)
{
	if (w->err)
		return w->err;
	if (WBUF_SIZE - w->len < n)
		return record_writer_flush(w);
	return 0;
}

static int put_record(struct record_writer *w, enum record_kind kind, const void *payload, size_t n)
{
	uint8_t *p;
	int e = reserve(w, REC_PREFIX + n);

	if (e)
		return e;
	p = w->buf + w->len;
	put_le(p, n, 4);
	p[4] = (uint8_t)kind;
	p[5] = p[6] = p[7] = 0;
	memcpy(p + REC_PREFIX, payload, n);
	w->len += REC_PREFIX + n;
	return 0;
}

int record_writer_ring(struct record_writer *w, const void *rec, size_t size)
{
	const struct tft_dns_event *dns = rec;

	if (size < 1 || size > RECORD_PAYLOAD_MAX)
		return -EINVAL;
	const struct record_owner *o = rec;

	/* A DNS record's message is mostly unused: keep only its valid bytes. */
	if (dns->type == TFT_REC_DNS && size == sizeof(*dns))
		size = DNS_FIXED + (dns->len < TFT_DNS_MAX ? dns->len : TFT_DNS_MAX);
	/* An owner's the same, up to the end of its cgroup path. */
	if (o->type == TFT_REC_OWNER && size == sizeof(*o))
		size = RECORD_OWNER_FIXED + (o->cgroup_len < RECORD_OWNER_CGROUP_MAX
						 ? o->cgroup_len
						 : RECORD_OWNER_CGROUP_MAX);
	return put_record(w, RECORD_RING, rec, size);
}

int record_writer_counters(struct record_writer *w, const struct record_counters *c)
{
	uint8_t p[8 * (1 + TFT_CNT_MAX)];

	put_le(p, c->at_ns, 8);
	for (int i = 0; i < TFT_CNT_MAX; i++)
		put_le(p + 8 * (i + 1), c->total[i], 8);
	return put_record(w, RECORD_COUNTERS, p, sizeof(p));
}

static size_t encode_header(const struct record_file_info *info, uint8_t *h)
{
	size_t cg = strnlen(info->cgroup, sizeof(info->cgroup) - 1), off = MAGIC_LEN;

	memcpy(h, MAGIC, MAGIC_LEN);
	put_le(h + off, RECORD_FILE_VERSION, 2);
	put_le(h + off + 2, HEADER_FIXED + cg, 2);
	off += 4;
	put_le(h + off, (uint64_t)info->wall_minus_mono_ns, 8);
	put_le(h + off + 8, info->start_ns, 8);
	put_le(h + off + 16, info->ring_bytes, 4);
	h[off + 20] = info->n_dns_ports;
	h[off + 21] = host_little_endian() ? 1 : 2;
	off += 22;
	for (int i = 0; i < TFT_MAX_DNS_PORTS; i++)
		put_le(h + off + 2 * i, info->dns_ports[i], 2);
	off += 2 * TFT_MAX_DNS_PORTS;
	put_le(h + off, cg, 2);
	memcpy(h + off + 2, info->cgroup, cg);
	return HEADER_FIXED + cg;
}

struct record_writer *record_writer_new(const char *path, const struct record_file_info *info,
					uid_t owner, gid_t group, char *err, size_t errlen)
{
	uint8_t header[HEADER_MAX];
	struct record_writer *w = calloc(1, sizeof(*w));
	int e;

	if (!w || !(w->buf = malloc(WBUF_SIZE))) {
		free(w);
		err_msg(err, errlen, "-w %s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	/* Never through a symlink, never over an existing file: root writes here. */
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		e = errno;
		err_msg(err, errlen, "-w %s: %s%s", path, strerror(e),
			e == EEXIST ? " (tcpflowtop never overwrites: choose a new name)" : "");
		goto fail;
	}
	/* The umask can only narrow the mode; make sure nothing widened it. */
	if (fchmod(w->fd, 0600) < 0 ||
	    ((owner != (uid_t)-1 || group != (gid_t)-1) && fchown(w->fd, owner, group) < 0)) {
		e = errno;
		err_msg(err, errlen, "-w %s: setting its owner and mode: %s", path, strerror(e));
		unlink(path);
		goto fail;
	}
	e = -write_all(w->fd, header, encode_header(info, header));
	if (e) {
		err_msg(err, errlen, "-w %s: writing the header: %s", path, strerror(e));
		unlink(path);
		goto fail;
	}
	return w;
fail:
	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	free(w);
	errno = e;
	return NULL;
}

int record_writer_free(struct record_writer *w)
{
	int e;

	if (!w)
		return 0;
	e = record_writer_flush(w);
	if (close(w->fd) < 0 && !e)
		e = -errno;
	free(w->buf);
	free(w);
	return e;
}

/* ---- reading ---- */

struct record_reader {
	int fd;
	bool own_fd;
	uint8_t *buf; /* owned, RBUF_SIZE: bytes read ahead */
	size_t start, end;
	uint64_t offset; /* file offset of buf[start] */
	uint64_t count;
	bool eof;
	union {
		struct tft_tcp_event tcp;
		struct tft_dns_event dns;
		struct record_owner owner;
		uint8_t bytes[RECORD_PAYLOAD_MAX];
	} rec; /* the current ring record, padded */
};

/* Makes n bytes available at buf[start]; returns how many are (< n only at EOF), or -errno. */
static ssize_t fill(struct record_reader *r, size_t n)
{
	if (r->end - r->start >= n)
		return (ssize_t)n;
	memmove(r->buf, r->buf + r->start, r->end - r->start);
	r->end -= r->start;
	r->start = 0;
	while (r->end < n && !r->eof) {
		ssize_t got = read(r->fd, r->buf + r->end, RBUF_SIZE - r->end);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			r->eof = true;
		r->end += (size_t)got;
	}
	return (ssize_t)(r->end < n ? r->end : n);
}

static int read_header(struct record_reader *r, struct record_file_info *info, char *err,
		       size_t errlen)
{
	ssize_t got = fill(r, HEADER_FIXED);
	const uint8_t *h = r->buf;
	unsigned version, hlen, cg, order;
	size_t off;

	if (got < 0) {
		err_msg(err, errlen, "reading the header failed: %s", strerror((int)-got));
		return (int)got;
	}
	if ((size_t)got < MAGIC_LEN || memcmp(h, MAGIC, MAGIC_LEN)) {
		err_msg(err, errlen, "not a tcpflowtop record file (no TFTREC header at offset 0)");
		return -EBADMSG;
	}
	if ((size_t)got < MAGIC_LEN + 4) {
		err_msg(err, errlen, "the header is cut short at offset %zd", got);
		return -EPROTO;
	}
	version = (unsigned)get_le(h + MAGIC_LEN, 2);
	hlen = (unsigned)get_le(h + MAGIC_LEN + 2, 2);
	if (version != RECORD_FILE_VERSION) {
		err_msg(err, errlen,
			"record file version %u at offset %d; this tcpflowtop reads version %d",
			version, MAGIC_LEN, RECORD_FILE_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (hlen < HEADER_FIXED || hlen > HEADER_MAX) {
		err_msg(err, errlen, "corrupt header length %u at offset %d", hlen, MAGIC_LEN + 2);
		return -EBADMSG;
	}
	got = fill(r, hlen);
	if (got < 0 || (size_t)got < hlen) {
		err_msg(err, errlen, "the header is cut short at offset %zd", got < 0 ? 0 : got);
		return -EPROTO;
	}
	h = r->buf;
	off = MAGIC_LEN + 4;
	memset(info, 0, sizeof(*info));
	info->wall_minus_mono_ns = (int64_t)get_le(h + off, 8);
	info->start_ns = get_le(h + off + 8, 8);
	info->ring_bytes = (uint32_t)get_le(h + off + 16, 4);
	info->n_dns_ports = h[off + 20];
	order = h[off + 21];
	off += 22;
	if (order != (host_little_endian() ? 1u : 2u)) {
		err_msg(err, errlen,
			"recorded on a host of the other byte order (offset %zu): replay it there",
			off - 1);
		return -EPROTONOSUPPORT;
	}
	if (info->n_dns_ports > TFT_MAX_DNS_PORTS) {
		err_msg(err, errlen, "corrupt header: %u DNS ports at offset %zu",
			info->n_dns_ports, off - 2);
		return -EBADMSG;
	}
	for (int i = 0; i < TFT_MAX_DNS_PORTS; i++)
		info->dns_ports[i] = (uint16_t)get_le(h + off + 2 * i, 2);
	off += 2 * TFT_MAX_DNS_PORTS;
	cg = (unsigned)get_le(h + off, 2);
	if (HEADER_FIXED + cg != hlen || cg >= sizeof(info->cgroup)) {
		err_msg(err, errlen, "corrupt header: cgroup length %u at offset %zu", cg, off);
		return -EBADMSG;
	}
	memcpy(info->cgroup, h + off + 2, cg);
	info->cgroup[cg] = '\0';
	r->start = hlen;
	r->offset = hlen;
	return 0;
}

struct record_reader *record_reader_from_fd(int fd, struct record_file_info *info, char *err,
					    size_t errlen)
{
	struct record_reader *r = calloc(1, sizeof(*r));
	int e;

	if (!r || !(r->buf = malloc(RBUF_SIZE))) {
		free(r);
		err_msg(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	r->fd = fd;
	e = read_header(r, info, err, errlen);
	if (e) {
		free(r->buf);
		free(r);
		errno = -e;
		return NULL;
	}
	return r;
}

struct record_reader *record_reader_open(const char *path, struct record_file_info *info, char *err,
					 size_t errlen)
{
	struct record_reader *r;
	struct stat st;
	int fd, e;

	if (!strcmp(path, "-"))
		return record_reader_from_fd(STDIN_FILENO, info, err, errlen);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		err_msg(err, errlen, "%s", strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		err_msg(err, errlen, "is a directory, not a record file");
		errno = EISDIR;
		return NULL;
	}
	r = record_reader_from_fd(fd, info, err, errlen);
	if (!r) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	r->own_fd = true;
	return r;
}

void record_reader_free(struct record_reader *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	free(r->buf);
	free(r);
}

uint64_t record_reader_count(const struct record_reader *r)
{
	return r->count;
}

/* Whether a ring payload of n bytes is a record the pipeline can take. */
static const char *bad_ring(const uint8_t *p, uint32_t n)
{
	switch (p[0]) {
	case TFT_REC_TCP:
		return n == sizeof(struct tft_tcp_event) ? NULL : "TCP record of the wrong size";
	case TFT_REC_SOCK:
		return n == sizeof(struct tft_sock_event) ? NULL
							  : "socket record of the wrong size";
	case TFT_REC_DNS:
		if (n < DNS_FIXED)
			return "DNS record shorter than its fixed part";
		if (get_le(p + offsetof(struct tft_dns_event, len), 2) > n - DNS_FIXED)
			return "DNS record's length beyond its end";
		return NULL;
	case TFT_REC_OWNER:
		if (n < RECORD_OWNER_FIXED || n > sizeof(struct record_owner))
			return "owner record of the wrong size";
		if (p[offsetof(struct record_owner, user_len)] > RECORD_OWNER_USER_MAX ||
		    get_le(p + offsetof(struct record_owner, cgroup_len), 2) >
			n - RECORD_OWNER_FIXED)
			return "owner record's names beyond its end";
		return NULL;
	default:
		return NULL; /* a newer program's record: the pipeline skips it */
	}
}

int record_reader_next(struct record_reader *r, struct record_entry *e, char *err, size_t errlen)
{
	ssize_t got = fill(r, REC_PREFIX);
	const uint8_t *p;
	uint32_t n;
	unsigned kind;
	const char *why;

	if (got < 0) {
		err_msg(err, errlen, "reading at offset %llu failed: %s",
			(unsigned long long)r->offset, strerror((int)-got));
		return (int)got;
	}
	if (got == 0)
		return 0;
	if (got < REC_PREFIX) {
		err_msg(err, errlen, "the file ends inside a record's length at offset %llu",
			(unsigned long long)r->offset);
		return -EPROTO;
	}
	p = r->buf + r->start;
	n = (uint32_t)get_le(p, 4);
	kind = p[4];
	if ((kind != RECORD_RING && kind != RECORD_COUNTERS) || p[5] || p[6] || p[7]) {
		err_msg(err, errlen, "corrupt record (kind %u) at offset %llu", kind,
			(unsigned long long)r->offset);
		return -EBADMSG;
	}
	if (n < 1 || n > RECORD_PAYLOAD_MAX ||
	    (kind == RECORD_COUNTERS && n != 8 * (1 + TFT_CNT_MAX))) {
		err_msg(err, errlen, "corrupt record length %u at offset %llu", n,
			(unsigned long long)r->offset);
		return -EBADMSG;
	}
	got = fill(r, REC_PREFIX + n);
	if (got < 0) {
		err_msg(err, errlen, "reading at offset %llu failed: %s",
			(unsigned long long)r->offset, strerror((int)-got));
		return (int)got;
	}
	if ((size_t)got < REC_PREFIX + n) {
		err_msg(err, errlen,
			"the file ends inside a record at offset %llu (%u bytes announced, %zd "
			"there)",
			(unsigned long long)r->offset, n, got - REC_PREFIX);
		return -EPROTO;
	}
	p = r->buf + r->start + REC_PREFIX;
	memset(e, 0, sizeof(*e));
	e->kind = (enum record_kind)kind;
	e->offset = r->offset;
	if (kind == RECORD_RING) {
		why = bad_ring(p, n);
		if (why) {
			err_msg(err, errlen, "corrupt record at offset %llu: %s",
				(unsigned long long)r->offset, why);
			return -EBADMSG;
		}
		memset(&r->rec, 0, sizeof(r->rec));
		memcpy(r->rec.bytes, p, n);
		e->ring = r->rec.bytes;
		e->ring_size = p[0] == TFT_REC_DNS     ? sizeof(struct tft_dns_event)
			       : p[0] == TFT_REC_OWNER ? sizeof(struct record_owner)
						       : n;
	} else {
		e->counters.at_ns = get_le(p, 8);
		for (int i = 0; i < TFT_CNT_MAX; i++)
			e->counters.total[i] = get_le(p + 8 * (i + 1), 8);
	}
	r->start += REC_PREFIX + n;
	r->offset += REC_PREFIX + n;
	r->count++;
	return 1;
}
