#!/bin/sh
# Installs the Debian packages sector7's build and tests need, only those
# missing (run as root; uses sudo when not root).
set -eu
pkgs="gcc make libc6-dev libcrypt-dev libyaml-dev libjansson-dev libssl-dev libcurl4-openssl-dev python3 python3-yaml util-linux openssl curl postgresql"
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
