#!/usr/bin/env bash
# Builds Alertmanager v0.33.0 (the version kube-prometheus v0.18.0 runs)
# from the Go module proxy, once, into ~/.cache/sector7/alerts-bin, and
# prints the binary's path.  The module ships without its web UI's built
# assets (ui/app/dist, made by npm upstream); the build gets a one-page
# placeholder there, which changes nothing the tests use (the API and the
# notifiers).
set -eu
VERSION=v0.33.0
OUT=${SECTOR7_CACHE:-$HOME/.cache/sector7}/alerts-bin
BIN=$OUT/alertmanager-$VERSION
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "build.sh: go is needed to build Alertmanager" >&2; exit 1; }
mkdir -p "$OUT"
SRC=$(mktemp -d)
trap 'chmod -R u+w "$SRC"; rm -rf "$SRC"' EXIT
echo "building Alertmanager $VERSION from the Go module proxy (a few minutes, once)" >&2
(cd "$SRC" && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/alertmanager@$VERSION" >mod.json)
DIR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Dir"])' "$SRC/mod.json")
cp -r "$DIR" "$SRC/am" && chmod -R u+w "$SRC/am"
mkdir -p "$SRC/am/ui/app/dist"
echo '<!doctype html><title>Alertmanager</title>' >"$SRC/am/ui/app/dist/index.html"
(cd "$SRC/am" && nice -n 10 go build -o "$BIN.tmp" ./cmd/alertmanager)
mv "$BIN.tmp" "$BIN"
echo "$BIN"
