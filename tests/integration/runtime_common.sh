# shellcheck shell=bash
# What the runtime tests (runtime_*.t) share: a busybox image in a store of
# their own, a unique cgroup root and state directory, helpers that read
# cgroup files for either cgroup mode, and a cleanup that removes what a
# test made even when skiff itself is broken (processes by cgroup, mounts
# below the test's directory, cgroup directories).
#
# They run on the host (cgroup v1, hybrid) and in the cgroup v2 guest
# (tests/vm), which sets SKIFF_IN_VM=1: timeouts scale by $T there.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

need_root
need_skiff
need_cmd stat awk find mountpoint ip nsenter

T=${SKIFF_IN_VM:+8}
T=${T:-1}
CG_ROOT=skifftest-$TEST_ID
# skiff play gives pods a network (a node bridge, nftables): the tests run
# it in a network namespace of their own, never in the host's
NETNS=skifftest-$TEST_ID
STATE=$TEST_TMP/state
IMAGES=$TEST_TMP/images
ROOTFS=$TEST_TMP/rootfs
if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
	CG_MODE=v2
else
	CG_MODE=v1
fi

# The directories of our cgroup root (one per v1 controller, or one in v2).
cg_roots() {
	if [[ $CG_MODE == v2 ]]; then
		echo "/sys/fs/cgroup/$CG_ROOT"
	else
		local c
		for c in cpu memory pids devices; do echo "/sys/fs/cgroup/$c/$CG_ROOT"; done
	fi
}

# cg_file CONTROLLER REL FILE: a cgroup file of group $CG_ROOT/REL.
cg_file() {
	if [[ $CG_MODE == v2 ]]; then
		echo "/sys/fs/cgroup/$CG_ROOT/$2/$3"
	else
		echo "/sys/fs/cgroup/$1/$CG_ROOT/$2/$3"
	fi
}

# Kill what runs in our cgroups, unmount what is below the test's
# directory, remove the cgroups: works without skiff.
rt_cleanup() {
	local d i p
	for i in 1 2 3 4 5; do
		for d in $(cg_roots); do
			[[ -d $d ]] || continue
			for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				kill -9 "$p" 2>/dev/null
			done
		done
		sleep 0.1
	done
	awk -v t="$TEST_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount -l "$p" 2>/dev/null; done
	for d in $(cg_roots); do
		[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	ip netns del "$NETNS" 2>/dev/null
	return 0
}

# The busybox image: rootfs-examples' recipe (or, in the guest, the one
# tests/vm built on the host: SKIFF_TEST_ROOTFS, used read-only), imported
# into our store.
rt_setup() {
	defer rt_cleanup
	if ! ip netns add "$NETNS" 2>"$TEST_TMP/netns.log"; then
		fail "a network namespace for the test" "$(cat "$TEST_TMP/netns.log")"
		done_testing
	fi
	if [[ -n ${SKIFF_TEST_ROOTFS:-} && -d ${SKIFF_TEST_ROOTFS:-} ]]; then
		ROOTFS=$SKIFF_TEST_ROOTFS
	elif ! "$SKIFF_TOP/rootfs-examples/busybox/build.sh" "$ROOTFS" >"$TEST_TMP/build.log" 2>&1; then
		fail "build the busybox rootfs" "$(cat "$TEST_TMP/build.log")"
		done_testing
	fi
	if ! "$SKIFF" image import --image-dir "$IMAGES" busybox:latest "$ROOTFS" >/dev/null 2>"$TEST_TMP/import.log"; then
		fail "import the busybox image" "$(cat "$TEST_TMP/import.log")"
		done_testing
	fi
	diag "cgroup $CG_MODE, root $CG_ROOT, state $STATE"
}

# skiff run / play with this test's cgroup root, state and store. run_bg
# starts skiff run in the background with $! its own pid (not a subshell's).
run() { "$SKIFF" run --cgroup-root "$CG_ROOT" --state-dir "$STATE" --rootfs "$ROOTFS" "$@"; }
run_bg() { "$SKIFF" run --cgroup-root "$CG_ROOT" --state-dir "$STATE" --rootfs "$ROOTFS" "$@" & }
play() { in_netns "$SKIFF" play --state-dir "$STATE" --image-dir "$IMAGES" --cgroup-root "$CG_ROOT" "$@"; }
in_netns() { nsenter --net="/run/netns/$NETNS" "$@"; }

# manifest NAME: the YAML on stdin becomes $TEST_TMP/NAME.yaml (path printed).
manifest() {
	cat >"$TEST_TMP/$1.yaml"
	echo "$TEST_TMP/$1.yaml"
}

# The supervisor's status file of pod POD (namespace default).
status_file() { echo "$STATE/default_$1/status"; }

# ctr POD CONTAINER KEY: the tokens after KEY in CONTAINER's part of the
# status ("state" -> running; "detail" -> code signal started finished
# reason message; "last_state" likewise; "restart_count"; "pid").
ctr() {
	awk -v c="$2" -v k="$3" '
		($1 == "container" || $1 == "init_container") { cur = $2; next }
		cur == c && $1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$(status_file "$1")" 2>/dev/null
}

# pod_field POD KEY (phase, supervisor_pid, ...)
pod_field() { awk -v k="$2" '$1 == "container" || $1 == "init_container" { exit } $1 == k { print $2; exit }' "$(status_file "$1")" 2>/dev/null; }

# wait_state POD CONTAINER STATE [SECONDS, scaled by $T]
_state_is() { [[ $(ctr "$1" "$2" state) == "$3" ]]; }
wait_state() { wait_for $((${4:-10} * T)) _state_is "$1" "$2" "$3"; }

# The CRI log of a container's start N (0 by default).
log_file() {
	local d
	d=$(find "$STATE/logs" -maxdepth 1 -name "default_$1_*" 2>/dev/null | head -1)
	echo "$d/$2/${3:-0}.log"
}

# log_text POD CONTAINER [N]: the text of the log lines, without the CRI prefix.
log_text() { cut -d' ' -f4- "$(log_file "$@")" 2>/dev/null; }

# alive PID...: one of them runs (a zombie waiting for its reaper does not count)
alive() {
	local p st
	for p in "$@"; do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
		[[ -n $st && $st != Z ]] && return 0
	done
	return 1
}

# Mounts below the test's directory, except the node network's own
# (skiff play's netns directory, made a mount point as `ip netns` does)
our_mounts() { awk -v t="$TEST_TMP" -v n="$STATE/netns" 'index($5, t) == 1 && $5 != n' /proc/self/mountinfo; }
# Pod state left in $STATE (the node network's "net" and "netns" are the node's)
pod_state() { ls "$STATE" 2>/dev/null | grep -v -x -e logs -e data -e net -e netns; }
