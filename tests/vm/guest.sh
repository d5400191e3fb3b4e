#!/bin/bash
# Stage 2, PID 1 of the cgroup v2 guest (bash from the host's root): mount
# the kernel file systems with cgroup2 alone on /sys/fs/cgroup, enable the
# controllers for children, then run each test named in the results
# folder's env file, its output to a file there, and power off. The host
# (tests/vm/run.sh) turns those files into TAP. A crash of this script
# panics the kernel, which ends qemu without a status file: a failure.
set -u
R=/skiff-vm # the results folder, shared with the host
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root

say() { echo "skiff-vm: $*" >/dev/console; }

poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
# . "$R/env" comes later; the checkout's path is known from stage 1.
# A checkout below /tmp or /run would vanish under their tmpfs: park it.
mkdir -p /skiff-checkout
mount --move "$skiff_top" /skiff-checkout
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=0755 run /run
mkdir -p "$skiff_top"
mount --move /skiff-checkout "$skiff_top"
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
echo "+cpu +memory +pids +io +cpuset" >/sys/fs/cgroup/cgroup.subtree_control
mount --make-rshared /
# no udev here: load what tests expect a machine to have (the null disk
# for io.max and device tests; veth, bridge and nf_tables for pod networks)
for m in virtio_blk veth bridge br_netfilter nf_tables; do
	modprobe "$m" 2>/dev/null || say "modprobe $m failed"
done
ip link set lo up
hostname skiff-vm
# skiff's default data and log folders on a tmpfs of their own: the
# guest's / is an overlayfs, which 6.1 cannot take as an overlay's upper
for d in /var/lib/skiff /var/log/skiff /var/tmp; do
	mkdir -p "$d"
	mount -t tmpfs -o mode=0755 skiff "$d"
done
chmod 1777 /var/tmp

# shellcheck disable=SC1091
. "$R/env" # SKIFF_TOP, SKIFF_BUILD, TESTS (array), TEST_TIMEOUT
cd "$SKIFF_TOP" || poweroff_now
export CI=true SKIFF_IN_VM=1 SKIFF_TOP SKIFF_BUILD SKIFF="$SKIFF_TOP/$SKIFF_BUILD/skiff"
# the busybox example tree, built on the host, copied once to a tmpfs:
# tests may use it read-only as an image instead of building their own
if [[ -d $R/busybox ]]; then
	mkdir -p /var/lib/skiff/test-rootfs
	cp -a "$R/busybox" /var/lib/skiff/test-rootfs/busybox
	export SKIFF_TEST_ROOTFS=/var/lib/skiff/test-rootfs/busybox
fi
echo "$(cut -d' ' -f1 /proc/uptime)" >"$R/booted"
say "booted in $(cat "$R/booted") s; $(stat -f -c %T /sys/fs/cgroup) on /sys/fs/cgroup"

mkdir -p "$R/out"
i=0
for t in "${TESTS[@]}"; do
	i=$((i + 1))
	start=$(date +%s)
	say "[$i/${#TESTS[@]}] $t"
	TEST_ID=vm$i$RANDOM timeout -k 10 "$TEST_TIMEOUT" "$t" >"$R/out/$i" 2>&1 </dev/null
	echo $? >"$R/out/$i.rc"
	say "[$i/${#TESTS[@]}] $t: $(grep -c '^ok' "$R/out/$i") ok, $(grep -c '^not ok' "$R/out/$i") not ok, exit $(cat "$R/out/$i.rc"), $(($(date +%s) - start)) s"
done
echo done >"$R/status"
poweroff_now
