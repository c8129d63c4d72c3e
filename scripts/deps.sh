#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, run and test tcpflowtop.
set -eu
PACKAGES=(
	# build
	cmake make gcc pkg-config clang llvm bpftool
	libbpf-dev libelf-dev zlib1g-dev libc-ares-dev libncurses-dev libcap-dev
	# tests
	libclang-rt-14-dev dnsmasq-base tmux iproute2 util-linux procps mount coreutils binutils
	python3 xvfb xterm xdotool fonts-dejavu-core nftables
	# exporters: build, and the collectors their tests run
	libmicrohttpd-dev libfixbuf-dev prometheus nfdump pmacct curl systemd
)
# "bench": also what bench/run compares against and loads with.
if [ "${1:-}" = bench ]; then
	PACKAGES+=(tcpdump iperf3 bpftrace libbpf-tools valgrind)
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
