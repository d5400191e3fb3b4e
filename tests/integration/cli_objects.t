#!/bin/bash
# The skiff client against a real skiff server: create -f a Pod, the
# mission's Service and a Deployment; get (tables, -o yaml|json|name, -l,
# -A, -w), describe, apply twice with a change, label, annotate, delete -f,
# create namespace, get ns, get all, api-resources, version.
. "$(dirname "$0")/cli_lib.sh"

start_server
M=$TEST_TMP/manifests
mkdir -p "$M"
cat >"$M/pod.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: test-app
spec:
  containers:
  - name: c
    image: busybox:latest
    command: ["sleep", "3600"]
    ports:
    - containerPort: 8888
Y
cat >"$M/svc.yaml" <<'Y'
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
Y
cat >"$M/deploy.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  labels:
    app: hello
spec:
  replicas: 2
  selector:
    matchLabels:
      app: hello
  template:
    metadata:
      labels:
        app: hello
    spec:
      containers:
      - name: c
        image: busybox:1.36
Y

# ---- create ----
run_ok "create -f pod" skiff create -f "$M/pod.yaml"
is "$out" "pod/web created" "create prints kind/name created"
run_ok "create -f the mission's Service" skiff create -f "$M/svc.yaml"
is "$out" "service/test-service created" "service created"
run_ok "create -f deployment" skiff create -f "$M/deploy.yaml"
is "$out" "deployment.apps/hello created" "deployment printed with its group"
run_fails "create again fails" skiff create -f "$M/svc.yaml"
is "$err" "skiff: Error from server (AlreadyExists): error when creating \"$M/svc.yaml\": services \"test-service\" already exists" \
	"AlreadyExists names the file"

# ---- get: tables ----
run_ok "get pods" skiff get pods
like "$out" $'^NAME +READY +STATUS +RESTARTS +AGE\nweb +0/1 +Pending +0 +[0-9]+s$' "pod table as kubectl's"
run_ok "get po web -o wide" skiff get po web -o wide
like "$out" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES' "wide columns"
run_ok "get svc" skiff get svc test-service
like "$out" $'^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\\(S\\) +AGE\ntest-service +ClusterIP +10\\.96\\.[0-9.]+ +<none> +80/TCP +[0-9]+s$' \
	"service table with an allocated ClusterIP"
run_ok "get deploy" skiff get deployments.apps
like "$out" $'^NAME +READY +UP-TO-DATE +AVAILABLE +AGE\nhello ' "deployment table"
run_ok "get pods -l app=test-app" skiff get pods -l app=test-app
like "$out" $'\nweb ' "label selector selects the pod"
run_ok "get pods -l app=nothing" skiff get pods -l app=nothing
is "$err" "No resources found in default namespace." "empty selection says so on stderr"
is "$out" "" "and prints no table"
run_ok "get pods -A" skiff get pods -A
like "$out" $'^NAMESPACE +NAME +READY.*\ndefault +web ' "NAMESPACE column with -A"
run_ok "get pods --show-labels" skiff get pods --show-labels
like "$out" 'LABELS' "LABELS column"
like "$out" 'app=test-app' "labels shown"

# ---- get: objects ----
run_ok "get pod -o yaml" skiff get pod web -o yaml
like "$out" $'^apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: "[0-9-]+T[0-9:]+Z"' "yaml: sorted keys, quoted timestamp"
like "$out" $'\n  containers:\n  - command:\n    - sleep\n    - "3600"\n' "yaml: sequences as kubectl prints them"
run_ok "get pods -o json" skiff get pods -o json
like "$out" $'^\\{\n    "apiVersion": "v1",\n    "items": \\[' "json List with 4-space indent"
like "$out" '"kind": "List"' "a kind: List"
run_ok "get all -o name" skiff get pod,svc -o name
is "$out" $'pod/web\nservice/kubernetes\nservice/test-service' "-o name"

# ---- get all ----
run_ok "get all" skiff get all
like "$out" $'(^|\n)NAME +READY +STATUS +RESTARTS +AGE\npod/web ' "get all: pods with kind prefix"
like "$out" $'\n\nNAME +TYPE +CLUSTER-IP.*\nservice/kubernetes ' "get all: services after a blank line"
like "$out" $'deployment.apps/hello ' "get all: deployments"

# ---- describe ----
# no node here: the scheduler says so in an event, which describe lists
has_sched_event() {
	run skiff get events --field-selector involvedObject.name=web,reason=FailedScheduling -o name
	[[ -n $out ]]
}
wait_for 10 has_sched_event
run_ok "describe pod" skiff describe pod web
like "$out" $'^Name: +web\nNamespace: +default\n' "describe pod header"
like "$out" $'\nContainers:\n  c:\n    Image: +busybox:latest\n    Port: +8888/TCP\n' "containers section"
like "$out" $'\nQoS Class: +BestEffort\n' "QoS class"
like "$out" $'\nEvents:\n  Type +Reason +Age +From +Message\n  -+ +-+ +-+ +-+ +-+\n  Warning +FailedScheduling +[0-9a-z]+ +default-scheduler +no nodes available to schedule pods' \
	"events section (the scheduler's event)"
run_ok "describe svc" skiff describe svc test-service
like "$out" $'Selector: +app=test-app\nType: +ClusterIP\n' "service selector and type"
like "$out" $'\nPort: +<unset> +80/TCP\nTargetPort: +8888/TCP\n' "service ports"
run_ok "describe deployment" skiff describe deploy hello
like "$out" $'Replicas: +2 desired \\| ' "deployment replicas line"
like "$out" $'\nPod Template:\n  Labels: +app=hello\n  Containers:\n   c:\n    Image: +busybox:1.36\n' "pod template"
run_ok "describe node-less namespace" skiff describe ns default
like "$out" $'^Name: +default\n.*Status: +Active' "describe namespace"

