# shellcheck shell=bash
# Shared setup for skiff's benchmarks: a work folder, a cgroup top-level
# group of our own (skiffbench*), the wrappers every runtime is run through,
# and cleanup. Sourced by bench/runtime-start, bench/pod-start, bench/memory.
set -euo pipefail
BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SKIFF_BUILD:-build}
SKIFF=${SKIFF:-$BENCH_TOP/$BUILD/skiff}
INTERLEAVE=$BENCH_TOP/$BUILD/bench/interleave
RUNS=${RUNS:-50}
RESULTS=${BENCH_RESULTS:-$BENCH_TOP/$BUILD/bench}
mkdir -p "$RESULTS"
[[ -x $SKIFF ]] || { echo "bench: no $SKIFF (run make)" >&2; exit 1; }
[[ -x $INTERLEAVE ]] || { echo "bench: no $INTERLEAVE (run make bench)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "bench: run as root" >&2; exit 1; }

WORK=$(mktemp -d /tmp/skiffbench.XXXXXX)
CG=skiffbench$$ # every runtime's cgroups go below this top-level group
BENCH_CLEANUP=()

bench_cleanup() {
	local i d left=0
	set +e
	for ((i = ${#BENCH_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${BENCH_CLEANUP[i]}" >/dev/null 2>&1
	done
	# our top-level groups, deepest first (only ever below $CG); a group
	# whose last process is still exiting refuses rmdir for a moment
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=0
		for d in /sys/fs/cgroup/*/"$CG"; do
			[[ -d $d ]] || continue
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ -d $d ]] && left=1
		done
		((left)) || break
		sleep 0.5
	done
	((left == 0)) || echo "bench: could not remove every /sys/fs/cgroup/*/$CG" >&2
	rm -rf "$WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
on_exit() { BENCH_CLEANUP+=("$1"); }

# need CMD...: a missing tool stops the benchmark with the package to install
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "bench: needs $c (make deps)" >&2; exit 1; }
	done
}

# The same wrapper for every runtime: crun 1.8 refuses this host's hybrid
# layout (cgroup2 at /sys/fs/cgroup/unified without controllers), so a
# tmpfs hides it in a mount namespace of the command's own (/sys is private
# here: nothing reaches the host's mounts). Runtimes are then told to put
# their cgroups below $CG.
make_wrapper() {
	cat >"$WORK/wrap" <<'WRAP'
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs skiffbench /sys/fs/cgroup/unified && exec "$@"' wrap "$@"
WRAP
	chmod +x "$WORK/wrap"
	WRAP=$WORK/wrap
}

# For engines that pick their own cgroup paths (podman: /libpod_parent):
# a "jail" process is moved into $CG in every v1 hierarchy, enters a cgroup
# namespace rooted there and a mount namespace where /sys/fs/cgroup is a
# fresh tmpfs with the v1 hierarchies mounted anew (so they show $CG as
# their root, and no cgroup2 at all, which crun and runc read as plain v1),
# and sleeps. Commands then join its mount and cgroup namespaces with
# nsenter: whatever cgroups they make land below $CG on the host, at no
# per-command cost (moving a task between v1 groups and unmounting wait
# for RCU grace periods: 10-100 ms each on a busy machine).
# --propagation unchanged keeps /run/netns shared, as podman needs.
make_cgroupns_wrapper() {
	local c jail
	for c in /sys/fs/cgroup/*; do
		[[ -d $c && ! -L $c && ${c##*/} != unified ]] && mkdir -p "$c/$CG"
	done
	# a new v1 cpuset group starts with no CPUs and no memory nodes
	if [[ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]]; then
		cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$CG/cpuset.cpus"
		cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$CG/cpuset.mems"
	fi
	cat >"$WORK/jail" <<JAIL
#!/bin/sh
for c in /sys/fs/cgroup/*; do
	[ -f "\$c/$CG/cgroup.procs" ] && echo \$\$ >"\$c/$CG/cgroup.procs"
done
exec unshare -C -m --propagation unchanged sh -c '
	set -e
	hier=""
	for c in /sys/fs/cgroup/*; do
		[ "\${c##*/}" = unified ] || hier="\$hier \${c##*/}"
	done
	mount -t tmpfs -o mode=0755 skiffbench /sys/fs/cgroup
	for h in \$hier; do
		mkdir /sys/fs/cgroup/\$h
		case \$h in
		systemd) mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/\$h ;;
		*) mount -t cgroup -o \$h cgroup /sys/fs/cgroup/\$h ;;
		esac
	done
	echo ready >"\$0"
	exec sleep infinity' "$WORK/jail.ready"
