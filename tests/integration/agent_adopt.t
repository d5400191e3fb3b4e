#!/bin/bash
# Pods outlive their agent: `kill -9` of the server with its embedded
# agent while 20 pods run, then a restart: all 20 still Running, the same
# supervisors and container processes, nothing started twice, the status
# unchanged. The same with a standalone `skiff agent`. A pod deleted
# while the agent was away is removed from the node when it comes back.
. "$(dirname "$0")/agent_lib.sh"

cluster_up

N=20
for i in $(seq 1 $N); do
	cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: p$i, labels: {app: adopt}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:latest
    command: ["sleep", "3600"]
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
EOF
done >"$TEST_TMP/pods.yaml"
k create -f "$TEST_TMP/pods.yaml" >/dev/null
running() {
	[[ $(k get pods -l app=adopt --no-headers 2>/dev/null | awk '$2 == "1/1" && $3 == "Running"' | wc -l) == "$1" ]]
}
ok "$N pods Running and Ready" wait_for $((60 * T)) running $N

snapshot() {
	local i
	for i in $(seq 1 $N); do
		echo "p$i $(supervisor_pid "p$i") $(container_pid "p$i") $(jp "pod/p$i" '{.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount} {.status.podIP} {.metadata.uid}')"
	done
}
before=$(snapshot)
sups_before=$(supervisors)
is "$sups_before" $N "one supervisor per pod"
rv_before=$(k get pods -l app=adopt -o json | jq -c '[.items[] | .status | del(.conditions[].lastProbeTime)]')

# ---- kill -9 of the server and its agent
server_kill9
is "$(supervisors)" $N "the pods' supervisors survive kill -9 of the agent"
alive=0
for p in $(echo "$before" | awk '{print $3}'); do [[ -d /proc/$p ]] && alive=$((alive + 1)); done
is "$alive" $N "... and their containers"
server_start
ok "the restarted agent reports the node Ready" wait_for $((30 * T)) node_ready node1
ok "all $N pods still Running and Ready" wait_for $((30 * T)) running $N
sleep 2
after=$(snapshot)
is "$after" "$before" "the same supervisors, container processes, start times, restart counts, IPs"
is "$(supervisors)" $N "no pod started twice"
dups=$(for d in "${NODE_STATE[node1]}"/default_p*; do echo "$d"; done | wc -l)
is "$dups" $N "one runtime pod per pod"
rv_after=$(k get pods -l app=adopt -o json | jq -c '[.items[] | .status | del(.conditions[].lastProbeTime)]')
is "$rv_after" "$rv_before" "the pods' status is exactly as before (no flap to not-ready)"
ok "no new Started events" test "$(events p1 Started | wc -l)" -eq 1

# ---- a pod deleted while the agent is away
server_kill9
sup5=$(supervisor_pid p5)
# the server comes back with its agent; the pod goes before the agent saw it
server_start --disable-agent
k delete pod p5 --grace-period 0 --force >/dev/null 2>&1
ok "p5 deleted from the API while no agent runs" pod_gone p5
kill -9 "${NODE_PID[node1]}"
wait "${NODE_PID[node1]}" 2>/dev/null
server_start
ok "the agent is back" wait_for $((30 * T)) node_ready node1
ok "it removes the pod that no longer exists" wait_for $((15 * T)) test ! -e "${NODE_STATE[node1]}/default_p5"
ok "... its supervisor is gone" wait_for 5 bash -c "! kill -0 $sup5 2>/dev/null"
is "$(supervisors)" $((N - 1)) "the others stay"

# ---- a standalone agent (server without one)
server_kill9
server_start --disable-agent
agent_start node1 --kubeconfig "$KUBECONFIG_FILE" --listen 127.0.0.1:0
apid=$AGENT_PID
ok "skiff agent adopts the pods" wait_for $((30 * T)) running $((N - 1))
before=$(snapshot | grep -v '^p5 ')
kill -9 $apid
wait $apid 2>/dev/null
agent_start node1 --kubeconfig "$KUBECONFIG_FILE" --listen 127.0.0.1:0
sleep 3
ok "after kill -9 of skiff agent: still Running" wait_for $((30 * T)) running $((N - 1))
is "$(snapshot | grep -v '^p5 ')" "$before" "... the same processes"
is "$(supervisors)" $((N - 1)) "... none twice"
k delete pods -l app=adopt --grace-period 0 >/dev/null 2>&1
none() { [[ $(k get pods -l app=adopt --no-headers 2>/dev/null | wc -l) == 0 ]]; }
ok "all deleted" wait_for $((30 * T)) none
ok "no supervisor left" wait_for $((30 * T)) test "$(supervisors)" -eq 0
done_testing
