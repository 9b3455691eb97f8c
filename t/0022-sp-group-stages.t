#!/bin/sh
# sp: $group, $count and $sortByCount specifications rejected before any
# input is read, in MongoDB's words (document_source_group.cpp,
# accumulation_statement.cpp, document_source_count.cpp,
# document_source_sort_by_count.cpp).
. "$(dirname "$0")/lib.sh"

# reject 'MESSAGE' 'STAGE': sp "[STAGE]" fails with "sp: pipeline: stage 1
# (NAME): MESSAGE" and reads nothing (the input is a FIFO nobody writes).
reject() {
	mkfifo fifo.$$ 2>/dev/null || :
	name=$(printf "%s" "$2" | sed 's/^{"\([^"]*\)".*/\1/')
	test_expect_code 2 sp "[$2]" fifo.$$ >out 2>err
	test_lines 0 out
	printf "sp: pipeline: stage 1 (%s): %s\n" "$name" "$1" >want.err
	test_cmp want.err err
}

while IFS='|' read -r msg stage; do
	case $msg in '' | '#'*) continue ;; esac
	test_expect_success "$stage" "reject '$(printf "%s" "$msg" | sed "s/'/'\\\\''/g")' '$stage'"
done <<'CASES'
a group's fields must be specified in an object|{"$group": "$a"}
a group's fields must be specified in an object|{"$group": [1]}
a group specification must include an _id|{"$group": {}}
a group specification must include an _id|{"$group": {"n": {"$sum": 1}}}
a group's _id may only be specified once|{"$group": {"_id": 1, "_id": "$a"}}
$group does not support inclusion-style expressions|{"$group": {"_id": {"a": 1}}}
$group does not support inclusion-style expressions|{"$group": {"_id": {"a": "$a", "b": false}}}
The field 'n' must be an accumulator object|{"$group": {"_id": 1, "n": 1}}
The field 'n' must be an accumulator object|{"$group": {"_id": 1, "n": {}}}
The field 'n' must be an accumulator object|{"$group": {"_id": 1, "n": {"x": {"$sum": 1}}}}
The field name 'a.b' cannot contain '.'|{"$group": {"_id": 1, "a.b": {"$sum": 1}}}
The field name '$a' cannot be an operator name|{"$group": {"_id": 1, "$a": {"$sum": 1}}}
The field 'n' must specify one accumulator|{"$group": {"_id": 1, "n": {"$sum": 1, "$max": 1}}}
a group's field 'n' may only be specified once|{"$group": {"_id": 1, "n": {"$sum": 1}, "n": {"$max": 1}}}
Unrecognized expression '$nope'|{"$group": {"_id": {"$nope": 1}}}
the count field must be a non-empty string|{"$count": 1}
the count field must be a non-empty string|{"$count": ""}
the count field cannot be a $-prefixed path|{"$count": "$n"}
the count field cannot contain a null byte|{"$count": "a\u0000b"}
the count field cannot contain '.'|{"$count": "a.b"}
a group's _id may only be specified once|{"$count": "_id"}
the sortByCount field must be specified as a string or as an object|{"$sortByCount": 1}
the sortByCount field must be specified as a string or as an object|{"$sortByCount": ["$a"]}
the sortByCount field must be defined as a $-prefixed path or an expression inside an object|{"$sortByCount": "a"}
the sortByCount field must be defined as a $-prefixed path or an expression inside an object|{"$sortByCount": {}}
the sortByCount field must be defined as a $-prefixed path or an expression inside an object|{"$sortByCount": {"a": "$a"}}
Unrecognized expression '$nope'|{"$sortByCount": {"$nope": 1}}
CASES

test_done
