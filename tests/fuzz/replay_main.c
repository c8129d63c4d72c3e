/*
 * Plain main() for a libFuzzer entry point: runs each file given, or each
 * regular file in each directory given, copied into a malloc buffer of
 * exactly its size so AddressSanitizer sees any overread. Fails when no
 * file ran, so a missing corpus is not a silent pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	struct stat sb;
	uint8_t *buf;
	FILE *f;
	size_t n;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return -ENOENT;
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	/* exact size; malloc(0) may return NULL, so an empty input gets a 1-byte
	 * buffer but is still passed as size 0 */
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	if (n != (size_t)sb.st_size) {
		free(buf);
		return -EIO;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long ran = 0;
	int i;

	for (i = 1; i < argc; i++) {
		struct stat sb;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &sb)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(sb.st_mode)) {
			if (run_file(argv[i]) == 0)
				ran++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		while ((de = readdir(d))) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (run_file(path) == 0)
				ran++;
		}
		closedir(d);
	}
	fprintf(stderr, "replay: %lu inputs\n", ran);
	return ran ? 0 : 1;
}
