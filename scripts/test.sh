#!/usr/bin/env bash
# test.sh: installs the packages, builds twice (release, and ASan+UBSan), and runs
# every test through ctest in both builds. Tests that need root run as root here.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
if [ "$(id -u)" != 0 ]; then
	echo "test.sh: the BPF and end-to-end tests need root; rerun with sudo" >&2
	exit 1
fi
scripts/build.sh build
# clang for the sanitizer build: it also builds the libFuzzer target, which ctest runs briefly.
CC=clang scripts/build.sh build-asan -DTFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build && ctest --output-on-failure --no-tests=error)
(cd build-asan && ctest --output-on-failure --no-tests=error)
echo "test.sh: all tests passed in the release and the ASan+UBSan builds"
