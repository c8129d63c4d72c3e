/*
 * The bindings table against what the user reads: every binding is
 * explained on the help screen, no key does two things, and the footer
 * hints come from bindings. No terminal: only the table and the generated
 * help lines are read, and handlers that only change the screen's state run.
 */
#include <curses.h>

#include "../t.h"
#include "flow_groups.h"
#include "tui_bindings.h"
#include "tui_state.h"

#define HELP_MAX 64
/* The tmux test's smallest pane that shows the help: 100x30 (tests/ui/test_tui.sh, STYLE.md). */
#define HELP_ROWS 30
#define HELP_COLS 100

static char help[HELP_MAX][TUI_HELP_LINE_MAX];
static size_t nhelp;

static bool in_help(const char *s)
{
	size_t i;

	for (i = 0; i < nhelp; i++) {
		if (strstr(help[i], s))
			return true;
	}
	return false;
}

/* The footer's short key is the label with letters left out ("Spc" for "Space", "<>" for "< >"). */
static bool abbreviates(const char *abbr, const char *label)
{
	for (; *abbr; abbr++) {
		label = strchr(label, *abbr);
		if (!label)
			return false;
		label++;
	}
	return true;
}

/* The binding of key, or NULL. */
static const struct tui_binding *bound(const struct tui_binding *b, size_t n, int key)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < TUI_BINDING_CODES && b[i].codes[j]; j++)
			if (b[i].codes[j] == key)
				return &b[i];
	return NULL;
}

/*
 * On a group's flows (after Enter on a group), leaving by Esc or by g gives
 * back the flow filter the user had.
 */
static void leave_group_flows(const struct tui_binding *b, size_t n)
{
	struct flow_groups_opts o = {FLOW_GROUP_REMOTE, 0, 100, NULL, NULL};
	struct flow_groups *g = flow_groups_new(&o);
	static struct tui t;
	const int keys[2] = {'g', 27};
	size_t i;

	CHECK(g != NULL, "groups made");
	for (i = 0; g && i < 2; i++) {
		const struct tui_binding *k = bound(b, n, keys[i]);
		char name[64];

		memset(&t, 0, sizeof(t));
		t.opts.remote = g;
		snprintf(t.flow_filter_saved.text, sizeof(t.flow_filter_saved.text), "port 22");
		t.flow_filter_saved.dir = TFT_DIR_IN;
		snprintf(t.opts.filter.text, sizeof(t.opts.filter.text),
			 "out dst:10.0.0.1 dport:80");
		t.shown = VIEW_FLOWS;
		t.back_to = VIEW_REMOTE;
		snprintf(name, sizeof(name), "key %d is bound", keys[i]);
		CHECK(k != NULL, name);
		if (!k)
			continue;
		k->act(&t, keys[i]);
		snprintf(name, sizeof(name), "key %d: back to the groups", keys[i]);
		CHECK(t.shown == VIEW_REMOTE && t.back_to == VIEW_FLOWS, name);
		snprintf(name, sizeof(name), "key %d: the user's flow filter back", keys[i]);
		CHECK_STR(t.opts.filter.text, "port 22", name);
		CHECK_EQ(t.opts.filter.dir, TFT_DIR_IN, name);
	}
	flow_groups_free(g);
}

