#!/bin/sh
# Every example in the man pages runs and prints what the page says.
# In an EXAMPLES section, a .Bd -literal block whose lines start with "$ "
# is a test: each "$ command" runs in a fresh directory holding t/data/,
# and the lines after it are its expected standard output.
. "$(dirname "$0")/lib.sh"

# roff escapes used in examples: \e is a backslash, \& is nothing.
unroff() {
	sed -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\-/-/g'
}

blocks=0
for page in "$TEST_ROOT"/man/*.[17]; do
	name=$(basename "$page")
	awk -v out="$SCRATCH/ex.$name" '
		/^\.Sh / { ex = ($2 == "EXAMPLES") }
		ex && /^\.Bd -literal/ { inb = 1; n++; has = 0; next }
		ex && inb && /^\.Ed/ { inb = 0; next }
		ex && inb { print > (out "." n) }
	' "$page"
	for b in "$SCRATCH"/ex."$name".*; do
		[ -f "$b" ] || continue
		grep -q '^\$ ' "$b" || continue
		blocks=$((blocks + 1))
		dir="$SCRATCH/run.$blocks"
		mkdir "$dir"
		cp "$DATA"/*.ndjson "$dir"/
		unroff <"$b" >"$dir/block"
		# Split into cmd.K and want.K.
		awk -v d="$dir" '
			/^\$ / { k++; print substr($0, 3) > (d "/cmd." k); printf "" > (d "/want." k); next }
			k { print >> (d "/want." k) }
		' "$dir/block"
		title="$name example: $(head -n 1 "$dir/cmd.1")"
		test_expect_success "$title" "
			cd '$dir' &&
			for c in cmd.*; do
				k=\${c#cmd.}
				sh \$c >got.\$k 2>/dev/null || :
				test_cmp want.\$k got.\$k
			done
		"
	done
done
test_expect_success 'the man pages have runnable examples' "[ $blocks -ge 5 ]"
test_done
