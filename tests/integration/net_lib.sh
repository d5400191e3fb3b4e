# shellcheck shell=bash
# Helpers for the network tests: every test builds its node inside a
# network namespace of its own (the host's interfaces, routes and nftables
# are never touched), with a bridge, table and state dir unique to the run,
# and removes all of it at exit, even on failure.
#
#   . "$(dirname "$0")/../lib.sh"; . "$(dirname "$0")/net_lib.sh"
#   node_up                      # netns $NODE, bridge $BR, table $TABLE
#   pod_add NAME [-p tcp:H:C]    # POD_IP[NAME]
#   serve NAME PORT TEXT         # busybox httpd in the pod answering TEXT
#   inpod NAME CMD...; innode CMD...; fetch URL
need_root
need_cmd ip nsenter nft busybox timeout
need_skiff

NODE=skn-$TEST_ID
BR=sk$(printf %s "$TEST_ID" | tail -c 10)
TABLE=skiff_$TEST_ID
STATE=$TEST_TMP/state
NOPTS=(--state-dir "$STATE" --bridge "$BR" --table "$TABLE")
declare -A POD_IP

innode() { nsenter --net="/run/netns/$NODE" "$@"; }
inpod() {
	local p=$1
	shift
	nsenter --net="$STATE/netns/$p" "$@"
}
# busybox wget -T crashes in Debian 12's busybox-static: bound it with timeout.
fetch() { timeout 3 busybox wget -q -O- "$1" 2>/dev/null; }
netcmd() { innode "$SKIFF" "$@" "${NOPTS[@]}"; }

node_up() {
	ip netns add "$NODE" || cannot_run "ip netns add failed"
	defer "ip netns del $NODE"
	defer "nsenter --net=/run/netns/$NODE $SKIFF net-node cleanup ${NOPTS[*]}"
	innode ip link set lo up
	netcmd net-node up "$@"
}

pod_add() {
	local name=$1 out
	shift
	out=$(netcmd net-pod add "$name" "$@") || return 1
	POD_IP[$name]=${out%% *}
}

# serve POD PORT TEXT: an HTTP server in the pod whose page is TEXT.
serve() {
	local dir=$TEST_TMP/www-$1-$2
	mkdir -p "$dir"
	echo "$3" >"$dir/index.html"
	# nsenter execs the server, so $! is the server itself
	nsenter --net="$STATE/netns/$1" busybox httpd -f -p "$2" -h "$dir" &
	defer "kill $! 2>/dev/null"
	wait_for 3 inpod "$1" sh -c "busybox netstat -ltn | grep -q ':$2 '"
}

# background NAME CMD...: start CMD (exec'd, so its PID is $!) and kill it
# at exit; BG_PID holds its PID.
background() {
	"$@" &
	BG_PID=$!
	defer "kill $BG_PID 2>/dev/null"
}

# quiet CMD...: run CMD with its output dropped (for ok).
quiet() { "$@" >/dev/null 2>&1; }
