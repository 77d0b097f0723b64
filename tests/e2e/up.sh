#!/usr/bin/env bash
# make e2e-up: the end-to-end site left running (tests/e2e/README.md).
# Starts the cluster with the real node in DIR (default .cluster), applies
# tests/e2e/site.yaml, runs the first checks, and writes DIR/../e2e.env:
# the kubeconfig, the ingress address, the site's CA file and domain.
#
#   SECTOR7=build/sector7 tests/e2e/up.sh [DIR]
#   tests/cluster/down.sh DIR --purge      stops it
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-$HERE/../../.cluster}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
E2E_DIR=$DIR E2E_KEEP=1 E2E_ONLY=up "$HERE/run.sh"
rc=$?
if [ -f "$DIR.env" ]; then
	mv -f "$DIR.env" "$DIR/e2e.env"
	mv -f "$DIR.ca.crt" "$DIR/e2e-ca.crt"
	sed -i "s#^E2E_CA=.*#E2E_CA=$DIR/e2e-ca.crt#" "$DIR/e2e.env"
	echo "e2e: $DIR/e2e.env"
	cat "$DIR/e2e.env"
fi
exit $rc
