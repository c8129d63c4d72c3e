/*
 * Record files: what the writer writes the reader returns, and a cut,
 * corrupt or foreign file is refused with the offset, after every record
 * before the damage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record_file.h"
#include "t.h"

static char dir[] = "/tmp/tft-test-record.XXXXXX";

static struct record_file_info sample_info(void)
{
	struct record_file_info info = {
	    .wall_minus_mono_ns = 1700000000123456789LL,
	    .start_ns = 42,
	    .ring_bytes = 4096,
	    .n_dns_ports = 2,
	    .dns_ports = {53, 5353},
	};

	snprintf(info.cgroup, sizeof(info.cgroup), "/sys/fs/cgroup/test");
	return info;
}

/* Writes a TCP record, a DNS record with a 20-byte message, counters, and a TCP record. */
static void write_sample(const char *path)
{
	struct record_file_info info = sample_info();
	struct tft_tcp_event tcp = {.type = TFT_REC_TCP, .flags = TFT_TCP_SYN, .family = 4};
	struct tft_dns_event dns = {.type = TFT_REC_DNS, .family = 6, .len = 20};
	struct record_counters c = {.at_ns = 99, .total = {7, 1, 0, 0}};
	char err[256];
	struct record_writer *w =
	    record_writer_new(path, &info, (uid_t)-1, (gid_t)-1, err, sizeof(err));

	CHECK(w != NULL, "writer opens");
	if (!w)
		exit(1);
	tcp.ts_ns = 1000;
	memset(dns.msg, 0xab, 20);
	CHECK_EQ(record_writer_ring(w, &tcp, sizeof(tcp)), 0, "tcp written");
	CHECK_EQ(record_writer_ring(w, &dns, sizeof(dns)), 0, "dns written");
	CHECK_EQ(record_writer_counters(w, &c), 0, "counters written");
	tcp.ts_ns = 2000;
	tcp.flags = TFT_TCP_SYN | TFT_TCP_ACK;
	CHECK_EQ(record_writer_ring(w, &tcp, sizeof(tcp)), 0, "tcp 2 written");
	CHECK_EQ(record_writer_free(w), 0, "writer closes");
}

/* Reads path to the end: records read, and the final status (0 or -errno). */
static int read_all(const char *path, int *records, char *err, size_t errlen)
{
	struct record_file_info info;
	struct record_entry e;
	struct record_reader *r = record_reader_open(path, &info, err, errlen);
	int rc;

	*records = 0;
	if (!r)
		return -errno;
	while ((rc = record_reader_next(r, &e, err, errlen)) > 0)
		(*records)++;
	record_reader_free(r);
	return rc;
}

static void test_round_trip(const char *path)
{
	struct record_file_info info, want = sample_info();
	struct record_entry e;
	char err[256];
	struct stat st;
	struct record_reader *r;
	const struct tft_dns_event *dns;

	write_sample(path);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	r = record_reader_open(path, &info, err, sizeof(err));
	CHECK(r != NULL, "reader opens");
	if (!r)
		return;
	CHECK_EQ(info.wall_minus_mono_ns, want.wall_minus_mono_ns, "clock anchor");
	CHECK_EQ(info.start_ns, 42, "start");
	CHECK_EQ(info.ring_bytes, 4096, "ring size");
	CHECK_EQ(info.n_dns_ports, 2, "dns ports");
	CHECK_EQ(info.dns_ports[1], 5353, "second dns port");
	CHECK_STR(info.cgroup, "/sys/fs/cgroup/test", "cgroup");
	CHECK_EQ(record_reader_next(r, &e, err, sizeof(err)), 1, "record 1");
	CHECK_EQ(e.kind, RECORD_RING, "record 1 kind");
	CHECK_EQ(e.ring_size, sizeof(struct tft_tcp_event), "record 1 size");
	CHECK_EQ(((const struct tft_tcp_event *)e.ring)->ts_ns, 1000, "record 1 time");
	CHECK_EQ(record_reader_next(r, &e, err, sizeof(err)), 1, "record 2");
	dns = e.ring;
	CHECK_EQ(e.ring_size, sizeof(struct tft_dns_event), "DNS padded to full size");
	CHECK_EQ(dns->len, 20, "DNS length");
	CHECK_EQ(dns->msg[19], 0xab, "DNS message kept");
	CHECK_EQ(dns->msg[20], 0, "DNS padding zero");
	CHECK_EQ(record_reader_next(r, &e, err, sizeof(err)), 1, "record 3");
	CHECK_EQ(e.kind, RECORD_COUNTERS, "counters kind");
	CHECK_EQ(e.counters.at_ns, 99, "counters time");
	CHECK_EQ(e.counters.total[0], 7, "lost total");
	CHECK_EQ(record_reader_next(r, &e, err, sizeof(err)), 1, "record 4");
	CHECK_EQ(((const struct tft_tcp_event *)e.ring)->ts_ns, 2000, "record 4 time");
	CHECK_EQ(record_reader_next(r, &e, err, sizeof(err)), 0, "clean end");
	CHECK_EQ(record_reader_count(r), 4, "count");
	record_reader_free(r);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n, "write test file");
	close(fd);
}

