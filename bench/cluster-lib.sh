# shellcheck shell=bash
# A one-node skiff cluster for the cluster benchmarks: `skiff server` with
# its embedded agent in a network namespace of the benchmark's own, with
# its own data, state, image store and cgroups (below $CG); removed at
# exit. CLUSTER_PODS (a command) drives it with bench/cluster-pods.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need curl jq ip nsenter
PODS_TOOL=$BENCH_TOP/$BUILD/bench/cluster-pods
[[ -x $PODS_TOOL ]] || { echo "bench: no $PODS_TOOL (run make bench)" >&2; exit 1; }
CNS=skiffbc$$
SRV=$WORK/server

cluster_cleanup() {
	local d p
	[[ -n ${SRV_PID:-} ]] && kill -9 "$SRV_PID" 2>/dev/null
	cp "$WORK/server.log" "$RESULTS/cluster-server.log" 2>/dev/null
	for _ in 1 2 3; do
		for d in /sys/fs/cgroup/*/"$CG"; do
			[[ -d $d ]] || continue
			for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				kill -9 "$p" 2>/dev/null
			done
		done
		sleep 0.2
	done
	nsenter --net="/run/netns/$CNS" "$SKIFF" cleanup --state-dir "$WORK/state" --bridge sbr0 \
		--table skiffbench >/dev/null 2>&1
	awk -v t="$WORK" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r d; do umount -l "$d" 2>/dev/null; done
	ip netns del "$CNS" 2>/dev/null
}

# cluster_up [SERVER ARGS]: the server and its agent, node "bench" Ready.
cluster_up() {
	make_rootfs "$WORK/rootfs"
	"$SKIFF" image import --image-dir "$WORK/images" busybox:latest "$WORK/rootfs" >/dev/null
	ip netns add "$CNS"
	on_exit cluster_cleanup
	nsenter --net="/run/netns/$CNS" ip link set lo up
	nsenter --net="/run/netns/$CNS" "$SKIFF" server --data-dir "$SRV" --listen 127.0.0.1:0 \
		--node-name bench --state-dir "$WORK/state" --image-dir "$WORK/images" \
		--cgroup-root "$CG" --bridge sbr0 --nft-table skiffbench --agent-listen 127.0.0.1:0 \
		"$@" >"$WORK/server.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 200); do
		[[ -s $SRV/admin.kubeconfig ]] && break
		sleep 0.05
	done
	URL=$(sed -n 's/^ *server: *//p' "$SRV/admin.kubeconfig" | head -1)
	CLUSTER_PODS="nsenter --net=/run/netns/$CNS $PODS_TOOL --server $URL --ca $SRV/tls/ca.crt --token-file $SRV/token"
	export KUBECONFIG=$SRV/admin.kubeconfig
	KUBE="nsenter --net=/run/netns/$CNS $SKIFF"
	for _ in $(seq 300); do
		[[ $($KUBE get node bench -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]] && return 0
		sleep 0.1
	done
	echo "bench: the cluster did not come up:" >&2
	tail -20 "$WORK/server.log" >&2
	exit 1
}
