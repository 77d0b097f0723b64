#!/bin/sh
# Installs the Debian packages sector7's build and tests need, only those
# missing (run as root; uses sudo when not root).
set -eu
# unbound and prometheus are run by the verify tests on loopback ports of
# their own.  Their packages also install system services: on a machine
# with systemd these start (Unbound on 127.0.0.1:53, Prometheus on :9090);
# `systemctl disable --now unbound prometheus` if that is not wanted.
pkgs="gcc make libc6-dev libcrypt-dev libyaml-dev libjansson-dev libssl-dev libcurl4-openssl-dev python3 python3-yaml util-linux openssl curl postgresql unbound prometheus"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y -q $missing >/dev/null 2>&1 || {
	$SUDO apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q $missing >/dev/null
}
