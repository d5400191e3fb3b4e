# shellcheck shell=bash
# Helpers for the API server tests (server_*.t, kubectl_*.t): a real
# `skiff server` on a port of its own (port 0) and a temporary data dir,
# driven with curl over HTTPS with the admin token.
#
#   . "$(dirname "$0")/server_lib.sh"
#   srv_start [SERVER ARGS...]      # SRV_URL, SRV_DIR, SRV_PID; stopped at exit
#   req POST /api/v1/namespaces/default/pods "$json"   # $CODE, $BODY
#   jqb '.metadata.uid'             # a field of $BODY
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

need_cmd curl jq

_srv_n=0

# srv_start [ARGS...]: start a server in a new data dir and wait for it.
srv_start() {
	_srv_n=$((_srv_n + 1))
	SRV_DIR=$TEST_TMP/server$_srv_n
	mkdir -p "$SRV_DIR"
	srv_launch "$@"
}

# srv_launch [ARGS...]: (re)start the server on SRV_DIR.
srv_launch() {
	need_skiff
	rm -f "$SRV_DIR/admin.kubeconfig"
	"$SKIFF" server --data-dir "$SRV_DIR" --listen "${SRV_LISTEN:-127.0.0.1:0}" \
		--disable-agent "$@" >>"$SRV_DIR.log" 2>&1 &
	SRV_PID=$!
	defer "kill -9 $SRV_PID 2>/dev/null; wait $SRV_PID 2>/dev/null"
	if ! wait_for 20 srv_ready; then
		diag "the server did not come up; its log:" "$(tail -20 "$SRV_DIR.log")"
		fail "server starts"
		done_testing
	fi
}

srv_ready() {
	[[ -s $SRV_DIR/admin.kubeconfig ]] || return 1
	SRV_URL=$(sed -n 's/^ *server: *//p' "$SRV_DIR/admin.kubeconfig" | head -1)
	SRV_TOKEN=$(cat "$SRV_DIR/token")
	SRV_CA=$SRV_DIR/tls/ca.crt
	[[ $(curl -sS --cacert "$SRV_CA" "$SRV_URL/readyz" 2>/dev/null) == ok ]]
}

# srv_kill9: kill the server without warning.
srv_kill9() {
	kill -9 "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
}

# req METHOD PATH [BODY [CONTENT-TYPE]]: one authenticated request; the
# status in $CODE, the answer in $BODY. BODY "@FILE" sends a file.
# REQ_HEADERS (an array) adds headers; REQ_TOKEN replaces the token.
req() {
	local method=$1 path=$2 data=${3-} ctype=${4-application/json}
	local args=(-sS --cacert "$SRV_CA" -X "$method" -o "$TEST_TMP/body" -w '%{http_code}')
	args+=(-H "Authorization: Bearer ${REQ_TOKEN-$SRV_TOKEN}")
	local h
	for h in "${REQ_HEADERS[@]}"; do args+=(-H "$h"); done
	if [[ -n $data ]]; then
		# an empty type sends none (curl would send a form type)
		args+=(-H "Content-Type: $ctype")
		if [[ $data == @* ]]; then
			args+=(--data-binary "$data")
		else
			args+=(--data-binary "@-")
		fi
	fi
	CODE=$(printf '%s' "$data" | curl "${args[@]}" "$SRV_URL$path" 2>"$TEST_TMP/curl.err")
	BODY=$(cat "$TEST_TMP/body" 2>/dev/null)
}
REQ_HEADERS=()

# jqb FILTER: jq -r on the last answer.
jqb() { jq -r "$1" <<<"$BODY" 2>/dev/null; }

# expect CODE NAME: the last request answered CODE.
expect() {
	if [[ $CODE == "$1" ]]; then
		pass "$2"
	else
		fail "$2" "HTTP $CODE, wanted $1" "body: ${BODY:0:600}"
	fi
}

# expect_status CODE REASON NAME: a Status error with that code and reason.
expect_status() {
	local reason
	reason=$(jqb .reason)
	if [[ $CODE == "$1" && $(jqb .kind) == Status && $(jqb .code) == "$1" && $reason == "$2" ]]; then
		pass "$3"
	else
		fail "$3" "HTTP $CODE reason $reason, wanted $1 $2" "body: ${BODY:0:600}"
	fi
}

# pod_json NAME [LABELS-JSON] [EXTRA-SPEC-JSON]: a small Pod.
pod_json() {
	local labels=${2:-'{}'} extra=${3:-'{}'}
	jq -cn --arg n "$1" --argjson l "$labels" --argjson x "$extra" \
		'{apiVersion:"v1",kind:"Pod",metadata:{name:$n,labels:$l},
		  spec:({containers:[{name:"c",image:"busybox:1.36",command:["sleep","3600"]}]} + $x)}'
}

# quiet CMD...: run CMD without its output.
quiet() { "$@" >/dev/null 2>&1; }

# count PATH: the number of items a LIST returns.
count() {
	req GET "$1"
	jqb '.items | length'
}
