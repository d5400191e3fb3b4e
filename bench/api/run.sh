#!/bin/bash
# bench/api: the API server under load, on a server of its own (port 0,
# temporary data dir, no agent), with bench/api/loadgen.c (libcurl):
#   creates/s: 10,000 pods from 4 concurrent clients (keep-alive, HTTPS),
#              with --sync normal and with the default --sync full
#   LIST:      all 10,000 pods, median of 20 (client-side, whole body)
#   RSS:       the server holding 10,000 pods (VmRSS, VmHWM)
#   fan-out:   1,000 watchers, each must see every one of 1,000 updates
# Results in build/bench/api.txt. PODS, CLIENTS, WATCHERS, UPDATES override.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SKIFF_BUILD:-build}
SKIFF=${SKIFF:-$TOP/$BUILD/skiff}
OUT=$TOP/$BUILD/bench
PODS=${PODS:-10000}
CLIENTS=${CLIENTS:-4}
WATCHERS=${WATCHERS:-1000}
UPDATES=${UPDATES:-1000}
mkdir -p "$OUT"
for c in cc pkg-config curl "$SKIFF"; do
	command -v "$c" >/dev/null || { echo "bench/api: needs $c (make deps)" >&2; exit 1; }
done
LOADGEN=$OUT/api-loadgen
cc -O2 -Wall -Wextra -o "$LOADGEN" "$TOP/bench/api/loadgen.c" $(pkg-config --cflags --libs libcurl) -lpthread

WORK=$(mktemp -d /tmp/skiffbench-api.XXXXXX)
PID=
trap 'rm -rf "$WORK"' EXIT
# start_server NAME ARGS...: a server of its own on WORK/NAME.
# No scheduler: with no nodes it would add a status write and an event per
# pod, which measures the scheduler rather than the API server.
start_server() {
	local dir=$WORK/$1
	shift
	"$SKIFF" server --data-dir "$dir" --listen 127.0.0.1:0 --disable-agent \
		--disable-scheduler "$@" >"$dir.log" 2>&1 &
	PID=$!
	for _ in $(seq 200); do
		[[ -s $dir/admin.kubeconfig ]] && break
		sleep 0.05
	done
	URL=$(sed -n 's/^ *server: *//p' "$dir/admin.kubeconfig")
	TOKEN=$(cat "$dir/token")
	CA=$dir/tls/ca.crt
	api -X POST "$URL/api/v1/namespaces" -d '{"metadata":{"name":"bench"}}' >/dev/null
}
stop_server() {
	[[ -n $PID ]] || return 0
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
}
api() { curl -sS --cacert "$CA" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" "$@"; }
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
creates() { # LABEL
	local c0 c1
	c0=$(cpu)
	"$LOADGEN" create "$URL" "$TOKEN" "$CA" bench "$PODS" "$CLIENTS" | sed "s/^create:/create ($1):/"
	c1=$(cpu)
	echo "create ($1): server CPU $(((c1 - c0) * 10000 / PODS)) us per create"
	api "$URL/metrics" | awk -v l="$1" '/^skiff_store_(writes|transactions)_total/ {v[$1]=$2}
		END {printf "create (%s): %.1f writes per commit (group commit)\n", l, v["skiff_store_writes_total"]/v["skiff_store_transactions_total"]}'
}

{
	# this block runs in a subshell of its own (the pipe to tee): PID is
	# set here, so the server is stopped here, also when a step fails
	trap 'stop_server 2>/dev/null' EXIT
	echo "# bench/api, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# server: $SKIFF server --disable-scheduler (SQLite WAL, HTTPS): creates with"
	echo "# --sync normal, then everything with the default --sync full"
	start_server normal --sync normal
	creates "--sync normal"
	stop_server
	start_server full
	rss0=$(rss)
	creates "--sync full"
	sleep 11 # the server hands freed memory back every 10 s
	echo "rss: idle $((rss0 / 1024)) MB; holding $PODS pods $(($(rss) / 1024)) MB (VmHWM $(($(awk '/^VmHWM/ {print $2}' /proc/$PID/status) / 1024)) MB)"
	"$LOADGEN" list "$URL" "$TOKEN" "$CA" bench 20
	api -X POST "$URL/api/v1/namespaces/bench/pods" \
		-d '{"metadata":{"name":"watched"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}}' >/dev/null
	"$LOADGEN" watch "$URL" "$TOKEN" "$CA" bench "$WATCHERS" "$UPDATES"
	echo "watch: server RSS with $WATCHERS watches open $(($(rss) / 1024)) MB"
} 2>&1 | tee "$OUT/api.txt"
