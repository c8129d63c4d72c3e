#!/usr/bin/env bash
# bench.sh: installs the packages (with the tools compared against), builds, and
# prints the benchmark table of bench/README.md. Takes about 5 minutes.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh bench
scripts/build.sh build
# A clang ASan+UBSan build for the fuzz target the bench runs for minutes.
CC=clang scripts/build.sh build-asan -DTFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
FUZZ=$PWD/build-asan/tests/fuzz_dns_parse exec bench/run build
