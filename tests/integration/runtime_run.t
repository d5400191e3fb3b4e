#!/bin/bash
# skiff run: one container, in the foreground, with real namespaces,
# cgroups (v1 on the host, v2 in the guest), capabilities and seccomp.
. "$(dirname "$0")/runtime_common.sh"
rt_setup

# ---- the basics --------------------------------------------------------------
is "$(run -- sh -c 'echo $$')" 1 "the command is PID 1 of its PID namespace"
is "$(run --hostname box -- hostname)" box "--hostname sets the UTS name"
is "$(run --name tname -- cat /etc/hostname)" tname "the pod's name is the default hostname, in /etc/hostname"
like "$(run -- cat /etc/hosts)" "127.0.0.1	localhost" "a Kubernetes-style /etc/hosts"
is "$(run -- sh -c 'ip link 2>/dev/null | grep -c "^[0-9]"')" 1 "a network namespace of its own: only lo"
like "$(run -- ip link show lo)" "UP" "... and lo is up"
run -- true
is "$?" 0 "exit status 0"
run -- sh -c 'exit 3'
is "$?" 3 "exit status 3 is passed on"
run -- sh -c 'kill -TERM $$; sleep 1; exit 0' >/dev/null 2>&1
is "$?" 0 "PID 1 ignores a SIGTERM it has no handler for (the kernel's rule)"
run -- sh -c 'sleep 10 & p=$!; kill -9 $p; wait $p; exit $?'
is "$?" 137 "a child killed by SIGKILL: 137 through the shell"

# ---- failures before exec come back as their real message -----------------------
err=$(run -- /nope 2>&1)
rc=$?
is "$rc" 127 "a missing command: status 127"
is "$err" "skiff: exec /nope: No such file or directory" "... with the real message"
err=$(run -- nope-cmd 2>&1)
is "$err" 'skiff: exec "nope-cmd": executable file not found in $PATH' "a command not in PATH says so"
err=$(run -- /etc/passwd 2>&1)
rc=$?
is "$rc" 126 "a file that cannot be executed: 126"
like "$err" "exec /etc/passwd: Permission denied" "... Permission denied"
err=$(run --user nosuchuser -- id 2>&1)
like "$err" 'user "nosuchuser": no such user in /etc/passwd' "an unknown user is a clear error"
err=$(run -w /etc/passwd -- pwd 2>&1)
like "$err" "chdir to workingDir /etc/passwd: Not a directory" "a workingDir that is a file is refused"

# ---- users -------------------------------------------------------------------------
is "$(run --user 1000 -- id)" "uid=1000(user) gid=1000(user) groups=1000(user)" "--user 1000: the image's user 1000 and its group"
is "$(run --user 1000:2000 -- id -g)" 2000 "--user UID:GID"
is "$(run --user user -- id -u)" 1000 "--user NAME from the image's /etc/passwd"

