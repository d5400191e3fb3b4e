# shellcheck shell=bash
# Shared by the bench/net-* benchmarks: a node in a network namespace of
# its own (the host's network is never touched), its state on a tmpfs as
# /run is on a real node, and cleanup at exit.
set -euo pipefail
NET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SKIFF=${SKIFF:-$NET_TOP/${SKIFF_BUILD:-build}/skiff}
RESULTS=${BENCH_RESULTS:-$NET_TOP/${SKIFF_BUILD:-build}/bench}
mkdir -p "$RESULTS"
[[ -x $SKIFF ]] || { echo "bench: no $SKIFF (run make)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "bench: run as root" >&2; exit 1; }
NET_WORK=$(mktemp -d /tmp/skiffnetbench.XXXXXX)
NET_CLEANUP=()
net_cleanup() {
	local i
	set +e
	for ((i = ${#NET_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${NET_CLEANUP[i]}" >/dev/null 2>&1; done
	rm -rf "$NET_WORK"
}
trap net_cleanup EXIT
trap 'exit 130' INT TERM

# net_node NAME: netns NAME with a node network; sets NODE_OPTS, innode
net_node() {
	NODE=$1
	mkdir -p "$NET_WORK/$NODE"
	mount -t tmpfs skiffnetbench "$NET_WORK/$NODE"
	NET_CLEANUP+=("umount -l $NET_WORK/$NODE")
	ip netns add "$NODE"
	NET_CLEANUP+=("ip netns del $NODE")
	NODE_OPTS=(--state-dir "$NET_WORK/$NODE/state" --bridge skb0 --table skiffbench)
	NET_CLEANUP+=("nsenter --net=/run/netns/$NODE $SKIFF net-node cleanup ${NODE_OPTS[*]}")
	innode ip link set lo up
	innode "$SKIFF" net-node up "${NODE_OPTS[@]}"
}
innode() { nsenter --net="/run/netns/$NODE" "$@"; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
