# t/lib.sh: git-style helpers for shell tests of the sp tools; prints TAP.
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'title' '
#           printf "%s\n" "{\"a\":1}" >in &&
#           sp-match "{\"a\":1}" in >actual &&
#           test_cmp in actual
#   '
#   test_done
#
# Each script runs in its own scratch directory (removed at exit) with the
# tools under test first on PATH ($SP_BIN, default bin/ at the top).
# $DATA is t/data. A body is run by the shell with `set -e`, so a failing
# command fails the test even outside an && chain.

TEST_ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${SP_BIN:=$TEST_ROOT/bin}"
PATH="$SP_BIN:$PATH"
export PATH
DATA="$TEST_ROOT/t/data"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/sp-test.XXXXXX") || exit 1
trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH" || exit 1
unset SP_UNBUFFERED

test_count=0
test_failed=0

# test_expect_success TITLE BODY
test_expect_success() {
	test_count=$((test_count + 1))
	if (set -e; eval "$2") >"$SCRATCH/.log" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed -e 's/^/#   /' "$SCRATCH/.log"
	fi
}

# test_skip TITLE REASON: a test this run leaves out, counted as TAP's skip.
# Tests that take seconds of CPU skip when SP_TEST_QUICK is set (make
# valgrind sets it: under valgrind they would take minutes).
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # skip $2"
}

# test_expect_code CODE COMMAND [ARG...]: COMMAND must exit with CODE.
test_expect_code() {
	want=$1
	shift
	set +e
	"$@"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "exit status $got, expected $want: $*" >&2
		return 1
	fi
}

# test_cmp EXPECTED ACTUAL
test_cmp() {
	diff -u "$1" "$2"
}

# test_grep PATTERN FILE: FILE has a line matching the ERE.
test_grep() {
	if ! grep -E -q -e "$1" "$2"; then
		echo "no line matching '$1' in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

# test_lines N FILE: FILE has exactly N lines.
test_lines() {
	got=$(wc -l <"$2" | tr -d ' ')
	if [ "$got" != "$1" ]; then
		echo "$2 has $got lines, expected $1:" >&2
		cat "$2" >&2
		return 1
	fi
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}