JAIL
	chmod +x "$WORK/jail"
	setsid "$WORK/jail" </dev/null >"$WORK/jail.log" 2>&1 &
	jail=$!
	on_exit "kill $jail"
	for _ in $(seq 100); do
		[[ -s $WORK/jail.ready ]] && break
		kill -0 "$jail" 2>/dev/null || break
		sleep 0.05
	done
	if [[ ! -s $WORK/jail.ready ]]; then
		echo "bench: could not set up the cgroup namespace:" >&2
		cat "$WORK/jail.log" >&2
		exit 1
	fi
	# a network namespace of the benchmark's own: pod networks (bridge,
	# veths, nftables) are made there, never in the host's
	BENCH_NS=skiffbench$$
	ip netns add "$BENCH_NS"
	on_exit "ip netns del $BENCH_NS"
	nsenter --net="/run/netns/$BENCH_NS" ip link set lo up
	WRAP_CGNS="nsenter -t $jail -m -C --net=/run/netns/$BENCH_NS --"
}

# The busybox example tree, built fresh (seconds).
make_rootfs() {
	"$BENCH_TOP/rootfs-examples/busybox/build.sh" "$1" >/dev/null
}

# An OCI bundle for crun and runc from `crun spec`: run ARGV (JSON words)
# on ROOTFS, no terminal, cgroups at /$CG/NAME.
make_bundle() {
	local dir=$1 rootfs=$2 argv=$3 name=$4
	mkdir -p "$dir"
	(cd "$dir" && crun spec)
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e "s|\"sh\"|$argv|" \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" \
		-e "s|\"linux\": {|\"linux\": {\n\t\t\"cgroupsPath\": \"/$CG/$name\",|" \
		"$dir/config.json"
}

# ms TEXT: the median column of an interleave line for NAME
median_of() { awk -v n="$1" '$1 == n {print $3}' "$2"; }

# podman, isolated: its own storage, run root and config under $WORK, runc,
# the cgroupfs manager, file events, in a network namespace of its own and
# in the cgroup-namespace wrapper. Sets PODMAN (a command line) and imports
# ROOTFS as localhost/busybox:latest. This machine withholds
# CAP_SYS_RESOURCE, so podman's default rlimits (raised to the maximum)
# cannot be set: containers get nofile 1024 and nproc 4096 instead.
make_podman() {
	local rootfs=$1
	need podman runc nsenter ip
	[[ -n ${WRAP_CGNS:-} ]] || make_cgroupns_wrapper
	cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
CONF
	export CONTAINERS_CONF=$WORK/containers.conf
	PODMAN="$WRAP_CGNS podman --root $WORK/podman/root --runroot $WORK/podman/run --tmpdir $WORK/podman/tmp --runtime runc --cgroup-manager cgroupfs --events-backend file --storage-driver overlay"
	on_exit "$PODMAN pod rm -f -a -t 0; $PODMAN rm -f -a -t 0"
	tar -C "$rootfs" -c . | $PODMAN import - localhost/busybox:latest >/dev/null
}

# skiff, isolated the same way: its own image store, state, log and data
# folders under $WORK and cgroups below $CG. Sets SKIFF_OPTS and imports
# ROOTFS as busybox:latest.
make_skiff_store() {
	local rootfs=$1
	SKIFF_OPTS="--image-dir $WORK/images --state-dir $WORK/state --cgroup-root $CG --bridge sb$$"
	"$SKIFF" image import --image-dir "$WORK/images" busybox:latest "$rootfs" >/dev/null
}

# pod_manifest FILE NAME [hostNetwork]: a one-container Pod running sleep
pod_manifest() {
	cat >"$1" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $2
spec:
  hostNetwork: ${3:-false}
  terminationGracePeriodSeconds: 0
  containers:
  - name: sleep
    image: busybox:latest
    command: ["/bin/sleep", "3600"]
YAML
}

# PSS in kB of the processes whose pids are given (smaps_rollup)
pss_kb() {
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# pids_of_exe PATH: the processes running that executable
pids_of_exe() {
	local p want
	want=$(readlink -f "$1")
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/exe" 2>/dev/null) == "$want" ]] && echo "${p#/proc/}"
	done
}
