#!/bin/bash
# Self-healing on a node of a real cluster: a crashing container shows
# CrashLoopBackOff with growing delays; an OOM kill shows OOMKilled; a
# failing liveness probe restarts the container; a failing readiness
# probe takes the pod out of its Service (Endpoints and the dataplane)
# and a passing one brings it back; a startup probe holds liveness back.
. "$(dirname "$0")/agent_lib.sh"

cluster_up

k create -f "$(manifest heal <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - {name: c, image: busybox:latest, command: ["sh", "-c", "echo run; exit 3"]}
---
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:latest
    command: ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]
    resources: {limits: {memory: 16Mi}, requests: {memory: 8Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:latest
    command: ["sh", "-c", "touch /tmp/ok; trap 'exit 0' TERM; sleep 3600 & wait"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/ok"]}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:latest
    command: ["sh", "-c", "sleep 3; touch /tmp/up; trap 'exit 0' TERM; sleep 3600 & wait"]
    startupProbe:
      exec: {command: ["cat", "/tmp/up"]}
      periodSeconds: 1
      failureThreshold: 10
    livenessProbe:
      exec: {command: ["cat", "/tmp/up"]}
      periodSeconds: 1
      failureThreshold: 1
EOF
)" >/dev/null

# ---- CrashLoopBackOff with growing delays
ok "the crashing container restarts at once" wait_for $((10 * T)) restarts_at_least crash 1
ok "... then waits in CrashLoopBackOff" wait_for $((10 * T)) waiting_is crash CrashLoopBackOff
like "$(jp pod/crash '{.status.containerStatuses[0].state.waiting.message}')" \
	'^back-off 10s restarting failed container=c pod=crash_default' "... back-off 10s first"
is "$(jp pod/crash '{.status.containerStatuses[0].lastState.terminated.exitCode}')" 3 \
	"lastState: exit code 3"
is "$(jp pod/crash '{.status.containerStatuses[0].lastState.terminated.reason}')" Error \
	"lastState: reason Error"
is "$(jp pod/crash '{.status.phase}')" Running "the pod stays Running (restartPolicy Always)"
ok "a BackOff event" wait_for 5 has_event crash BackOff
crash_status() { k get pod crash 2>/dev/null | awk 'NR == 2 { print $3 }'; }
is "$(crash_status)" CrashLoopBackOff "get pods STATUS: CrashLoopBackOff"
t1=$(date +%s)
ok "the second restart after about 10 s" wait_for $((25 * T)) restarts_at_least crash 2
t2=$(date +%s)
ok "... then back-off 20s" wait_for 5 bash -c \
	"[[ \$(KUBECONFIG=$KUBECONFIG_FILE nsenter --net=/run/netns/${NODE_NS[node1]} $SKIFF get pod crash -o jsonpath='{.status.containerStatuses[0].state.waiting.message}') == 'back-off 20s'* ]]"
ok "the third restart about 20 s later" wait_for $((35 * T)) restarts_at_least crash 3
t3=$(date +%s)
d1=$((t2 - t1)) d2=$((t3 - t2))
diag "restart delays: ${d1}s, ${d2}s"
ok "the delays grow (${d1}s then ${d2}s)" test "$d2" -gt "$d1" -a "$d1" -ge 8 -a "$d2" -ge 17

# ---- OOMKilled
oom_reason() { jp pod/oom '{.status.containerStatuses[0].state.terminated.reason}'; }
ok "the memory hog is OOMKilled" wait_for $((20 * T)) bash -c "[[ \$(KUBECONFIG=$KUBECONFIG_FILE nsenter --net=/run/netns/${NODE_NS[node1]} $SKIFF get pod oom -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}') == OOMKilled ]]"
is "$(jp pod/oom '{.status.containerStatuses[0].state.terminated.exitCode}')" 137 "exit code 137"
is "$(jp pod/oom '{.status.phase}')" Failed "restartPolicy Never: the pod Failed"
ok "an OOMKilled event" has_event oom OOMKilled

# ---- liveness
ok "live is Running" wait_for $((20 * T)) pod_ready live
pid1=$(container_pid live)
k exec live -- rm /tmp/ok
ok "a failing liveness probe restarts the container" wait_for $((15 * T)) restarts_at_least live 1
ok "... a new process" wait_for 5 bash -c "[[ -n \$(awk -v c=c '(\$1 == \"container\") { cur = \$2; next } cur == c && \$1 == \"pid\" { print \$2; exit }' $(status_file live)) && \$(awk -v c=c '(\$1 == \"container\") { cur = \$2; next } cur == c && \$1 == \"pid\" { print \$2; exit }' $(status_file live)) != $pid1 ]]"
like "$(events live Unhealthy | head -1)" "^Liveness probe failed: cat: can't open '/tmp/ok'" \
	"an Unhealthy event with the probe's output"
is "$(events live Killing)" "Container c failed liveness probe, will be restarted" "a Killing event"
ok "... and it is healthy again" wait_for $((10 * T)) pod_ready live
sleep 3
is "$(restarts live)" 1 "the restarted container passes its probe (no second restart)"

# ---- startup probe
ok "slow becomes Ready once its startup probe passes" wait_for $((20 * T)) pod_ready slow
is "$(restarts slow)" 0 "liveness waited for the startup probe: no restart"

# ---- readiness takes a pod out of its Service
k create -f "$(manifest ready <<'EOF'
kind: Service
apiVersion: v1
metadata: {name: test-service}
spec:
  selector: {app: test-app}
  ports: [{protocol: TCP, port: 80, targetPort: 8888}]
---
apiVersion: v1
kind: Pod
metadata: {name: web1, labels: {app: test-app}}
spec:
  containers:
  - name: web
    image: web:latest
    readinessProbe: {exec: {command: ["test", "!", "-e", "/tmp/sick"]}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: web2, labels: {app: test-app}}
spec:
  containers:
  - name: web
    image: web:latest
    readinessProbe: {exec: {command: ["test", "!", "-e", "/tmp/sick"]}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:latest, command: ["sleep", "3600"]}]
EOF
)" >/dev/null
ok "web1 ready" wait_for $((20 * T)) pod_ready web1
ok "web2 ready" wait_for $((20 * T)) pod_ready web2
ok "client running" wait_for $((20 * T)) pod_phase_is client Running
eps() { jp endpoints/test-service '{.subsets[*].addresses[*].ip}'; }
two_eps() { [[ $(eps | wc -w) == 2 ]]; }
ok "the Service has both endpoints" wait_for 10 two_eps
vip=$(jp svc/test-service '{.spec.clusterIP}')
hits() {
	local i
	for i in $(seq 1 "$1"); do k exec client -- wget -q -O- "http://$vip/" 2>/dev/null; done
}
both=$(hits 20 | sort | uniq -c | wc -l)
is "$both" 2 "requests to the ClusterIP reach both pods"
k exec web2 -- touch /tmp/sick
ok "a failing readiness probe: web2 not Ready" wait_for $((10 * T)) pod_not_ready web2
is "$(jp pod/web2 '{.status.containerStatuses[0].ready}')" false "... its container not ready"
is "$(jp pod/web2 '{.status.phase}')" Running "... but Running"
one_ep() { [[ $(eps) == "$(jp pod/web1 '{.status.podIP}')" ]]; }
ok "... and out of the Endpoints" wait_for 10 one_ep
sleep 1
is "$(hits 15 | sort -u)" web1 "... and out of the dataplane: every request reaches web1"
ok "Readiness probe failed events" has_event web2 Unhealthy
k exec web2 -- rm /tmp/sick
ok "passing again: web2 Ready" wait_for $((10 * T)) pod_ready web2
ok "... back in the Endpoints" wait_for 10 two_eps
done_testing
