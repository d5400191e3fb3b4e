# shellcheck shell=bash
# Shared helpers for skiff's integration tests (bash, TAP output).
#
#   . "$(dirname "$0")/../lib.sh"
#   need_root; need_cmd ip
#   defer "ip netns del $NS"        # cleanup, run in reverse order at exit
#   ok "$cond_cmd..." "name"; is "$got" "$want" "name"; like "$got" "re" "name"
#   done_testing
#
# A test that cannot run (not root, a missing command or kernel feature)
# fails loudly when CI=true and skips loudly (with the reason) elsewhere;
# it never passes silently.
set -u

SKIFF_TOP=${SKIFF_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SKIFF=${SKIFF:-$SKIFF_TOP/${SKIFF_BUILD:-build}/skiff}
# A name unique to this test run, for cgroups, netns, state dirs.
TEST_ID=${TEST_ID:-t$$$RANDOM}
TEST_TMP=$(mktemp -d "/tmp/skiff-$TEST_ID.XXXXXX")

_tap_n=0
_tap_failed=0
_deferred=()

_run_deferred() {
	local i
	for ((i = ${#_deferred[@]} - 1; i >= 0; i--)); do
		eval "${_deferred[i]}" >/dev/null 2>&1 || true
	done
	_deferred=()
	rm -rf "$TEST_TMP" 2>/dev/null || true
}
trap _run_deferred EXIT
trap 'exit 130' INT TERM

# defer CMD: run CMD (a string, eval'd) at exit, last deferred first.
defer() { _deferred+=("$1"); }

diag() { printf '# %s\n' "$@"; }

pass() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1"
}

fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	local l
	for l in "$@"; do diag "$l"; done
}

# ok NAME CMD...: passes when CMD succeeds.
ok() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# is GOT WANT NAME
is() {
	if [[ "$1" == "$2" ]]; then pass "$3"; else fail "$3" "got:  '$1'" "want: '$2'"; fi
}

# like GOT REGEX NAME
like() {
	if [[ "$1" =~ $2 ]]; then pass "$3"; else fail "$3" "got: '$1'" "expected to match: $2"; fi
}

# unlike GOT REGEX NAME
unlike() {
	if [[ ! "$1" =~ $2 ]]; then pass "$3"; else fail "$3" "got: '$1'" "expected not to match: $2"; fi
}

# cannot_run REASON: the whole file cannot run here.
cannot_run() {
	if [[ ${CI:-} == true ]]; then
		fail "cannot run: $1"
		done_testing
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

need_root() { [[ $(id -u) == 0 ]] || cannot_run "needs root"; }
need_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null || cannot_run "needs $c"; done
}
need_skiff() { [[ -x $SKIFF ]] || cannot_run "no skiff binary at $SKIFF (run make)"; }

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		((SECONDS >= deadline)) && return 1
		sleep 0.05
	done
}

done_testing() {
	echo "1..$_tap_n"
	_run_deferred
	trap - EXIT
	((_tap_failed == 0)) && exit 0
	exit 1
}
