#!/bin/bash
# Pods: skiff play, the supervisor (restarts, logs, status, stop), volumes,
# and removal that leaves nothing behind.
. "$(dirname "$0")/runtime_common.sh"
rt_setup

# ---- two containers: 127.0.0.1, a shared emptyDir, a hostPath -------------------
mkdir -p "$TEST_TMP/host"
echo from-host >"$TEST_TMP/host/marker"
pod=$(manifest duo <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: shared
    emptyDir: {}
  - name: ram
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
  - name: host
    hostPath: {path: $TEST_TMP/host, type: Directory}
  initContainers:
  - name: first
    image: busybox:latest
    command: [sh, -c, 'echo -n 1 >/shared/order']
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: second
    image: busybox:latest
    command: [sh, -c, 'echo -n 2 >>/shared/order']
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: server
    image: busybox:latest
    command: [sh, -c, 'echo hello >/shared/file; while true; do nc -l -p 8080 -e echo pong; done']
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: client
    image: busybox:latest
    command: [sh, -c, 'sleep 1; echo "order \$(cat /shared/order)"; cat /shared/file; echo ping | nc 127.0.0.1 8080;
      cat /host/marker; echo written >/host/out; grep " /ram " /proc/mounts | cut -d" " -f3; hostname; exec sleep 3600']
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: ram, mountPath: /ram}
    - {name: host, mountPath: /host}
EOF
)
out=$(play --detach "$pod" 2>&1)
is "$out" "pod/duo started" "skiff play --detach starts the pod"
wait_for $((10 * T)) grep -q duo "$(log_file duo client)" >/dev/null
is "$(log_text duo client)" "order 12
hello
pong
from-host
tmpfs
duo" "init containers ran in order; 127.0.0.1 and an emptyDir are shared; hostPath; medium Memory is a tmpfs; hostname = pod name"
is "$(cat "$TEST_TMP/host/out")" written "the container wrote through the hostPath"
like "$(head -1 "$(log_file duo client)")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z stdout F ' "logs are in the CRI format"
is "$(ctr duo first detail | cut -d' ' -f1,5)" "0 Completed" "an init container that ended: terminated, Completed"
is "$(ctr duo server state)" running "the containers run"
is "$(pod_field duo phase)" Running "the pod is Running"
like "$("$SKIFF" ps --state-dir "$STATE")" "duo +default +Running +0 +10\.[0-9.]+ +[0-9]+s" "skiff ps lists it, with its IP"
spid=$(ctr duo server pid)
if [[ $CG_MODE == v1 ]]; then
	like "$(cat /proc/$spid/cgroup)" "memory:/$CG_ROOT/default_duo/server" "the container is in <root>/<pod>/<container>"
else
	is "$(sed -n 's/^0:://p' /proc/$spid/cgroup)" "/$CG_ROOT/default_duo/server" "the container is in <root>/<pod>/<container>"
fi
sup=$(pod_field duo supervisor_pid)
ok "the supervisor lives in the pod's network namespace" test "$(readlink /proc/$sup/ns/net)" == "$(readlink /proc/$spid/ns/net)"
ok "... which is not the host's" test "$(readlink /proc/$sup/ns/net)" != "$(readlink /proc/self/ns/net)"
ok "the containers have PID namespaces of their own" test "$(readlink /proc/$spid/ns/pid)" != "$(readlink /proc/$(ctr duo client pid)/ns/pid)"
ok "the supervisor is not its starter's child (reparented)" test "$(awk '{print $4}' /proc/$sup/stat)" != $$

pids="$sup $(ctr duo server pid) $(ctr duo client pid)"
out=$(play --down "$pod" 2>&1)
is "$out" "pod/duo removed" "skiff play --down removes it"
ok "no process of the pod is left" eval "! alive $pids"
ok "no cgroup of the pod is left" sh -c "! ls -d $(cg_file memory default_duo '') 2>/dev/null"
is "$(our_mounts)" "" "no mount is left (the pod's /dev/shm, the Memory emptyDir)"
ok "no state, data or log is left" test ! -e "$STATE/default_duo" -a ! -e "$STATE/data/default_duo" -a -z "$(ls "$STATE/logs")"
ok "the hostPath itself stays" test -e "$TEST_TMP/host/marker"

