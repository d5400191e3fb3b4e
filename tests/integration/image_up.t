#!/bin/bash
# make up's last step (scripts/up.sh): a one-node cluster (skiff server
# with its agent) whose seed example (test-service over three web pods)
# answers by ClusterIP and by name, as up.sh shows the user; idempotent.
# Run in a network namespace, data dir, image store, state folder and
# cgroup root of the test's own.
. "$(dirname "$0")/../lib.sh"
need_root
need_skiff
need_cmd ip nsenter busybox timeout

NS=skup-$TEST_ID
CG=skifftest-$TEST_ID
export DATA_DIR=$TEST_TMP/server IMAGE_DIR=$TEST_TMP/images STATE_DIR=$TEST_TMP/state CGROUP_ROOT=$CG
ip netns add "$NS"
defer "ip netns del $NS"
nsenter --net="/run/netns/$NS" ip link set lo up
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
kill_pods() {
	local d p
	for d in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/"$CG"; do
		[[ -d $d ]] || continue
		for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$p"; done
	done
}
# cleanups run last first: the server, the pods, their network, mounts, cgroups
defer "for d in /sys/fs/cgroup/*/$CG /sys/fs/cgroup/$CG; do [ -d \$d ] && find \$d -depth -type d -exec rmdir {} +; done"
defer "awk -v t='$TEST_TMP' 'index(\$5, t) == 1 { print \$5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"
defer "in_ns '$SKIFF' cleanup --state-dir '$STATE_DIR'"
defer "kill_pods; sleep 0.3; kill_pods"
defer "[ -s '$DATA_DIR/server.pid' ] && kill -9 \$(cat '$DATA_DIR/server.pid')"

"$SKIFF_TOP/rootfs-examples/build.sh" --image-dir "$IMAGE_DIR" --out "$TEST_TMP/rootfs" >/dev/null
out=$(in_ns "$SKIFF_TOP/scripts/up.sh" 2>&1)
rc=$?
is "$rc" 0 "up.sh succeeds"
like "$out" "skiff server started" "it starts skiff server"
like "$out" "web-1 +1/1 +Running" "it shows the web pods running"
like "$out" "It answers on its ClusterIP: (web-[123] ){2,3}" "the Service answers on its ClusterIP, spread"
like "$out" "It answers by name from a pod: web-[123]" "... and by name from a pod"
export KUBECONFIG=$DATA_DIR/admin.kubeconfig
vip=$(in_ns "$SKIFF" get service test-service -o 'jsonpath={.spec.clusterIP}')
like "$(in_ns timeout 5 busybox wget -qO- "http://$vip/" 2>&1)" '^web-[123]$' "GET ClusterIP:80 from the node"
out=$(in_ns "$SKIFF_TOP/scripts/up.sh" 2>&1)
like "$out" "skiff server already runs" "running it again reuses the server (idempotent)"
like "$out" "It answers on its ClusterIP" "... and the example still answers"
is "$(in_ns "$SKIFF" get pods --no-headers | wc -l)" 3 "three web pods, none twice"
done_testing
