#!/bin/sh
# sp: $source (documents, timeField, tsFieldName), _ts and _stream_meta, $emit and $merge.
. "$(dirname "$0")/lib.sh"

# sp -f p.json [args] with the pipeline in p.json.
pipe() {
	cat >p.json
}

test_expect_success 'without $source, sp is a plain filter: no _ts, no _stream_meta' '
	printf "%s\n" "{\"a\":1}" >in &&
	sp "[{\"\$set\": {\"b\": 2}}]" in >out &&
	printf "%s\n" "{\"a\":1,\"b\":2}" >want &&
	test_cmp want out
'

test_expect_success '$source.documents runs the documents and reads no input' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [
	    {"a": 1, "t": {"$date": "2024-01-01T00:00:00Z"}},
	    {"a": 2, "t": {"$date": "2024-01-01T00:00:01.5Z"}}],
	  "timeField": "$t"}},
	 {"$set": {"b": {"$multiply": ["$a", 10]}}}]
	EOF
	mkfifo fifo &&
	timeout 20 sp -f p.json <>fifo >out &&
	cat >want <<-\EOF &&
	{"a":1,"t":{"$date":"2024-01-01T00:00:00Z"},"_ts":{"$date":"2024-01-01T00:00:00Z"},"b":10,"_stream_meta":{"source":{"type":"generated"}}}
	{"a":2,"t":{"$date":"2024-01-01T00:00:01.5Z"},"_ts":{"$date":"2024-01-01T00:00:01.5Z"},"b":20,"_stream_meta":{"source":{"type":"generated"}}}
	EOF
	test_cmp want out
'

test_expect_success '$source.documents may be an expression' '
	pipe <<-\EOF &&
	[{"$source": {"documents": {"$literal": [{"a": 1}]}, "tsFieldName": ""}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1,\"_stream_meta\":{\"source\":{\"type\":\"generated\"}}}" >want &&
	test_cmp want out
'

test_expect_success 'timeField as an expression; input lines carry where they were read' '
	pipe <<-\EOF &&
	[{"$source": {"timeField": {"$toDate": "$ts"}}}]
	EOF
	printf "%s\n" "{\"ts\":\"2024-03-01T02:00:00Z\",\"v\":1}" "{\"ts\":\"2024-03-01T02:00:05Z\",\"v\":2}" >in &&
	sp -f p.json in >out &&
	cat >want <<-\EOF &&
	{"ts":"2024-03-01T02:00:00Z","v":1,"_ts":{"$date":"2024-03-01T02:00:00Z"},"_stream_meta":{"source":{"type":"file","file":"in","line":1,"offset":0}}}
	{"ts":"2024-03-01T02:00:05Z","v":2,"_ts":{"$date":"2024-03-01T02:00:05Z"},"_stream_meta":{"source":{"type":"file","file":"in","line":2,"offset":36}}}
	EOF
	test_cmp want out
'

test_expect_success 'a timeField that is not a date: a dead letter (input line), the stream goes on' '
	pipe <<-\EOF &&
	[{"$source": {"timeField": "$ts"}}]
	EOF
	printf "%s\n" "{\"ts\":\"2024-03-01T02:00:00Z\"}" "{\"ts\":{\"\$date\":\"2024-03-01T02:00:00Z\"}}" "{\"x\":1}" >in &&
	rm -f dlq &&
	test_expect_code 1 sp -d dlq -f p.json in >out &&
	test_lines 1 out &&
	jq -r ".operatorName + \": \" + .errInfo.reason" dlq >got &&
	cat >want <<-\EOF &&
	SourceOperator: Failed to process input document with error: Failed to extract timestamp from document, extracted timestampVal: "2024-03-01T02:00:00Z"
	SourceOperator: Failed to process input document with error: Failed to extract timestamp from document, extracted timestampVal: MISSING
	EOF
	test_cmp want got &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"file\",\"file\":\"in\",\"line\":3,\"offset\":[0-9]+\}\},\"errInfo\":.*\"doc\":\{\"x\":1\}," dlq
'

test_expect_success 'a timeField that fails or is not a date: a dead letter (documents)' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"ts": "yesterday"}, {"ts": 5}, {"ts": "2024-01-01"}],
	  "timeField": {"$toDate": "$ts"}}}]
	EOF
	rm -f dlq &&
	test_expect_code 1 sp -d dlq -f p.json >out </dev/null &&
	printf "%s\n" "{\"ts\":\"2024-01-01\",\"_ts\":{\"\$date\":\"2024-01-01T00:00:00Z\"},\"_stream_meta\":{\"source\":{\"type\":\"generated\"}}}" >want &&
	test_cmp want out &&
	jq -r ".operatorName" dlq >got &&
	printf "%s\n" DocumentsDataSourceOperator DocumentsDataSourceOperator >want &&
	test_cmp want got &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"generated\"\}\},\"errInfo\":\{\"reason\":\"[^\"]*yesterday" dlq
