#!/bin/sh
# sp-match against the $match cases in every t/data/*.cases file.
# A case file holds "% FILTER" lines, each followed by "+ DOC" lines that
# must be written and "- DOC" lines that must not; "#" lines are comments.
. "$(dirname "$0")/lib.sh"

# Splits each cases file into case.N.filter / .in / .want / .title.
n=0
for file in "$DATA"/*.cases; do
	name=${file##*/}
	while IFS= read -r line; do
		case $line in
		'% '*)
			n=$((n + 1))
			printf '%s\n' "${line#% }" >"case.$n.filter"
			# A "#" in a TAP description must be escaped as "\#".
			printf '%s: %s\n' "$name" "${line#% }" |
			    sed 's/#/\\#/g' >"case.$n.title"
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
	done <"$file"
done

i=1
while [ "$i" -le "$n" ]; do
	test_expect_success "$(cat "case.$i.title")" "
		sp-match -f case.$i.filter case.$i.in >case.$i.out &&
		test_cmp case.$i.want case.$i.out
	"
	i=$((i + 1))
done
test_done
