#!/bin/bash
# The scheduler in a real `skiff server`, with Node objects the test
# keeps Ready through Lease renewals (as agents would): bin packing,
# Unschedulable with kube-scheduler's per-node reasons and a
# FailedScheduling event, retries when a node appears or a pod leaves,
# nodeSelector, host ports, taints and tolerations (NoSchedule, NoExecute
# with eviction), cordoned nodes.
. "$(dirname "$0")/sched_lib.sh"

# a grace period shorter than the test: the nodes stay Ready only through
# the renewals
srv_start --node-monitor-grace-period 6s
mknode node-a 2 4Gi '{"zone":"a","disk":"ssd"}'
mknode node-b 2 4Gi '{"zone":"b"}'
renew_start node-a node-b

all_bound() {
	local p
	for p in "$@"; do bound "$p" || return 1; done
}
deleting() {
	req GET "$NS/pods/$1"
	[[ $(jqb '.metadata.deletionTimestamp // ""') != "" ]]
}
not_deleting() { ! deleting "$1"; }
message_is() { [[ $(pod_condition "$1" PodScheduled message) == "$2" ]]; }

# ---- bin packing: four pods of 0.9 cpu on two 2-cpu nodes
for i in 1 2 3 4; do mkpod pack$i '{"cpu":"900m","memory":"1Gi"}'; done
ok "four pods with requests are bound" wait_for 10 all_bound pack1 pack2 pack3 pack4
is "$(node_of pack1) $(node_of pack2) $(node_of pack3) $(node_of pack4)" \
	"node-a node-a node-b node-b" "bin packing: node-a fills up before node-b is used"
is "$(pod_condition pack1 PodScheduled status)" True "a bound pod has PodScheduled=True"
is "$(events_of pack2 Scheduled)" "Successfully assigned default/pack2 to node-a" \
	"... and a Scheduled event from the scheduler"
req GET "$NS/events?fieldSelector=involvedObject.name%3Dpack2%2Creason%3DScheduled"
is "$(jqb '.items[0].source.component')" default-scheduler "... reported by default-scheduler"

# ---- too large for every node
mkpod huge '{"cpu":"3"}'
ok "a pod too large for both nodes is Unschedulable" wait_for 10 unschedulable huge
is "$(pod_condition huge PodScheduled status)" False "... PodScheduled=False"
is "$(pod_condition huge PodScheduled message)" "0/2 nodes are available: 2 Insufficient cpu." \
	"... with the reason for each node"
is "$(events_of huge FailedScheduling)" "0/2 nodes are available: 2 Insufficient cpu." \
	"... and a FailedScheduling event"
is "$(node_of huge)" "" "... and it stays unbound"
mkpod huge-ssd '{"cpu":"3"}' '{"nodeSelector":{"disk":"ssd"}}'
ok "a large pod for ssd nodes is Unschedulable" wait_for 10 unschedulable huge-ssd
is "$(pod_condition huge-ssd PodScheduled message)" \
	"0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector." \
	"... one reason per node, counted and sorted as kube-scheduler does"

mknode node-c 4 8Gi '{"zone":"c"}'
renew_stop
renew_start node-a node-b node-c
ok "the pod is scheduled once a node with room appears" wait_for 10 bound huge
is "$(node_of huge)" node-c "... on that node"
is "$(pod_condition huge PodScheduled status)" True "... PodScheduled=True now"
ok "the ssd pod's reasons now count three nodes" wait_for 10 message_is huge-ssd \
	"0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
is "$(node_of huge-ssd)" "" "... and it is still waiting"

# ---- a pod that leaves frees its room
mkpod mid '{"cpu":"1500m"}'
ok "1.5 cpu fits nowhere (0.2, 0.2 and 1 cpu free)" wait_for 10 unschedulable mid
is "$(pod_condition mid PodScheduled message)" "0/3 nodes are available: 3 Insufficient cpu." \
	"... Insufficient cpu on all three"
req DELETE "$NS/pods/pack3?gracePeriodSeconds=0"
req DELETE "$NS/pods/pack4?gracePeriodSeconds=0"
ok "it is scheduled when pods leave a node" wait_for 10 bound mid
is "$(node_of mid)" node-b "... the node they left"

# ---- nodeSelector wins over packing
mkpod sel '{"cpu":"100m"}' '{"nodeSelector":{"zone":"c"}}'
ok "a pod with a nodeSelector is bound" wait_for 10 bound sel
is "$(node_of sel)" node-c "... to the node with the label"

# ---- host ports: one pod per node and port
hp='{"containers":[{"name":"c","image":"busybox:1.36","ports":[{"containerPort":80,"hostPort":8080}],"resources":{"requests":{"cpu":"50m"}}}]}'
for i in 1 2 3; do mkpod hp$i '{}' "$hp"; done
ok "three pods with hostPort 8080 are bound" wait_for 10 all_bound hp1 hp2 hp3
is "$( (node_of hp1; node_of hp2; node_of hp3) | sort | tr '\n' ' ')" "node-a node-b node-c " \
	"... each on a node of its own"
mkpod hp4 '{}' "$hp"
ok "a fourth is Unschedulable" wait_for 10 unschedulable hp4
is "$(pod_condition hp4 PodScheduled message)" \
	"0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports." \
	"... the ports are taken everywhere"
