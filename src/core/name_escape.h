/*
 * Make untrusted names (DNS answers, PTR results) safe for a terminal, a CSV
 * cell and a JSON string. Pure byte functions: no curses, no locale.
 *
 * All three follow snprintf: they write at most dstsz bytes including a
 * terminating NUL (dst may be NULL when dstsz is 0) and return the length of
 * the complete output without the NUL; a return value >= dstsz means dst was
 * cut. A cut never splits an escape sequence or a UTF-8 character. src holds
 * len bytes and may contain any byte, NUL included.
 */
#ifndef TFT_NAME_ESCAPE_H
#define TFT_NAME_ESCAPE_H

#include <stddef.h>

/*
 * Marks a name cut by tft_escape_term's column cap: U+2026 in UTF-8, one
 * column wide. It cannot come from the name itself, whose bytes >= 0x80 are
 * all escaped.
 */
#define TFT_ESC_CUT_MARK "\xe2\x80\xa6"

/*
 * Terminal: printable ASCII 0x20..0x7e passes, every other byte and the
 * backslash become \xHH (lower-case hex, so ESC is \x1b and '\' is \x5c).
 * max_cols > 0 caps the output at max_cols columns: a longer result keeps
 * whole characters/escapes that fit in max_cols - 1 columns and ends with
 * TFT_ESC_CUT_MARK. max_cols == 0 means no cap.
 */
size_t tft_escape_term(char *dst, size_t dstsz, const char *src, size_t len, size_t max_cols);

/*
 * CSV cell (RFC 4180): quoted when it holds ',', '"', CR or LF, inner '"'
 * doubled. A cell starting with '=', '+', '-', '@', TAB or CR (a spreadsheet
 * formula) is quoted and gets a leading "'" inside the quotes (OWASP CSV
 * injection advice). Other bytes pass unchanged, except NUL, which a C
 * string cannot carry and which becomes the four characters \x00.
 */
size_t tft_escape_csv(char *dst, size_t dstsz, const char *src, size_t len);

/*
 * JSON string token (RFC 8259) with its surrounding quotes: '"' and '\'
 * backslash-escaped, \b \f \n \r \t, other control bytes and DEL as \u00XX.
 * Well-formed UTF-8 passes; every byte of an ill-formed sequence (overlong,
 * surrogate, > U+10FFFF, cut) becomes \u00XX of the byte value, so the
 * output is always valid UTF-8 JSON.
 */
size_t tft_escape_json(char *dst, size_t dstsz, const char *src, size_t len);

#endif /* TFT_NAME_ESCAPE_H */
