#!/bin/bash
# TAP: the privileged runtime tests under cgroup v2, inside ONE qemu guest.
#
# This host is in hybrid cgroup mode, so cgroup v2 limits cannot be tested
# on it. The guest runs Debian's kernel under TCG (this machine's KVM cannot
# run a stock kernel), shares the host's / read-only (with a tmpfs overlay)
# and the checkout read-write at the same paths, mounts cgroup2 alone on
# /sys/fs/cgroup, runs tests/integration/runtime_*.t and tests/vm/*.t there
# with CI=true and SKIFF_IN_VM=1, and powers off. Each result comes back
# here renumbered as "vm: FILE: description", so tests/run.sh counts them.
# A guest that does not boot, panics, or runs out of time is a failure.
#
#   tests/vm/run.sh [TEST...]      (default: runtime_*.t and tests/vm/*.t)
# Environment: SKIFF_VM_CACHE (kernel cache, default tests/vm/cache),
# SKIFF_VM_TIMEOUT (whole guest, s, default 1200), SKIFF_VM_TEST_TIMEOUT
# (one test file, s, default 600), SKIFF_VM_MEM (MiB, default 2048),
# SKIFF_VM_CPUS (default 2).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
need_root
need_skiff
need_cmd qemu-system-x86_64 setpriv apt-get apt-cache dpkg depmod modprobe cpio gzip xz file flock timeout
[[ -x /bin/busybox ]] && file -L /bin/busybox | grep -q 'statically linked' ||
	cannot_run "needs a static /bin/busybox (busybox-static)"

TOP=$PWD
SKIFF_BUILD=${SKIFF_BUILD:-build}
CACHE=${SKIFF_VM_CACHE:-$TOP/tests/vm/cache}
TIMEOUT=${SKIFF_VM_TIMEOUT:-1200}
TEST_TIMEOUT=${SKIFF_VM_TEST_TIMEOUT:-600}
R=$TEST_TMP/results # shared with the guest, at /skiff-vm there
mkdir -p "$R"

if (($#)); then
	tests=("$@")
else
	tests=()
	for t in tests/integration/runtime_*.t tests/vm/*.t; do
		[[ -x $t ]] && tests+=("$t")
	done
fi

# ---- kernel and initramfs ---------------------------------------------------
if ! kver=$(tests/vm/kernel.sh "$CACHE" 2>"$TEST_TMP/kernel.log"); then
	fail "prepare the guest kernel" "$(cat "$TEST_TMP/kernel.log")"
	done_testing
fi
KDIR=$CACHE/$kver
MODS=$KDIR/root/lib/modules/$kver

# The initramfs: static busybox, stage 1 (tests/vm/init) and the modules
# that mounting the shares needs, in dependency order.
build_initrd() {
	local d=$TEST_TMP/initrd m
	mkdir -p "$d/bin" "$d/modules" "$d/proc" "$d/sys" "$d/dev"
	cp /bin/busybox "$d/bin/busybox"
	cp tests/vm/init "$d/init"
	: >"$d/modules.order"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$KDIR/root" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' | while read -r m; do
		cp "$m" "$d/modules/"
		echo "${m##*/}" >>"$d/modules.order"
	done
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$TEST_TMP/initrd.gz"
}
if ! build_initrd 2>"$TEST_TMP/initrd.log"; then
	fail "build the initramfs" "$(cat "$TEST_TMP/initrd.log")"
	done_testing
fi

# a busybox rootfs for the tests, built here where exec is fast
if ! rootfs-examples/busybox/build.sh "$R/busybox" >"$TEST_TMP/rootfs.log" 2>&1; then
	fail "build the busybox rootfs for the guest" "$(cat "$TEST_TMP/rootfs.log")"
	done_testing
fi

{
	printf 'SKIFF_TOP=%q\nSKIFF_BUILD=%q\nTEST_TIMEOUT=%q\nTESTS=(' "$TOP" "$SKIFF_BUILD" "$TEST_TIMEOUT"
	printf '%q ' "${tests[@]}"
	printf ')\n'
} >"$R/env"

