/*
 * The screen's keys as data. Each binding carries the keys as the user sees
 * them, their codes, the handler, its help text and, if it has one, its hint
 * in the footer; the help screen and the footer are drawn from this table,
 * so a new key is one entry. No curses in this header: a test reads the
 * table without a terminal.
 */
#ifndef TFT_TUI_BINDINGS_H
#define TFT_TUI_BINDINGS_H

#include <stddef.h>

#define TUI_BINDING_CODES 6
/* Room for one help line; the lines are meant to fit 100 columns. */
#define TUI_HELP_LINE_MAX 128

struct tui;

struct tui_binding {
	const char *label;	      /* the keys as the help screen shows them: "q F10" */
	int codes[TUI_BINDING_CODES]; /* curses key codes; a 0 ends the list early */
	/* Returns enum tui_reaction bits; key says which of the codes was pressed. */
	int (*act)(struct tui *t, int key);
	const char *help;
	const char *const *more; /* further help lines under this one, NULL-terminated; or NULL */
	const char *hint_key;	 /* footer: the key, abbreviated ("Spc"); NULL: no hint */
	const char *hint;	 /* footer: what it does ("Pause") */
	int hint_order;		 /* footer position from 1: most needed first, a narrow screen cuts
				    the tail */
};

/* The table, in help-screen order; static, never NULL. */
const struct tui_binding *tui_bindings(size_t *n);

/*
 * The bindings that have a footer hint, in hint order, into out (up to max).
 * Returns how many there are, which may exceed max.
 */
size_t tui_footer_hints(const struct tui_binding **out, size_t max);

/*
 * The help screen, one string per line, into text (up to max). Returns how
 * many lines it has, which may exceed max.
 */
size_t tui_help_lines(char (*text)[TUI_HELP_LINE_MAX], size_t max);

#endif /* TFT_TUI_BINDINGS_H */
