#!/usr/bin/env bash
# run.sh [tcpflowtop flags]: installs the packages, builds, and runs tcpflowtop (as root).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
if [ "$(id -u)" = 0 ]; then
	exec build/tcpflowtop "$@"
fi
exec sudo build/tcpflowtop "$@"
