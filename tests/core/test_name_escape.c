/* name_escape: terminal, CSV and JSON escaping of hostile names. */
#include <string.h>

#include "name_escape.h"
#include "t.h"

static char out[512];

#define TERM(s, cap) tft_escape_term(out, sizeof(out), s, sizeof(s) - 1, cap)
#define CSV(s) tft_escape_csv(out, sizeof(out), s, sizeof(s) - 1)
#define JSON(s) tft_escape_json(out, sizeof(out), s, sizeof(s) - 1)

static void test_term(void)
{
	CHECK_EQ(TERM("www.example.com", 0), 15, "term: plain length");
	CHECK_STR(out, "www.example.com", "term: plain passes");
	CHECK_EQ(TERM("\x1b[2J\x1b]0;pwn\x07", 0), 21, "term: esc length");
	CHECK_STR(out, "\\x1b[2J\\x1b]0;pwn\\x07", "term: ESC, BEL escaped");
	TERM("a\\b", 0);
	CHECK_STR(out, "a\\x5cb", "term: backslash escaped");
	TERM("\x7f\x80\xff\t\n", 0);
	CHECK_STR(out, "\\x7f\\x80\\xff\\x09\\x0a", "term: DEL, high bytes, controls");
	CHECK_EQ(tft_escape_term(out, sizeof(out), "a\0b", 3, 0), 6, "term: NUL length");
	CHECK_STR(out, "a\\x00b", "term: NUL escaped, not a cut");
	TERM(" ~\"',", 0);
	CHECK_STR(out, " ~\"',", "term: printable punctuation passes");

	/* column cap with a visible mark */
	CHECK_EQ(TERM("abcdefghij", 10), 10, "cap: exact fit, no mark");
	CHECK_STR(out, "abcdefghij", "cap: exact fit text");
	CHECK_EQ(TERM("abcdefghijk", 10), 9 + 3, "cap: cut length");
	CHECK_STR(out, "abcdefghi" TFT_ESC_CUT_MARK, "cap: cut with mark");
	/* an escape that does not fit whole is left out */
	TERM("abcdefg\x1bxyz", 10);
	CHECK_STR(out, "abcdefg" TFT_ESC_CUT_MARK, "cap: escape not split");
	TERM("abc", 1);
	CHECK_STR(out, TFT_ESC_CUT_MARK, "cap: 1 column is just the mark");

	/* small buffers: snprintf-like, whole units, NUL-terminated */
	{
		char small[6];
		size_t n = tft_escape_term(small, sizeof(small), "ab\x1b", 3, 0);

		CHECK_EQ(n, 6, "small: needed length");
		CHECK_STR(small, "ab", "small: escape not split");
		n = tft_escape_term(NULL, 0, "ab\x1b", 3, 0);
		CHECK_EQ(n, 6, "NULL dst: length only");
		memset(small, 'X', sizeof(small));
		n = tft_escape_term(small, 1, "abc", 3, 0);
		CHECK_EQ(small[0], 0, "size 1: empty string");
		CHECK_EQ(n, 3, "size 1: needed");
	}
}

static void test_csv(void)
{
	CHECK_EQ(CSV("www.example.com"), 15, "csv: plain length");
	CHECK_STR(out, "www.example.com", "csv: plain unquoted");
	CSV("a,b");
	CHECK_STR(out, "\"a,b\"", "csv: comma quoted");
	CSV("say \"hi\"");
	CHECK_STR(out, "\"say \"\"hi\"\"\"", "csv: quotes doubled");
	CSV("line1\nline2");
	CHECK_STR(out, "\"line1\nline2\"", "csv: LF quoted");
	CSV("a\rb");
	CHECK_STR(out, "\"a\rb\"", "csv: CR quoted");
	CSV("=HYPERLINK(\"http://x\")");
	CHECK_STR(out, "\"'=HYPERLINK(\"\"http://x\"\")\"", "csv: formula defused");
	CSV("+1");
	CHECK_STR(out, "\"'+1\"", "csv: plus");
	CSV("-2+3");
	CHECK_STR(out, "\"'-2+3\"", "csv: minus");
	CSV("@SUM(A1)");
	CHECK_STR(out, "\"'@SUM(A1)\"", "csv: at");
	CSV("\tcmd");
	CHECK_STR(out, "\"'\tcmd\"", "csv: tab");
	CSV("\rcmd");
	CHECK_STR(out, "\"'\rcmd\"", "csv: CR first");
	CSV("a=b-c");
	CHECK_STR(out, "a=b-c", "csv: formula chars later are harmless");
	CHECK_EQ(tft_escape_csv(out, sizeof(out), "a\0b", 3), 6, "csv: NUL length");
	CHECK_STR(out, "a\\x00b", "csv: NUL visible");
	CHECK_EQ(CSV(""), 0, "csv: empty");
	{
		char small[4];
		size_t n = tft_escape_csv(small, sizeof(small), "a,b", 3);

		CHECK_EQ(n, 5, "csv small: needed");
		CHECK_STR(small, "\"a,", "csv small: cut, terminated");
	}
}

static void test_json(void)
{
	CHECK_EQ(JSON("www.example.com"), 17, "json: plain length");
	CHECK_STR(out, "\"www.example.com\"", "json: plain quoted");
	JSON("a\"b\\c/d");
	CHECK_STR(out, "\"a\\\"b\\\\c/d\"", "json: quote and backslash");
	JSON("\b\f\n\r\t");
	CHECK_STR(out, "\"\\b\\f\\n\\r\\t\"", "json: short escapes");
	JSON("\x1b[31m\x01\x7f");
	CHECK_STR(out, "\"\\u001b[31m\\u0001\\u007f\"", "json: ESC, SOH, DEL");
	CHECK_EQ(tft_escape_json(out, sizeof(out), "a\0b", 3), 10, "json: NUL length");
	CHECK_STR(out, "\"a\\u0000b\"", "json: NUL");
	/* well-formed UTF-8 passes */
	JSON("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_STR(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "json: utf-8 passes");
	/* ill-formed: lone continuation, 0xff, overlong, surrogate, cut, > U+10FFFF */
	JSON("\x80");
	CHECK_STR(out, "\"\\u0080\"", "json: lone continuation");
	JSON("\xff");
	CHECK_STR(out, "\"\\u00ff\"", "json: 0xff");
	JSON("\xc0\xaf");
	CHECK_STR(out, "\"\\u00c0\\u00af\"", "json: overlong /");
	JSON("\xe0\x80\xaf");
	CHECK_STR(out, "\"\\u00e0\\u0080\\u00af\"", "json: overlong 3-byte");
	JSON("\xed\xa0\x80");
	CHECK_STR(out, "\"\\u00ed\\u00a0\\u0080\"", "json: surrogate");
	JSON("\xe2\x82");
	CHECK_STR(out, "\"\\u00e2\\u0082\"", "json: cut sequence");
	JSON("\xf4\x90\x80\x80");
	CHECK_STR(out, "\"\\u00f4\\u0090\\u0080\\u0080\"", "json: above U+10FFFF");
	JSON("\xc3\xa9\xc3");
	CHECK_STR(out, "\"\xc3\xa9\\u00c3\"", "json: valid then cut");
	{
		char small[8];
		size_t n = tft_escape_json(small, sizeof(small), "ab\xc3\xa9\x1b", 5);

		CHECK_EQ(n, 12, "json small: needed");
		CHECK_STR(small, "\"ab\xc3\xa9", "json small: utf-8 kept whole, escape not split");
	}
}

int main(void)
{
	test_term();
	test_csv();
	test_json();
	return t_done();
}
