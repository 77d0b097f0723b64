#!/usr/bin/env bash
# The fault suite: sector7 apply of the whole built-in site through a proxy
# (tests/fault/proxy.py, TLS with a test CA, HTTP/1.1) that cuts
# connections, stalls, and answers 429/500/503/410 at seeded random points,
# with the API server or etcd killed mid-apply in some runs (up.sh restarts
# them).  After each faulty apply, an apply without faults (straight to the
# API server) must converge, and no PVC or credential Secret may have
# changed: UIDs and values compared (values hashed, never printed).  RSS
# (from /proc) and requests per second (the proxy's log and sector7's own
# counters) must stay bounded.
#
#   SECTOR7=build/sector7 FAULT_RUNS=50 tests/fault/run.sh
#
# Runs: FAULT_RUNS (default 3), the first on a fresh cluster (a full
# install under faults).  Every 4th run from the second kills a control
# plane process.  Results: $FAULT_DIR/results.tsv (default
# build/fault), one row per run, and a summary.
set -u
. "$(dirname "$0")/../lib.sh"
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
RUNS=${FAULT_RUNS:-3}
ADDONS=metallb,cert-manager,local-path,k3s,longhorn,cnpg
FDIR=${FAULT_DIR:-$ROOT/build/fault}
CDIR=$FDIR/cluster
HERE=$ROOT/tests/fault
PY=/usr/bin/python3
RSS_MAX_MB=${FAULT_RSS_MAX_MB:-300}	# peak RSS of one apply
RPS_MAX=${FAULT_RPS_MAX:-40}		# requests per second over a faulty apply
WATCH_RPS_MAX=${FAULT_WATCH_RPS_MAX:-5}	# watch requests per second
TMP=$FDIR/tmp
mkdir -p "$TMP" "$FDIR/pki"
proxy_pid="" restart_pid=""

cleanup() {
	[ -n "$restart_pid" ] && wait "$restart_pid" 2>/dev/null
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	"$ROOT/tests/cluster/down.sh" "$CDIR" >/dev/null 2>&1
}
trap cleanup EXIT

BIN=$("$ROOT/tests/cluster/build.sh") || { echo "cannot build the cluster binaries" >&2; exit 1; }
K="$BIN/kubectl"
echo "  fault: starting a fresh cluster in $CDIR"
"$ROOT/tests/cluster/up.sh" "$CDIR" --fresh --addons "$ADDONS" >/dev/null 2>"$TMP/up.err" ||
	{ cat "$TMP/up.err" >&2; exit 1; }
export KUBECONFIG=$CDIR/kubeconfig

# The proxy's certificate, from a test CA of its own.
P=$FDIR/pki
if [ ! -s "$P/proxy.crt" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" \
		-subj /CN=sector7-fault-ca -days 30 >/dev/null 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -keyout "$P/proxy.key" -out "$P/proxy.csr" \
		-subj /CN=127.0.0.1 >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$P/ext" &&
	openssl x509 -req -in "$P/proxy.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" \
		-CAcreateserial -out "$P/proxy.crt" -days 30 -extfile "$P/ext" >/dev/null 2>&1 ||
		{ echo "cannot make the proxy's certificate" >&2; exit 1; }
fi
CONTROL=$FDIR/control.json
PLOG=$FDIR/proxy.log
echo '{"seed": 0, "rate": 0}' >"$CONTROL"
: >"$PLOG"
coproc PROXY { exec "$PY" "$HERE/proxy.py" --cluster "$CDIR" --cert "$P/proxy.crt" \
	--key "$P/proxy.key" --control "$CONTROL" --log "$PLOG" 2>"$FDIR/proxy.err"; }
proxy_pid=$PROXY_PID
read -r PPORT <&"${PROXY[0]}" || { echo "the proxy did not start: $(cat "$FDIR/proxy.err")" >&2; exit 1; }
cat >"$FDIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: proxy
  cluster:
    server: https://127.0.0.1:$PPORT
    certificate-authority: $P/ca.crt
users:
- name: tester
  user:
    tokenFile: $CDIR/pki/token
contexts:
- name: proxy
  context: {cluster: proxy, user: tester}
current-context: proxy
KC
chmod 600 "$FDIR/kubeconfig"

# measure LIMIT OUT ERR CMD...: runs CMD for at most LIMIT seconds (then
# CODE 124); sets CODE, SECS, RSS (peak, MB, from /proc), T0, T1
measure() {
	local limit=$1 out=$2 err=$3 pid hwm=0 v st start=$SECONDS
	shift 3
	T0=$(date +%s.%N)
	"$@" >"$out" 2>"$err" &
	pid=$!
	CODE=""
	while :; do
		st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$pid/status 2>/dev/null)
		[ -z "$st" ] || [ "$st" = Z ] && break
		v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$pid/status 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		if [ $((SECONDS - start)) -gt "$limit" ]; then
			kill "$pid"; sleep 5; kill -9 "$pid" 2>/dev/null
			CODE=124
		fi
		sleep 0.2
	done
	wait "$pid"
	local rc=$?
	CODE=${CODE:-$rc}
	T1=$(date +%s.%N)
	RSS=$((hwm / 1024))
	SECS=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
}

