/* CSV snapshot: RFC 4180, defused names, mode 0600, no symlink followed, errors returned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../flow_nth.h"
#include "../t.h"
#include "clock.h"
#include "export_csv.h"
#include "flows.h"

static size_t evil_names(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	(void)ctx;
	(void)family;
	out->n = 0;
	if (addr[3] == 9) {
		out->e[0] = (struct names_entry){"=cmd|' /c calc'!A1", 18, TFT_NAME_DNS};
		out->e[1] = (struct names_entry){"\"x\".example", 11, TFT_NAME_DNS};
		out->n = 2;
	}
	return out->n;
}

struct rows {
	const struct flow_table *t;
	uint64_t ids[4];
};

static const struct tft_flow *row_at(void *ctx, size_t i)
{
	struct rows *r = ctx;

	return flow_table_by_id(r->t, r->ids[i]);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The rows of an export of n flows that all resolve. */
struct many {
	const struct flow_table *t;
	size_t n;
};

static const struct tft_flow *many_at(void *ctx, size_t i)
{
	struct many *m = ctx;

	return flow_nth(m->t, i % flow_table_count(m->t));
}

/*
 * A shared 1777 directory where another user pre-created the temporary
 * names an export of this second and this process would have used: the
 * export still succeeds and leaves their files alone.
 */
static void shared_dir_blocker(time_t now, export_csv_row_fn row, void *ctx,
			       const struct names_provider *names)
{
	char dir[] = "/tmp/tft-export-shared-XXXXXX", name[600], path[512], stamp[32];
	struct tm tm;
	size_t written = 0;
	struct stat st;
	int fd, s;

	CHECK(mkdtemp(dir) != NULL, "shared dir");
	CHECK_EQ(chmod(dir, 01777), 0, "mode 1777");
	localtime_r(&now, &tm);
	/* Around the export's second, as a squatter guessing a clock and a pid would. */
	for (s = -1; s <= 1; s++) {
		time_t when = now + s;

		localtime_r(&when, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		snprintf(name, sizeof(name), "%s/.tcpflowtop-%s.%ld.tmp", dir, stamp,
			 (long)getpid());
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		CHECK(fd >= 0, "pre-create the guessable name");
		if (fd >= 0)
			close(fd);
		if (geteuid() == 0)
			CHECK_EQ(chown(name, 65534, 65534), 0, "owned by another user");
	}
	CHECK_EQ(export_csv_write(dir, now, 2, row, ctx, names, path, sizeof(path), &written), 0,
		 "export in a shared directory with squatted temporary names");
	CHECK_EQ(written, 2, "rows written");
	CHECK_EQ(stat(path, &st), 0, "export exists");
	unlink(path);
	for (s = -1; s <= 1; s++) {
		time_t when = now + s;

		localtime_r(&when, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		snprintf(name, sizeof(name), "%s/.tcpflowtop-%s.%ld.tmp", dir, stamp,
			 (long)getpid());
		CHECK_EQ(stat(name, &st), 0, "their file is still there");
		CHECK_EQ(st.st_size, 0, "and untouched");
		unlink(name);
	}
	CHECK_EQ(rmdir(dir), 0, "nothing else left behind");
}

static char long_name[8][254];

static size_t long_names_for(void *ctx, uint8_t family, const uint8_t *addr, struct names_list *out)
{
	int i;

	(void)ctx;
	(void)family;
	(void)addr;
	for (i = 0; i < 8; i++)
		out->e[i] = (struct names_entry){long_name[i], 253, TFT_NAME_DNS};
	out->n = 8;
	return out->n;
}

/* A snapshot is for programs too: eight 253-byte names per end come out whole. */
static void long_names(time_t now, const struct flow_table *t)
{
	static char text[128 * 1024];
	struct names_provider names = {long_names_for, NULL, "test", NULL};
	char dir[] = "/tmp/tft-export-long-XXXXXX", path[512];
	struct many m = {t, 1};
	size_t written = 0, n;
	FILE *f;
	int i, j;

	for (i = 0; i < 8; i++) {
		for (j = 0; j < 253; j++)
			long_name[i][j] = (j + 1) % 64 == 0 ? '.' : (char)('a' + (i + j) % 26);
		long_name[i][253] = '\0';
	}
	CHECK(mkdtemp(dir) != NULL, "dir");
	CHECK_EQ(export_csv_write(dir, now, 1, many_at, &m, &names, path, sizeof(path), &written),
		 0, "export of long names");
	f = fopen(path, "r");
	CHECK(f != NULL, "open the export");
	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
		for (i = 0; i < 8; i++)
			CHECK(strstr(text, long_name[i]) != NULL, "export: every long name whole");
	}
	unlink(path);
	rmdir(dir);
}

static int entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/*
 * A tiny tmpfs as the export directory (root only, in a private mount
 * namespace, unmounted at the end): the error is ENOSPC, as the disk says,
 * and nothing is left behind.
 */
static void full_disk(time_t now, const struct flow_table *t)
{
	char dir[] = "/tmp/tft-export-full-XXXXXX", path[512];
	struct many m = {t, 5000};
	size_t written = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP (loudly): the full-disk export needs root for a tmpfs\n");
		return;
	}
	CHECK(mkdtemp(dir) != NULL, "mount point");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tft-full", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0700")) {
		CHECK(0, "a private 16 KiB tmpfs");
		rmdir(dir);
		return;
	}
	CHECK_EQ(export_csv_write(dir, now, m.n, many_at, &m, NULL, path, sizeof(path), &written),
		 -ENOSPC, "a full disk is ENOSPC, not EIO");
	CHECK_EQ(entries(dir), 0, "nothing left behind on the full disk");
	CHECK_EQ(umount2(dir, 0), 0, "unmount");
	CHECK_EQ(rmdir(dir), 0, "mount point removed");
}

