#!/bin/bash
# The seed's example end to end: the Service `test-service` (port 80 ->
# targetPort 8888) over three `app: test-app` pods of the `web` image,
# created with skiff and with kubectl 1.33, answers on its ClusterIP:80
# and as test-service.default.svc.cluster.local from another pod,
# spreading requests over all three; a deleted pod leaves it.
. "$(dirname "$0")/agent_lib.sh"

cluster_up
[[ -x $KUBECTL ]] || cannot_run "needs kubectl 1.33 at $KUBECTL"

# the Service exactly as in the mission text
k create -f "$(manifest svc <<'EOF'
kind: Service
apiVersion: v1
metadata:
  name: test-service
spec:
  selector:
    app: test-app
  ports:
  - protocol: TCP
    port: 80
    targetPort: 8888
EOF
)" >/dev/null
for i in 1 2 3; do
	cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: web$i, labels: {app: test-app}}
spec:
  containers:
  - name: web
    image: web:latest
    ports: [{containerPort: 8888}]
    readinessProbe: {httpGet: {path: /healthz, port: 8888}, periodSeconds: 1}
EOF
done >"$TEST_TMP/web.yaml"
k create -f "$TEST_TMP/web.yaml" >/dev/null
kubectl create -f "$(manifest client <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:latest, command: ["sleep", "3600"]}]
EOF
)" >/dev/null
for p in web1 web2 web3; do ok "$p Ready" wait_for $((20 * T)) pod_ready "$p"; done
ok "client Running" wait_for $((20 * T)) pod_phase_is client Running
three() { [[ $(jp endpoints/test-service '{.subsets[*].addresses[*].ip}' | wc -w) == 3 ]]; }
ok "the Endpoints hold the three pods" wait_for 10 three
vip=$(jp svc/test-service '{.spec.clusterIP}')
like "$vip" '^10\.96\.' "a ClusterIP ($vip)"

# 60 requests from the client pod: one wget per request, in one exec
count() {
	k exec client -- sh -c "i=0; while [ \$i -lt 60 ]; do wget -q -O- $1 2>/dev/null; i=\$((i+1)); done" |
		sort | uniq -c
}
c=$(count "http://$vip:80/")
diag "ClusterIP:80: $(echo $c)"
is "$(echo "$c" | wc -l)" 3 "ClusterIP:80 reaches all three pods"
is "$(echo "$c" | awk '{ s += $1 } END { print s }')" 60 "... every request answered"
ok "... each at least 15%" test "$(echo "$c" | awk 'BEGIN { m = 99 } $1 < m { m = $1 } END { print m }')" -ge 9
c=$(count "http://test-service.default.svc.cluster.local/")
diag "by name: $(echo $c)"
is "$(echo "$c" | wc -l)" 3 "test-service.default.svc.cluster.local reaches all three"
is "$(k exec client -- wget -q -O- http://test-service/ | grep -c '^web[123]$')" 1 \
	"the short name resolves through the search path"
like "$(k exec client -- nslookup test-service.default.svc.cluster.local 2>&1)" "Address: $vip" \
	"the cluster DNS answers the ClusterIP"
is "$(kubectl exec client -- wget -q -O- "http://$vip/" | grep -c '^web')" 1 "also through kubectl exec"

k delete pod web3 --grace-period 1 >/dev/null 2>&1
two() { [[ $(jp endpoints/test-service '{.subsets[*].addresses[*].ip}' | wc -w) == 2 ]]; }
ok "a deleted pod leaves the Endpoints" wait_for 15 two
sleep 1
c=$(count "http://$vip/")
is "$(echo "$c" | awk '{print $2}' | sort | tr '\n' ' ')" "web1 web2 " "... and the dataplane"
done_testing
