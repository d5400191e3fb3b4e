#!/bin/bash
# Runs inside the cgroup v2 guest (tests/vm/run.sh): the guest really is
# cgroup2-only with the memory, cpu and pids controllers delegated, and a
# `skiff run --memory 16Mi --cpus 500m --pids 64` container lands in a
# group with memory.max 16777216, cpu.max "50000 100000" and pids.max 64,
# which is gone afterwards.
. "$(dirname "$0")/../lib.sh"
need_root
need_skiff
[[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]] ||
	cannot_run "not a cgroup v2 host (/sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup)); run me through tests/vm/run.sh"

T=${SKIFF_IN_VM:+10}
T=${T:-1}
CG=/sys/fs/cgroup
ROOT=skifftest-$TEST_ID

is "$(stat -f -c %T $CG)" cgroup2fs "/sys/fs/cgroup is cgroup2 (statfs)"
ok "no v1 hierarchy is mounted" test -z "$(awk '$3 == "cgroup"' /proc/mounts)"
for c in memory cpu pids io; do
	like " $(cat $CG/cgroup.controllers) " " $c " "the $c controller is available"
	like " $(cat $CG/cgroup.subtree_control) " " $c " "... and enabled for children"
done

# the harness itself: a group of our own takes limits
mkdir "$CG/$ROOT-probe"
defer "rmdir '$CG/$ROOT-probe'"
echo 16M >"$CG/$ROOT-probe/memory.max"
is "$(cat "$CG/$ROOT-probe/memory.max")" 16777216 "a child group takes memory.max"
rmdir "$CG/$ROOT-probe"

# ---- skiff run ---------------------------------------------------------------
if ! "$SKIFF" help 2>/dev/null | grep -q '^  run '; then
	fail "skiff run exists" "this build has no 'skiff run' yet (runtime/, issue 2)"
	done_testing
fi
RFS=${SKIFF_TEST_ROOTFS:-$TEST_TMP/busybox}
[[ -d $RFS ]] || "$SKIFF_TOP/rootfs-examples/busybox/build.sh" "$RFS" >/dev/null
defer "rmdir '$CG/$ROOT' 2>/dev/null"
marker=$((3600 + RANDOM % 1000)).$RANDOM
"$SKIFF" run --cgroup-root "$ROOT" --rootfs "$RFS" --memory 16Mi --cpus 500m --pids 64 \
	-- /bin/sleep "$marker" >"$TEST_TMP/run.log" 2>&1 &
run_pid=$!
defer "kill $run_pid"

# the container's process, found by its unique argument
find_ctr() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) == "/bin/sleep $marker " ]] &&
			{ echo "${p#/proc/}"; return 0; }
	done
	return 1
}
# until the container shows up, or skiff run has ended (a failed start)
found_or_ended() { find_ctr >/dev/null || ! kill -0 "$run_pid" 2>/dev/null; }
wait_for $((10 * T)) found_or_ended
ctr=$(find_ctr)
if [[ -z $ctr ]]; then
	fail "the container runs" "$(cat "$TEST_TMP/run.log")"
	done_testing
fi
pass "the container runs (pid $ctr)"
rel=$(sed -n 's/^0:://p' "/proc/$ctr/cgroup")
like "$rel" "^/$ROOT/" "it is in a group under --cgroup-root ($rel)"
grp=$CG$rel
is "$(cat "$grp/memory.max")" 16777216 "--memory 16Mi: memory.max = 16777216"
is "$(cat "$grp/cpu.max")" "50000 100000" "--cpus 500m: cpu.max = 50000 100000"
is "$(cat "$grp/pids.max")" 64 "--pids 64: pids.max = 64"
ok "the process is in the group's cgroup.procs" grep -qx "$ctr" "$grp/cgroup.procs"

kill -TERM "$run_pid"
wait_for $((10 * T)) sh -c "! kill -0 $run_pid"
ok "skiff run ends when signalled" sh -c "! kill -0 $run_pid 2>/dev/null"
wait_for $((5 * T)) test ! -e "$grp"
ok "the container's group is removed" test ! -e "$grp"
ok "... and nothing is left under $ROOT" sh -c "! find '$CG/$ROOT' -mindepth 1 -type d 2>/dev/null | grep -q ."
done_testing
