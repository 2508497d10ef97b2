#!/usr/bin/env bash
# End-to-end benchmarks of commentd against the transport ceilings, measured
# side by side in one run: each server pinned to one core, the load
# generator on the other. Prints each figure and its ratio to its ceiling;
# JSON reports go to target/e2e/.
#
#   bash benches/e2e.sh            # everything (about 13 minutes; the first run also fills 1M comments, 2-3 more)
#   bash benches/e2e.sh submit     # one scenario: submit | fanout | storage | growth
set -euo pipefail
cd "$(dirname "$0")/.."

only=${1:-all}
server_cpu=0
client_cpu=1
port=50071
addr=127.0.0.1:$port
out=target/e2e
mkdir -p "$out"

cargo build --quiet --release --bin commentd --example loadgen --example bare_server
commentd=target/release/commentd
loadgen=target/release/examples/loadgen
bare=target/release/examples/bare_server

server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true; }
trap cleanup EXIT

load() { taskset -c "$client_cpu" "$loadgen" "$@"; }

start_commentd() { # data_dir [extra args]
  local data=$1; shift
  taskset -c "$server_cpu" "$commentd" --listen "$addr" --data-dir "$data" "$@" >"$out/server.log" 2>&1 &
  server_pid=$!
  load wait-ready --target "$addr" >/dev/null
}

start_bare() { # [extra args]
  taskset -c "$server_cpu" "$bare" --listen "$addr" "$@" >"$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    grep -q local_addr "$out/server.log" 2>/dev/null && return
    sleep 0.05
  done
  echo "bare server did not start" >&2; exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=
}

kill_server() {
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# Runs a command (in this shell, so `start_commentd` keeps its pid) and
# leaves how long it took, in milliseconds, in `elapsed_ms`.
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  elapsed_ms=$(python3 -c "print(f'{($t1 - $t0) * 1000:.0f}')")
}

# CPU seconds the server has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$server_pid/stat"
}