mkpod hp-udp '{}' "$(jq -c '.containers[0].ports[0].protocol = "UDP"' <<<"$hp")"
ok "the same port over UDP is free" wait_for 10 bound hp-udp
req DELETE "$NS/pods/hp2?gracePeriodSeconds=0"
ok "the fourth goes where the port was freed" wait_for 10 bound hp4

# ---- taints and tolerations
req PATCH /api/v1/nodes/node-a '{"spec":{"taints":[{"key":"dedicated","value":"ml","effect":"NoSchedule"}]}}' \
	application/merge-patch+json
expect 200 "taint node-a dedicated=ml:NoSchedule"
mkpod t1 '{"cpu":"100m"}' '{"nodeSelector":{"zone":"a"}}'
ok "a pod for node-a without a toleration is Unschedulable" wait_for 10 unschedulable t1
is "$(pod_condition t1 PodScheduled message)" \
	"0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}, 2 node(s) didn't match Pod's node affinity/selector." \
	"... naming the taint"
mkpod t2 '{"cpu":"100m"}' '{"nodeSelector":{"zone":"a"},"tolerations":[{"key":"dedicated","operator":"Equal","value":"ml","effect":"NoSchedule"}]}'
ok "with the toleration it is bound" wait_for 10 bound t2
is "$(node_of t2)" node-a "... to the tainted node"
is "$(node_of pack1)" node-a "NoSchedule leaves the pods already there alone"

# NoExecute: pods that do not tolerate it are evicted; tolerationSeconds
# delays it; a toleration without seconds keeps the pod
mkpod stay '{}' '{"nodeName":"node-b","tolerations":[{"key":"evict","operator":"Exists","effect":"NoExecute"}]}'
mkpod later '{}' '{"nodeName":"node-b","tolerations":[{"key":"evict","operator":"Exists","effect":"NoExecute","tolerationSeconds":3}]}'
req PATCH /api/v1/nodes/node-b '{"spec":{"taints":[{"key":"evict","value":"now","effect":"NoExecute"}]}}' \
	application/merge-patch+json
expect 200 "taint node-b evict=now:NoExecute"
ok "a pod without a toleration is evicted (deleted) from it" wait_for 10 deleting mid
is "$(events_of mid TaintManagerEviction)" "Marking for deletion Pod default/mid" \
	"... with a TaintManagerEviction event"
is "$(pod_condition mid DisruptionTarget reason)" DeletionByTaintManager \
	"... and a DisruptionTarget condition"
ok "a pod tolerating it for 3 s is evicted after that" wait_for 15 deleting later
ok "a pod tolerating it without a limit stays" not_deleting stay
mkpod t3 '{"cpu":"100m"}' '{"nodeSelector":{"zone":"b"}}'
ok "NoExecute keeps new pods off as well" wait_for 10 unschedulable t3
like "$(pod_condition t3 PodScheduled message)" "1 node\(s\) had untolerated taint \{evict: now\}" \
	"... naming the taint"

# ---- a cordoned node
req PATCH /api/v1/nodes/node-c '{"spec":{"unschedulable":true}}' application/merge-patch+json
expect 200 "cordon node-c"
cordon_taint() {
	req GET /api/v1/nodes/node-c
	[[ $(jqb '[.spec.taints[]? | select(.key == "node.kubernetes.io/unschedulable")] | length') == 1 ]]
}
ok "the node lifecycle controller taints it node.kubernetes.io/unschedulable" wait_for 10 cordon_taint
mkpod cordoned '{"cpu":"100m"}' '{"nodeSelector":{"zone":"c"}}'
ok "a pod for the cordoned node is Unschedulable" wait_for 10 unschedulable cordoned
like "$(pod_condition cordoned PodScheduled message)" "1 node\(s\) were unschedulable" \
	"... the node was unschedulable"
req PATCH /api/v1/nodes/node-c '{"spec":{"unschedulable":null}}' application/merge-patch+json
ok "uncordoned, the pod is bound" wait_for 10 bound cordoned
no_cordon_taint() { ! cordon_taint; }
ok "... and the taint goes" wait_for 10 no_cordon_taint

# ---- nodes that are not Ready take nothing
node_status node-c 4 8Gi False
mkpod nr '{"cpu":"100m"}' '{"nodeSelector":{"zone":"c"}}'
ok "a pod for a NotReady node is Unschedulable" wait_for 10 unschedulable nr
like "$(pod_condition nr PodScheduled message)" \
	"1 node\(s\) had untolerated taint \{node.kubernetes.io/not-ready: \}" \
	"... the node's not-ready taint"

# the scheduler never put two pods where they do not fit
req GET "$NS/pods"
over=$(jq -r '[.items[] | select(.spec.nodeName != null and .metadata.deletionTimestamp == null)
	| {n: .spec.nodeName, c: (.spec.containers[0].resources.requests.cpu // "0")}]
	| group_by(.n) | map({n: .[0].n, m: (map(.c | if endswith("m") then rtrimstr("m") | tonumber
	  else tonumber * 1000 end) | add)}) | map(select((.n == "node-c" and .m > 4000) or
	  (.n != "node-c" and .m > 2000))) | length' <<<"$BODY")
is "$over" 0 "no node holds more cpu requests than it has"
done_testing