'

test_expect_success 'without timeField, _ts is when the record was read' '
	printf "%s\n" "{\"a\":1}" >in &&
	sp "[{\"\$source\": {}}]" in >out &&
	sp-match "{\"_ts\": {\"\$type\": \"date\", \"\$gt\": {\"\$date\": \"2024-01-01T00:00:00Z\"}}, \"_stream_meta.source.type\": \"file\"}" out >got &&
	test_lines 1 got
'

test_expect_success 'tsFieldName names the field; empty leaves it out' '
	printf "%s\n" "{\"t\":{\"\$date\":\"2024-01-01T00:00:00Z\"}}" >in &&
	sp "[{\"\$source\": {\"timeField\": \"\$t\", \"tsFieldName\": \"ingestionTime\"}}, {\"\$unset\": \"t\"}]" in >out &&
	printf "%s\n" "{\"ingestionTime\":{\"\$date\":\"2024-01-01T00:00:00Z\"},\"_stream_meta\":{\"source\":{\"type\":\"file\",\"file\":\"in\",\"line\":1,\"offset\":0}}}" >want &&
	test_cmp want out &&
	sp "[{\"\$source\": {\"tsFieldName\": \"\"}}]" in >out &&
	printf "%s\n" "{\"t\":{\"\$date\":\"2024-01-01T00:00:00Z\"},\"_stream_meta\":{\"source\":{\"type\":\"file\",\"file\":\"in\",\"line\":1,\"offset\":0}}}" >want &&
	test_cmp want out
'

test_expect_success 'an existing _ts is replaced in its place' '
	printf "%s\n" "{\"_ts\":1,\"t\":{\"\$date\":\"2024-01-01T00:00:00Z\"}}" >in &&
	sp "[{\"\$source\": {\"timeField\": \"\$t\"}}]" in >out &&
	printf "%s\n" "{\"_ts\":{\"\$date\":\"2024-01-01T00:00:00Z\"},\"t\":{\"\$date\":\"2024-01-01T00:00:00Z\"},\"_stream_meta\":{\"source\":{\"type\":\"file\",\"file\":\"in\",\"line\":1,\"offset\":0}}}" >want &&
	test_cmp want out
'

# Atlas stream_meta.js: the sink adds _stream_meta, merging a document's own.
test_expect_success '_stream_meta: a document of its own is kept and merged, anything else replaced' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"_stream_meta": {"x": 0}}, {"_stream_meta": 0}],
	  "tsFieldName": ""}}]
	EOF
	sp -f p.json >out </dev/null &&
	cat >want <<-\EOF &&
	{"_stream_meta":{"source":{"type":"generated"},"x":0}}
	{"_stream_meta":{"source":{"type":"generated"}}}
	EOF
	test_cmp want out
'

test_expect_success '_stream_meta: stages that name it see it, and may remove it' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": ""}},
	 {"$addFields": {"x": "$_stream_meta.source.type"}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1,\"_stream_meta\":{\"source\":{\"type\":\"generated\"}},\"x\":\"generated\"}" >want &&
	test_cmp want out &&
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": ""}},
	 {"$project": {"_stream_meta": 0}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1}" >want &&
	test_cmp want out &&
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": ""}},
	 {"$match": {"_stream_meta.source.type": {"$ne": "generated"}}}]
	EOF
	sp -f p.json >out </dev/null &&
	test_lines 0 out
'

test_expect_success '_stream_meta: $$ROOT holds it' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": ""}},
	 {"$addFields": {"x": "$$ROOT"}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1,\"_stream_meta\":{\"source\":{\"type\":\"generated\"}},\"x\":{\"a\":1,\"_stream_meta\":{\"source\":{\"type\":\"generated\"}}}}" >want &&
	test_cmp want out
'

test_expect_success '_stream_meta: {$meta: "stream..."} reads it' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": ""}},
	 {"$set": {"t": {"$meta": "stream.source.type"}}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1,\"_stream_meta\":{\"source\":{\"type\":\"generated\"}},\"t\":\"generated\"}" >want &&
	test_cmp want out
'

test_expect_success 'streamMetaFieldName renames it; empty leaves it out' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": "", "streamMetaFieldName": "abc"}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1,\"abc\":{\"source\":{\"type\":\"generated\"}}}" >want &&
	test_cmp want out &&
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"a": 1}], "tsFieldName": "", "streamMetaFieldName": ""}}]
	EOF
	sp -f p.json >out </dev/null &&
	printf "%s\n" "{\"a\":1}" >want &&
	test_cmp want out
