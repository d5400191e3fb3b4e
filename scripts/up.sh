#!/bin/bash
# make up (after deps, the build and make rootfs): a one-node cluster on
# this machine. Starts `skiff server` (the API server on SQLite, the
# scheduler and controllers, and an agent for this machine) in the
# background, waits for the node to be Ready, runs the seed's example (the
# Service test-service, port 80 -> 8888, over three web pods), checks that
# it answers by ClusterIP and by name, and prints the next commands.
# Idempotent: a server already running is reused, the example re-applied.
#   scripts/up.sh        DATA_DIR, IMAGE_DIR, STATE_DIR, CGROUP_ROOT may be set
set -euo pipefail
cd "$(dirname "$0")/.."
SKIFF=${SKIFF:-$PWD/${SKIFF_BUILD:-build}/skiff}
DATA_DIR=${DATA_DIR:-/var/lib/skiff/server}
KCFG=$DATA_DIR/admin.kubeconfig
LOG=$DATA_DIR/server.log
opts=()
[[ -n ${IMAGE_DIR:-} ]] && opts+=(--image-dir "$IMAGE_DIR")
[[ -n ${STATE_DIR:-} ]] && opts+=(--state-dir "$STATE_DIR")
[[ -n ${CGROUP_ROOT:-} ]] && opts+=(--cgroup-root "$CGROUP_ROOT")

if [[ $(id -u) != 0 ]]; then
	echo "make up: run as root (sudo make up): pods need namespaces and cgroups" >&2
	exit 1
fi
export KUBECONFIG=$KCFG
k() { "$SKIFF" "$@"; }

# wait_until SECONDS CMD...
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}
server_up() { [[ -s $KCFG ]] && k version >/dev/null 2>&1; }
node_ready() {
	k get nodes -o 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}' | grep -q True
}

mkdir -p "$DATA_DIR"
if [[ -s $DATA_DIR/server.pid ]] && kill -0 "$(cat "$DATA_DIR/server.pid")" 2>/dev/null; then
	echo "skiff server already runs (pid $(cat "$DATA_DIR/server.pid")), data in $DATA_DIR"
else
	rm -f "$KCFG"
	setsid "$SKIFF" server --data-dir "$DATA_DIR" "${opts[@]}" </dev/null >>"$LOG" 2>&1 &
	echo $! >"$DATA_DIR/server.pid"
	if ! wait_until 30 server_up; then
		echo "make up: skiff server did not start; its log ($LOG):" >&2
		tail -20 "$LOG" >&2
		exit 1
	fi
	echo "skiff server started (pid $(cat "$DATA_DIR/server.pid")), data in $DATA_DIR, log $LOG"
fi
if ! wait_until 60 node_ready; then
	echo "make up: the node did not become Ready; see $LOG" >&2
	exit 1
fi

# the seed's example: its Service exactly, and three pods of the web image
k apply -f - >/dev/null <<'EOF'
kind: Service
apiVersion: v1
metadata:
  name: test-service
spec:
  selector:
    app: test-app
  ports:
  - protocol: TCP
    port: 80
    targetPort: 8888
EOF
for i in 1 2 3; do
	k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: web-$i
  labels: {app: test-app}
spec:
  containers:
  - name: web
    image: web:latest
    ports: [{containerPort: 8888}]
    readinessProbe: {httpGet: {path: /healthz, port: 8888}, periodSeconds: 2}
EOF
done
three_ready() {
	[[ $(k get endpoints test-service -o 'jsonpath={.subsets[*].addresses[*].ip}' | wc -w) == 3 ]]
}
if ! wait_until 60 three_ready; then
	echo "make up: the web pods did not become ready:" >&2
	k get pods -o wide >&2
	exit 1
fi
vip=$(k get service test-service -o 'jsonpath={.spec.clusterIP}')

echo
k get nodes -o wide
echo
k get pods -o wide
echo
k get service test-service
echo
answers=$(for _ in 1 2 3 4 5 6; do timeout 5 busybox wget -qO- "http://$vip/" 2>/dev/null; done | sort -u | tr '\n' ' ')
echo "It answers on its ClusterIP: $answers"
byname=$(k exec web-1 -- wget -qO- http://test-service.default.svc.cluster.local/ 2>/dev/null)
echo "It answers by name from a pod: $byname"
cat <<EOF

skiff is up: a one-node cluster (API server, scheduler, controllers, and this
machine as node $(k get nodes -o 'jsonpath={.items[0].metadata.name}')).

  export KUBECONFIG=$KCFG   # for kubectl (skiff reads the default one itself)
  skiff get pods -o wide                   # or: kubectl get pods -o wide
  curl http://$vip/         # the Service, from this machine
  skiff logs web-1                         # -f follows
  skiff exec -it web-1 -- sh               # or: kubectl exec -it web-1 -- sh
  skiff delete pod web-2                   # and watch test-service leave it

Stop the server: kill $(cat "$DATA_DIR/server.pid")  (pods keep running; a new server adopts them)
EOF
[[ -n $answers && -n $byname ]]
