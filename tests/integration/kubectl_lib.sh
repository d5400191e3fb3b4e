# shellcheck shell=bash
# The kubectl compatibility scenario (kubectl_*.t): a real kubectl drives
# a real server through the commands of issue 4, each checked for its exit
# status and output.
#
#   . "$(dirname "$0")/kubectl_lib.sh"
#   kubectl_scenario /path/to/kubectl
. "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

# kc ARGS...: kubectl with the test's kubeconfig and cache; $out, $err, $rc.
kc() {
	"$KC" --kubeconfig "$SRV_DIR/admin.kubeconfig" --cache-dir "$TEST_TMP/kcache" "$@" \
		>"$TEST_TMP/kc.out" 2>"$TEST_TMP/kc.err"
	rc=$?
	out=$(cat "$TEST_TMP/kc.out")
	err=$(cat "$TEST_TMP/kc.err")
}

# kc_ok NAME REGEX ARGS...: exit 0 and stdout matching REGEX.
kc_ok() {
	local name=$1 re=$2
	shift 2
	kc "$@"
	if ((rc == 0)) && [[ $out =~ $re ]]; then
		pass "$name"
	else
		fail "$name" "kubectl $*: exit $rc" "stdout: $out" "stderr: $err" "wanted: $re"
	fi
}

write_manifests() {
	M=$TEST_TMP/manifests
	mkdir -p "$M"
	cat >"$M/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: test-pod
  labels:
    app: test-app
spec:
  containers:
  - name: c
    image: nginx:1.19
    ports:
    - containerPort: 8888
EOF
	# the seed's Service, unchanged (shared/MISSION.md)
	cat >"$M/svc.yaml" <<'EOF'
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
	cat >"$M/deploy.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: test-deploy
spec:
  replicas: 3
  selector:
    matchLabels:
      app: test-app
  template:
    metadata:
      labels:
        app: test-app
    spec:
      containers:
      - name: c
        image: nginx:1.19
        ports:
        - containerPort: 8888
EOF
	sed -e 's/name: test-deploy/name: web/' -e 's/app: test-app/app: web/' "$M/deploy.yaml" >"$M/web.yaml"
	sed -e 's/nginx:1.19/nginx:1.20/' -e 's/replicas: 3/replicas: 2/' "$M/web.yaml" >"$M/web2.yaml"
}