# ---- the guest ------------------------------------------------------------------
share() { echo "local,path=$1,mount_tag=$2,security_model=passthrough,multidevs=remap$3"; }
# setpriv --pdeathsig: qemu dies with this script even when it is SIGKILLed
qemu=(
	setpriv --pdeathsig KILL -- qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
	-machine pc,accel=tcg -cpu max -smp "${SKIFF_VM_CPUS:-2}" -m "${SKIFF_VM_MEM:-2048}"
	-kernel "$KDIR/vmlinux" -initrd "$TEST_TMP/initrd.gz"
	-append "console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all mitigations=off skiff_top=$TOP skiff_kver=$kver"
	-serial "file:$TEST_TMP/console.log"
	-virtfs "$(share / hostroot ,readonly=on)"
	-virtfs "$(share "$TOP" checkout "")"
	-virtfs "$(share "$MODS" modules ,readonly=on)"
	-virtfs "$(share "$R" results "")"
	# a disk (of nothing) so io.max has a real device to name
	-blockdev driver=null-co,node-name=null0,size=1073741824,read-zeroes=on
	-device virtio-blk-pci,drive=null0
)
start=$SECONDS
"${qemu[@]}" >"$TEST_TMP/qemu.log" 2>&1 &
qemu_pid=$!
defer "kill -KILL $qemu_pid"

# Relay the guest's progress lines as TAP comments while it runs.
shown=0
relay_progress() {
	local lines
	[[ -f $TEST_TMP/console.log ]] || return 0
	mapfile -t lines < <(grep -a '^skiff-vm: ' "$TEST_TMP/console.log" | tr -d '\r')
	while ((shown < ${#lines[@]})); do
		diag "${lines[shown]}"
		shown=$((shown + 1))
	done
}
timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
	relay_progress
	if ((SECONDS - start > TIMEOUT)); then
		timed_out=1
		kill -KILL "$qemu_pid"
		break
	fi
	sleep 1
done
wait "$qemu_pid" 2>/dev/null
relay_progress
elapsed=$((SECONDS - start))

# The end of the console and qemu's own messages, every line a TAP comment.
console_tail() {
	echo "# --- the guest's console (last 40 lines) and qemu's messages:"
	{
		tail -n 40 "$TEST_TMP/console.log" 2>/dev/null
		cat "$TEST_TMP/qemu.log"
	} | tr -d '\r' | sed 's/^/#   /'
}
if [[ -f $R/booted ]]; then
	pass "the guest booted (kernel $kver, cgroup v2) in $(cat "$R/booted") s"
else
	fail "the guest booted (kernel $kver)" "no boot record"
	console_tail
fi

# ---- relay each test file's TAP, renumbered ------------------------------------------
relay_tap() {
	local name=$1 out=$2 rc=$3 line ok=0 nok=0 plan=""
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line =~ ^ok\ [0-9]+\ *-?\ *(.*)$ ]]; then
			pass "vm: $name: ${BASH_REMATCH[1]}"
			ok=$((ok + 1))
		elif [[ $line =~ ^not\ ok\ [0-9]+\ *-?\ *(.*)$ ]]; then
			fail "vm: $name: ${BASH_REMATCH[1]}"
			nok=$((nok + 1))
		elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
			[[ $line == *SKIP* ]] && diag "vm: $name: $line"
		elif [[ $line == \#* ]]; then
			echo "$line"
		else
			echo "# $line"
		fi
	done <"$out"
	if ((rc == 124 || rc == 137)); then
		fail "vm: $name finished within ${TEST_TIMEOUT} s" "killed by timeout (exit $rc)"
	elif ((rc != 0 && nok == 0)); then
		fail "vm: $name exited with status $rc"
	elif [[ -z $plan ]]; then
		fail "vm: $name printed a plan"
	elif ((plan != ok + nok)); then
		fail "vm: $name ran its plan" "planned $plan, ran $((ok + nok))"
	fi
}
i=0
for t in "${tests[@]}"; do
	i=$((i + 1))
	if [[ -f $R/out/$i.rc ]]; then
		relay_tap "${t##*/}" "$R/out/$i" "$(cat "$R/out/$i.rc")"
	elif [[ -f $R/out/$i ]]; then
		relay_tap "${t##*/}" "$R/out/$i" 0
		fail "vm: ${t##*/} finished" "the guest stopped while it ran"
	else
		fail "vm: ${t##*/} ran" "the guest never started it"
	fi
done

if ((timed_out)); then
	fail "the guest finished within $TIMEOUT s" "qemu killed after $elapsed s"
	console_tail
elif [[ -f $R/status ]]; then
	pass "the guest ran ${#tests[@]} test files and powered off ($elapsed s)"
else
	fail "the guest ran to the end" "it stopped after $elapsed s without finishing (a panic?)"
	console_tail
fi
done_testing
