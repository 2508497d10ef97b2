#!/usr/bin/env bash
# Smoke test: start the built binary and drive it only through grpcurl, as
# an operator would: list and describe services, submit, watch, health.
# Usage: .ci/smoke.sh path/to/commentd
set -euo pipefail

bin=${1:?usage: smoke.sh path/to/commentd}
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
log=$data/server.log
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
fail() { echo "smoke: FAIL: $*" >&2; echo "--- server log" >&2; cat "$log" >&2 || true; exit 1; }

"$bin" --listen "$addr" --data-dir "$data/db" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  grpcurl -plaintext -max-time 2 "$addr" grpc.health.v1.Health/Check >/dev/null 2>&1 && break
  sleep 0.1
done

rpc() { grpcurl -plaintext -max-time 10 "$@"; }

echo "smoke: list"
services=$(rpc "$addr" list)
for s in commentd.v1.CommentService grpc.health.v1.Health grpc.reflection.v1alpha.ServerReflection; do
  grep -qx "$s" <<<"$services" || fail "service $s not listed: $services"
done
rpc "$addr" describe commentd.v1.CommentService | grep -q "rpc SubmitComment" || fail "describe"
rpc "$addr" describe google.rpc.BadRequest >/dev/null || fail "google.rpc types not served by reflection"

echo "smoke: health"
rpc -d '{"service":"commentd.v1.CommentService"}' "$addr" grpc.health.v1.Health/Check | grep -q SERVING || fail "health"

echo "smoke: watch"
watch_out=$data/watch.json
timeout 20 grpcurl -plaintext -d '{"article_id":"kremlin-usa-visas","after_cursor":"0"}' "$addr" \
  commentd.v1.CommentService/WatchComments >"$watch_out" 2>&1 &
watch_pid=$!
sleep 0.5

echo "smoke: submit"
approved=$(rpc -d '{"article_id":"kremlin-usa-visas","author_id":"smoke-1","author_name":"Smoke","body":"Good to see the embassies staffed again."}' \
  "$addr" commentd.v1.CommentService/SubmitComment)
grep -q COMMENT_STATUS_APPROVED <<<"$approved" || fail "clean comment not approved: $approved"
rejected=$(rpc -d '{"article_id":"kremlin-usa-visas","author_id":"smoke-2","body":"what the f.u.c.k"}' \
  "$addr" commentd.v1.CommentService/SubmitComment)
grep -q COMMENT_STATUS_REJECTED <<<"$rejected" || fail "profanity not rejected: $rejected"
grep -q '"text": "f.u.c.k"' <<<"$rejected" || fail "span not reported: $rejected"
bad=$(rpc -d '{"article_id":"","author_id":"x","body":"hi"}' "$addr" commentd.v1.CommentService/SubmitComment 2>&1 || true)
grep -q "InvalidArgument" <<<"$bad" && grep -q "google.rpc.BadRequest" <<<"$bad" || fail "bad input: $bad"

id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["comment"]["id"])' <<<"$approved")
rpc -d "{\"id\":\"$id\"}" "$addr" commentd.v1.CommentService/GetComment | grep -q "$id" || fail "get"
rpc -d '{"article_id":"kremlin-usa-visas","page_size":1}' "$addr" commentd.v1.CommentService/ListComments \
  | grep -q nextPageToken || fail "list"

for _ in $(seq 1 50); do grep -q "$id" "$watch_out" && break; sleep 0.1; done
grep -q "$id" "$watch_out" || fail "approved comment not streamed: $(cat "$watch_out")"
grep -q COMMENT_EVENT_TYPE_PUBLISHED "$watch_out" || fail "event type"
if grep -q "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["comment"]["id"])' <<<"$rejected")" "$watch_out"; then
  fail "rejected comment was streamed"
fi

echo "smoke: graceful shutdown"
kill -TERM "$pid"
wait "$pid" || fail "server exited with $?"
pid=
wait "$watch_pid" 2>/dev/null || true
"$bin" check --data-dir "$data/db" | grep -q "^consistent" || fail "data directory inconsistent"
echo "smoke: OK"
