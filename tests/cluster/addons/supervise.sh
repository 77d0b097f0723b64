#!/usr/bin/env bash
# supervise.sh CMD...: run CMD, restart it 2 s after it exits (1 s for status 3) (e.g. while the
# CRDs or ConfigMap it needs are not there yet). SIGTERM/SIGINT stop CMD and
# then this loop. Used by up.sh --addons; its PID is the one in DIR/run.
child=""
stop() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; [ -n "$child" ] && wait "$child"; exit 0; }
trap stop TERM INT HUP
while :; do
  "$@" &
  child=$!
  wait "$child"
  rc=$?
  # status 3 from launch.sh means "not deployed yet": retry quietly
  [ "$rc" = 3 ] || echo "supervise.sh: $(basename "$1") exited with status $rc; restarting in 2 s" >&2
  if [ "$rc" = 3 ]; then sleep 1 & else sleep 2 & fi
  child=$!
  wait "$child"
done
