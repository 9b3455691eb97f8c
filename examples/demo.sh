#!/bin/sh
# examples/demo.sh: the main job on the sample data shipped in t/data/.
# Run by `make demo`; shows each command before its output.
set -u
cd "$(dirname "$0")/.." || exit 2
PATH="$PWD/bin:$PATH"
data=t/data

run() {
	printf '\n$ %s\n' "$*"
	sh -c "$*"
}

echo "sp-match: MongoDB \$match over NDJSON, with dead letters"
run "sp-match '{\"obs.watts\": {\"\$gt\": 400}}' $data/solar.ndjson"
run "sp-match '{\"\$or\": [{\"event_type\": 1}, {\"obs.temp\": {\"\$lt\": 10}}]}' $data/solar.ndjson"
run "sp-match '{\"\$expr\": {\"\$gte\": [\"\$obs.watts\", {\"\$multiply\": [\"\$max_watts\", 0.9]}]}}' $data/solar.ndjson"
echo
echo "Lines that are not documents become dead letters (here on standard error, exit status 1):"
run "sp-match '{\"obs.watts\": {\"\$gte\": 100}}' $data/broken.ndjson; echo \"exit status \$?\""
echo
echo "A bad filter is rejected before any input is read (exit status 2):"
run "sp-match '{\"obs.watts\": {\"\$gtt\": 100}}' $data/solar.ndjson; echo \"exit status \$?\""
echo
echo "sp: a whole Atlas Stream Processing pipeline"
run "sp '[{\"\$match\": {\"obs.watts\": {\"\$gt\": 400}}}, {\"\$project\": {\"_id\": 0, \"device_id\": 1, \"kw\": {\"\$divide\": [\"\$obs.watts\", 1000]}}}]' $data/solar.ndjson"
run "sp '[{\"\$source\": {\"timeField\": {\"\$dateFromString\": {\"dateString\": \"\$timestamp\"}}}}, {\"\$match\": {\"event_type\": 1}}, {\"\$emit\": {\"connectionName\": \"kafka\", \"topic\": \"alerts\"}}]' $data/solar.ndjson"
echo
echo "sp-group: MongoDB \$group over the whole input, one line per group"
run "sp-group '{\"_id\": \"\$device_id\", \"n\": {\"\$count\": {}}, \"avg\": {\"\$avg\": \"\$obs.watts\"}, \"top\": {\"\$max\": \"\$obs.watts\"}}' $data/solar.ndjson"
echo
echo "Split over two shards, then merged: exactly the answer of one run:"
run "split -n l/2 $data/solar.ndjson /tmp/sp-demo.; for f in /tmp/sp-demo.a?; do sp-group --partial '{\"_id\": \"\$group_id\", \"w\": {\"\$sum\": \"\$obs.watts\"}}' \$f; done | sp-group --merge '{\"_id\": \"\$group_id\", \"w\": {\"\$sum\": \"\$obs.watts\"}}'; rm -f /tmp/sp-demo.a?"
run "sp '[{\"\$sortByCount\": \"\$group_id\"}, {\"\$limit\": 2}]' $data/solar.ndjson"
exit 0