# ---- capabilities, seccomp, no_new_privs ----------------------------------------------
caps() { run "$@" -- sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | tr "\n\t" "  "'; }
is "$(caps)" "CapEff: 00000000a80425fb CapBnd: 00000000a80425fb " "CapEff and CapBnd: containerd's default set"
is "$(caps --cap-add NET_ADMIN)" "CapEff: 00000000a80435fb CapBnd: 00000000a80435fb " "--cap-add NET_ADMIN adds bit 12"
is "$(caps --cap-drop NET_RAW --cap-drop CHOWN)" "CapEff: 00000000a80405fa CapBnd: 00000000a80405fa " "--cap-drop NET_RAW and CHOWN remove bits 13 and 0"
is "$(caps --cap-drop ALL --cap-add KILL)" "CapEff: 0000000000000020 CapBnd: 0000000000000020 " "drop ALL, add KILL"
is "$(caps --user 1000)" "CapEff: 0000000000000000 CapBnd: 00000000a80425fb " "a non-root user gets no effective capabilities"
like "$(run -- cat /proc/self/status)" "Seccomp:	2" "Seccomp: 2 (a filter) by default"
like "$(run -- cat /proc/self/status)" "NoNewPrivs:	0" "NoNewPrivs: 0 by default (allowPrivilegeEscalation defaults to true)"
like "$(run --no-new-privileges -- cat /proc/self/status)" "NoNewPrivs:	1" "--no-new-privileges: NoNewPrivs: 1"
like "$(run --seccomp unconfined -- cat /proc/self/status)" "Seccomp:	0" "--seccomp unconfined: no filter"
like "$(run -- unshare -U true 2>&1)" "Operation not permitted" "the profile refuses new user namespaces"
run --seccomp unconfined -- unshare -U true
is "$?" 0 "... which unconfined allows (so it is the filter that refused)"
like "$(run --cap-add SYS_ADMIN -- sh -c 'mount -t tmpfs x /tmp 2>&1; echo rc=$?')" "rc=0" "with CAP_SYS_ADMIN the profile allows mount"

# ---- the file system -------------------------------------------------------------------
tree() { (cd "$ROOTFS" && find . -printf '%p %y %s %m %l\n' | sort | md5sum); }
before=$(tree)
run -- sh -c 'echo x >/newfile; rm /bin/ls; echo y >>/etc/passwd; mkdir /newdir' 2>/dev/null
is "$(tree)" "$before" "the image is unchanged after a container wrote to /"
ok "... and the write went nowhere on the host" test ! -e "$ROOTFS/newfile"
is "$(run -- sh -c 'ls /newfile 2>&1; ls /bin/ls')" "ls: /newfile: No such file or directory
/bin/ls" "the next container starts clean"
like "$(run --read-only -- sh -c 'touch /x 2>&1; touch /dev/shm/ok && echo shm-ok')" \
	"Read-only file system.*shm-ok" "--read-only: / is read-only, /dev/shm is not"
is "$(run -- ls /dev | tr '\n' ' ')" "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " \
	"a minimal /dev: no host devices"
is "$(run -- sh -c 'for p in /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/sched_debug /proc/scsi /sys/firmware; do
	[ -e $p ] || continue
	grep -q " $p " /proc/self/mountinfo || echo "$p is not masked"
done; head -c 1 /proc/keys 2>/dev/null | wc -c')" 0 "containerd's masked paths are masked (/proc/keys reads empty)"
like "$(run -- sh -c 'echo 1 >/proc/sys/kernel/ns_last_pid' 2>&1)" "Read-only file system" "/proc/sys is read-only"
like "$(run -- touch /sys/x 2>&1)" "Read-only file system" "/sys is read-only"
exec 7</etc/hostname
is "$(run -- ls /proc/self/fd | tr '\n' ' ')" "0 1 2 3 " "no host fd reaches the container (only 0 1 2 and ls's own 3)"
exec 7<&-
is "$(run -w /work/here -- pwd)" /work/here "a missing workingDir is created, and entered"
mkdir -p "$TEST_TMP/vol"
echo hostdata >"$TEST_TMP/vol/f"
is "$(run -v "$TEST_TMP/vol:/data:ro" -- sh -c 'cat /data/f; touch /data/g 2>&1 | grep -o "Read-only"')" "hostdata
Read-only" "-v SRC:DST:ro binds a host directory read-only"

# a mount made inside stays inside
run_bg --cap-add SYS_ADMIN -- sh -c 'mount -t tmpfs inside /tmp && sleep 2'
pid=$!
sleep $((1 * T))
ok "mounts in the container are not in the host's mount table" sh -c "! grep -q ' inside ' /proc/self/mountinfo && ! grep -q '$ROOTFS' /proc/self/mountinfo"
wait $pid

# ---- devices ------------------------------------------------------------------------------
# mknod is allowed (CAP_MKNOD), opening a device outside the allow-list is
# not: a host block device when there is one, else /dev/kmsg (c 1:11) with
# CAP_SYSLOG, which open() would otherwise allow
blk=$(ls /sys/dev/block 2>/dev/null | head -1)
if [[ -n $blk ]]; then
	out=$(run -- sh -c "mknod /tmp/disk b ${blk%:*} ${blk#*:} && head -c 1 /tmp/disk >/dev/null" 2>&1)
	like "$out" "Operation not permitted" "mknod of a host block device works, opening it does not (device cgroup)"
else
	out=$(run --cap-add SYSLOG -- sh -c "mknod /tmp/kmsg c 1 11 && head -c 1 /tmp/kmsg >/dev/null" 2>&1)
	like "$out" "Operation not permitted" "mknod of /dev/kmsg works, opening it does not (device cgroup)"
fi

# ---- cgroups: limits, OOM, pids ------------------------------------------------------------
marker=$((RANDOM + 100000))
run_bg --name limits --grace 1 --memory 32Mi --cpus 500m --pids 20 -- sleep "$marker"
rpid=$!
find_ctr() {
	local p
	for p in /proc/[0-9]*; do
		[[ $({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) == "sleep $marker " ]] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}
wait_for $((5 * T)) find_ctr >/dev/null
ctr_pid=$(find_ctr)
rel=default_limits/limits
if [[ $CG_MODE == v1 ]]; then
	like "$(cat /proc/$ctr_pid/cgroup)" "memory:/$CG_ROOT/$rel" "v1: the container is in its own group of our root"
	is "$(cat "$(cg_file memory $rel memory.limit_in_bytes)")" 33554432 "v1: memory.limit_in_bytes = 32Mi"
	is "$(cat "$(cg_file cpu $rel cpu.cfs_quota_us)")" 50000 "v1: cpu.cfs_quota_us = 50000 for 500m"
	is "$(cat "$(cg_file cpu $rel cpu.cfs_period_us)")" 100000 "v1: cpu.cfs_period_us = 100000"
	is "$(cat "$(cg_file cpu $rel cpu.shares)")" 512 "v1: cpu.shares = 512 for a 500m request"
	is "$(cat "$(cg_file pids $rel pids.max)")" 20 "v1: pids.max = 20"
	ok "v1: the device allow-list is set" grep -q "c 1:3 rwm" "$(cg_file devices $rel devices.list)"
	ok "v1: ... and denies the rest" sh -c "! grep -q 'a \*:\* rwm' '$(cg_file devices $rel devices.list)'"
else
	is "$(sed -n 's/^0:://p' /proc/$ctr_pid/cgroup)" "/$CG_ROOT/$rel" "v2: the container is in its own group of our root"
	is "$(cat "$(cg_file x $rel memory.max)")" 33554432 "v2: memory.max = 32Mi"
	is "$(cat "$(cg_file x $rel cpu.max)")" "50000 100000" "v2: cpu.max = 50000 100000 for 500m"
	is "$(cat "$(cg_file x $rel cpu.weight)")" 20 "v2: cpu.weight = 20 for a 500m request (shares 512)"
	is "$(cat "$(cg_file x $rel pids.max)")" 20 "v2: pids.max = 20"
	is "$(cat "$(cg_file x $rel memory.oom.group)")" 1 "v2: memory.oom.group = 1"
	pass "v2: (v1's devices.list has no v2 file; the eBPF filter is checked with mknod above)"
	pass "v2: (see above)"
fi
kill -TERM $rpid
wait $rpid
is "$?" 137 "SIGTERM to skiff run: forwarded, ignored by the sleep (PID 1), killed after the grace period"
ok "the container's groups are removed" test ! -e "$(cg_file memory default_limits limits)"
ok "... the pod's too" test ! -e "$(cg_file memory default_limits "")"

out=$(run --memory 16Mi -- dd if=/dev/zero of=/dev/null bs=64M count=1 2>&1)
rc=$?
is "$rc" 137 "a memory hog is OOM-killed: status 137"
like "$out" "OOMKilled" "... and skiff says OOMKilled"

# a fork bomb in a subshell; the container's PID 1 survives it and waits on
# a FIFO with builtins only (it could not fork any more)
run_bg --name bomb --pids 16 -- sh -c 'mkfifo /tmp/f; (i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); done) 2>/dev/null
	set -- /proc/[0-9]*; echo "procs $#"; read x </tmp/f' >"$TEST_TMP/bomb.out" 2>&1
bpid=$!
wait_for $((10 * T)) grep -q procs "$TEST_TMP/bomb.out"
like "$(cat "$TEST_TMP/bomb.out")" "^procs ([0-9]|1[0-6])$" "a fork bomb stops at the pids limit: at most 16 processes"
cur=$(cat "$(cg_file pids default_bomb/bomb pids.current)" 2>/dev/null)
ok "... pids.current = $cur <= 16" test "${cur:-99}" -le 16
like "$(cat "$(cg_file pids default_bomb/bomb pids.events)" 2>/dev/null)" "max [1-9]" "... the kernel refused forks (pids.events)"
kill -9 $bpid
wait $bpid 2>/dev/null
ok "SIGKILL to skiff run takes its container along (PDEATHSIG)" wait_for $((5 * T)) sh -c "! pgrep -f 'sleep 6[0]' >/dev/null"
# a SIGKILLed skiff run cannot remove its (now empty) groups: that is ours to do
for d in $(cg_roots); do rmdir "$d/default_bomb/bomb" "$d/default_bomb" 2>/dev/null; done

# ---- /proc/PID/exe ----------------------------------------------------------------------
sum_before=$(sha256sum "$SKIFF" | cut -d' ' -f1)
out=$(run --pid host -e "PAT=$SKIFF" -- sh -c 'for p in /proc/[0-9]*; do
	grep -qF "$PAT" $p/cmdline 2>/dev/null || continue
	n=$((n+1))
	cat $p/exe >/dev/null 2>&1 && echo "read $p"
	{ echo x >>$p/exe; } 2>/dev/null && echo "wrote $p"
done; echo "tried ${n:-0}"')
like "$out" "^tried [1-9]" "with the host's PID namespace, the container sees skiff processes"
unlike "$out" "read|wrote" "... but can neither read nor write their /proc/PID/exe"
is "$(sha256sum "$SKIFF" | cut -d' ' -f1)" "$sum_before" "the skiff binary is unchanged"

# ---- nothing left ------------------------------------------------------------------------
left=$(for d in $(cg_roots); do find "$d" -mindepth 1 -type d 2>/dev/null; done)
is "$left" "" "no cgroup is left under $CG_ROOT"
is "$(our_mounts)" "" "no mount is left"
done_testing