'

test_expect_success 'a stage dead letter under $source: its metadata, and the stage input with _ts' '
	pipe <<-\EOF &&
	[{"$source": {"documents": [{"timestamp": "2024-01-01T00:00:00Z", "a": 0},
	                            {"timestamp": "2024-01-01T00:00:01Z", "a": 1}],
	  "timeField": {"$toDate": "$timestamp"}}},
	 {"$addFields": {"b": {"$divide": [1, "$a"]}}}]
	EOF
	rm -f dlq &&
	test_expect_code 1 sp -d dlq -n processor -f p.json >out </dev/null &&
	printf "%s\n" "{\"timestamp\":\"2024-01-01T00:00:01Z\",\"a\":1,\"_ts\":{\"\$date\":\"2024-01-01T00:00:01Z\"},\"b\":1.0,\"_stream_meta\":{\"source\":{\"type\":\"generated\"}}}" >want &&
	test_cmp want out &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"generated\"\}\},\"errInfo\":\{\"reason\":\"Failed to process input document in AddFieldsOperator with error: can.t \\\$divide by zero\"\},\"operatorName\":\"AddFieldsOperator\",\"doc\":\{\"timestamp\":\"2024-01-01T00:00:00Z\",\"a\":0,\"_ts\":\{\"\\\$date\":\"2024-01-01T00:00:00Z\"\}\},\"processorName\":\"processor\",\"dlqTime\":" dlq
'

test_expect_success '$emit and $merge write the documents to standard output' '
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" >in &&
	sp "[{\"\$match\": {\"a\": 2}}, {\"\$emit\": {\"connectionName\": \"kafka\", \"topic\": \"out\"}}]" in >out &&
	printf "%s\n" "{\"a\":2}" >want &&
	test_cmp want out &&
	sp "[{\"\$merge\": {\"into\": {\"connectionName\": \"atlas\", \"db\": \"d\", \"coll\": \"c\"}}}]" in >out &&
	test_cmp in out
'

test_expect_success 'a whole Atlas pipeline: $source, stages, $merge' '
	pipe <<-\EOF &&
	[{"$source": {"connectionName": "sample_stream_solar",
	  "timeField": {"$dateFromString": {"dateString": "$timestamp"}}}},
	 {"$match": {"obs.watts": {"$gte": 440}}},
	 {"$project": {"_id": 0, "device_id": 1, "watts": "$obs.watts", "at": "$_ts"}},
	 {"$merge": {"into": {"connectionName": "atlas", "db": "solar", "coll": "hot"}}}]
	EOF
	sp -f p.json "$DATA/solar.ndjson" >out &&
	sed "s/\"file\":\"[^\"]*\"/\"file\":\"F\"/" out >got &&
	cat >want <<-\EOF &&
	{"device_id":"device_2","watts":441,"at":{"$date":"2024-08-12T13:00:01Z"},"_stream_meta":{"source":{"type":"file","file":"F","line":2,"offset":143}}}
	{"device_id":"device_8","watts":449,"at":{"$date":"2024-08-12T13:00:04Z"},"_stream_meta":{"source":{"type":"file","file":"F","line":5,"offset":574}}}
	EOF
	test_cmp want got
'
test_expect_success 'blocking stages: a sorted document keeps its own metadata, a group has none' '
	printf "{\"k\":1}\n{\"k\":2}\n" >in &&
	sp "[{\"\$source\": {\"tsFieldName\": \"\"}}, {\"\$sort\": {\"k\": -1}}]" in >out &&
	cat >want <<-\EOF &&
	{"k":2,"_stream_meta":{"source":{"type":"file","file":"in","line":2,"offset":8}}}
	{"k":1,"_stream_meta":{"source":{"type":"file","file":"in","line":1,"offset":0}}}
	EOF
	test_cmp want out &&
	sp "[{\"\$source\": {\"tsFieldName\": \"\"}}, {\"\$group\": {\"_id\": null, \"n\": {\"\$count\": {}}}}]" in >out &&
	echo "{\"_id\":null,\"n\":2}" >want &&
	test_cmp want out
'
test_done
