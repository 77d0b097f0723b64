# Sourced by tests/verify/run.sh and bench/verify.sh: the loopback servers
# verify's probes go to, and the stand-in for the query pod's container.
# The caller sets TMP, K (kubectl), S7 and an array PIDS (what to stop).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_resolvers SITE: Unbound on 127.0.0.1:$IN_PORT with the internal
# overrides and on :$PUB_PORT with the public zone, both from
# `sector7 dns --output json`; nothing else is ever resolved.
start_resolvers() {
	local v
	"$S7" dns -f "$1" --output json >"$TMP/dns.json"
	python3 - "$TMP/dns.json" "$TMP/internal.data" "$TMP/public.data" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for view, out in (("internal", sys.argv[2]), ("external", sys.argv[3])):
    with open(out, "w") as f:
        for r in d[view]:
            v = r["value"] + ("." if r["type"] == "CNAME" else "")
            f.write('local-data: "%s. %d IN %s %s"\n' % (r["name"], r["ttl"], r["type"], v))
EOF
	zone=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["external"][0]["name"])' "$TMP/dns.json")
	IN_PORT=$(free_port); PUB_PORT=$(free_port)
	for v in internal public; do
		cat >"$TMP/$v.conf" <<-EOF
		server:
		  interface: 127.0.0.1
		  port: $([ $v = internal ] && echo "$IN_PORT" || echo "$PUB_PORT")
		  do-daemonize: no
		  username: ""
		  chroot: ""
		  directory: "$TMP"
		  pidfile: ""
		  use-syslog: no
		  logfile: "$TMP/$v.log"
		  do-ip6: no
		  access-control: 127.0.0.0/8 allow
		  module-config: "iterator"
		  local-zone: "." refuse
		  local-zone: "$zone." static
		EOF
		cat "$TMP/$v.data" >>"$TMP/$v.conf"
	done
	/usr/sbin/unbound -d -c "$TMP/internal.conf" & UNBOUND_IN=$!; PIDS+=($!)
	/usr/sbin/unbound -d -c "$TMP/public.conf" & PIDS+=($!)
}

# start_ingress ADDR HOST...: the HTTPS stand-in with $TMP/HOST.crt/.key;
# sets HTTPS to ADDR:PORT once it listens.
start_ingress() {
	local addr=$1 i; shift
	python3 "$ROOT/tests/verify/https_server.py" "$addr" "$TMP" "$@" >"$TMP/https.port" & PIDS+=($!)
	for i in $(seq 100); do [ -s "$TMP/https.port" ] && break; sleep 0.1; done
	HTTPS=$addr:$(cat "$TMP/https.port")
}

# start_prometheus: a real Prometheus on 127.0.0.1:$PROM_PORT scraping
# itself, with kube-prometheus's Watchdog and one rule that never fires.
start_prometheus() {
	local i
	PROM_PORT=$(free_port)
	cat >"$TMP/rules.yml" <<-EOF
	groups:
	- name: general.rules
	  interval: 1s
	  rules:
	  - {alert: Watchdog, expr: vector(1), labels: {severity: none}}
	- name: site
	  interval: 1s
	  rules:
	  - {alert: BackupTooOld, expr: vector(0) > 1, labels: {severity: warning}}
	EOF
	cat >"$TMP/prometheus.yml" <<-EOF
	global: {scrape_interval: 1s, evaluation_interval: 1s}
	rule_files: [$TMP/rules.yml]
	scrape_configs:
	- {job_name: prometheus-k8s, static_configs: [{targets: ['127.0.0.1:$PROM_PORT']}]}
	EOF
	/usr/bin/prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
		--web.listen-address=127.0.0.1:$PROM_PORT 2>"$TMP/prom.log" & PIDS+=($!)
	# (its scrape manager takes up to 5 s to take the targets in)
	for i in $(seq 150); do
		curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/alerts" | grep -q Watchdog &&
			curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/targets" | grep -q '"health":"up"' && break
		sleep 0.1
	done
}

# play_sql (run in the background): kwok runs no container, so this plays
# the query pod's: once kwok has a verify pod Running, its status is
# patched to what the container reports after the query, its termination
# message PostgreSQL's answer for the namespace's cluster.  The pod and its
# NetworkPolicy are saved to $TMP for the test to look at.
play_sql() {
	"$K" get pods -A -l sector7.io/verify --watch-only -o \
		jsonpath='{.metadata.namespace} {.metadata.name} {.status.phase}{"\n"}' |
	while read -r ns name phase; do
		[ "$phase" = Running ] || continue
		grep -q "^$ns $name$" "$TMP/played" 2>/dev/null && continue
		echo "$ns $name" >>"$TMP/played"
		"$K" -n "$ns" get pod "$name" -o json >"$TMP/pod-$name.json"
		"$K" -n "$ns" get networkpolicy "$name" -o json >"$TMP/np-$name.json" 2>&1
		case $ns in
		postgres) msg='db:n8n\ndb:nocodb\ndb:postgres\nrole:dump\nrole:n8n\nrole:nocodb\next:plpgsql\nok\n' ;;
		appflowy) msg='db:appflowy\ndb:postgres\nrole:appflowy\nrole:dump\next:plpgsql\next:vector\nok\n' ;;
		esac
		now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
		"$K" -n "$ns" patch pod "$name" --subresource=status --type=merge -p \
			"{\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"sql\",\"image\":\"x\",\"imageID\":\"\",\"ready\":false,\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\",\"message\":\"$msg\",\"startedAt\":\"$now\",\"finishedAt\":\"$now\"}}}]}}" >/dev/null
	done
}
