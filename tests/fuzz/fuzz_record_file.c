/*
 * libFuzzer entry point for the record file reader (-r): any bytes as a
 * file, read to the end or to the first error. The reader must never read
 * out of bounds, loop, or hand out a record larger than its kind allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_file_info info;
	struct record_reader *r;
	struct record_entry e;
	char err[256];
	int fd = memfd_create("fuzz-record", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return 0;
	}
	r = record_reader_from_fd(fd, &info, err, sizeof(err));
	if (r) {
		while (record_reader_next(r, &e, err, sizeof(err)) > 0) {
			if (e.kind == RECORD_RING &&
			    (e.ring_size < 1 || e.ring_size > RECORD_PAYLOAD_MAX))
				abort();
			if (e.kind == RECORD_RING && *(const uint8_t *)e.ring == TFT_REC_DNS &&
			    ((const struct tft_dns_event *)e.ring)->len > TFT_DNS_MAX)
				abort();
		}
		record_reader_free(r);
	}
	close(fd);
	return 0;
}