int main(void)
{
	struct flow_table *t = flow_table_new(8);
	struct names_provider names = {evil_names, NULL, "test", NULL};
	char dir[] = "/tmp/tft-export-XXXXXX", path[512], path2[512], link[600], *text;
	struct rows r = {t, {0}};
	const struct tft_flow *a, *b;
	time_t now = 1700000000;
	struct stat st;
	size_t written = 0;
	FILE *mem;
	char membuf[256];

	clock_init();
	a = t_syn(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000);
	b = t_syn(t, "10.0.0.5", 40001, "10.0.0.1", 22, 0, 2000);
	t_answer(t, "10.0.0.1", 40000, "10.0.0.9", 443, 1, 1000 + 1500000, 1);
	CHECK(a && b, "flows");
	r.ids[0] = b->id; /* the view's order, not the table's */
	r.ids[1] = a->id;
	r.ids[2] = 999; /* evicted since: skipped */

	CHECK(mkdtemp(dir) != NULL, "temp dir");
	CHECK_EQ(export_csv_write(dir, now, 3, row_at, &r, &names, path, sizeof(path), &written), 0,
		 "export");
	CHECK_EQ(written, 2, "two rows written");
	CHECK(strstr(path, "/tcpflowtop-") && strstr(path, ".csv"), "named tcpflowtop-*.csv");
	CHECK_EQ(stat(path, &st), 0, "file exists");
	CHECK_EQ(st.st_mode & 0777, 0600, "mode 0600");
	text = slurp(path);
	CHECK(text != NULL, "readable");
	if (text) {
		static const char header[] =
		    "time,id,direction,family,src_addr,src_port,dst_addr,dst_port,state,"
		    "syn_retrans,handshake_ms,src_names,dst_names,pid,comm,user,service,cgroup,end,"
		    "closed_by,duration_ms,bytes_in,bytes_out,rtt_us,data_retrans,idle,"
		    "syncookie\r\n";
		char *second = strstr(text, "\r\n");

		CHECK(!strncmp(text, header, sizeof(header) - 1), "header row with CRLF");
		/* Running flows: no end, a duration to now, no figures yet. */
		CHECK(
		    second &&
			strstr(second, ",2,in,4,10.0.0.5,40001,10.0.0.1,22,pending,0,,,,,,,,,,,") &&
			strstr(second, ",,,,,no,no\r\n"),
		    "first row is the view's first (b), pending, no names");
		CHECK(strstr(text, ",1,out,4,10.0.0.1,40000,10.0.0.9,443,accepted,0,1.500,,"
				   "\"'=cmd|'\\x20/c\\x20calc'!A1 \"\"x\"\".example\",,,,,,,"),
		      "names escaped as on screen (the provider hands raw names), quoted, defused");
		CHECK(strstr(text, "in,4") < strstr(text, "out,4"), "view order kept");
	}

	/* Same second again: a new name, never overwriting; a symlink there is not followed. */
	snprintf(link, sizeof(link), "%.*s-2.csv", (int)(strlen(path) - 4), path);
	CHECK_EQ(symlink("/tmp/tft-export-must-not-exist", link), 0, "plant a symlink");
	CHECK_EQ(export_csv_write(dir, now, 2, row_at, &r, &names, path2, sizeof(path2), &written),
		 0, "second export");
	CHECK(strcmp(path, path2) != 0, "a different name");
	CHECK(strstr(path2, "-3.csv") != NULL, "skips the name the symlink holds");
	CHECK(access("/tmp/tft-export-must-not-exist", F_OK) != 0, "symlink target untouched");
	CHECK_EQ(lstat(link, &st), 0, "symlink still there");
	CHECK(S_ISLNK(st.st_mode), "still a symlink");
	unlink(link);
	unlink(path);
	unlink(path2);

	/* Errors come back as -errno and leave nothing behind. */
	CHECK_EQ(export_csv_write("/nonexistent-tft-dir", now, 2, row_at, &r, NULL, path,
				  sizeof(path), &written),
		 -ENOENT, "missing directory");
	CHECK_EQ(
	    export_csv_write("/dev/null", now, 2, row_at, &r, NULL, path, sizeof(path), &written),
	    -ENOTDIR, "not a directory");
	if (access("/dev/full", W_OK) == 0) {
		/* /dev/full is a file, so ENOSPC is shown through export_csv_field's FILE. */
		FILE *full = fopen("/dev/full", "w");

		if (full) {
			setvbuf(full, NULL, _IONBF, 0);
			CHECK(export_csv_field(full, "x") != 0, "a full disk is an error");
			fclose(full);
		}
	}
	CHECK_EQ(rmdir(dir), 0, "no temp file left behind");

	shared_dir_blocker(now, row_at, &r, &names);
	long_names(now, t);
	full_disk(now, t);

	/* Field quoting on its own. */
	mem = fmemopen(membuf, sizeof(membuf), "w");
	export_csv_field(mem, "plain");
	fputc('|', mem);
	export_csv_field(mem, "a,b");
	fputc('|', mem);
	export_csv_field(mem, "say \"hi\"");
	fputc('|', mem);
	export_csv_field(mem, "-1+2");
	fputc('|', mem);
	export_csv_field(mem, "@SUM(A1)");
	fclose(mem);
	CHECK_STR(membuf, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'-1+2\"|\"'@SUM(A1)\"", "quoting");

	flow_table_free(t);
	return t_done();
}
