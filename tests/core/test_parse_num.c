/* Strict numbers: what flags and the environment may say, and what they may not. */
#include <errno.h>
#include <stdint.h>

#include "err_msg.h"
#include "parse_num.h"
#include "t.h"

int main(void)
{
	uint64_t v = 0;
	double d = 0;
	char buf[32];

	CHECK_EQ(parse_u64("0", 0, 10, &v), 0, "zero");
	CHECK_EQ(parse_u64("65535", 1, 65535, &v), 0, "max");
	CHECK_EQ(v, 65535, "value");
	CHECK_EQ(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0, "u64 max");
	CHECK(v == UINT64_MAX, "u64 max value");
	CHECK_EQ(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE, "u64 overflow");
	CHECK_EQ(parse_u64("65536", 1, 65535, &v), -ERANGE, "above max");
	CHECK_EQ(parse_u64("0", 1, 65535, &v), -ERANGE, "below min");
	CHECK_EQ(parse_u64("", 0, 10, &v), -EINVAL, "empty");
	CHECK_EQ(parse_u64("+1", 0, 10, &v), -EINVAL, "sign");
	CHECK_EQ(parse_u64("-1", 0, 10, &v), -EINVAL, "minus");
	CHECK_EQ(parse_u64(" 1", 0, 10, &v), -EINVAL, "space");
	CHECK_EQ(parse_u64("0x1", 0, 10, &v), -EINVAL, "hex");
	CHECK_EQ(parse_u64("1k", 0, 10, &v), -EINVAL, "suffix");
	CHECK_EQ(parse_seconds("0.5", 0, 10, &d), 0, "fraction");
	CHECK(d == 0.5, "fraction value");
	CHECK_EQ(parse_seconds("10", 0, 10, &d), 0, "whole");
	CHECK_EQ(parse_seconds(".25", 0, 10, &d), 0, "leading dot");
	CHECK_EQ(parse_seconds("11", 0, 10, &d), -EINVAL, "above max");
	CHECK_EQ(parse_seconds("0.01", 0.05, 10, &d), -EINVAL, "below min");
	CHECK_EQ(parse_seconds("inf", 0, 1e9, &d), -EINVAL, "inf");
	CHECK_EQ(parse_seconds("nan", 0, 1e9, &d), -EINVAL, "nan");
	CHECK_EQ(parse_seconds("1e3", 0, 1e9, &d), -EINVAL, "exponent");
	CHECK_EQ(parse_seconds("0x10", 0, 1e9, &d), -EINVAL, "hex");
	CHECK_EQ(parse_seconds("-1", -5, 1e9, &d), -EINVAL, "sign");
	CHECK_EQ(parse_seconds("1.", 0, 10, &d), 0, "trailing dot");
	CHECK_EQ(parse_seconds("1..2", 0, 10, &d), -EINVAL, "two dots");
	CHECK_EQ(parse_seconds("", 0, 10, &d), -EINVAL, "empty");
	CHECK_EQ(err_inval(buf, sizeof(buf), "bad %s", "thing"), -EINVAL, "err_inval returns");
	CHECK_STR(buf, "bad thing", "err_inval text");
	err_msg(buf, 4, "%s", "longer");
	CHECK_STR(buf, "lon", "err_msg cuts");
	err_msg(NULL, 0, "%s", "nowhere");
	return t_done();
}
