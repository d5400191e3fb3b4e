#!/bin/bash
# Security of pods: symlinks in images and volumes cannot send mounts onto
# the host, securityContext (capabilities, users, no_new_privs, seccomp,
# read-only root, privileged), and the supervisor's /proc/PID/exe.
. "$(dirname "$0")/runtime_common.sh"
rt_setup

# ---- a symlink in the image at a volume's mount path -------------------------------
EVIL=$TEST_TMP/evil
cp -a "$ROOTFS" "$EVIL"
ln -s /etc "$EVIL/data"
ln -s ../../../../../../../../etc "$EVIL/up"
"$SKIFF" image import --image-dir "$IMAGES" evil:latest "$EVIL" >/dev/null
mkdir -p "$TEST_TMP/vol"
echo planted >"$TEST_TMP/vol/planted-$TEST_ID"
host_etc_mounts=$(awk '$5 == "/etc"' /proc/self/mountinfo | wc -l)
pod=$(manifest evil <<EOF
kind: Pod
metadata: {name: evil}
spec:
  restartPolicy: Never
  volumes:
  - {name: v, hostPath: {path: $TEST_TMP/vol}}
  containers:
  - name: abs
    image: evil:latest
    command: [sh, -c, 'cat /etc/planted-$TEST_ID; ls /etc/passwd 2>&1 | grep -o "No such file"']
    volumeMounts: [{name: v, mountPath: /data}]
  - name: rel
    image: evil:latest
    command: [sh, -c, 'cat /etc/sub/planted-$TEST_ID']
    volumeMounts: [{name: v, mountPath: /up/sub}]
EOF
)
play --detach "$pod" >/dev/null
wait_state evil abs terminated
wait_state evil rel terminated
is "$(log_text evil abs)" "planted
No such file" "a volume at /data -> /etc lands on the container's own /etc"
ok "the host's /etc has no such file" test ! -e "/etc/planted-$TEST_ID"
ok "the host's /etc/sub was not created" test ! -e /etc/sub
is "$(log_text evil rel)" planted "a relative escape (up -> ../../../etc) stays in the container (its /etc/sub)"
is "$(awk '$5 == "/etc"' /proc/self/mountinfo | wc -l)" "$host_etc_mounts" "nothing was mounted on the host's /etc"
play --down "$pod" >/dev/null

# ---- a symlink left in a shared volume, used as a subPath -------------------------------
pod=$(manifest sub <<'EOF'
kind: Pod
metadata: {name: sub}
spec:
  restartPolicy: Never
  volumes:
  - {name: shared, emptyDir: {}}
  initContainers:
  - name: plant
    image: busybox:latest
    command: [sh, -c, 'ln -s / /shared/escape; ln -s ../../../../../.. /shared/up; ln -s /etc /shared/etc']
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: victim
    image: busybox:latest
    command: [sh, -c, 'ls /a | tr "\n" " "; echo; ls /b | tr "\n" " "']
    volumeMounts:
    - {name: shared, mountPath: /a, subPath: escape}
    - {name: shared, mountPath: /b, subPath: up}
EOF
)
play --detach "$pod" >/dev/null
wait_state sub victim terminated
is "$(log_text sub victim)" "escape etc up 
escape etc up " "subPath symlinks (/ and ../../..) resolve inside the volume, never on the host"
play --down "$pod" >/dev/null
sed -i 's/subPath: up}/subPath: etc}/' "$pod"
out=$(play --detach "$pod" 2>&1)
like "$out" 'container "victim": mount /b: subPath etc of .*: Too many levels of symbolic links' \
	"a subPath symlink that loops inside the volume is refused, with the reason"

