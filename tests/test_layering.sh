#!/usr/bin/env bash
# The module map (STYLE.md): core never includes curses; ui never includes
# libbpf, the skeleton or c-ares; export (above core and ui) neither curses nor
# those, and nothing below it includes it; bpf/ only the shared header of ours.
set -u
src=$1
bad=0
if grep -nE '#include <(n?curses|ncursesw/)' "$src"/src/core/*.[ch] "$src"/include/*.h; then
	echo "FAIL: curses included outside src/ui" >&2
	bad=1
fi
if grep -nE '#include [<"](bpf/|ares|.*skel\.h|capture\.h|resolver\.h)' "$src"/src/ui/*.[ch]; then
	echo "FAIL: src/ui includes libbpf, the skeleton, c-ares or their wrappers" >&2
	bad=1
fi
if grep -nE '#include <(n?curses|ncursesw/)|#include [<"](bpf/|ares|.*skel\.h|capture\.h|resolver\.h)' \
	"$src"/src/export/*.[ch]; then
	echo "FAIL: src/export includes curses, libbpf, the skeleton or c-ares" >&2
	bad=1
fi
if grep -nE '#include [<"](microhttpd|fixbuf/|metrics|ipfix|exporters)' "$src"/src/core/*.[ch] \
	"$src"/src/ui/*.[ch]; then
	echo "FAIL: core or ui includes an exporter or its libraries (export sits above them)" >&2
	bad=1
fi
if grep -nE '#include "' "$src"/bpf/*.c | grep -v '"tft_events.h"'; then
	echo "FAIL: bpf/ includes a project header other than include/tft_events.h" >&2
	bad=1
fi
[ $bad = 0 ] && echo "PASS: include graph follows the module map"
exit $bad
