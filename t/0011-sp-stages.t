#!/bin/sh
# sp: each stage against the cases in t/data/sp/*.cases, byte for byte.
# "% PIPELINE" starts a case; "< DOC" is an input line, "> DOC" an output
# line that must be written, in order, exactly; "! OPERATOR: REASON" a dead
# letter that must be written (operatorName and errInfo.reason), in order.
# A case with dead letters must exit 1, one without must exit 0.
. "$(dirname "$0")/lib.sh"

n=0
for file in "$DATA"/sp/*.cases; do
	base=${file##*/}
	while IFS= read -r line; do
		case $line in
		'% '*)
			n=$((n + 1))
			printf '%s\n' "${line#% }" >"case.$n.pipe"
			printf '%s: %s\n' "$base" "${line#% }" |
			    sed 's/#/\\#/g' >"case.$n.title"
			: >"case.$n.in"
			: >"case.$n.want"
			: >"case.$n.dead"
			;;
		'< '*) printf '%s\n' "${line#< }" >>"case.$n.in" ;;
		'> '*) printf '%s\n' "${line#> }" >>"case.$n.want" ;;
		'! '*) printf '%s\n' "${line#! }" >>"case.$n.dead" ;;
		esac
	done <"$file"
done

i=1
while [ "$i" -le "$n" ]; do
	test_expect_success "$(cat "case.$i.title")" "
		want_status=0 &&
		if [ -s case.$i.dead ]; then want_status=1; fi &&
		test_expect_code \$want_status sp -d case.$i.dlq -f case.$i.pipe case.$i.in >case.$i.out &&
		test_cmp case.$i.want case.$i.out &&
		touch case.$i.dlq &&
		jq -r '.operatorName + \": \" + .errInfo.reason' case.$i.dlq >case.$i.got &&
		test_cmp case.$i.dead case.$i.got
	"
	i=$((i + 1))
done
test_expect_success 'the cases file has cases' "[ $n -ge 40 ]"
test_done