# Peak resident memory of the server, in MiB.
peak_rss_mb() {
  awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

# Resident memory of the server now, in MiB.
rss_mb() {
  awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

field() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval('d' + sys.argv[1]))" "$2"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

run_load() { # label json [loadgen run args]
  local label=$1 json=$2; shift 2
  load run --target "$addr" --label "$label" --json "$json" "$@"
}

scenario_submit() {
  echo "== submit: 64 concurrent submitters, durable SubmitComment vs a bare echo"
  for size in 200 2048; do
    start_bare
    run_load "bare echo ${size}B" "$out/submit-bare-$size.json" --submitters 64 --body-bytes "$size" --server-pid "$server_pid"
    stop_server
    rm -rf "$out/data-submit"
    start_commentd "$out/data-submit"
    run_load "commentd ${size}B" "$out/submit-commentd-$size.json" --submitters 64 --body-bytes "$size" --server-pid "$server_pid"
    stop_server
    local c b p99
    c=$(field "$out/submit-commentd-$size.json" "['submits_per_sec']")
    b=$(field "$out/submit-bare-$size.json" "['submits_per_sec']")
    p99=$(field "$out/submit-commentd-$size.json" "['submit_latency']['p99_us']")
    echo "   ${size}B: commentd / bare = $(ratio "$c" "$b") (target >= 0.50 at 200B); commentd p99 $(ratio "$p99" 1000) ms (target < 5)"
    # Where each submit's server CPU goes, and the best ratio the storage
    # alone allows: commentd's runtime threads doing no more than the bare
    # echo does (no moderation), plus the writer and sled's I/O threads.
    python3 - "$out/submit-bare-$size.json" "$out/submit-commentd-$size.json" <<'EOF'
import json, sys
bare, ours = (json.load(open(f))["server_cpu"] for f in sys.argv[1:])
threads = ours["us_per_submit_by_thread"]
storage = threads.get("commentd-writer", 0) + threads.get("sled-io", 0)
runtime = threads.get("tokio-rt-worker", 0)
echo = bare["us_per_submit"]
print(f"   server CPU per submit: bare echo {echo:.1f} us; commentd {ours['us_per_submit']:.1f} us ="
      f" runtime (transport, moderation) {runtime:.1f} + storage (writer, sled I/O) {storage:.1f}")
print(f"   the storage alone bounds commentd / bare at {echo / (echo + storage):.2f}"
      f" (if the rest cost no more than the echo)")
EOF
  done
}

# The fan-out load: one article, 100 comments/s for 20 s (after the warm-up).
# Leaves the server CPU seconds it used in $load_cpu.
fanout_load() { # label json [more loadgen args]
  local label=$1 json=$2 cpu0
  shift 2
  cpu0=$(cpu_seconds)
  run_load "$label" "$json" --articles 1 --rate 100 --submitters 4 --duration-secs 20 "$@"
  load_cpu=$(python3 -c "print($(cpu_seconds) - $cpu0)")
}

scenario_fanout() {
  echo "== fan-out: 1,000 watchers of one article, 100 comments/s"
  for stalled in 0 100; do
    start_bare
    fanout_load "bare broadcast s=$stalled" "$out/fanout-bare-$stalled.json" \
      --subscribers 1000 --stalled "$stalled"
    local bare_cpu=$load_cpu bare_rss
    bare_rss=$(peak_rss_mb)
    stop_server
    rm -rf "$out/data-fanout"
    start_commentd "$out/data-fanout"
    fanout_load "commentd s=$stalled" "$out/fanout-commentd-$stalled.json" \
      --subscribers 1000 --stalled "$stalled"
    local c_cpu=$load_cpu c_rss
    if [ "$stalled" = 0 ]; then c0_cpu=$c_cpu; fi
    c_rss=$(peak_rss_mb)
    stop_server
    local ce be cexp p99
    ce=$(field "$out/fanout-commentd-$stalled.json" "['events_delivered']")
    cexp=$(field "$out/fanout-commentd-$stalled.json" "['events_expected']")
    be=$(field "$out/fanout-bare-$stalled.json" "['events_delivered']")
    p99=$(field "$out/fanout-commentd-$stalled.json" "['delivery_delay']['p99_us']")
    echo "   stalled=$stalled: delivered $ce of $cexp expected; p99 delay $(ratio "$p99" 1000) ms (target < 10);" \
      "events per server CPU-second: commentd $(ratio "$ce" "$c_cpu"), bare $(ratio "$be" "$bare_cpu")," \
      "ratio $(python3 -c "print(f'{($ce / $c_cpu) / ($be / $bare_cpu):.2f}')") (target >= 0.70);" \
      "peak RSS commentd $c_rss MiB, bare $bare_rss MiB"
    spread "stalled=$stalled" "$out/fanout-commentd-$stalled.json" "$out/fanout-bare-$stalled.json"
  done
  # commentd encodes each event once for all its watchers; a plain tonic
  # broadcast (above) encodes it for each. The same broadcast encoding once:
  start_bare --encode-once
  fanout_load "bare broadcast, encoded once" "$out/fanout-bare-once.json" --subscribers 1000
  local once_cpu=$load_cpu
  stop_server
  local ce be p99
  ce=$(field "$out/fanout-commentd-0.json" "['events_delivered']")
  be=$(field "$out/fanout-bare-once.json" "['events_delivered']")
  p99=$(field "$out/fanout-bare-once.json" "['delivery_delay']['p99_us']")
  echo "   bare broadcast encoding once: events per server CPU-second $(ratio "$be" "$once_cpu"), p99 delay $(ratio "$p99" 1000) ms;" \
    "commentd (stalled=0) / it: $(python3 -c "print(f'{($ce / $c0_cpu) / ($be / $once_cpu):.2f}')")"
  # The same 1,000 watchers as streams over 10 connections, as gateways
  # would hold them: far fewer socket writes per event on both sides.
  start_bare
  fanout_load "bare broadcast, 10 conns" "$out/fanout-bare-mux.json" --subscribers 1000 --watch-connections 10
  local mux_bare_cpu=$load_cpu
  stop_server
  rm -rf "$out/data-fanout"
  start_commentd "$out/data-fanout"
  fanout_load "commentd, 10 conns" "$out/fanout-commentd-mux.json" --subscribers 1000 --watch-connections 10
  local mux_cpu=$load_cpu
  stop_server
  ce=$(field "$out/fanout-commentd-mux.json" "['events_delivered']")
  be=$(field "$out/fanout-bare-mux.json" "['events_delivered']")
  p99=$(field "$out/fanout-commentd-mux.json" "['delivery_delay']['p99_us']")
  echo "   over 10 connections: delivered $ce of $(field "$out/fanout-commentd-mux.json" "['events_expected']");" \
    "p99 delay $(ratio "$p99" 1000) ms, bare $(ratio "$(field "$out/fanout-bare-mux.json" "['delivery_delay']['p99_us']")" 1000) ms;" \
    "events per server CPU-second: commentd $(ratio "$ce" "$mux_cpu"), bare $(ratio "$be" "$mux_bare_cpu")," \
    "ratio $(python3 -c "print(f'{($ce / $mux_cpu) / ($be / $mux_bare_cpu):.2f}')")"
  spread "10 connections" "$out/fanout-commentd-mux.json" "$out/fanout-bare-mux.json"
}

# How long one event took from its first watcher to its last (p50/p99), for
# commentd and the bare broadcast: the burst of deliveries that the delay
# cannot be shorter than.
spread() { # label commentd.json bare.json
  echo "   $1: one event from its first watcher to its last, p50 / p99:" \
    "commentd $(ratio "$(field "$2" "['delivery_spread']['p50_us']")" 1000) / $(ratio "$(field "$2" "['delivery_spread']['p99_us']")" 1000) ms," \
    "bare $(ratio "$(field "$3" "['delivery_spread']['p50_us']")" 1000) / $(ratio "$(field "$3" "['delivery_spread']['p99_us']")" 1000) ms"
}

scenario_storage() {
  echo "== storage: 1,000,000 comments over 10,000 articles"
  # Filled once, then copied afresh for each pass, so that every pass sees
  # exactly the fill (the submits of earlier passes would grow it).
  local pristine=$out/data-million-pristine data=$out/data-million
  if [ ! -d "$pristine" ]; then
    rm -rf "$pristine.partial"
    start_commentd "$pristine.partial"
    load fill --target "$addr" --comments 1000000 --articles 10000 --big 100000 --small 100 | tee "$out/fill.json"
    stop_server
    mv "$pristine.partial" "$pristine"
  fi
  for cache in 16 32; do
    fresh_copy "$pristine" "$data"
    timed start_commentd "$data" --cache-mb "$cache"
    echo "   cache ${cache} MiB: start to serving $elapsed_ms ms (target < 1000); RSS $(rss_mb) MiB"
    load list --target "$addr" --article small --article big --iterations 2000 > "$out/list-$cache.json"
    python3 - "$out/list-$cache.json" <<'EOF'
import json, sys
rows = {(r["article"], r["page"]): r["latency"] for r in json.load(open(sys.argv[1]))}
for page in ("first", "deep"):
    small, big = rows[("small", page)], rows[("big", page)]
    print(f"   {page} page of 50: p50 small {small['p50_us']} us, big {big['p50_us']} us, big/small {big['p50_us'] / small['p50_us']:.2f} (target <= 1.5)")
EOF
    echo "   cache ${cache} MiB: RSS $(rss_mb) MiB after listing"
    run_load "commentd 1M stored, cache ${cache}MiB" "$out/storage-submit-$cache.json" --submitters 64 --duration-secs 5 --warmup-secs 2 >/dev/null
    echo "   cache ${cache} MiB: RSS $(rss_mb) MiB after listing and 5 s of submits, peak $(peak_rss_mb) MiB (target < 256)"
    # A clean stop has sled write its snapshot; the start after it reads
    # the snapshot instead of replaying the log.
    timed stop_server
    echo "   cache ${cache} MiB: clean stop (with checkpoint) $elapsed_ms ms"
    timed start_commentd "$data" --cache-mb "$cache"
    echo "   cache ${cache} MiB: restart after the clean stop $elapsed_ms ms (target < 1000); RSS $(rss_mb) MiB"
    kill_server
  done
  # After a crash nothing was checkpointed: the start replays what was
  # written since the last start.
  fresh_copy "$pristine" "$data"
  start_commentd "$data"
  run_load "commentd 1M stored, then killed" "$out/storage-crash.json" --submitters 64 --duration-secs 5 --warmup-secs 2 >/dev/null
  kill_server
  timed start_commentd "$data"
  echo "   restart after SIGKILL that followed 5 s of submits: $elapsed_ms ms (log replay)"
  stop_server
}

# Replaces `to` by a copy of `from`, written back to disk before anything is
# timed on it.
fresh_copy() { # from to
  rm -rf "$2"
  cp -a "$1" "$2"
  sync
}

scenario_growth() {
  echo "== cost growth"
  rm -rf "$out/data-10k"
  start_commentd "$out/data-10k"
  load fill --target "$addr" --comments 10000 --articles 100 --big 1000 --small 100 >/dev/null
  run_load "submit, 10k stored" "$out/growth-10k.json" --submitters 64 >/dev/null
  echo "   10k stored: $(field "$out/growth-10k.json" "['submits_per_sec']" | cut -d. -f1) submits/s, peak RSS $(peak_rss_mb) MiB"
  stop_server
  if [ -d "$out/data-million" ]; then
    start_commentd "$out/data-million"
    run_load "submit, 1M stored" "$out/growth-1m.json" --submitters 64 >/dev/null
    echo "   1M stored: $(field "$out/growth-1m.json" "['submits_per_sec']" | cut -d. -f1) submits/s, peak RSS $(peak_rss_mb) MiB"
    stop_server
  fi
  for subscribers in 10 100 1000; do
    rm -rf "$out/data-growth"
    start_commentd "$out/data-growth"
    fanout_load "fan-out $subscribers" "$out/growth-fanout-$subscribers.json" \
      --subscribers "$subscribers" >/dev/null
    echo "   fan-out to $subscribers watchers at 100 comments/s: server CPU $(python3 -c "print(f'{$load_cpu / 23.5 * 100:.1f}')")% of a core," \
      "p99 delay $(ratio "$(field "$out/growth-fanout-$subscribers.json" "['delivery_delay']['p99_us']")" 1000) ms"
    stop_server
  done
}

date -u +"e2e run %Y-%m-%dT%H:%MZ on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
case $only in
  all) scenario_submit; scenario_fanout; scenario_storage; scenario_growth ;;
  submit|fanout|storage|growth) "scenario_$only" ;;
  *) echo "unknown scenario $only" >&2; exit 2 ;;
esac
