#!/bin/sh
# sp-match against the $match cases in t/data/match.cases.
. "$(dirname "$0")/lib.sh"

# Splits the cases file into case.N.filter / .in / .want.
n=0
while IFS= read -r line; do
	case $line in
	'% '*)
		n=$((n + 1))
		printf '%s\n' "${line#% }" >"case.$n.filter"
		: >"case.$n.in"
		: >"case.$n.want"
		;;
	'+ '*)
		printf '%s\n' "${line#+ }" >>"case.$n.in"
		printf '%s\n' "${line#+ }" >>"case.$n.want"
		;;
	'- '*)
		printf '%s\n' "${line#- }" >>"case.$n.in"
		;;
	esac
done <"$DATA/match.cases"

i=1
while [ "$i" -le "$n" ]; do
	test_expect_success "$(cat "case.$i.filter")" "
		sp-match -f case.$i.filter case.$i.in >case.$i.out &&
		test_cmp case.$i.want case.$i.out
	"
	i=$((i + 1))
done
test_done