# ---- exit codes, reasons and phases ----------------------------------------------------
pod=$(manifest codes <<'EOF'
kind: Pod
metadata: {name: codes}
spec:
  restartPolicy: Never
  containers:
  - {name: three, image: busybox:latest, command: [sh, -c, 'exit 3']}
  - {name: zero, image: busybox:latest, command: ["true"]}
EOF
)
play --detach "$pod" >/dev/null
wait_state codes three terminated
wait_state codes zero terminated
is "$(ctr codes three detail | cut -d' ' -f1,5)" "3 Error" "exit 3: terminated, Error, code 3"
is "$(ctr codes zero detail | cut -d' ' -f1,5)" "0 Completed" "exit 0: Completed"
wait_for $((5 * T)) test "$(pod_field codes phase)" == Failed
is "$(pod_field codes phase)" Failed "restartPolicy Never and a failure: the pod Failed"
play --down "$pod" >/dev/null

pod=$(manifest oom <<'EOF'
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox:latest
    command: [dd, if=/dev/zero, of=/dev/null, bs=64M, count=1]
    resources: {limits: {memory: 16Mi}}
EOF
)
play --detach "$pod" >/dev/null
wait_state oom hog terminated
is "$(ctr oom hog detail | cut -d' ' -f1,2,5)" "137 9 OOMKilled" "a memory hog: OOMKilled, 137 (SIGKILL)"
like "$("$SKIFF" ps --state-dir "$STATE")" "oom +default +OOMKilled" "skiff ps shows OOMKilled"
play --down "$pod" >/dev/null

# ---- a failure before exec reaches the caller -------------------------------------------
pod=$(manifest bad <<'EOF'
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - {name: app, image: busybox:latest, command: [/no/such/binary]}
EOF
)
out=$(play --detach "$pod" 2>&1)
rc=$?
is "$rc" 1 "a container that cannot start: skiff play fails"
is "$out" 'skiff: pod "bad": container "app": exec /no/such/binary: No such file or directory' "... with the real message, on one line"
ok "... and leaves nothing behind" test ! -e "$STATE/default_bad"

# ---- restarts start clean; OnFailure ---------------------------------------------------------
pod=$(manifest again <<'EOF'
kind: Pod
metadata: {name: again}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: OnFailure
  containers:
  - name: app
    image: busybox:latest
    command: [sh, -c, 'if [ -e /seen ]; then echo dirty; else echo clean; fi; touch /seen; if [ -e /tmp/x ]; then exit 0; fi; exit 1']
EOF
)
play --detach "$pod" >/dev/null
wait_for $((10 * T)) test "$(ctr again app restart_count)" -ge 1
wait_for $((10 * T)) test -s "$(log_file again app 1)"
is "$(log_text again app 0)$(log_text again app 1)" "cleanclean" "a restarted container starts from a clean writable layer"
is "$(ctr again app last_state | cut -d' ' -f1,5)" "1 Error" "lastState keeps the previous run (code 1, Error)"
play --down "$pod" >/dev/null

# ---- graceful stop ----------------------------------------------------------------------------
pod=$(manifest grace <<'EOF'
kind: Pod
metadata: {name: grace}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: polite
    image: busybox:latest
    command: [sh, -c, 'trap "echo got TERM; exit 0" TERM; while true; do sleep 1; done']
  - name: stubborn
    image: busybox:latest
    command: [sh, -c, 'trap "echo ignoring TERM" TERM; while true; do sleep 1; done']
EOF
)
play --detach "$pod" >/dev/null
wait_state grace stubborn running
sleep $((1 * T))
# SIGTERM to the supervisor stops the pod as a deletion would (and keeps
# its status and logs to look at)
sup=$(pod_field grace supervisor_pid)
t0=$(date +%s%N)
kill -TERM "$sup"
wait_for $((15 * T)) eval "! alive $sup"
is "$(log_text grace polite)" "got TERM" "SIGTERM first: the polite container ends"
is "$(log_text grace stubborn)" "ignoring TERM" "the stubborn one got SIGTERM too"
polite=$((($(ctr grace polite detail | cut -d' ' -f4) - t0) / 1000000))
stubborn=$((($(ctr grace stubborn detail | cut -d' ' -f4) - t0) / 1000000))
ok "the polite one ended at once ($polite ms)" test $polite -lt $((2000 * T))
ok "the stubborn one was SIGKILLed after terminationGracePeriodSeconds ($stubborn ms >= 3000)" test $stubborn -ge 3000
ok "... not much later (< 3000 + 2000 ms)" test $stubborn -lt $((3000 + 2000 * T))
is "$(ctr grace stubborn detail | cut -d' ' -f1,2)" "137 9" "... exit 137, SIGKILL"
play --down "$pod" >/dev/null