kubectl_scenario() {
	KC=$1
	[[ -x $KC ]] || cannot_run "no kubectl at $KC"
	srv_start
	write_manifests
	local ver
	ver=$("$KC" version --client 2>/dev/null | head -1)
	diag "client: $ver"

	kc_ok "version shows the server's v1.33.0+skiff" "Server Version: (v1\\.33\\.0\\+skiff|version\\.Info\\{.*GitVersion:\"v1\\.33\\.0\\+skiff\")" version

	# create
	kc_ok "create -f pod.yaml" "^pod/test-pod created$" create -f "$M/pod.yaml"
	kc_ok "create -f the seed's Service" "^service/test-service created$" create -f "$M/svc.yaml"
	kc_ok "create -f a Deployment" "^deployment.apps/test-deploy created$" create -f "$M/deploy.yaml"
	kc create -f "$M/svc.yaml"
	if ((rc == 1)) && [[ $err =~ AlreadyExists.*services\ \"test-service\"\ already\ exists ]]; then
		pass "create -f again: AlreadyExists, exit 1"
	else
		fail "create -f again: AlreadyExists" "exit $rc" "$err"
	fi

	# get: tables, -o yaml, -l
	kc_ok "get pods: a table" "NAME +READY +STATUS +RESTARTS +AGE.*test-pod +0/1 +Pending +0 " get pods
	kc_ok "get pods -o wide: the wide columns" "IP +NODE +NOMINATED NODE +READINESS GATES" get pods -o wide
	kc_ok "get pod -o yaml" "kind: Pod.*name: test-pod.*uid: [0-9a-f-]{36}" get pod test-pod -o yaml
	kc_ok "get pods -o yaml (a List)" "kind: List" get pods -o yaml
	kc_ok "get pods -o json" '"kind": "Pod"' get pod test-pod -o json
	kc_ok "get pods -l app=test-app" "test-pod" get pods -l app=test-app
	kc get pods -l app=nope
	if ((rc == 0)) && [[ "$out$err" =~ No\ resources\ found\ in\ default\ namespace ]]; then
		pass "get pods -l app=nope: No resources found"
	else
		fail "get pods -l app=nope" "exit $rc" "$out" "$err"
	fi
	kc_ok "get svc: ClusterIP and ports" "test-service +ClusterIP +10\\.96\\.[0-9]+\\.[0-9]+ +<none> +80/TCP" get svc
	kc_ok "get deploy (short name)" "test-deploy +0/3 +0 +0" get deploy
	kc_ok "get po (short name)" "test-pod" get po
	kc_ok "get pods -A" "default +test-pod" get pods -A
	kc_ok "get pods --show-labels" "app=test-app" get pods --show-labels

	# get all
	kc_ok "get all" "pod/test-pod.*service/kubernetes.*service/test-service.*deployment.apps/test-deploy" get all

	# describe
	kc_ok "describe pod" "Name: +test-pod.*Namespace: +default.*Containers:.*c:.*Image: +nginx:1.19.*Port: +8888/TCP" \
		describe pod test-pod
	kc_ok "describe service" "Name: +test-service.*Selector: +app=test-app.*IP: +10\\.96\\..*Port: .*80/TCP.*TargetPort: +8888/TCP" \
		describe service test-service
	kc_ok "describe deployment" "Name: +test-deploy.*Replicas: +3 desired" describe deployment test-deploy

	# get -w sees a change
	"$KC" --kubeconfig "$SRV_DIR/admin.kubeconfig" --cache-dir "$TEST_TMP/kcache" get pods -w \
		>"$TEST_TMP/watch.out" 2>&1 &
	local wpid=$!
	defer "kill $wpid 2>/dev/null"
	watching() { grep -q test-pod "$TEST_TMP/watch.out"; }
	wait_for 10 watching
	# label
	kc_ok "label" "^pod/test-pod labeled$" label pod test-pod tier=front
	two_lines() { (($(grep -c test-pod "$TEST_TMP/watch.out") >= 2)); }
	if wait_for 10 two_lines; then
		pass "get -w prints the change"
	else
		fail "get -w prints the change" "$(cat "$TEST_TMP/watch.out")"
	fi
	kill $wpid 2>/dev/null
	is "$(grep -c NAME "$TEST_TMP/watch.out")" 1 "get -w prints one header (Table events)"
	kc_ok "get -l tier=front finds the labeled pod" "test-pod" get pods -l tier=front
	kc label pod test-pod tier=back
	((rc == 1)) && [[ $err =~ already\ has\ a\ value ]] && pass "label without --overwrite refuses" ||
		fail "label without --overwrite refuses" "exit $rc" "$err"
	kc_ok "label --overwrite" "^pod/test-pod labeled$" label pod test-pod tier=back --overwrite

	# apply, twice with a change, then unchanged
	kc_ok "apply -f (creates)" "^deployment.apps/web created$" apply -f "$M/web.yaml"
	kc_ok "apply -f with a change" "^deployment.apps/web configured$" apply -f "$M/web2.yaml"
	kc_ok "... the change is there" "nginx:1.20 2" get deploy web \
		-o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.replicas}'
	kc_ok "... the container kept its port (strategic merge)" "8888" get deploy web \
		-o 'jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}'
	kc_ok "apply -f unchanged" "^deployment.apps/web unchanged$" apply -f "$M/web2.yaml"
	kc_ok "apply -f to an object made by create" "^service/test-service configured$" apply -f "$M/svc.yaml"
	kc_ok "scale" "^deployment.apps/web scaled$" scale deployment web --replicas=4
	kc_ok "... the scale is stored" "^4$" get deploy web -o 'jsonpath={.spec.replicas}'

	# namespaces
	kc_ok "create namespace" "^namespace/skiff-kc created$" create namespace skiff-kc
	kc_ok "get ns" "default +Active.*skiff-kc +Active" get ns
	kc create namespace Bad
	if ((rc == 1)) && [[ $err =~ Namespace\ \"Bad\"\ is\ invalid:\ metadata.name:\ Invalid\ value ]]; then
		pass "create namespace Bad: invalid, exit 1"
	else
		fail "create namespace Bad: invalid" "exit $rc" "$err"
	fi
	kc_ok "create -f into the new namespace" "^pod/test-pod created$" create -f "$M/pod.yaml" -n skiff-kc
	kc_ok "get pods -n" "test-pod" get pods -n skiff-kc
	kc_ok "delete namespace" "namespace \"skiff-kc\" deleted" delete namespace skiff-kc --timeout=30s
	kc get pods -n skiff-kc
	if ((rc == 0)) && [[ "$out$err" =~ No\ resources\ found\ in\ skiff-kc\ namespace ]]; then
		pass "... its pods are gone"
	else
		fail "... its pods are gone" "exit $rc" "$out" "$err"
	fi
	kc get ns skiff-kc
	((rc == 1)) && pass "get ns of the deleted namespace fails" || fail "get deleted ns" "exit $rc"

	# api-resources
	kc_ok "api-resources" "pods +po +v1 +true +Pod.*deployments +deploy +apps/v1 +true +Deployment" api-resources
	kc_ok "api-resources lists services and namespaces" "namespaces +ns +v1 +false +Namespace.*services +svc +v1 +true +Service" \
		api-resources

	# delete -f
	kc_ok "delete -f pod.yaml" "pod \"test-pod\" deleted" delete -f "$M/pod.yaml"
	kc get pod test-pod
	((rc == 1)) && [[ $err =~ NotFound ]] && pass "the pod is gone (NotFound)" || fail "pod gone" "$rc $err"
	kc_ok "delete -f the Service" "service \"test-service\" deleted" delete -f "$M/svc.yaml"
	kc_ok "delete -f the Deployment" "deployment.apps \"test-deploy\" deleted" delete -f "$M/deploy.yaml"
	kc_ok "delete deployment web" "deployment.apps \"web\" deleted" delete deployment web
	kc get all
	if ((rc == 0)) && [[ $out =~ service/kubernetes ]] && ! [[ $out =~ test-|web ]]; then
		pass "get all: only the kubernetes Service is left"
	else
		fail "get all after deletes" "$out" "$err"
	fi
	kc get widgets
	((rc == 1)) && [[ $err =~ doesn.t\ have\ a\ resource\ type\ \"widgets\" ]] &&
		pass "get of an unknown type fails as kubectl says" || fail "unknown type" "$rc $err"
}
