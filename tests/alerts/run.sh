#!/usr/bin/env bash
# Alerts that reach someone: a site with a mail and a webhook receiver is
# rendered; its AlertmanagerConfig becomes Alertmanager's configuration the
# way the Prometheus operator makes it (operator_sim.py: SIMULATED, the
# operator does not run here), with the values of the Secrets the site
# names; the real Alertmanager v0.33.0 (built from the Go module proxy,
# build.sh) runs it on 127.0.0.1; a test alert and a Watchdog are posted
# to its API; an SMTP sink and a webhook sink on 127.0.0.1 (sinks.py) must
# receive the test alert, with the login and the bearer token from those
# Secrets, and never the Watchdog.
#
#   SECTOR7=build/sector7 tests/alerts/run.sh
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$ROOT/tests/alerts
TMP=$(mktemp -d)
SINKS_PID="" AM_PID=""
cleanup() {
	[ -n "$AM_PID" ] && kill "$AM_PID" 2>/dev/null && wait "$AM_PID" 2>/dev/null
	[ -n "$SINKS_PID" ] && kill "$SINKS_PID" 2>/dev/null && wait "$SINKS_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
cd "$ROOT"
AM=$("$HERE/build.sh") || { echo "FAIL: cannot build Alertmanager" >&2; exit 1; }

mkdir -p "$TMP/got"
coproc SINKS { exec python3 -u "$HERE/sinks.py" "$TMP/got"; }
SINKS_PID=$SINKS_PID
read -r -t 10 SMTP_PORT HOOK_PORT <&"${SINKS[0]}" || { echo "FAIL: the sinks did not start" >&2; exit 1; }

# The site: the built-in one with two receivers.  Their credentials are
# Secrets the site's owner creates; sector7 only names them.
{ cat examples/sector7.yaml; cat <<EOS
alerts:
  email:
    - {to: ops@example.org, from: alertmanager@example.org, smtp-host: 127.0.0.1,
       smtp-port: $SMTP_PORT, tls: none, username: alerts, password-secret: alerts-smtp}
  webhook:
    - {url: "http://127.0.0.1:$HOOK_PORT/hook", token-secret: alerts-webhook}
EOS
} >"$TMP/site.yaml"
PASSWORD=smtp-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN=tok-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '{"alerts-smtp/password": "%s", "alerts-webhook/token": "%s"}\n' "$PASSWORD" "$TOKEN" >"$TMP/secrets.json"

expect 0 "$S7" check -f "$TMP/site.yaml"
expect 0 "$S7" render -f "$TMP/site.yaml"
cp "$TMP/out" "$TMP/render.yaml"
contains "$TMP/render.yaml" "name: alerts-smtp"
contains "$TMP/render.yaml" "name: alerts-webhook"
runs=$((runs + 1))
python3 "$HERE/operator_sim.py" "$TMP/render.yaml" "$TMP/secrets.json" >"$TMP/alertmanager.yaml" ||
	{ fail "the rendered AlertmanagerConfig does not convert"; exit 1; }

AM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$AM" --config.file="$TMP/alertmanager.yaml" --storage.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
	--log.level=debug >"$TMP/am.log" 2>&1 &
AM_PID=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break
	kill -0 "$AM_PID" 2>/dev/null || { fail "Alertmanager exited: $(tail -5 "$TMP/am.log")"; exit 1; }
	sleep 0.1
done
curl -sf "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null || { fail "Alertmanager not ready: $(tail -5 "$TMP/am.log")"; exit 1; }

# The rendered configuration, as Alertmanager loaded it.
curl -sf "http://127.0.0.1:$AM_PORT/api/v2/status" >"$TMP/status.json"
python3 - "$TMP/status.json" <<'PY' || fail "Alertmanager's loaded configuration is not the rendered one"
import json, sys, yaml
cfg = yaml.safe_load(json.load(open(sys.argv[1]))["config"]["original"])
names = [r["name"] for r in cfg["receivers"]]
assert names == ["monitoring/main/default", "monitoring/main/null"], names
assert cfg["route"]["receiver"] == "monitoring/main/default", cfg["route"]
assert [r["receiver"] for r in cfg["route"]["routes"]] == ["monitoring/main/null"] * 2
PY

# A test alert, and the Watchdog that must go nowhere.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -sf -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:$AM_PORT/api/v2/alerts" -d "[
  {\"labels\": {\"alertname\": \"Sector7TestAlert\", \"severity\": \"warning\", \"namespace\": \"n8n\"},
   \"annotations\": {\"summary\": \"a test alert from tests/alerts\"}, \"startsAt\": \"$now\"},
  {\"labels\": {\"alertname\": \"Watchdog\", \"severity\": \"none\", \"namespace\": \"monitoring\"}, \"startsAt\": \"$now\"}
]" >/dev/null || fail "Alertmanager refused the alerts"
# The route waits groupWait (30s) before the first notification.
for _ in $(seq 90); do
	[ -e "$TMP/got/mail-1.json" ] && [ -e "$TMP/got/hook-1.json" ] && break
	sleep 1
done
[ -e "$TMP/got/mail-1.json" ] || fail "no mail reached the SMTP sink: $(grep -i 'email\|notify' "$TMP/am.log" | tail -5)"
[ -e "$TMP/got/hook-1.json" ] || fail "nothing reached the webhook sink: $(grep -i 'webhook\|notify' "$TMP/am.log" | tail -5)"
sleep 2	# anything else that would come (a Watchdog) comes now
runs=$((runs + 1))
python3 - "$TMP/got" "$PASSWORD" "$TOKEN" <<'PY' || fail "what the sinks received is not the alert"
import glob, json, sys
d, password, token = sys.argv[1:]
mails = [json.load(open(f)) for f in sorted(glob.glob(d + "/mail-*.json"))]
hooks = [json.load(open(f)) for f in sorted(glob.glob(d + "/hook-*.json"))]
for m in mails:
    assert m["login"] == {"mechanism": "PLAIN", "user": "alerts", "password": password}, m["login"]
    assert m["rcpt"] == ["TO:<ops@example.org>"], m["rcpt"]
    assert "alertmanager@example.org" in m["from"], m["from"]
    assert "Sector7TestAlert" in m["data"], m["data"][:400]
    assert "Watchdog" not in m["data"]
for h in hooks:
    assert h["path"] == "/hook", h["path"]
    assert h["authorization"] == "Bearer " + token, h["authorization"]
    b = h["body"]
    assert b["receiver"] == "monitoring/main/default", b["receiver"]
    names = [a["labels"]["alertname"] for a in b["alerts"]]
    assert names == ["Sector7TestAlert"], names
    assert b["alerts"][0]["status"] == "firing"
print("  alerts: %d mail(s) and %d webhook call(s) with the test alert, no Watchdog" % (len(mails), len(hooks)))
PY
# The credentials are in no rendered file.
grep -qF "$PASSWORD" "$TMP/render.yaml" && fail "the SMTP password is in the render"
grep -qF "$TOKEN" "$TMP/render.yaml" && fail "the webhook token is in the render"

echo "  alerts: $runs runs, $fails failed"
[ "$fails" = 0 ]