# ---- apply ----
run_ok "apply to an object made by create" skiff apply -f "$M/deploy.yaml"
is "$out" "deployment.apps/hello configured" "the annotation is patched in"
like "$err" 'missing the kubectl.kubernetes.io/last-applied-configuration annotation' "with kubectl's warning"
run_ok "apply unchanged" skiff apply -f "$M/deploy.yaml"
is "$out" "deployment.apps/hello unchanged" "nothing to patch"
sed -i 's/busybox:1.36/busybox:latest/; s/replicas: 2/replicas: 3/' "$M/deploy.yaml"
run_ok "apply a change" skiff apply -f "$M/deploy.yaml"
is "$out" "deployment.apps/hello configured" "configured"
run_ok "read back" skiff get deploy hello -o json
like "$out" '"image": "busybox:latest"' "image changed by the strategic merge patch"
like "$out" '"replicas": 3' "replicas changed"
like "$out" '"terminationMessagePolicy": "File"' "server defaults kept"
run_ok "create namespace for apply" skiff create namespace applyns
cp "$M/pod.yaml" "$M/pod2.yaml"
sed -i 's/name: web/name: web2/' "$M/pod2.yaml"
run_ok "apply -n creates" skiff apply -f "$M/pod2.yaml" -n applyns
is "$out" "pod/web2 created" "apply creates"
run_ok "last-applied recorded" skiff get pod web2 -n applyns -o yaml
like "$out" 'kubectl.kubernetes.io/last-applied-configuration: \|' "annotation as a literal block"

# ---- label, annotate ----
run_ok "label" skiff label pod web tier=fe
is "$out" "pod/web labeled" "labeled"
run_fails "label without --overwrite" skiff label pod web tier=be
is "$err" "skiff: error: 'tier' already has a value (fe), and --overwrite is false" "kubectl's overwrite check"
run_ok "label --overwrite" skiff label pod/web tier=be --overwrite
run_ok "selected by the new label" skiff get pods -l tier=be -o name
is "$out" "pod/web" "label stored"
run_ok "remove a label" skiff label pod web tier-
is "$out" "pod/web unlabeled" "unlabeled"
run_ok "annotate" skiff annotate pod web note=hello
is "$out" "pod/web annotated" "annotated"
run_ok "annotation stored" skiff get pod web -o json
like "$out" '"note": "hello"' "annotation in the object"

# ---- -w ----
"$SKIFF" --kubeconfig "$KCFG" get pods -w >"$TEST_TMP/watch.out" 2>&1 &
WPID=$!
defer "kill $WPID"
wait_for 5 grep -q '^web ' "$TEST_TMP/watch.out"
run "$SKIFF" --kubeconfig "$KCFG" label pod web watched=yes
run "$SKIFF" --kubeconfig "$KCFG" create -f "$M/pod2.yaml"
if wait_for 10 grep -q '^web2 ' "$TEST_TMP/watch.out"; then pass "get -w shows a new pod"; else fail "get -w shows a new pod" "$(cat "$TEST_TMP/watch.out")"; fi
kill $WPID 2>/dev/null
like "$(head -1 "$TEST_TMP/watch.out")" '^NAME +READY +STATUS +RESTARTS +AGE$' "watch starts with the header"
is "$(grep -c '^web ' "$TEST_TMP/watch.out")" 2 "the labelled pod shows again (MODIFIED)"

# ---- delete ----
run_ok "delete -f" skiff delete -f "$M/svc.yaml"
is "$out" 'service "test-service" deleted' "kubectl's delete message"
run_fails "deleted service is gone" skiff get svc test-service
is "$err" 'skiff: Error from server (NotFound): services "test-service" not found' "NotFound after delete"
run_ok "delete pod --now" skiff delete pod web --now
is "$out" 'pod "web" deleted' "pod deleted"
run_ok "delete --ignore-not-found" skiff delete pod web --ignore-not-found
is "$out" "" "nothing to say"
run_ok "delete -l" skiff delete pods -l app=test-app
is "$out" 'pod "web2" deleted' "delete by selector"
run_ok "delete deployment --cascade=orphan" skiff delete deploy hello --cascade=orphan
is "$out" 'deployment.apps "hello" deleted' "deployment deleted"

# ---- namespaces ----
run_ok "create namespace" skiff create namespace team-a
is "$out" "namespace/team-a created" "namespace created"
run_ok "get ns" skiff get ns
like "$out" $'^NAME +STATUS +AGE\n' "namespace table"
like "$out" $'\nteam-a +Active +[0-9]+s' "new namespace active"
like "$out" $'\nkube-system +Active ' "system namespaces"
run_fails "invalid namespace name" skiff create namespace Bad
like "$err" '^skiff: The Namespace "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 label' "422 as kubectl prints it"

# ---- discovery ----
run_ok "api-resources" skiff api-resources
like "$out" $'^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND\n' "api-resources header"
like "$out" $'\npods +po +v1 +true +Pod\n' "pods row"
like "$out" $'\ndeployments +deploy +apps/v1 +true +Deployment' "deployments row"
run_ok "version" skiff version
is "$out" $'Client Version: v1.33.0+skiff\nServer Version: v1.33.0+skiff' "client and server versions"

done_testing