int main(void)
{
	const struct tui_binding *b = NULL, *hints[64];
	size_t n = 0, nhints, i, j, k, l;
	char name[160];

	b = tui_bindings(&n);
	CHECK(b != NULL && n > 0, "the table has bindings");
	nhelp = tui_help_lines(help, HELP_MAX);
	CHECK(nhelp > 0 && nhelp <= HELP_MAX, "help lines fit the buffer");
	CHECK(nhelp <= HELP_ROWS, "the help screen fits a 30-line pane");
	for (i = 0; i < nhelp && i < HELP_MAX; i++) {
		snprintf(name, sizeof(name), "help line %zu fits %d columns", i, HELP_COLS);
		CHECK(strlen(help[i]) <= HELP_COLS, name);
	}

	for (i = 0; i < n; i++) {
		const char *label = b[i].label ? b[i].label : "(null)";

		snprintf(name, sizeof(name), "binding \"%s\" has a label", label);
		CHECK(b[i].label && b[i].label[0], name);
		snprintf(name, sizeof(name), "binding \"%s\" has help text", label);
		CHECK(b[i].help && b[i].help[0], name);
		snprintf(name, sizeof(name), "binding \"%s\" has a handler", label);
		CHECK(b[i].act != NULL, name);
		snprintf(name, sizeof(name), "binding \"%s\" has a key code", label);
		CHECK(b[i].codes[0] != 0, name);
		snprintf(name, sizeof(name), "binding \"%s\": its keys are on the help screen",
			 label);
		CHECK(b[i].label && in_help(b[i].label), name);
		snprintf(name, sizeof(name), "binding \"%s\": its help is on the help screen",
			 label);
		CHECK(b[i].help && in_help(b[i].help), name);
		for (j = 0; b[i].more && b[i].more[j]; j++) {
			snprintf(name, sizeof(name), "binding \"%s\": help line %zu is shown",
				 label, j + 2);
			CHECK(in_help(b[i].more[j]), name);
		}
		for (j = 0; j < TUI_BINDING_CODES && b[i].codes[j]; j++) {
			int key = b[i].codes[j];

			snprintf(name, sizeof(name), "binding \"%s\": key code %d is a curses key",
				 label, key);
			CHECK(key > 0 && key <= KEY_MAX, name);
			/* No key bound twice: not in this binding, nor in any later one. */
			for (k = i; k < n; k++) {
				for (l = k == i ? j + 1 : 0; l < TUI_BINDING_CODES && b[k].codes[l];
				     l++) {
					snprintf(name, sizeof(name),
						 "key code %d bound by \"%s\" and by \"%s\"", key,
						 label, b[k].label ? b[k].label : "(null)");
					CHECK(b[k].codes[l] != key, name);
				}
			}
		}
	}

	/* Every footer hint is a binding of the table, each has its own place. */
	nhints = tui_footer_hints(hints, sizeof(hints) / sizeof(hints[0]));
	CHECK(nhints > 0 && nhints <= sizeof(hints) / sizeof(hints[0]), "footer hints");
	for (i = 0; i < nhints && i < sizeof(hints) / sizeof(hints[0]); i++) {
		const struct tui_binding *h = hints[i];
		const char *label = h && h->label ? h->label : "(null)";

		snprintf(name, sizeof(name), "footer hint %zu is a binding", i);
		CHECK(h >= b && h < b + n, name);
		if (!(h >= b && h < b + n))
			continue;
		snprintf(name, sizeof(name), "footer hint \"%s\" has a key and a label", label);
		CHECK(h->hint_key && h->hint_key[0] && h->hint && h->hint[0], name);
		snprintf(name, sizeof(name), "footer hint \"%s\" abbreviates the binding's keys",
			 label);
		CHECK(h->hint_key && abbreviates(h->hint_key, h->label), name);
		snprintf(name, sizeof(name), "footer hint \"%s\" comes in order", label);
		CHECK(h->hint_order > 0 && (i == 0 || hints[i - 1]->hint_order < h->hint_order),
		      name);
	}
	for (i = 0, k = 0; i < n; i++)
		k += b[i].hint_key != NULL;
	CHECK_EQ(nhints, k, "every binding with a hint is in the footer");
	/* Fewer slots than hints: the first ones, in order. */
	CHECK_EQ(tui_footer_hints(hints, 2), nhints, "a short buffer still counts all hints");
	CHECK(hints[0]->hint_order < hints[1]->hint_order, "a short buffer keeps the first hints");
	CHECK_STR(hints[0]->hint, "Help", "the first hint");
	CHECK_STR(hints[1]->hint, "Quit", "the second hint");

	/* C hides the flows that ended: one binding, in the help and last in the footer. */
	for (i = 0, k = n; i < n; i++)
		if (b[i].codes[0] == 'C')
			k = i;
	CHECK(k < n, "C is bound");
	if (k < n) {
		CHECK_STR(b[k].help, "hide/show ended flows", "C's help");
		CHECK(in_help("C            hide/show ended flows"), "C on the help screen");
		nhints = tui_footer_hints(hints, sizeof(hints) / sizeof(hints[0]));
		CHECK(hints[nhints - 1] == &b[k], "C's hint comes last in the footer");
		CHECK_STR(b[k].hint, "Ended", "C's footer hint");
	}
	CHECK(in_help("unanswered half-open reset idle"), "the outcome filter words in the help");
	leave_group_flows(b, n);

	return t_done();
}
