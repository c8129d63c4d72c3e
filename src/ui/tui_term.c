/*
 * The terminal under the screen: curses setup and restore, colours, and
 * what keeps the tty sane when things go wrong. A handler for crashing
 * signals writes the saved reset strings and termios, then re-raises, as
 * htop's CRT.c does. stderr is redirected into a memfd while the screen is
 * up, so a stray library message cannot scribble on it, and messages meant
 * for the user are held; both are printed once the screen is closed.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <term.h>
#include <unistd.h>

#include "tui_state.h"

/* For the crash handler: what it needs, prepared while it is still safe. */
static struct termios crash_termios;
static bool crash_termios_ok, crash_installed;
static char crash_reset[128];
static size_t crash_reset_len;
static volatile sig_atomic_t crash_saved_stderr = -1;
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction crash_old[sizeof(crash_signals) / sizeof(crash_signals[0])];

static void crash_handler(int sig)
{
	ssize_t unused;

	if (crash_reset_len)
		unused = write(STDOUT_FILENO, crash_reset, crash_reset_len);
	if (crash_termios_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &crash_termios);
	if (crash_saved_stderr >= 0)
		dup2(crash_saved_stderr, STDERR_FILENO);
	(void)unused;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_install(void)
{
	const char *caps[] = {"rmcup", "cnorm", "sgr0"};
	struct sigaction sa;
	size_t i;

	crash_reset_len = 0;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		const char *s = tigetstr((char *)caps[i]);
		size_t n;

		if (!s || s == (char *)-1)
			continue;
		n = strlen(s);
		if (crash_reset_len + n < sizeof(crash_reset)) {
			memcpy(crash_reset + crash_reset_len, s, n);
			crash_reset_len += n;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, &crash_old[i]);
	crash_installed = true;
}

static void crash_uninstall(void)
{
	size_t i;

	/* crash_old holds nothing to restore before crash_install has run. */
	if (crash_installed) {
		for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
			sigaction(crash_signals[i], &crash_old[i], NULL);
		crash_installed = false;
	}
	crash_saved_stderr = -1;
}

/* stderr into a memfd while the screen is up; release_stderr replays it. */
static void capture_stderr(struct tui_term *term)
{
	term->stderr_memfd = memfd_create("tcpflowtop-stderr", MFD_CLOEXEC);
	if (term->stderr_memfd < 0)
		return;
	fflush(stderr);
	term->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (term->saved_stderr < 0 || dup2(term->stderr_memfd, STDERR_FILENO) < 0) {
		if (term->saved_stderr >= 0)
			close(term->saved_stderr);
		close(term->stderr_memfd);
		term->saved_stderr = term->stderr_memfd = -1;
		return;
	}
	crash_saved_stderr = term->saved_stderr;
}

static void release_stderr(struct tui_term *term)
{
	char buf[4096];
	ssize_t n;

	if (term->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(term->saved_stderr, STDERR_FILENO);
	close(term->saved_stderr);
	term->saved_stderr = -1;
	if (lseek(term->stderr_memfd, 0, SEEK_SET) == 0) {
		while ((n = read(term->stderr_memfd, buf, sizeof(buf))) > 0) {
			if (write(STDERR_FILENO, buf, (size_t)n) != n)
				break;
		}
	}
	close(term->stderr_memfd);
	term->stderr_memfd = -1;
}

/* Colours only where the terminal has them and nobody asked for none (no-color.org). */
static void setup_colors(struct tui_term *term, bool no_color)
{
	const char *nc = getenv("NO_COLOR");

	term->color = has_colors() && !no_color && !(nc && nc[0]);
	if (!term->color)
		return;
	start_color();
	use_default_colors();
	init_pair(CP_IN, COLOR_CYAN, -1);
	init_pair(CP_OUT, COLOR_MAGENTA, -1);
	init_pair(CP_ACCEPTED, COLOR_GREEN, -1);
	init_pair(CP_REFUSED, COLOR_RED, -1);
	init_pair(CP_PENDING, COLOR_YELLOW, -1);
	init_pair(CP_BAR, COLOR_BLACK, COLOR_GREEN);
	init_pair(CP_ALERT, COLOR_WHITE, COLOR_RED);
	init_pair(CP_KEY, COLOR_BLACK, COLOR_CYAN);
}

void tui_term_init(struct tui_term *term)
{
	memset(term, 0, sizeof(*term));
	term->saved_stderr = term->stderr_memfd = -1;
}

int tui_term_open(struct tui_term *term, bool no_color, char *err, size_t errlen)
{
	struct termios tio;
	const char *name = getenv("TERM");

	setlocale(LC_CTYPE, "");
	term->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	crash_termios_ok = tcgetattr(STDIN_FILENO, &tio) == 0;
	if (crash_termios_ok)
		crash_termios = tio;
	/* newterm, not initscr: an unknown TERM is an error to report, not an exit. */
	term->screen = newterm(NULL, stdout, stdin);
	if (!term->screen) {
		snprintf(err, errlen,
			 "cannot open the screen on TERM=%s (set TERM to a known terminal, or use "
			 "--batch)",
			 name ? name : "(unset)");
		return -ENOTTY;
	}
	/* A terminal that cannot place the cursor (TERM=dumb) would only scroll garbage. */
	if (!cursor_address || cursor_address == (char *)-1 || !*cursor_address) {
		snprintf(err, errlen,
			 "TERM=%s cannot place the cursor, so it cannot show the screen (set TERM "
			 "to your terminal, or use --batch)",
			 name ? name : "(unset)");
		return -ENOTTY;
	}
	crash_install();
	capture_stderr(term);
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/*
	 * Every event a terminal in mode 1000 sends must be in the mask: ncurses
	 * waits for more input, in a blocking read(), after a press or release
	 * that its mask drops, and the screen would freeze after each click until
	 * the next key. Presses act at once, so no click-interval wait either.
	 */
	mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON2_PRESSED | BUTTON2_RELEASED |
		      BUTTON3_PRESSED | BUTTON3_RELEASED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
		      | BUTTON5_PRESSED
#endif
		  ,
		  NULL);
	mouseinterval(0);
	setup_colors(term, no_color);
	return 0;
}

void tui_term_close(struct tui_term *term)
{
	size_t i;

	if (term->screen) {
		mousemask(0, NULL);
		curs_set(1);
		endwin();
		delscreen(term->screen);
		term->screen = NULL;
		crash_uninstall();
	}
	release_stderr(term);
	for (i = 0; i < term->nheld; i++) {
		fprintf(stderr, "%s\n", term->held[i]);
		free(term->held[i]);
	}
	term->nheld = 0;
	if (term->held_dropped)
		fprintf(stderr, "tcpflowtop: %zu more messages not shown\n", term->held_dropped);
	term->held_dropped = 0;
}

void tui_term_hold(struct tui_term *term, const char *msg)
{
	if (term->nheld < HELD_MAX) {
		term->held[term->nheld] = strdup(msg);
		if (term->held[term->nheld])
			term->nheld++;
	} else {
		term->held_dropped++;
	}
}

void tui_term_resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resize_term(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}
