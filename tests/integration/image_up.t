#!/bin/bash
# make up's last step (scripts/up.sh): the web example pod runs and
# answers with its hostname, as up.sh shows the user; run in a network
# namespace, image store, state folder and cgroup root of the test's own.
. "$(dirname "$0")/../lib.sh"
need_root
need_skiff
need_cmd ip nsenter busybox timeout

NS=skup-$TEST_ID
CG=skifftest-$TEST_ID
export IMAGE_DIR=$TEST_TMP/images STATE_DIR=$TEST_TMP/state CGROUP_ROOT=$CG
ip netns add "$NS"
defer "ip netns del $NS"
nsenter --net="/run/netns/$NS" ip link set lo up
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
# cleanups run last first: the pod, then its network, then its cgroups
defer "for d in /sys/fs/cgroup/*/$CG /sys/fs/cgroup/$CG; do [ -d \$d ] && find \$d -depth -type d -exec rmdir {} +; done"
defer "in_ns '$SKIFF' cleanup --state-dir '$STATE_DIR'"
defer "in_ns '$SKIFF' play --down --state-dir '$STATE_DIR' '$SKIFF_TOP/rootfs-examples/web/pod.yaml'"

"$SKIFF_TOP/rootfs-examples/build.sh" --image-dir "$IMAGE_DIR" --out "$TEST_TMP/rootfs" web >/dev/null
out=$(in_ns "$SKIFF_TOP/scripts/up.sh" 2>&1)
rc=$?
is "$rc" 0 "up.sh succeeds"
like "$out" "web +default +Running" "it shows the web pod running"
like "$out" "It answers: web" "the pod answered with its hostname"
ip=$(in_ns "$SKIFF" ps --state-dir "$STATE_DIR" | awk '$1 == "web" {print $5}')
like "$ip" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "the pod has an address"
is "$(in_ns timeout 5 busybox wget -qO- "http://$ip:8888/" 2>&1)" web "GET / from the node answers the hostname"
is "$(in_ns timeout 5 busybox wget -qO- "http://$ip:8888/healthz" 2>&1)" ok "GET /healthz answers ok"
out=$(in_ns "$SKIFF_TOP/scripts/up.sh" 2>&1)
like "$out" "It answers: web" "running it again replaces the pod (idempotent)"
is "$(in_ns "$SKIFF" ps --state-dir "$STATE_DIR" | awk '$1 == "web"' | wc -l)" 1 "one web pod"
done_testing
