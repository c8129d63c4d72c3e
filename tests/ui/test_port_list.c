/* Port lists (--port) and the batch filter. */
#include <string.h>

#include "filter.h"
#include "t.h"

static void test_parse_ok(void)
{
	struct port_list pl;
	char err[128];

	CHECK_EQ(port_list_parse("443", &pl, err, sizeof(err)), 0, "single port");
	CHECK_EQ(pl.n, 1, "one range");
	CHECK(port_list_contains(&pl, 443) && !port_list_contains(&pl, 444), "443 only");

	CHECK_EQ(port_list_parse("443,8000-8100,22", &pl, err, sizeof(err)), 0, "list");
	CHECK_EQ(pl.n, 3, "three items");
	CHECK(!pl.negate, "not negated");
	CHECK(port_list_contains(&pl, 8000) && port_list_contains(&pl, 8100) &&
		  port_list_contains(&pl, 8050) && !port_list_contains(&pl, 8101) &&
		  !port_list_contains(&pl, 7999),
	      "range bounds inclusive");

	CHECK_EQ(port_list_parse("!22", &pl, err, sizeof(err)), 0, "negated");
	CHECK(pl.negate && port_list_contains(&pl, 22), "negate flag");
	CHECK_EQ(port_list_parse("1-65535", &pl, err, sizeof(err)), 0, "full range");
	CHECK_EQ(port_list_parse("80-80", &pl, err, sizeof(err)), 0, "one-port range");
}

static void test_parse_bad(void)
{
	static const char *bad[] = {
	    "",	   "!",	    "0",    "65536", "99999999999", "-1",    "80-",
	    "-80", "90-80", "80,",  ",80",   "80,,81",	    "abc",   "80a",
	    " 80", "+80",   "0x50", "80 ",   "!!22",	    "1-2-3", "80-0",
	};
	struct port_list pl = {0};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_EQ(port_list_parse(bad[i], &pl, err, sizeof(err)), -22, bad[i]);
		CHECK(err[0] != '\0', "a reason is given");
	}
	/* Too many items. */
	{
		char many[1024] = "";
		int n;

		for (n = 1; n <= TFT_MAX_PORT_RANGES + 1; n++) {
			char item[16];

			snprintf(item, sizeof(item), "%s%d", n > 1 ? "," : "", n);
			strcat(many, item);
		}
		CHECK_EQ(port_list_parse(many, &pl, err, sizeof(err)), -22, "too many items");
	}
}

static struct tft_flow flow(uint8_t family, uint8_t dir, uint16_t sport, uint16_t dport)
{
	struct tft_flow f = {0};

	f.key.family = family;
	f.key.dir = dir;
	f.key.sport = sport;
	f.key.dport = dport;
	return f;
}

static void test_match(void)
{
	struct filter flt = {0};
	struct tft_flow a = flow(4, TFT_DIR_OUT, 40000, 443);
	struct tft_flow b = flow(6, TFT_DIR_IN, 22, 50000);
	char err[64];
	uint8_t dir = 9;

	CHECK(filter_match(&flt, &a) && filter_match(&flt, &b), "empty filter matches all");
	flt.family = 6;
	CHECK(!filter_match(&flt, &a) && filter_match(&flt, &b), "-6");
	flt.family = 0;
	CHECK_EQ(filter_parse_direction("in", &dir), 0, "in parses");
	flt.dir = dir;
	CHECK(!filter_match(&flt, &a) && filter_match(&flt, &b), "direction in");
	CHECK_EQ(filter_parse_direction("sideways", &dir), -22, "bad direction");
	flt.dir = 0;

	port_list_parse("443", &flt.ports, err, sizeof(err));
	flt.has_ports = true;
	CHECK(filter_match(&flt, &a) && !filter_match(&flt, &b), "port matches destination end");
	port_list_parse("22", &flt.ports, err, sizeof(err));
	CHECK(!filter_match(&flt, &a) && filter_match(&flt, &b), "port matches source end");
	port_list_parse("!22", &flt.ports, err, sizeof(err));
	CHECK(filter_match(&flt, &a) && !filter_match(&flt, &b), "negated list excludes");
}

int main(void)
{
	test_parse_ok();
	test_parse_bad();
	test_match();
	return t_done();
}
