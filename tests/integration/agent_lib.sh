# shellcheck shell=bash
# Helpers for the agent and cluster tests (agent_*.t, cluster_*.t): a real
# cluster whose nodes live in network namespaces of their own. Node 1 runs
# `skiff server` with its embedded agent; more nodes run `skiff agent`
# joined with the node token. Every node has its own state dir, cgroup
# root, bridge and nftables table (unique to the run); the images come
# from rootfs-examples into a store of the test's own. Everything is
# removed at exit, even when skiff is broken (processes by cgroup, mounts
# below the test's directory, cgroups, namespaces).
#
#   . "$(dirname "$0")/agent_lib.sh"
#   cluster_up                        # node1: server + agent; k/kubectl ready
#   k create -f "$(manifest web <<EOF ... EOF)"
#   wait_for 20 pod_phase_is web Running
#   node_join node2                   # another node, in its own namespace
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

need_root
need_skiff
need_cmd ip nsenter curl jq nft awk

T=${SKIFF_IN_VM:+8}
T=${T:-1}
SUFFIX=$(printf %s "$TEST_ID" | tail -c 9)
CG_ROOT=skifftest-$TEST_ID
IMAGES=$TEST_TMP/images
SRV_DIR=$TEST_TMP/server
KUBECONFIG_FILE=$SRV_DIR/admin.kubeconfig
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
declare -A NODE_NS NODE_STATE NODE_PID NODE_IP
NODES=()

if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
	CG_MODE=v2
else
	CG_MODE=v1
fi

cg_roots() {
	local r c
	for r in "$CG_ROOT" "$CG_ROOT-2" "$CG_ROOT-3"; do
		if [[ $CG_MODE == v2 ]]; then
			echo "/sys/fs/cgroup/$r"
		else
			for c in cpu memory pids devices; do echo "/sys/fs/cgroup/$c/$r"; done
		fi
	done
}

# The node's cgroup root (node1: $CG_ROOT, node2: $CG_ROOT-2...).
node_cg() { [[ $1 == node1 ]] && echo "$CG_ROOT" || echo "$CG_ROOT-${1#node}"; }

# ---- cleanup that works without skiff ----------------------------------------------

_kill_cgroups() {
	local d p i
	for i in 1 2 3 4 5; do
		for d in $(cg_roots); do
			[[ -d $d ]] || continue
			for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				kill -9 "$p" 2>/dev/null
			done
		done
		sleep 0.1
	done
}