# ---- securityContext ------------------------------------------------------------------------
pod=$(manifest sec <<'EOF'
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  securityContext: {supplementalGroups: [4000]}
  containers:
  - name: default
    image: busybox:latest
    command: [sh, -c, 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | tr "\t\n" "  "; id']
  - name: adddrop
    image: busybox:latest
    command: [sh, -c, 'grep ^CapEff /proc/self/status | cut -f2']
    securityContext: {capabilities: {add: [NET_ADMIN, SYS_TIME], drop: [NET_RAW]}}
  - name: user
    image: busybox:latest
    command: [sh, -c, 'id; grep ^CapEff /proc/self/status | cut -f2; touch /etc/x 2>&1 | grep -o "Permission denied"']
    securityContext: {runAsUser: 1000, runAsGroup: 3000}
  - name: nnp
    image: busybox:latest
    command: [sh, -c, 'grep ^NoNewPrivs /proc/self/status | cut -f2']
    securityContext: {allowPrivilegeEscalation: false}
  - name: unconfined
    image: busybox:latest
    command: [sh, -c, 'grep ^Seccomp: /proc/self/status | cut -f2']
    securityContext: {seccompProfile: {type: Unconfined}}
  - name: readonly
    image: busybox:latest
    command: [sh, -c, 'touch /x 2>&1 | grep -o "Read-only file system"; echo ok >/dev/shm/y && cat /dev/shm/y']
    securityContext: {readOnlyRootFilesystem: true}
  - name: privileged
    image: busybox:latest
    command: [sh, -c, 'grep -E "^(CapEff|Seccomp):" /proc/self/status | cut -f2 | tr "\n" " "; ls /dev | wc -l']
    securityContext: {privileged: true}
EOF
)
play --detach "$pod" >/dev/null
for c in default adddrop user nnp unconfined readonly privileged; do wait_state sec $c terminated; done
is "$(log_text sec default)" "CapEff: 00000000a80425fb CapBnd: 00000000a80425fb NoNewPrivs: 0 Seccomp: 2 uid=0(root) gid=0(root) groups=0(root),4000" \
	"defaults: containerd's capabilities, RuntimeDefault seccomp, root, the pod's supplementalGroups"
is "$(log_text sec adddrop)" 00000000aa0415fb "capabilities add NET_ADMIN and SYS_TIME, drop NET_RAW"
is "$(log_text sec user)" "uid=1000(user) gid=3000 groups=3000,4000
0000000000000000
Permission denied" "runAsUser and runAsGroup: a non-root user without capabilities"
is "$(log_text sec nnp)" 1 "allowPrivilegeEscalation: false sets NoNewPrivs"
is "$(log_text sec unconfined)" 0 "seccompProfile Unconfined: no filter"
is "$(log_text sec readonly)" "Read-only file system
ok" "readOnlyRootFilesystem: / read-only, /dev/shm writable"
want_caps=$(printf '%016x' $((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status))))
read -r pcaps psec pdev <<<"$(log_text sec privileged)"
is "$pcaps $psec" "$want_caps 0" "privileged: every capability the runtime has, no seccomp"
ok "privileged: the host's devices ($pdev entries in /dev)" test "$pdev" -gt 20
play --down "$pod" >/dev/null

# ---- the supervisor's binary is out of reach ----------------------------------------------------
sum=$(sha256sum "$SKIFF" | cut -d' ' -f1)
pod=$(manifest peek <<'EOF'
kind: Pod
metadata: {name: peek}
spec:
  hostPID: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:latest
    command: [sh, -c, 'for p in /proc/[0-9]*; do grep -q "__super""visor" $p/cmdline 2>/dev/null || continue;
      n=$((n+1)); cat $p/exe >/dev/null 2>&1 && echo "read $p"; { echo x >>$p/exe; } 2>/dev/null && echo "wrote $p";
      ls $p/root/ >/dev/null 2>&1 && echo "root $p"; done; echo "supervisors ${n:-0}"; sleep 3600']
EOF
)
play --detach "$pod" >/dev/null
wait_for $((10 * T)) grep -q supervisors "$(log_file peek app)"
like "$(log_text peek app)" "^supervisors [1-9]" "a hostPID container sees the supervisors"
unlike "$(log_text peek app)" "read|wrote|root" "... but cannot read or write their /proc/PID/exe, nor enter their root"
is "$(sha256sum "$SKIFF" | cut -d' ' -f1)" "$sum" "the skiff binary is unchanged"
play --down "$pod" >/dev/null

left=$(for d in $(cg_roots); do find "$d" -mindepth 1 -type d 2>/dev/null; done)
is "$left" "" "no cgroup is left"
is "$(our_mounts)" "" "no mount is left"
done_testing