/* Every cut of the file: the records before the cut, then -EPROTO (or a clean end at a boundary).
 */
static void test_truncated(const char *path, const char *cut)
{
	static uint8_t buf[8192];
	int fd = open(path, O_RDONLY), n, records, rc, prev = 0, bad = 0;
	char err[256];
	size_t len, k;

	n = (int)read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n > 100, "sample read");
	for (len = 0; len < (size_t)n; len++) {
		write_bytes(cut, buf, len);
		rc = read_all(cut, &records, err, sizeof(err));
		if (rc == 0)
			continue; /* cut at a record boundary */
		if (len < 8) {	  /* not even the magic: not a record file */
			bad += rc != -EBADMSG;
			continue;
		}
		if (rc != -EPROTO || !strstr(err, "offset") || records < prev)
			bad++;
		prev = records;
	}
	CHECK_EQ(bad, 0, "every cut: -EPROTO with an offset, earlier records kept");
	write_bytes(cut, buf, (size_t)n - 3);
	rc = read_all(cut, &records, err, sizeof(err));
	CHECK_EQ(rc, -EPROTO, "cut in the last record");
	CHECK_EQ(records, 3, "three records before the cut");
	CHECK(strstr(err, "ends inside a record at offset") != NULL, "cut message");

	/* Corrupt the second record's kind: one record, then -EBADMSG naming its offset. */
	k = (size_t)buf[10] | (size_t)buf[11] << 8; /* header length */
	k += 8 + sizeof(struct tft_tcp_event);
	buf[k + 4] = 9;
	write_bytes(cut, buf, (size_t)n);
	rc = read_all(cut, &records, err, sizeof(err));
	CHECK_EQ(rc, -EBADMSG, "bad kind");
	CHECK_EQ(records, 1, "record before the bad kind");
	{
		char want[64];

		snprintf(want, sizeof(want), "at offset %zu", k);
		CHECK(strstr(err, want) != NULL, "bad kind offset");
	}
	buf[k + 4] = RECORD_RING;
	/* A DNS length beyond the payload. */
	buf[k + 8 + 4] = 0xff;
	buf[k + 8 + 5] = 0x03;
	write_bytes(cut, buf, (size_t)n);
	CHECK_EQ(read_all(cut, &records, err, sizeof(err)), -EBADMSG,
		 "DNS length beyond the record");
	CHECK(strstr(err, "beyond its end") != NULL, "DNS length message");
}

static void test_foreign(const char *path)
{
	static const uint8_t v2[] = "TFTREC\r\n\002\000\100\000";
	static const char text[] = "root:x:0:0:root:/root:/bin/bash\n";
	struct record_file_info info;
	char err[256];

	write_bytes(path, text, sizeof(text) - 1);
	CHECK(record_reader_open(path, &info, err, sizeof(err)) == NULL, "text refused");
	CHECK(strstr(err, "not a tcpflowtop record file") != NULL, "foreign message");
	write_bytes(path, v2, sizeof(v2) - 1);
	CHECK(record_reader_open(path, &info, err, sizeof(err)) == NULL, "version 2 refused");
	CHECK(strstr(err, "version 2") != NULL, "version message");
	write_bytes(path, "", 0);
	CHECK(record_reader_open(path, &info, err, sizeof(err)) == NULL, "empty refused");
}

static void test_writer_refuses(const char *path, const char *link)
{
	struct record_file_info info = sample_info();
	char err[256];

	CHECK(record_writer_new(path, &info, (uid_t)-1, (gid_t)-1, err, sizeof(err)) == NULL,
	      "existing file refused");
	CHECK(strstr(err, "never overwrites") != NULL, "existing file message");
	CHECK(symlink("/tmp/tft-test-record-target-does-not-exist", link) == 0, "symlink made");
	CHECK(record_writer_new(link, &info, (uid_t)-1, (gid_t)-1, err, sizeof(err)) == NULL,
	      "symlink refused");
	CHECK(access("/tmp/tft-test-record-target-does-not-exist", F_OK) != 0,
	      "nothing created through the symlink");
}

int main(void)
{
	char path[128], cut[128], link[128], foreign[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/a.tftrec", dir);
	snprintf(cut, sizeof(cut), "%s/cut.tftrec", dir);
	snprintf(link, sizeof(link), "%s/link.tftrec", dir);
	snprintf(foreign, sizeof(foreign), "%s/foreign", dir);
	test_round_trip(path);
	test_truncated(path, cut);
	test_foreign(foreign);
	test_writer_refuses(path, link);
	unlink(path);
	unlink(cut);
	unlink(link);
	unlink(foreign);
	rmdir(dir);
	return t_done();
}
