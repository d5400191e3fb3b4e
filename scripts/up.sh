#!/bin/bash
# make up (after deps, the build and make rootfs): run the web example pod
# on this machine with `skiff play --detach` and show how to reach it.
# Until the cluster exists (a later issue: skiff server and agent), this
# is what "up" means. Idempotent: a web pod already running is replaced.
#   scripts/up.sh            IMAGE_DIR, STATE_DIR and CGROUP_ROOT may be set
set -euo pipefail
cd "$(dirname "$0")/.."
SKIFF=${SKIFF:-$PWD/${SKIFF_BUILD:-build}/skiff}
POD=rootfs-examples/web/pod.yaml
opts=()
[[ -n ${IMAGE_DIR:-} ]] && opts+=(--image-dir "$IMAGE_DIR")
[[ -n ${STATE_DIR:-} ]] && opts+=(--state-dir "$STATE_DIR")
[[ -n ${CGROUP_ROOT:-} ]] && opts+=(--cgroup-root "$CGROUP_ROOT")
ps_opts=()
[[ -n ${STATE_DIR:-} ]] && ps_opts+=(--state-dir "$STATE_DIR")

if [[ $(id -u) != 0 ]]; then
	echo "make up: run as root (sudo make up): pods need namespaces and cgroups" >&2
	exit 1
fi

"$SKIFF" play --down "${opts[@]}" "$POD" >/dev/null 2>&1 || true
"$SKIFF" play --detach "${opts[@]}" "$POD"

# The pod's row in `skiff ps`: NAME NAMESPACE STATE RESTARTS IP AGE
row=$("$SKIFF" ps "${ps_opts[@]}" | awk '$1 == "web"')
ip=$(awk '{print $5}' <<<"$row")
echo
echo "skiff is up: the web pod runs busybox httpd on port 8888 (GET / answers its hostname)."
"$SKIFF" ps "${ps_opts[@]}"
echo
if [[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	url=http://$ip:8888/
	echo "Reach it:   curl $url   (or: busybox wget -qO- $url)"
	reach=(timeout 5 busybox wget -qO- "$url")
else
	# no pod network yet: the pod has only loopback, reached from inside
	# its network namespace (the supervisor's)
	sup=$(pgrep -f -o "skiff __supervisor ${STATE_DIR:-/run/skiff}/default_web( |$)" || true)
	echo "The pod has no network address yet (pod networking comes with a later issue);"
	echo "reach it from inside its network namespace:"
	echo "  nsenter --net=/proc/$sup/ns/net busybox wget -qO- http://127.0.0.1:8888/"
	reach=(timeout 5 nsenter "--net=/proc/$sup/ns/net" busybox wget -qO- http://127.0.0.1:8888/)
fi
logs=/var/log/skiff/pods
[[ -n ${STATE_DIR:-} ]] && logs=$STATE_DIR/logs
echo "Logs:       $logs (CRI format, one file per container)"
echo "Stop it:    $SKIFF play --down ${opts[*]} $POD"

# prove it answers (httpd may take a moment to bind)
for _ in $(seq 50); do
	if answer=$("${reach[@]}" 2>/dev/null); then
		echo
		echo "It answers: $answer"
		exit 0
	fi
	sleep 0.1
done
echo "make up: the web pod does not answer on port 8888 yet; see skiff ps and its logs" >&2
exit 1