agent_cleanup() {
	local n d
	for n in "${NODES[@]}"; do
		[[ -n ${NODE_PID[$n]:-} ]] && kill -9 "${NODE_PID[$n]}" 2>/dev/null
	done
	_kill_cgroups
	for n in "${NODES[@]}"; do
		nsenter --net="/run/netns/${NODE_NS[$n]}" "$SKIFF" cleanup --state-dir "${NODE_STATE[$n]}" \
			--bridge "skbr${n#node}" --table "skiff_$n$SUFFIX" >/dev/null 2>&1
	done
	awk -v t="$TEST_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r d; do umount -l "$d" 2>/dev/null; done
	for d in $(cg_roots); do
		[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for n in "${NODES[@]}"; do ip netns del "${NODE_NS[$n]}" 2>/dev/null; done
	ip link del "lk1$SUFFIX" 2>/dev/null
	return 0
}
defer agent_cleanup

# ---- the cluster ------------------------------------------------------------------

build_images() {
	if ! "$SKIFF_TOP/rootfs-examples/build.sh" --image-dir "$IMAGES" --out "$TEST_TMP/rootfs" \
		>"$TEST_TMP/images.log" 2>&1; then
		fail "build the example images" "$(tail -5 "$TEST_TMP/images.log")"
		done_testing
	fi
}

# node_ns NAME: a network namespace for a node, loopback up.
node_ns() {
	local n=$1
	NODE_NS[$n]=skn$n$SUFFIX
	NODE_STATE[$n]=$TEST_TMP/$n
	NODES+=("$n")
	if ! ip netns add "${NODE_NS[$n]}" 2>"$TEST_TMP/netns.log"; then
		fail "a network namespace for $n" "$(cat "$TEST_TMP/netns.log")"
		done_testing
	fi
	ip -n "${NODE_NS[$n]}" link set lo up
}

innode() {
	local n=$1
	shift
	nsenter --net="/run/netns/${NODE_NS[$n]}" "$@"
}

# The options every node's agent takes (its own state, cgroups, network;
# the bridge needs no unique name: each node has a namespace of its own).
node_opts() {
	local n=$1
	echo --node-name "$n" --state-dir "${NODE_STATE[$n]}" --image-dir "$IMAGES" \
		--cgroup-root "$(node_cg "$n")" --bridge "skbr${n#node}" --nft-table "skiff_$n$SUFFIX"
}

# server_start [ARGS]: skiff server with its agent (node1) in node1's namespace.
server_start() {
	rm -f "$KUBECONFIG_FILE"
	# nsenter execs skiff: $! is the server itself
	# shellcheck disable=SC2046
	nsenter --net="/run/netns/${NODE_NS[node1]}" "$SKIFF" server --data-dir "$SRV_DIR" --listen "${SRV_LISTEN:-127.0.0.1:0}" \
		--agent-listen "${AGENT_LISTEN:-127.0.0.1:0}" $(node_opts node1) "$@" \
		>>"$TEST_TMP/server.log" 2>&1 &
	NODE_PID[node1]=$!
	defer "kill -9 $! 2>/dev/null"
	if ! wait_for $((20 * T)) test -s "$KUBECONFIG_FILE"; then
		fail "skiff server starts" "$(tail -20 "$TEST_TMP/server.log")"
		done_testing
	fi
}

cluster_up() {
	build_images
	node_ns node1
	mkdir -p "$SRV_DIR"
	server_start "$@"
	if ! wait_for $((30 * T)) node_ready node1; then
		fail "node1 registers and is Ready" "$(tail -20 "$TEST_TMP/server.log")"
		done_testing
	fi
}

# agent_start NODE [ARGS]: `skiff agent` for NODE in its namespace (AGENT_PID).
agent_start() {
	local n=$1
	shift
	# shellcheck disable=SC2046
	nsenter --net="/run/netns/${NODE_NS[$n]}" "$SKIFF" agent $(node_opts "$n") \
		--data-dir "$TEST_TMP/agent-$n" "$@" >>"$TEST_TMP/agent-$n.log" 2>&1 &
	AGENT_PID=$!
	[[ $n == node1 ]] || NODE_PID[$n]=$AGENT_PID # node1's is the server's
	defer "kill -9 $AGENT_PID 2>/dev/null"
}

# server_kill9: the server and its embedded agent, without warning.
server_kill9() {
	kill -9 "${NODE_PID[node1]}" 2>/dev/null
	wait "${NODE_PID[node1]}" 2>/dev/null
}

# k ARGS: skiff's client; kubectl ARGS: kubectl 1.33 (both in node1's namespace)
k() { KUBECONFIG=$KUBECONFIG_FILE innode node1 "$SKIFF" "$@"; }
kubectl() { KUBECONFIG=$KUBECONFIG_FILE innode node1 "$KUBECTL" "$@"; }

# jp OBJECT JSONPATH, e.g. jp pod/web '{.status.phase}'
jp() { k get "$1" -o "jsonpath=$2" 2>/dev/null; }

node_ready() {
	[[ $(jp "node/$1" '{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
pod_phase_is() { [[ $(jp "pod/$1" '{.status.phase}') == "$2" ]]; }
pod_ready() { [[ $(jp "pod/$1" '{.status.conditions[?(@.type=="Ready")].status}') == True ]]; }
pod_not_ready() { [[ $(jp "pod/$1" '{.status.conditions[?(@.type=="Ready")].status}') == False ]]; }
pod_gone() { ! k get "pod/$1" >/dev/null 2>&1; }
restarts() { jp "pod/$1" '{.status.containerStatuses[0].restartCount}'; }
restarts_at_least() { [[ $(restarts "$1") -ge $2 ]]; }
waiting_reason() { jp "pod/$1" '{.status.containerStatuses[0].state.waiting.reason}'; }
waiting_is() { [[ $(waiting_reason "$1") == "$2" ]]; }

# events POD REASON: the messages of the pod's events with that reason.
events() {
	k get events -o json 2>/dev/null |
		jq -r --arg p "$1" --arg r "$2" \
			'.items[] | select(.involvedObject.name == $p and .reason == $r) | .message'
}
has_event() { [[ -n $(events "$1" "$2") ]]; }

# manifest NAME: the YAML on stdin becomes $TEST_TMP/NAME.yaml (path printed).
manifest() {
	cat >"$TEST_TMP/$1.yaml"
	echo "$TEST_TMP/$1.yaml"
}

# The runtime's status file of a pod on a node (namespace default).
status_file() { echo "${NODE_STATE[${2:-node1}]}/default_$1/status"; }
# The supervisor's pid of a pod; the host pid of a container's init.
supervisor_pid() { awk '$1 == "supervisor_pid" { print $2; exit }' "$(status_file "$1" "${2:-}")" 2>/dev/null; }
container_pid() {
	awk -v c="${2:-c}" '($1 == "container") { cur = $2; next } cur == c && $1 == "pid" { print $2; exit }' \
		"$(status_file "$1" "${3:-}")" 2>/dev/null
}
# Supervisors of a node's pods that run now.
supervisors() {
	local d=${NODE_STATE[${1:-node1}]}
	pgrep -f "__supervisor $d/" | wc -l
}

# The processes in a node's pod cgroups (what must be gone after deletions).
pod_processes() {
	local d
	for d in $(cg_roots); do
		[[ -d $d ]] && find "$d" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -u | wc -l
}
