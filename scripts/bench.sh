#!/usr/bin/env bash
# bench.sh: installs the packages (with the tools compared against), builds, and
# prints the benchmark table of bench/README.md. Takes about 5 minutes.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh bench
scripts/build.sh build
exec bench/run build
