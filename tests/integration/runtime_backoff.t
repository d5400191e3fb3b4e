#!/bin/bash
# restartPolicy Always and the kubelet's back-off: the first restart is
# immediate, then 10 s, then 20 s (doubling to 300 s), with the container
# waiting in CrashLoopBackOff meanwhile. Takes about 35 s.
. "$(dirname "$0")/runtime_common.sh"
rt_setup

pod=$(manifest crash <<'YAML'
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox:latest, command: [sh, -c, 'sleep 1; exit 1']}
YAML
)
play --detach "$pod" >/dev/null

# gap K: from the end of run K-1 to the start of run K (ns), read while
# run K is running (lastState then holds run K-1)
declare -A gap
# a snapshot of the status, so that every field comes from one version
snap() { cp "$(status_file crash)" "$TEST_TMP/snap" 2>/dev/null; }
sctr() { awk -v k="$1" '$1 == "container" { c = 1; next } c && $1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$TEST_TMP/snap"; }
_restarted() { snap && [[ $(sctr restart_count) -ge $1 && $(sctr state) == running ]]; }
for k in 1 2 3; do
	if ! wait_for $((40 * T)) _restarted $k; then
		fail "restart $k happens" "$(cat "$(status_file crash)")"
		continue
	fi
	started=$(sctr detail | cut -d' ' -f3)
	finished=$(sctr last_state | cut -d' ' -f4)
	gap[$k]=$(((started - finished) / 1000000))
	pass "restart $k happened (${gap[$k]} ms after the previous run ended)"
	if ((k == 2)); then
		# run 2 ends in a second: then it waits, in CrashLoopBackOff
		wait_state crash app waiting 5
		is "$(ctr crash app detail | cut -d' ' -f5)" CrashLoopBackOff "while backing off: waiting, CrashLoopBackOff"
		like "$("$SKIFF" ps --state-dir "$STATE")" "crash +default +CrashLoopBackOff +2 " "skiff ps shows CrashLoopBackOff and 2 restarts"
	fi
done
ok "the first restart is immediate (${gap[1]:-?} ms < 2000)" test "${gap[1]:-99999}" -lt 2000
ok "the second waits 10 s (${gap[2]:-?} ms in [10000, 12000))" test "${gap[2]:-0}" -ge 10000 -a "${gap[2]:-0}" -lt $((10000 + 2000 * T))
ok "the third waits 20 s (${gap[3]:-?} ms in [20000, 22000))" test "${gap[3]:-0}" -ge 20000 -a "${gap[3]:-0}" -lt $((20000 + 2000 * T))
is "$(ctr crash app last_state | cut -d' ' -f1,5)" "1 Error" "lastState: the previous run's exit code and reason"
like "$(cat "$(log_file crash app 3)" "$(log_file crash app 2)" 2>&1)" "^$" "each start has its own log file (3.log, 2.log)"
play --down "$pod" >/dev/null
ok "removed" test ! -e "$STATE/default_crash"
done_testing