jget() { $PY -c "import json,sys; print(json.load(open('$1'))$2)" 2>/dev/null || echo NA; }

# perturb SEED: deletes and changes a few objects (never volumes or credentials)
perturb() {
	local id objs n i
	RANDOM=$1
	id=$("$K" -n sector7 get secret sector7 -o jsonpath='{.metadata.labels.applyset\.kubernetes\.io/id}' 2>/dev/null)
	[ -n "$id" ] || return 0
	mapfile -t objs < <("$K" get deploy,cm,svc -A -l "applyset.kubernetes.io/part-of=$id" \
		-o jsonpath='{range .items[*]}{.kind} {.metadata.namespace} {.metadata.name}{"\n"}{end}' 2>/dev/null)
	n=${#objs[@]}
	[ "$n" -gt 0 ] || return 0
	for i in 1 2 3; do
		set -- ${objs[$((RANDOM % n))]}
		"$K" -n "$2" delete "$1" "$3" --wait=false >/dev/null 2>&1
	done
	set -- $("$K" get deploy -A -l "applyset.kubernetes.io/part-of=$id" \
		-o jsonpath='{.items[0].metadata.namespace} {.items[0].metadata.name}' 2>/dev/null)
	[ $# = 2 ] && "$K" -n "$1" patch deploy "$2" --type=json \
		-p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"example.invalid/x:1"}]' >/dev/null 2>&1
}

# kill_later DELAY WHAT: kills the API server or etcd after DELAY s, restarts the cluster
kill_later() {
	sleep "$1"
	kill "$(cat "$CDIR/run/$2.pid")" 2>/dev/null
	sleep 3
	"$ROOT/tests/cluster/up.sh" "$CDIR" --addons "$ADDONS" >/dev/null 2>"$TMP/restart.err" ||
		"$ROOT/tests/cluster/up.sh" "$CDIR" --addons "$ADDONS" >/dev/null 2>>"$TMP/restart.err"
}

