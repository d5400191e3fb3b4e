# shellcheck shell=bash
# Helpers for the skiff client tests (cli_*.t): a real `skiff server` of the
# test's own (port 0, a temporary data dir, no node agent), its admin
# kubeconfig as the client's, and kubectl 1.33 for side-by-side checks.
#
#   . "$(dirname "$0")/cli_lib.sh"
#   start_server            # sets SERVER_URL, KCFG; stops the server at exit
#   run skiff get pods      # $out, $err, $rc of one client command
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KUBECTL133=${KUBECTL133:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}

# start_server [EXTRA SERVER ARGS...]: start a server and wait until it answers.
start_server() {
	need_skiff
	"$SKIFF" help | grep -q '^  server ' || cannot_run "this skiff has no server command"
	SERVER_DIR=$TEST_TMP/server
	mkdir -p "$SERVER_DIR"
	"$SKIFF" server --data-dir "$SERVER_DIR" --listen 127.0.0.1:0 --disable-agent "$@" \
		>"$TEST_TMP/server.log" 2>&1 &
	SERVER_PID=$!
	defer "kill -9 $SERVER_PID; wait $SERVER_PID"
	KCFG=$SERVER_DIR/admin.kubeconfig
	if ! wait_for 20 server_answers; then
		diag "server did not come up; its log:" "$(cat "$TEST_TMP/server.log")"
		fail "server starts"
		done_testing
	fi
	SERVER_URL=$(sed -n 's/^ *server: *//p' "$KCFG" | tr -d '"' | head -1)
	export KUBECONFIG=$KCFG
}

server_answers() {
	[[ -s $KCFG ]] && "$SKIFF" --kubeconfig "$KCFG" version >/dev/null 2>&1
}

# run CMD...: run a command, keep stdout in $out, stderr in $err, status in $rc.
run() {
	local o e
	o=$(mktemp "$TEST_TMP/out.XXXXXX")
	e=$(mktemp "$TEST_TMP/err.XXXXXX")
	if [[ $1 == skiff ]]; then
		shift
		"$SKIFF" --kubeconfig "$KCFG" "$@" >"$o" 2>"$e"
	else
		"$@" >"$o" 2>"$e"
	fi
	rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
	rm -f "$o" "$e"
}

# run_ok NAME CMD...: run and check that it exited 0 with nothing on stderr.
run_ok() {
	local name=$1
	shift
	run "$@"
	if ((rc == 0)); then
		pass "$name"
	else
		fail "$name" "exit $rc" "stderr: $err" "stdout: $out"
	fi
}

# run_fails NAME CMD...: run and check that it exited 1.
run_fails() {
	local name=$1
	shift
	run "$@"
	if ((rc == 1)); then
		pass "$name"
	else
		fail "$name" "exit $rc, wanted 1" "stderr: $err" "stdout: $out"
	fi
}

have_kubectl() { [[ -x $KUBECTL133 ]]; }