# ---- the supervisor survives its starter ------------------------------------------------------
pod=$(manifest alone <<'EOF'
kind: Pod
metadata: {name: alone}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox:latest, command: [sh, -c, 'while true; do echo tick; sleep 0.2; done']}
EOF
)
nsenter --net="/run/netns/$NETNS" "$SKIFF" play --state-dir "$STATE" --image-dir "$IMAGES" \
	--cgroup-root "$CG_ROOT" "$pod" >/dev/null 2>&1 &
starter=$! # skiff itself (a simple command: no subshell in between)
wait_state alone app running
kill -9 $starter
wait $starter 2>/dev/null
ok "the starter is gone" eval "! alive $starter"
sleep $((1 * T))
app=$(ctr alone app pid)
ok "after SIGKILL of skiff play, the container still runs" alive "$app"
ok "... and the supervisor answers" sh -c "'$SKIFF' ps --state-dir '$STATE' | grep -q 'alone .*Running'"
n1=$(wc -l <"$(log_file alone app)")
sleep $((1 * T))
ok "... and still writes its log" test "$(wc -l <"$(log_file alone app)")" -gt "$n1"
play --down "$pod" >/dev/null
ok "removed afterwards" eval "! alive $app"

# ---- skiff play in the foreground -------------------------------------------------------
pod=$(manifest fg <<'EOF'
kind: Pod
metadata: {name: fg}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: talker
    image: busybox:latest
    command: [sh, -c, 'trap "echo got TERM; exit 0" TERM; echo hello; echo oops >&2; while true; do sleep 1; done']
EOF
)
# started as a simple command, so that $! is skiff itself
nsenter --net="/run/netns/$NETNS" "$SKIFF" play --state-dir "$STATE" --image-dir "$IMAGES" \
	--cgroup-root "$CG_ROOT" "$pod" >"$TEST_TMP/fg.out" 2>"$TEST_TMP/fg.err" &
fg=$!
wait_for $((10 * T)) grep -q hello "$TEST_TMP/fg.out"
kill -INT $fg
wait $fg
is "$?" 0 "Ctrl-C: skiff play stops the pod gracefully and exits 0"
is "$(cat "$TEST_TMP/fg.out")" "talker | hello
talker | got TERM" "stdout lines are prefixed by the container's name, to the last one"
is "$(cat "$TEST_TMP/fg.err")" "talker | oops" "stderr lines go to stderr"
ok "... and the pod is gone" test ! -e "$STATE/default_fg"

# ---- hostPath types ---------------------------------------------------------------------------
mkdir -p "$TEST_TMP/hp"
pod=$(manifest hp <<EOF
kind: Pod
metadata: {name: hp}
spec:
  restartPolicy: Never
  volumes:
  - {name: d, hostPath: {path: $TEST_TMP/hp/newdir, type: DirectoryOrCreate}}
  - {name: f, hostPath: {path: $TEST_TMP/hp/newfile, type: FileOrCreate}}
  containers:
  - name: app
    image: busybox:latest
    command: [sh, -c, 'echo in-file >/f; touch /d/in-dir']
    volumeMounts: [{name: d, mountPath: /d}, {name: f, mountPath: /f}]
EOF
)
play --detach "$pod" >/dev/null
wait_state hp app terminated
ok "DirectoryOrCreate made a directory, FileOrCreate a file" test -d "$TEST_TMP/hp/newdir" -a -f "$TEST_TMP/hp/newfile"
is "$(cat "$TEST_TMP/hp/newfile"; ls "$TEST_TMP/hp/newdir")" "in-file
in-dir" "... and the container wrote into both"
play --down "$pod" >/dev/null
sed -i 's/type: FileOrCreate/type: Socket/' "$pod"
like "$(play --detach "$pod" 2>&1)" 'volume "f": hostPath type check failed: .*/newfile is a file, not a socket' \
	"a hostPath of the wrong type is refused, with the reason"

# ---- nothing left ---------------------------------------------------------------------------
left=$(for d in $(cg_roots); do find "$d" -mindepth 1 -type d 2>/dev/null; done)
is "$left" "" "no cgroup is left under $CG_ROOT"
is "$(our_mounts)" "" "no mount is left"
is "$(pod_state)" "" "no pod state is left"
done_testing