RES=$FDIR/results.tsv
printf 'run\tseed\tkill\tfault_exit\tfault_s\tfault_rss_mb\tproxy_requests\tproxy_rps\tproxy_max_1s\twatch_rps\tfaults\tfault_s7_requests\tclean_exit\tclean_s\tclean_rss_mb\tclean_requests\tclean_connections\tclean_applied\tdata\n' >"$RES"
for run in $(seq 1 "$RUNS"); do
	seed=$((1000 + run))
	what=none
	[ "$run" -gt 1 ] && [ $((run % 4)) = 2 ] && what=apiserver
	[ "$run" -gt 1 ] && [ $((run % 4)) = 0 ] && what=etcd
	[ "$run" -gt 1 ] && perturb "$seed"
	printf '{"seed": %d, "rate": 1}\n' "$seed" >"$CONTROL"
	if [ "$what" != none ]; then
		kill_later $((5 + seed % 20)) "$what" &
		restart_pid=$!
	fi
	runs=$((runs + 1))
	measure 1200 "$TMP/fault.out" "$TMP/fault.err" "$S7" apply --output json --timeout 120 \
		--kubeconfig "$FDIR/kubeconfig"
	fcode=$CODE fsecs=$SECS frss=$RSS ft0=$T0 ft1=$T1
	echo '{"seed": 0, "rate": 0}' >"$CONTROL"
	if [ -n "$restart_pid" ]; then
		wait "$restart_pid"
		restart_pid=""
	fi
	[ "$fcode" = 124 ] && fail "run $run (seed $seed): apply under faults hung (killed after 1200 s)"
	case "$fcode" in 0|1|4|5) ;; *) fail "run $run (seed $seed): apply under faults exited $fcode: $(tail -3 "$TMP/fault.err")" ;; esac
	cp "$TMP/fault.err" "$FDIR/run-$run.fault.err"
	"$PY" "$HERE/check.py" requests "$PLOG" "$ft0" "$ft1" >"$TMP/req.json"
	fs7req=NA
	[ "$fcode" = 0 ] && fs7req=$(jget "$TMP/fault.out" "['requests']")
	# no faults, straight to the API server: it converges
	runs=$((runs + 1))
	measure 1200 "$TMP/clean.out" "$TMP/clean.err" "$S7" apply --output json --timeout 300
	ccode=$CODE csecs=$SECS crss=$RSS
	[ "$ccode" = 0 ] || fail "run $run (seed $seed): the apply after it did not converge (exit $ccode): $(tail -5 "$TMP/clean.err")"
	cp "$TMP/clean.err" "$FDIR/run-$run.clean.err"
	"$PY" "$HERE/check.py" snapshot "$K" "$TMP/now.json" >/dev/null ||
		fail "run $run: cannot read PVCs and Secrets"
	data=ok
	if [ "$run" = 1 ]; then
		cp "$TMP/now.json" "$FDIR/baseline.json"
		echo "  fault: baseline: $("$PY" "$HERE/check.py" snapshot "$K" "$FDIR/baseline.json")"
	else
		runs=$((runs + 1))
		"$PY" "$HERE/check.py" compare "$FDIR/baseline.json" "$TMP/now.json" >"$TMP/cmp" ||
			{ data=changed; fail "run $run (seed $seed): $(head -5 "$TMP/cmp")"; }
	fi
	preq=$(jget "$TMP/req.json" "['requests']")
	prps=$(jget "$TMP/req.json" "['rps']")
	pmax=$(jget "$TMP/req.json" "['max_per_second']")
	pfaults=$(jget "$TMP/req.json" "['faults']")
	wrps=$(awk -v w="$(jget "$TMP/req.json" "['watches']")" -v s="$fsecs" 'BEGIN { printf "%.2f", w / (s > 0 ? s : 1) }')
	runs=$((runs + 1))
	[ "$frss" -le "$RSS_MAX_MB" ] && [ "$crss" -le "$RSS_MAX_MB" ] ||
		fail "run $run: peak RSS ${frss} MB under faults, ${crss} MB after (limit $RSS_MAX_MB MB)"
	awk -v r="$prps" -v m="$RPS_MAX" -v w="$wrps" -v wm="$WATCH_RPS_MAX" 'BEGIN { exit !(r <= m && w <= wm) }' ||
		fail "run $run: $prps requests/s ($wrps watches/s) under faults (limits $RPS_MAX, $WATCH_RPS_MAX)"
	printf '%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$run" "$seed" "$what" "$fcode" "$fsecs" "$frss" "$preq" "$prps" "$pmax" "$wrps" "$pfaults" "$fs7req" \
		"$ccode" "$csecs" "$crss" "$(jget "$TMP/clean.out" "['requests']")" \
		"$(jget "$TMP/clean.out" "['connections']")" "$(jget "$TMP/clean.out" "['applied']")" "$data" >>"$RES"
	echo "  fault: run $run/$RUNS seed $seed kill=$what: faulty apply exit $fcode in ${fsecs}s (peak ${frss} MB, $preq requests, $prps/s, $pfaults faults); clean apply exit $ccode in ${csecs}s; data $data"
done
echo "  fault: results in $RES"
"$PY" "$HERE/check.py" summary "$RES" | sed 's/^/    /'
echo "  fault: $runs checks, $fails failed"
[ "$fails" = 0 ]
