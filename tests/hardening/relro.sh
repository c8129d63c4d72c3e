#!/bin/sh
# Release hardening of the binary: a position-independent executable (ELF
# type DYN with PIE), full RELRO (GNU_RELRO segment + BIND_NOW), the stack
# protector, and _FORTIFY_SOURCE's checked functions (unless built without,
# as sanitizer and Debug builds are: pass "nofortify" as the second argument).
. "$(dirname "$0")/lib.sh"
BIN=$1
FORTIFY=${2:-fortify}
need_cmd readelf

readelf -h "$BIN" | grep -q 'Type:[[:space:]]*DYN' || fail "not a DYN (PIE) executable"
readelf -d "$BIN" | grep -q 'FLAGS_1.*PIE' || fail "no PIE flag"
readelf -lW "$BIN" | grep -q 'GNU_RELRO' || fail "no GNU_RELRO segment"
readelf -d "$BIN" | grep -Eq '\(FLAGS\).*BIND_NOW|\(BIND_NOW\)' || fail "no BIND_NOW"
readelf -d "$BIN" | grep -Eq 'FLAGS_1.*NOW' || fail "no DF_1_NOW"
readelf --dyn-syms -W "$BIN" | grep -q '__stack_chk_fail' || fail "no stack protector"
if [ "$FORTIFY" = fortify ]; then
	readelf --dyn-syms -W "$BIN" | grep -Eq '__[a-z]+_chk@' || fail "no _FORTIFY_SOURCE checked functions"
fi
pass "PIE, full RELRO, BIND_NOW, stack protector ($FORTIFY)"
