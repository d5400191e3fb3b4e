# shellcheck shell=bash
# Helpers for the scheduler and controller tests (sched_*.t): Node objects
# that the test keeps Ready itself, as an agent would (status with
# allocatable and a Ready condition, a Lease in kube-node-lease renewed
# every second), and pods with requests.
#
#   . "$(dirname "$0")/sched_lib.sh"
#   srv_start --node-monitor-grace-period 5s
#   mknode node-a 2 4Gi '{"zone":"a"}'      # NAME CPU MEMORY [LABELS] [TAINTS]
#   renew_start node-a node-b               # background Lease renewals
#   mkpod p1 '{"cpu":"500m"}' '{"nodeSelector":{"zone":"a"}}'
#   wait_for 10 bound p1 && is "$(node_of p1)" node-a "..."
. "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

NS=/api/v1/namespaces/default
LEASES=/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases

now_micro() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
now_sec() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# mknode NAME CPU MEMORY [LABELS-JSON] [TAINTS-JSON] [PODS]: a Ready node.
mknode() {
	local name=$1 cpu=$2 mem=$3 labels=${4:-'{}'} taints=${5:-'[]'} pods=${6:-110}
	local body
	body=$(jq -cn --arg n "$name" --argjson l "$labels" --argjson t "$taints" \
		'{apiVersion:"v1",kind:"Node",metadata:{name:$n,
		  labels:({"kubernetes.io/hostname":$n} + $l)},spec:{taints:$t}}')
	req POST /api/v1/nodes "$body"
	[[ $CODE == 201 ]] || { diag "create node $name: $CODE $BODY"; return 1; }
	node_status "$name" "$cpu" "$mem" True "$pods"
	lease_renew "$name"
}

# node_status NAME CPU MEMORY READY [PODS]: what an agent posts.
node_status() {
	local now
	now=$(now_sec)
	req PATCH "/api/v1/nodes/$1/status" "$(jq -cn --arg c "$2" --arg m "$3" --arg r "$4" \
		--arg p "${5:-110}" --arg now "$now" \
		'{status:{capacity:{cpu:$c,memory:$m,pods:$p},allocatable:{cpu:$c,memory:$m,pods:$p},
		  conditions:[{type:"Ready",status:$r,reason:"KubeletReady",message:"test",
		  lastHeartbeatTime:$now,lastTransitionTime:$now}]}}')" \
		application/merge-patch+json
	[[ $CODE == 200 ]] || { diag "status of node $1: $CODE $BODY"; return 1; }
}

# lease_renew NAME: create or renew the node's Lease (renewTime now).
lease_renew() {
	local body
	body=$(jq -cn --arg n "$1" --arg t "$(now_micro)" \
		'{apiVersion:"coordination.k8s.io/v1",kind:"Lease",metadata:{name:$n,namespace:"kube-node-lease"},
		  spec:{holderIdentity:$n,leaseDurationSeconds:40,renewTime:$t}}')
	req PUT "$LEASES/$1" "$body"
	[[ $CODE == 200 || $CODE == 201 ]] || diag "lease $1: $CODE $BODY"
}

# renew_start NAME...: renew these Leases every second in the background
# until renew_stop (or the end of the test). Its own curl: req's answer
# file belongs to the test.
renew_start() {
	(
		while :; do
			for n in "$@"; do
				jq -cn --arg n "$n" --arg t "$(now_micro)" \
					'{apiVersion:"coordination.k8s.io/v1",kind:"Lease",
					  metadata:{name:$n,namespace:"kube-node-lease"},
					  spec:{holderIdentity:$n,leaseDurationSeconds:40,renewTime:$t}}' |
					curl -sS --cacert "$SRV_CA" -X PUT -o /dev/null \
						-H "Authorization: Bearer $SRV_TOKEN" \
						-H "Content-Type: application/json" --data-binary @- \
						"$SRV_URL$LEASES/$n"
			done
			sleep 1
		done
	) >/dev/null 2>&1 &
	RENEW_PID=$!
	defer "kill $RENEW_PID 2>/dev/null"
}
renew_stop() { kill "$RENEW_PID" 2>/dev/null; wait "$RENEW_PID" 2>/dev/null; }

# mkpod NAME [REQUESTS-JSON] [EXTRA-SPEC-JSON] [LABELS-JSON]
mkpod() {
	local requests=${2:-'{}'} extra=${3:-'{}'} labels=${4:-'{}'}
	req POST $NS/pods "$(jq -cn --arg n "$1" --argjson r "$requests" --argjson x "$extra" \
		--argjson l "$labels" \
		'{apiVersion:"v1",kind:"Pod",metadata:{name:$n,labels:$l},
		  spec:({containers:[{name:"c",image:"busybox:1.36",command:["sleep","3600"],
		  resources:{requests:$r}}]} + $x)}')"
	[[ $CODE == 201 ]] || { diag "create pod $1: $CODE $BODY"; return 1; }
}

node_of() {
	req GET "$NS/pods/$1"
	jqb '.spec.nodeName // ""'
}
bound() { [[ -n $(node_of "$1") ]]; }

# pod_condition NAME TYPE FIELD: e.g. pod_condition p1 PodScheduled reason
pod_condition() {
	req GET "$NS/pods/$1"
	jqb ".status.conditions[]? | select(.type == \"$2\") | .$3"
}
unschedulable() { [[ $(pod_condition "$1" PodScheduled reason) == Unschedulable ]]; }

# events_of NAME REASON: the messages of the pod's events with that reason.
events_of() {
	req GET "$NS/events?fieldSelector=involvedObject.name%3D$1%2Creason%3D$2"
	jqb '.items[].message'
}

node_condition() {
	req GET "/api/v1/nodes/$1"
	jqb ".status.conditions[]? | select(.type == \"$2\") | .$3"
}
