#!/usr/bin/env bash
# Relay benchmark (./relay bench runs this): Relay against Postfix 3.7 on the same machine, in one invocation.
#   1. accept rate: smtp-source against the Relay ingress (trusted-network listener) and a local Postfix that queues,
#      1/20/50 sessions x 1/10/100 KiB, both answering 250 only once the message is durable (see bench/README.md),
#      Relay on one Kafka broker;
#   2. end to end: smtp-source -> Relay (ingress -> policy -> delivery) -> receiver versus smtp-source -> Postfix
#      (relaying) -> receiver: messages/s and acceptance -> delivery latency (median, p99) from paced probes;
#   3. scale-out: delivery throughput with 1, 2 and 3 delivery workers against a receiver adding fixed latency;
#   4. replicated Kafka: with the 1-broker Relay stopped, parts 1 and 2 again for Relay on a cluster of three (RF 3,
#      min.insync.replicas 2: a 250 means the message is on two brokers' logs, as in production) and Postfix beside it;
#   and memory: resident size of each service idle, under load, and of the ingress with 1,000 idle connections.
# Writes bench/results/<date>.md and <date>.png, prints the Relay/Postfix ratios.
#
# Everything runs on ports this script picks (free ones): its own Kafka broker, the three services, the receivers and
# a private Postfix instance; it stops what it started, by PID. It never touches ./relay up's stack or the test brokers.
#
# Knobs (environment): BENCH_SESSIONS (1 20 50), BENCH_SIZES (1024 10240 102400), BENCH_SECONDS (target length of one
# accept-rate run, 8), BENCH_E2E_MESSAGES (6000), BENCH_E2E_WARMUP (3000), BENCH_E2E_ROUNDS (2), BENCH_SCALE_MESSAGES (2000), BENCH_SCALE_DELAY_MS (250),
# BENCH_IDLE_CONNECTIONS (1000), BENCH_REPLICATED (1: also Relay on the 3-broker cluster; 0: without it), BENCH_NOTE
# (a sentence for the result file's conditions, e.g. what else ran on the machine),
# BENCH_SMOKE=1 (a short run to check the script: 20 sessions x 10 KiB, small counts).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WORK="$BENCH_DIR/.work"
RAW="$WORK/raw"
RESULTS="$BENCH_DIR/results"
cd "$ROOT"

if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  : "${BENCH_SESSIONS:=20}" "${BENCH_SIZES:=10240}" "${BENCH_SECONDS:=3}" "${BENCH_E2E_MESSAGES:=300}" "${BENCH_E2E_WARMUP:=300}"
  : "${BENCH_SCALE_MESSAGES:=200}" "${BENCH_IDLE_CONNECTIONS:=200}"
fi
SESSIONS=(${BENCH_SESSIONS:-1 20 50})
SIZES=(${BENCH_SIZES:-1024 10240 102400})
SECONDS_TARGET=${BENCH_SECONDS:-8}
E2E_N=${BENCH_E2E_MESSAGES:-6000}
E2E_WARMUP=${BENCH_E2E_WARMUP:-3000}
E2E_ROUNDS=${BENCH_E2E_ROUNDS:-2}
SCALE_N=${BENCH_SCALE_MESSAGES:-2000}
SCALE_DELAY=${BENCH_SCALE_DELAY_MS:-250}
IDLE_N=${BENCH_IDLE_CONNECTIONS:-1000}
REPLICATED=${BENCH_REPLICATED:-1}
rf3() { if [ "$REPLICATED" = 1 ]; then echo "$1"; else echo "—"; fi; } # a replicated-cluster cell, or a dash without it
FROM=bench@example.test
TO=bench@bench.example
PY=/usr/bin/python3            # Debian's, for python3-matplotlib
VERSION=0.1.0-SNAPSHOT
TESTKIT_CP="relay-testkit/target/relay-testkit-${VERSION}.jar:relay-testkit/target/lib/*"
LG_CP="$BENCH_DIR/loadgen/target/loadgen.jar:$BENCH_DIR/loadgen/target/lib/*"
PF_CONF="$WORK/postfix-etc"

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }
clamp() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { v = int(v); if (v < lo) v = lo; if (v > hi) v = hi; print v }'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo na; }

# ------------------------------------------------------------------------------------------------ tools
ensure_tools() {
  local need=""
  command -v smtp-source >/dev/null 2>&1 && command -v postfix >/dev/null 2>&1 || need="$need postfix"
  [ -x "$PY" ] && $PY -c 'import matplotlib' 2>/dev/null || need="$need python3-matplotlib"
  command -v curl >/dev/null 2>&1 || need="$need curl"
  if [ -n "$need" ]; then
    [ "$(id -u)" = 0 ] || { echo "bench: needs root to install:$need (apt-get install$need)" >&2; exit 1; }
    log "installing:$need"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  fi
  local svc
  for svc in ingress-service policy-service delivery-service; do
    [ -f "$svc/target/quarkus-app/quarkus-run.jar" ] || { log "building Relay (mvn package, tests skipped)"; mvn -B -q -DskipTests package; break; }
  done
  [ -f "relay-testkit/target/relay-testkit-${VERSION}.jar" ] || mvn -B -q -DskipTests package
  if [ ! -f "$BENCH_DIR/loadgen/target/loadgen.jar" ] \
     || [ -n "$(find "$BENCH_DIR/loadgen/src" "$BENCH_DIR/loadgen/pom.xml" -newer "$BENCH_DIR/loadgen/target/loadgen.jar" -type f | head -n 1)" ]; then
    log "building bench/loadgen"
    mvn -B -q -f "$BENCH_DIR/loadgen/pom.xml" package
  fi
}

# ------------------------------------------------------------------------------------------------ processes we start
PIDS=()
start_bg() { # name cmd... : starts in the background with its log in $RAW/<name>.log, records the pid
  local name=$1; shift
  "$@" >"$RAW/$name.log" 2>&1 &
  PIDS+=("$!")
  eval "PID_${name//-/_}=$!"
}
stop_pid() { # pid: TERM, wait up to 20 s, then KILL
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}
await_line() { # file pattern seconds
  for _ in $(seq $(($3 * 5))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "bench: '$2' did not appear in $1 within $3 s" >&2; tail -n 30 "$1" >&2; return 1
}
await_ready() { # name http-port
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/q/health/ready")" = 200 ] && return 0
    sleep 0.2
  done
  echo "bench: $1 not ready on :$2" >&2; tail -n 30 "$RAW/$1.log" >&2; return 1
}
service() { # name module http-port env... : with the JVM options the services always run with (C1 only, ADR 0007)
  local name=$1 module=$2 http=$3; shift 3
  start_bg "$name" env QUARKUS_HTTP_PORT="$http" KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" \
    RELAY_RULES_TRUSTED_NETWORKS=127.0.0.0/8 "$@" java -XX:TieredStopAtLevel=1 -jar "$module/target/quarkus-app/quarkus-run.jar"
}
metric_sum() { # port regexp
  curl -s "http://127.0.0.1:$1/q/metrics" | awk -v re="$2" '$0 !~ /^#/ && $1 ~ re { s += $2 } END { printf "%.0f\n", s + 0 }'
}
accepted() { metric_sum "${1:-$ING_HTTP}" '^relay_ingress_messages_total\{.*result="accepted"'; }
decided() { metric_sum "$POL_HTTP" '^relay_policy_decisions_total'; }
await_decided() { # target count, bounded
  for _ in $(seq 1200); do [ "$(decided)" -ge "$1" ] && return 0; sleep 0.25; done
  log "policy decided only $(decided) of $1"
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
await_lines() { # file count seconds
  for _ in $(seq $(($3 * 10))); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  log "only $(lines "$1") of $2 arrived in $1 within $3 s"
}

# ------------------------------------------------------------------------------------------------ Postfix
postfix_start() { # port: queue-only configuration
  mkdir -p "$PF_CONF" "$WORK/postfix-spool" "$WORK/postfix-data"
  sed "s#@WORK@#$WORK#g" "$BENCH_DIR/postfix/main.cf.in" > "$PF_CONF/main.cf"
  sed "s#@PORT@#$1#g" "$BENCH_DIR/postfix/master.cf.in" > "$PF_CONF/master.cf"
  chown postfix "$WORK/postfix-data"
  postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
  postfix -c "$PF_CONF" check
  postfix -c "$PF_CONF" start >/dev/null 2>&1
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "bench: Postfix did not listen on $1" >&2; exit 1
}
postfix_relay_to() { # sink port: from queueing to relaying everything to the receiver
  postconf -c "$PF_CONF" -e "defer_transports =" "relayhost = [127.0.0.1]:$1" "smtp_tls_security_level = none"
  postfix -c "$PF_CONF" reload >/dev/null 2>&1
  sleep 1
}
postfix_queued() {
  for _ in $(seq 150); do
    [ -z "$(find "$WORK/postfix-spool/incoming" "$WORK/postfix-spool/active" -type f | head -n 1)" ] && break
    sleep 0.2
  done
  find "$WORK/postfix-spool/incoming" "$WORK/postfix-spool/active" "$WORK/postfix-spool/deferred" -type f | wc -l
}
postfix_flush() { postsuper -c "$PF_CONF" -d ALL >/dev/null 2>&1 || true; }
postfix_rss_mib() { # all processes of our Postfix instance (MAIL_CONFIG in their environment)
  local total=0 pid
  for pid in $(pgrep -u postfix || true) $(pgrep -x master || true); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "MAIL_CONFIG=$PF_CONF" || continue
    total=$((total + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}

smtp_source() { # port sessions size count -> seconds
  local t
  t=$( { TIMEFORMAT=%3R; time smtp-source -s "$2" -m "$4" -l "$3" -f $FROM -t $TO "127.0.0.1:$1" \
           >/dev/null 2>>"$RAW/smtp-source.err"; } 2>&1 )
  echo "$t"
}

# ------------------------------------------------------------------------------------------------ 1. accept rate
accept_cell() { # target (relay, relay3 or postfix) sessions size -> "rate n ok secs"
  local target=$1 s=$2 size=$3 port http warm t0 rate n secs ok a0
  case "$target" in
    relay) port=$RELAY_PORT; http=$ING_HTTP ;;
    relay3) port=$RELAY3_PORT; http=$ING3_HTTP ;;
    *) port=$PF_PORT ;;
  esac
  warm=$(clamp $((s * 10)) 100 500)
  t0=$(smtp_source "$port" "$s" "$size" "$warm")
  rate=$(awk -v n="$warm" -v t="$t0" 'BEGIN { print (t > 0 ? n / t : 100) }')
  n=$(clamp "$(awk -v r="$rate" -v T="$SECONDS_TARGET" 'BEGIN { print r * T }')" $((s * 20)) 30000)
  [ "$target" = postfix ] && postfix_flush
  [ "$target" = postfix ] || a0=$(accepted "$http")
  secs=$(smtp_source "$port" "$s" "$size" "$n")
  if [ "$target" = postfix ]; then ok=$(postfix_queued); postfix_flush; else ok=$(( $(accepted "$http") - a0 )); fi
  echo "$(awk -v n="$ok" -v t="$secs" 'BEGIN { printf "%.1f", n / t }') $n $ok $secs"
}

# ------------------------------------------------------------------------------------------------ 2. end to end
# smtp-source sends E2E_N messages (20 sessions, 10 KiB) while probe.py sends one paced probe every 50 ms; the run
# ends when the receiver has all of them. msg/s = E2E_N / (last arrival - start of smtp-source).
end_to_end() { # target port -> "rate p50 p99 probes delivered secs"
  local target=$1 port=$2 arrivals="$RAW/e2e-$1-arrivals.log" accepts="$RAW/e2e-$1-accepted.log" t0 stopfile skip
  stopfile="$RAW/e2e-$1.stop"; rm -f "$stopfile" "$accepts"
  skip=$(lines "$E2E_ARRIVALS")   # what arrived before (warm-up) is not part of the run
  $PY "$BENCH_DIR/tools/probe.py" --port "$port" --log "$accepts" --count 100000 --interval-ms 50 --size 10240 \
    --tag "$target" --until-file "$stopfile" 2>>"$RAW/probe.err" &
  local probe=$!
  t0=$(now_ns)
  sample_rss_start "$target"
  smtp_source "$port" 20 10240 "$E2E_N" >/dev/null
  # probes go on until the bulk has arrived, so that they sample the whole run, then until every probe arrived
  for _ in $(seq 6000); do
    [ "$(tail -n +$((skip + 1)) "$E2E_ARRIVALS" | grep -c ' -$' || true)" -ge "$E2E_N" ] && break
    sleep 0.1
  done
  touch "$stopfile"; wait "$probe" || true
  local expected=$((skip + E2E_N + $(grep -vc failed "$accepts" || true)))
  await_lines "$E2E_ARRIVALS" "$expected" 60
  sample_rss_stop
  tail -n +$((skip + 1)) "$E2E_ARRIVALS" >"$arrivals"
  $PY - "$accepts" "$arrivals" "$t0" "$E2E_N" <<'EOF'
import sys
acc = {}
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) == 2:
        acc[p[0]] = int(p[1])
arr, probes, t0 = [], {}, int(sys.argv[3])
for l in open(sys.argv[2]):
    t, pid = l.split()
    arr.append(int(t))
    if pid != "-":
        probes[pid] = int(t)
lat = sorted((probes[k] - acc[k]) / 1e6 for k in acc if k in probes)
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
n_bulk = len(arr) - len(probes)
secs = (max(arr) - t0) / 1e9 if arr else float("nan")
print("%.1f %.1f %.1f %d %d %.2f" % (n_bulk / secs, pct(0.5), pct(0.99), len(lat), n_bulk, secs))
EOF
}

RSS_SAMPLER=""
sample_rss_start() { # label: every second, the RSS of each service, into $RAW/rss-<label>.log
  local out="$RAW/rss-$1.log"
  ( while true; do
      printf '%s ingress=%s policy=%s delivery=%s kafka=%s postfix=%s kafka3=%s\n' "$(date +%s)" "$(rss_mib "$PID_ingress")" \
        "$(rss_mib "${PID_policy:-0}")" "$(rss_mib "${PID_delivery_1:-0}")" "$(rss_mib "$PID_kafka_broker")" "$(postfix_rss_mib)" \
        "$(kafka3_rss_mib)"
      sleep 1
    done ) >"$out" 2>/dev/null &
  RSS_SAMPLER=$!
}
kafka3_rss_mib() { # the sum over the cluster's three brokers
  local total=0 pid
  for pid in ${KAFKA3_PIDS:-}; do total=$((total + $(rss_mib "$pid" | sed 's/na/0/'))); done
  echo "$total"
}
sample_rss_stop() { [ -n "$RSS_SAMPLER" ] && kill "$RSS_SAMPLER" 2>/dev/null; RSS_SAMPLER=""; }
rss_max() { # label (a glob: all rounds) component
  cat $RAW/rss-$1.log 2>/dev/null | sed -n "s/.* $2=\([0-9]*\).*/\1/p" | sort -n | tail -n 1
}
e2e_describe() { # "rate p50 p99 probes n secs"
  read -r rate p50 p99 probes n secs <<<"$1"
  echo "$rate msg/s, latency p50 $p50 ms p99 $p99 ms ($probes probes, $n in ${secs}s)"
}
e2e_mean() { # rounds... -> the mean of each column
  printf '%s\n' "$@" | awk '{ for (i = 1; i <= NF; i++) s[i] += $i; n++ }
    END { printf "%.1f %.1f %.1f %.0f %.0f %.2f\n", s[1]/n, s[2]/n, s[3]/n, s[4]/n, s[5]/n, s[6]/n }'
}

# ------------------------------------------------------------------------------------------------ 3. scale-out
# The policy routes SCALE_N messages (1 KiB) into relay.outbound.v1 once, while no delivery worker runs. For each k,
# k workers start side by side on an empty topic of their own (3 partitions, like relay.outbound.v1) and a group of
# their own; once all are ready and the group has settled, the routed records are copied there at once
# (bench/tools/CopyRecords.java), against a receiver that holds every reply back SCALE_DELAY ms. Throughput over the
# middle 80 % of arrivals.
scale_preload() {
  SCALE_SINCE=$(( $(now_ns) / 1000000 ))
  local d0; d0=$(decided)
  smtp_source "$RELAY_PORT" 20 1024 "$SCALE_N" >/dev/null
  await_decided $((d0 + SCALE_N))
  sleep 2
}
scale_out() { # workers -> "rate secs"
  local k=$1 arrivals="$RAW/scale-$1-arrivals.log" i http pids=() topic="bench.scale.$1"
  : >"$arrivals"
  java -cp "$TESTKIT_CP" "$BENCH_DIR/tools/CopyRecords.java" create "127.0.0.1:$KAFKA_PORT" "$topic" 3 >>"$RAW/copy.log" 2>&1
  start_bg "sink-scale-$k" $PY "$BENCH_DIR/tools/sink.py" --port "$SCALE_SINK_PORT" --log "$arrivals" --delay-ms "$SCALE_DELAY"
  await_line "$RAW/sink-scale-$k.log" READY 10
  local https=()
  for i in $(seq "$k"); do
    http=$(free_port); https+=("$http")
    service "delivery-scale-$k-$i" delivery-service "$http" \
      RELAY_DELIVERY_SMARTHOST="127.0.0.1:$SCALE_SINK_PORT;tls=none;internal" \
      MP_MESSAGING_INCOMING_OUTBOUND_TOPIC="$topic" MP_MESSAGING_INCOMING_OUTBOUND_GROUP_ID="bench-scale-$k" \
      MP_MESSAGING_INCOMING_OUTBOUND_AUTO_OFFSET_RESET=earliest
    pids+=("$(eval echo "\$PID_delivery_scale_${k}_$i")")
  done
  for i in $(seq "$k"); do await_ready "delivery-scale-$k-$i" "${https[$((i - 1))]}"; done
  sleep 8   # the consumer group settles (every join is a rebalance)
  java -cp "$TESTKIT_CP" "$BENCH_DIR/tools/CopyRecords.java" copy "127.0.0.1:$KAFKA_PORT" relay.outbound.v1 "$topic" \
    "$SCALE_SINCE" >>"$RAW/copy.log" 2>&1
  await_lines "$arrivals" "$SCALE_N" 600
  for i in "${pids[@]}"; do stop_pid "$i"; done
  stop_pid "$(eval echo "\$PID_sink_scale_$k")"
  $PY - "$arrivals" <<'EOF'
import sys
t = sorted(int(l.split()[0]) for l in open(sys.argv[1]))
lo, hi = int(len(t) * 0.1), int(len(t) * 0.9)
secs = (t[hi] - t[lo]) / 1e9 if hi > lo else float("nan")
print("%.1f %.2f" % ((hi - lo) / secs, (t[-1] - t[0]) / 1e9))
EOF
}

# ------------------------------------------------------------------------------------------------ main
stop_kafka3() { # the cluster's brokers all at once (one by one, the last would wait for a quorum), then its JVM
  [ -n "${KAFKA3_PIDS:-}" ] || return 0
  local pid
  for pid in $KAFKA3_PIDS; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 150); do
    local alive=0
    for pid in $KAFKA3_PIDS; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in $KAFKA3_PIDS; do kill -9 "$pid" 2>/dev/null || true; done   # (most have exited: set -e)
  KAFKA3_PIDS=""
  stop_pid "$PID_kafka3"
}
cleanup() {
  set +e
  sample_rss_stop
  stop_kafka3
  postfix -c "$PF_CONF" stop >/dev/null 2>&1
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
rm -rf "$RAW" "$WORK/kafka" "$WORK/kafka3"
mkdir -p "$RAW" "$RESULTS"
: >"$RAW/smtp-source.err"
ensure_tools
LOAD_START=$(cat /proc/loadavg)
T_START=$(date +%s)

KAFKA_PORT=$(free_port); KAFKA_CTRL=$(free_port)
RELAY_PORT=$(free_port); SUB_PORT=$(free_port); SUBS_PORT=$(free_port)
ING_HTTP=$(free_port); POL_HTTP=$(free_port); DEL_HTTP=$(free_port)
PF_PORT=$(free_port); SINK_PORT=$(free_port); SCALE_SINK_PORT=$(free_port)
RELAY3_PORT=$(free_port); ING3_HTTP=$(free_port); POL3_HTTP=$(free_port); DEL3_HTTP=$(free_port)
log "ports: kafka $KAFKA_PORT, ingress relay $RELAY_PORT (http $ING_HTTP), policy http $POL_HTTP, delivery http $DEL_HTTP, postfix $PF_PORT, receivers $SINK_PORT/$SCALE_SINK_PORT"

log "starting Kafka (bench/.work/kafka)"
start_bg kafka-broker java -Drelay.root="$ROOT" -cp "$TESTKIT_CP" "$BENCH_DIR/tools/BenchKafka.java" "$WORK/kafka" "$KAFKA_PORT" "$KAFKA_CTRL"
await_line "$RAW/kafka-broker.log" '^READY' 120
PID_kafka_broker=$(cat "$WORK/kafka/kafka.pid" 2>/dev/null || echo "$PID_kafka_broker")
PIDS+=("$PID_kafka_broker")
log "starting the ingress"
service ingress ingress-service "$ING_HTTP" RELAY_INGRESS_SMTP_RELAY_PORT="$RELAY_PORT" \
  RELAY_INGRESS_SMTP_SUBMISSION_PORT="$SUB_PORT" RELAY_INGRESS_SMTP_SUBMISSIONS_PORT="$SUBS_PORT" \
  RELAY_INGRESS_SMTP_MAX_CONNECTIONS_PER_CLIENT=2000 RELAY_INGRESS_TLS_DEV_CERTIFICATE_DIR="$WORK/tls" \
  RELAY_INGRESS_KEYCLOAK_URL=http://127.0.0.1:9
await_ready ingress "$ING_HTTP"
KAFKA3=""; KAFKA3_PIDS=""
log "starting Postfix (127.0.0.1:$PF_PORT, queue in bench/.work/postfix-spool)"
postfix_start "$PF_PORT"
postfix_flush
sleep 5
RSS_IDLE_INGRESS=$(rss_mib "$PID_ingress"); RSS_IDLE_KAFKA=$(rss_mib "$PID_kafka_broker"); RSS_IDLE_POSTFIX=$(postfix_rss_mib)
RSS_IDLE_KAFKA3=0

log "idle: $IDLE_N idle connections to the ingress"
java -Xss256k -cp "$LG_CP" bench.LoadGen idle --host 127.0.0.1 --port "$RELAY_PORT" --connections "$IDLE_N" \
  --hold-seconds 20 >"$RAW/idle.out" 2>>"$RAW/loadgen.err" &
IDLE_PID=$!
await_line "$RAW/idle.out" '^READY' 120 || true
sleep 8
RSS_IDLE_CONN=$(rss_mib "$PID_ingress")
wait "$IDLE_PID" || true
IDLE_GREETED=$(sed -n 's/^READY.*greeted=\([0-9]*\).*/\1/p' "$RAW/idle.out")
IDLE_ALIVE=$(sed -n 's/^DONE alive=\([0-9]*\).*/\1/p' "$RAW/idle.out")
log "  ingress RSS idle $RSS_IDLE_INGRESS MiB, with $IDLE_N idle connections $RSS_IDLE_CONN MiB (greeted $IDLE_GREETED, alive $IDLE_ALIVE)"

log "1. accept rate (policy and delivery not started yet: Relay = ingress + Kafka)"
smtp_source "$RELAY_PORT" 20 10240 1000 >/dev/null; smtp_source "$PF_PORT" 20 10240 1000 >/dev/null; postfix_flush
ACCEPT=()
sample_rss_start accept
for size in "${SIZES[@]}"; do
  for s in "${SESSIONS[@]}"; do
    r=$(accept_cell relay "$s" "$size")
    p=$(accept_cell postfix "$s" "$size")
    log "  $s sessions, $size bytes: relay $r | postfix $p | load $(load1)"
    # row: sessions size, relay (rate n ok secs), postfix (rate n ok secs), load; part 4 appends the replicated
    # Relay's cell and Postfix's cell measured beside it (rate n ok secs each)
    ACCEPT+=("$s $size $r $p $(load1)")
  done
done
sample_rss_stop

log "2. end to end (policy and delivery start; the accept-rate backlog is skipped)"
java -cp "$TESTKIT_CP" "$BENCH_DIR/tools/SkipBacklog.java" "127.0.0.1:$KAFKA_PORT" relay-policy relay.inbound.v1 >"$RAW/skip.log" 2>&1
service policy policy-service "$POL_HTTP" RELAY_POLICY_KEYCLOAK_URL=http://127.0.0.1:9
E2E_ARRIVALS="$RAW/e2e-arrivals.log"; : >"$E2E_ARRIVALS"
start_bg sink-e2e $PY "$BENCH_DIR/tools/sink.py" --port "$SINK_PORT" --log "$E2E_ARRIVALS"
await_line "$RAW/sink-e2e.log" READY 10
service delivery-1 delivery-service "$DEL_HTTP" RELAY_DELIVERY_SMARTHOST="127.0.0.1:$SINK_PORT;tls=none;internal"
await_ready policy "$POL_HTTP"; await_ready delivery-1 "$DEL_HTTP"
sleep 3
RSS_IDLE_POLICY=$(rss_mib "$PID_policy"); RSS_IDLE_DELIVERY=$(rss_mib "$PID_delivery_1")
# warm-up, not measured: the services' JVMs start cold here (the JIT needs a few thousand messages to compile the
# hot paths); Postfix gets the same warm-up for symmetry
smtp_source "$RELAY_PORT" 20 10240 "$E2E_WARMUP" >/dev/null
await_lines "$E2E_ARRIVALS" "$E2E_WARMUP" 180
postfix_relay_to "$SINK_PORT"
n0=$(lines "$E2E_ARRIVALS")
smtp_source "$PF_PORT" 20 10240 "$E2E_WARMUP" >/dev/null
await_lines "$E2E_ARRIVALS" $((n0 + E2E_WARMUP)) 180
# rounds alternate Relay and Postfix, so that a slower or faster spell of this shared machine falls on both sides;
# each side's figure is the mean over its rounds
E2E_RELAY=(); E2E_RELAY3=(); E2E_POSTFIX=()
for r in $(seq "$E2E_ROUNDS"); do
  E2E_RELAY+=("$(end_to_end "relay-$r" "$RELAY_PORT")")
  log "  round $r relay:   $(e2e_describe "${E2E_RELAY[-1]}")"
  E2E_POSTFIX+=("$(end_to_end "postfix-$r" "$PF_PORT")")
  log "  round $r postfix: $(e2e_describe "${E2E_POSTFIX[-1]}")"
done
read -r E2E_R_RATE E2E_R_P50 E2E_R_P99 E2E_R_PROBES E2E_R_N E2E_R_SECS <<<"$(e2e_mean "${E2E_RELAY[@]}")"
read -r E2E_P_RATE E2E_P_P50 E2E_P_P99 E2E_P_PROBES E2E_P_N E2E_P_SECS <<<"$(e2e_mean "${E2E_POSTFIX[@]}")"
# under load: the maximum over the accept-rate runs and the end-to-end run
maxof() { printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n | tail -n 1; }
RSS_LOAD_ingress=$(maxof "$(rss_max accept ingress)" "$(rss_max 'relay-*' ingress)")
RSS_LOAD_kafka=$(maxof "$(rss_max accept kafka)" "$(rss_max 'relay-*' kafka)")
RSS_LOAD_policy=$(rss_max 'relay-*' policy); RSS_LOAD_delivery=$(rss_max 'relay-*' delivery)
RSS_LOAD_postfix=$(maxof "$(rss_max accept postfix)" "$(rss_max 'postfix-*' postfix)")

log "3. scale-out: 1, 2, 3 delivery workers, receiver holding each reply ${SCALE_DELAY} ms"
stop_pid "$PID_delivery_1"
scale_preload
SCALE=()
for k in 1 2 3; do
  read -r rate secs <<<"$(scale_out "$k")"
  log "  $k worker(s): $rate msg/s (all $SCALE_N in ${secs}s)"
  SCALE+=("$k $rate $secs")
done

E2E_3_RATE=0; E2E_3_P50=0; E2E_3_P99=0; E2E_P3_RATE=0; RSS_LOAD_kafka3=0
if [ "$REPLICATED" = 1 ]; then
  # The replicated Relay runs alone: the 1-broker Relay is stopped first, so that neither side's processes take CPU
  # from the other on this small machine; Postfix is measured again beside it, cell by cell and round by round.
  log "4. replicated Kafka (the 1-broker Relay stopped; Relay on 3 brokers, RF 3, min.insync.replicas 2, against Postfix again)"
  stop_pid "$PID_policy"; stop_pid "$PID_ingress"; stop_pid "$PID_kafka_broker"
  postconf -c "$PF_CONF" -e "defer_transports = smtp"; postfix -c "$PF_CONF" reload >/dev/null 2>&1; sleep 1; postfix_flush
  start_bg kafka3 java -Drelay.root="$ROOT" -cp "$TESTKIT_CP" "$BENCH_DIR/tools/BenchKafka.java" "$WORK/kafka3" cluster 3
  await_line "$RAW/kafka3.log" '^READY' 180
  KAFKA3=$(sed -n 's/^READY //p' "$RAW/kafka3.log")
  KAFKA3_PIDS=$(sed -n 's/^NODE //p' "$RAW/kafka3.log" | tr '\n' ' ')
  service ingress3 ingress-service "$ING3_HTTP" KAFKA_BOOTSTRAP_SERVERS="$KAFKA3" RELAY_INGRESS_SMTP_RELAY_PORT="$RELAY3_PORT" \
    RELAY_INGRESS_SMTP_SUBMISSION_PORT="$(free_port)" RELAY_INGRESS_SMTP_SUBMISSIONS_PORT="$(free_port)" \
    RELAY_INGRESS_SMTP_MAX_CONNECTIONS_PER_CLIENT=2000 RELAY_INGRESS_TLS_DEV_CERTIFICATE_DIR="$WORK/tls" \
    RELAY_INGRESS_KEYCLOAK_URL=http://127.0.0.1:9
  await_ready ingress3 "$ING3_HTTP"
  sleep 3
  RSS_IDLE_KAFKA3=$(kafka3_rss_mib)
  smtp_source "$RELAY3_PORT" 20 10240 1000 >/dev/null; smtp_source "$PF_PORT" 20 10240 1000 >/dev/null; postfix_flush
  sample_rss_start accept3
  for i in "${!ACCEPT[@]}"; do
    read -r s size _ <<<"${ACCEPT[$i]}"
    r3=$(accept_cell relay3 "$s" "$size")
    p3=$(accept_cell postfix "$s" "$size")
    log "  $s sessions, $size bytes: relay RF3 $r3 | postfix $p3 | load $(load1)"
    ACCEPT[$i]="${ACCEPT[$i]} $r3 $p3"
  done
  sample_rss_stop
  java -cp "$TESTKIT_CP" "$BENCH_DIR/tools/SkipBacklog.java" "$KAFKA3" relay-policy relay.inbound.v1 >>"$RAW/skip.log" 2>&1
  service policy3 policy-service "$POL3_HTTP" KAFKA_BOOTSTRAP_SERVERS="$KAFKA3" RELAY_POLICY_KEYCLOAK_URL=http://127.0.0.1:9
  service delivery3 delivery-service "$DEL3_HTTP" KAFKA_BOOTSTRAP_SERVERS="$KAFKA3" \
    RELAY_DELIVERY_SMARTHOST="127.0.0.1:$SINK_PORT;tls=none;internal"
  await_ready policy3 "$POL3_HTTP"; await_ready delivery3 "$DEL3_HTTP"
  sleep 3
  n0=$(lines "$E2E_ARRIVALS")
  smtp_source "$RELAY3_PORT" 20 10240 "$E2E_WARMUP" >/dev/null
  await_lines "$E2E_ARRIVALS" $((n0 + E2E_WARMUP)) 180
  postfix_relay_to "$SINK_PORT"
  E2E_RELAY3=(); E2E_POSTFIX3=()
  for r in $(seq "$E2E_ROUNDS"); do
    E2E_RELAY3+=("$(end_to_end "relay3-$r" "$RELAY3_PORT")")
    log "  round $r relay RF3: $(e2e_describe "${E2E_RELAY3[-1]}")"
    E2E_POSTFIX3+=("$(end_to_end "postfix3-$r" "$PF_PORT")")
    log "  round $r postfix:   $(e2e_describe "${E2E_POSTFIX3[-1]}")"
  done
  read -r E2E_3_RATE E2E_3_P50 E2E_3_P99 E2E_3_PROBES E2E_3_N E2E_3_SECS <<<"$(e2e_mean "${E2E_RELAY3[@]}")"
  read -r E2E_P3_RATE E2E_P3_P50 E2E_P3_P99 E2E_P3_PROBES E2E_P3_N E2E_P3_SECS <<<"$(e2e_mean "${E2E_POSTFIX3[@]}")"
  RSS_LOAD_kafka3=$(maxof "$(rss_max accept3 kafka3)" "$(rss_max 'relay3-*' kafka3)")
else
  for i in "${!ACCEPT[@]}"; do ACCEPT[$i]="${ACCEPT[$i]} 0 0 0 0 0 0 0 0"; done # the chart reads fixed columns
fi
LOAD_END=$(cat /proc/loadavg)
T_END=$(date +%s)

# ------------------------------------------------------------------------------------------------ report
DATE=$(date -u +%Y-%m-%d)
NAME=$DATE; [ "${BENCH_SMOKE:-0}" = 1 ] && NAME="$DATE-smoke"
OUT="$RESULTS/$NAME.md"
i=2; while [ -e "$OUT" ]; do OUT="$RESULTS/$NAME-$i.md"; i=$((i + 1)); done
PNG="${OUT%.md}.png"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- . ':!bench' 2>/dev/null || COMMIT="$COMMIT (+ uncommitted changes)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
kib() { awk -v b="$1" 'BEGIN { printf "%g KiB", b / 1024 }'; }
{
  echo "# Relay benchmark, $DATE"
  echo
  echo "Produced by \`./relay bench\` (\`bench/run.sh\`; method and caveats in \`bench/README.md\`) in $(( (T_END - T_START) / 60 )) min."
  echo
  echo "## Conditions"
  echo "- Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "- Relay commit $COMMIT; $(java -version 2>&1 | head -n 1); Postfix $(postconf -c "$PF_CONF" -h mail_version 2>/dev/null)"
  echo "- Load average (1/5/15 min) at start: \`${LOAD_START% * *}\`, at end: \`${LOAD_END% * *}\`. The machine is shared:"
  echo "  other people's processes (JVMs, test brokers, and builds unless they were held back) share it; the load"
  echo "  average shows how busy it was. Kafka of the benchmark's own: one broker (unreplicated)$([ "$REPLICATED" = 1 ] && echo ", and a"
  )$([ "$REPLICATED" = 1 ] && echo " cluster of three (RF 3, min.insync.replicas 2) on the same machine")."
  [ -n "${BENCH_NOTE:-}" ] && echo "- Note: $BENCH_NOTE"
  echo
  echo "## What \`250\` means in each column"
  echo "- **Relay, 1 broker**: Kafka acknowledged the record (\`acks=all\`) on its only broker: in that broker's page"
  echo "  cache, not necessarily on disk, and on no other machine (Kafka's default flush policy)."
  if [ "$REPLICATED" = 1 ]; then
    echo "- **Relay, RF 3**: the record is on the logs of at least two of three brokers (replication factor 3,"
    echo "  \`min.insync.replicas=2\`, \`acks=all\`, unclean leader election off): what Relay promises in production,"
    echo "  where losing one broker loses nothing. Here the three brokers share this machine (and its disk and power),"
    echo "  so the figure measures the cost of that protocol, not independent failure domains; page cache, not fsync."
  fi
  echo "- **Postfix**: the queue file is fsynced to this machine's disk before \`250\` (one machine's durability)."
  echo
  echo "## 1. Accept rate (smtp-source, one connection per message)"
  echo "Relay: ingress relay listener, client in a trusted network (no AUTH), \`250\` after Kafka's acknowledgement;"
  echo "policy and delivery not running. Postfix: private instance queueing to disk (fsync before \`250\`), delivering"
  echo "nothing. msg/s = messages accepted (ingress metric delta / queue files) ÷ smtp-source wall time, ~${SECONDS_TARGET} s per run."
  echo "Per cell: Relay on 1 broker, then Postfix.$([ "$REPLICATED" = 1 ] && echo " The replicated Relay ran later, in a part of its own with the 1-broker Relay stopped, each cell followed by Postfix again (\"Postfix beside RF 3\"); its ratio is to that Postfix figure.")"
  echo
  echo "| size | sessions | Relay 1 broker msg/s | Postfix msg/s | **Relay 1/Postfix** | Relay RF 3 msg/s | Postfix beside RF 3 msg/s | **Relay RF 3/Postfix** | messages Relay 1 / Postfix / RF 3 / Postfix | load 1m |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for row in "${ACCEPT[@]}"; do
    read -r s size rr rn rok rsecs pr pn pok psecs l1 tr tn tok tsecs qr qn qok qsecs <<<"$row"
    echo "| $(kib "$size") | $s | $rr | $pr | **$(ratio "$rr" "$pr")** | $(rf3 "$tr") | $(rf3 "$qr") | **$(rf3 "$(ratio "$tr" "$qr")")** | $rok/$rn in ${rsecs}s / $pok/$pn in ${psecs}s / $(rf3 "$tok/$tn in ${tsecs}s / $qok/$qn in ${qsecs}s") | $l1 |"
  done
  echo
  echo "## 2. End to end (smtp-source → MTA → receiver, 20 sessions, 10 KiB)"
  echo "Relay: ingress → Kafka → policy → Kafka → delivery (smarthost route) → receiver. Postfix: the same instance,"
  echo "relaying to the receiver (\`relayhost\`). $E2E_N messages per round; msg/s = messages ÷ (last arrival − start)."
  echo "After a warm-up of $E2E_WARMUP messages through each, $E2E_ROUNDS rounds alternate Relay and Postfix; the ratio is of the means."
  echo "Latency = receiver arrival − the client's \`250\`, of probes sent every 50 ms during the run (bench/tools/probe.py)."
  echo
  echo "| | msg/s | latency p50 ms | latency p99 ms | probes | messages | seconds |"
  echo "|---|---|---|---|---|---|---|"
  for r in $(seq "$E2E_ROUNDS"); do
    echo "| Relay 1 broker, round $r | $(tr ' ' '|' <<<"${E2E_RELAY[$((r - 1))]}" | sed 's/|/ | /g') |"
    echo "| Postfix, round $r | $(tr ' ' '|' <<<"${E2E_POSTFIX[$((r - 1))]}" | sed 's/|/ | /g') |"
  done
  echo "| **Relay 1 broker** (mean of rounds) | $E2E_R_RATE | $E2E_R_P50 | $E2E_R_P99 | $E2E_R_PROBES | $E2E_R_N | $E2E_R_SECS |"
  echo "| **Postfix** (mean of rounds) | $E2E_P_RATE | $E2E_P_P50 | $E2E_P_P99 | $E2E_P_PROBES | $E2E_P_N | $E2E_P_SECS |"
  echo "| **Relay 1 broker/Postfix** | **$(ratio "$E2E_R_RATE" "$E2E_P_RATE")** | | | | | |"
  if [ "$REPLICATED" = 1 ]; then
    echo "| *part 4: the 1-broker Relay stopped* | | | | | | |"
    for r in $(seq "$E2E_ROUNDS"); do
      echo "| Relay RF 3, round $r | $(tr ' ' '|' <<<"${E2E_RELAY3[$((r - 1))]}" | sed 's/|/ | /g') |"
      echo "| Postfix beside RF 3, round $r | $(tr ' ' '|' <<<"${E2E_POSTFIX3[$((r - 1))]}" | sed 's/|/ | /g') |"
    done
    echo "| **Relay RF 3** (mean of rounds) | $E2E_3_RATE | $E2E_3_P50 | $E2E_3_P99 | $E2E_3_PROBES | $E2E_3_N | $E2E_3_SECS |"
    echo "| **Postfix beside RF 3** (mean of rounds) | $E2E_P3_RATE | $E2E_P3_P50 | $E2E_P3_P99 | $E2E_P3_PROBES | $E2E_P3_N | $E2E_P3_SECS |"
    echo "| **Relay RF 3/Postfix** | **$(ratio "$E2E_3_RATE" "$E2E_P3_RATE")** | | | | | |"
  fi
  echo
  echo "## 3. Delivery scale-out (receiver holds every reply ${SCALE_DELAY} ms)"
  echo "$SCALE_N messages of 1 KiB routed by the policy first; then k delivery workers (default settings: 32 deliveries in flight and at most 20 connections to one destination, each)"
  echo "start side by side on an empty 3-partition topic of their own, and once all are ready and their group has"
  echo "settled the routed records are copied there at once. Throughput over the middle 80 % of arrivals."
  echo
  echo "| workers | msg/s | all delivered in s | vs 1 worker |"
  echo "|---|---|---|---|"
  base=$(echo "${SCALE[0]}" | cut -d' ' -f2)
  for row in "${SCALE[@]}"; do read -r k rate secs <<<"$row"; echo "| $k | $rate | $secs | $(ratio "$rate" "$base")× |"; done
  echo
  echo "## 4. Memory (RSS, MiB)"
  echo "Sampled once a second. Under load = the maximum during the accept-rate runs (ingress, Kafka, Postfix) and the"
  echo "end-to-end run (all)."
  echo
  echo "| | idle | under load (max) |"
  echo "|---|---|---|"
  echo "| ingress | $RSS_IDLE_INGRESS | $RSS_LOAD_ingress |"
  echo "| policy | $RSS_IDLE_POLICY | $RSS_LOAD_policy |"
  echo "| delivery | $RSS_IDLE_DELIVERY | $RSS_LOAD_delivery |"
  echo "| Kafka broker | $RSS_IDLE_KAFKA | $RSS_LOAD_kafka |"
  [ "$REPLICATED" = 1 ] && echo "| Kafka, 3-broker cluster (sum of the three) | $RSS_IDLE_KAFKA3 | $RSS_LOAD_kafka3 |"
  echo "| Postfix (sum over its processes; shared pages counted in each) | $RSS_IDLE_POSTFIX | $RSS_LOAD_postfix |"
  echo
  echo "Ingress with $IDLE_N idle SMTP connections (fresh ingress, 8 s after the last opened): **$RSS_IDLE_CONN MiB**"
  echo "(greeted $IDLE_GREETED, still alive after 20 s $IDLE_ALIVE). JVMs run with default heap sizing (no -Xmx)."
  echo
  echo "## Against the targets (README)"
  for row in "${ACCEPT[@]}"; do
    read -r s size rr _ _ _ pr _ _ _ _ tr _ _ _ qr _ <<<"$row"
    [ "$s" = 20 ] && [ "$size" = 10240 ] && echo "- accept rate ≥ 2× Postfix (aim 3×) at 20 sessions / 10 KiB: $(ratio "$rr" "$pr")× (1 broker)$([ "$REPLICATED" = 1 ] && echo ", $(ratio "$tr" "$qr")× (RF 3)")"
  done
  echo "- end to end ≥ 1.5× Postfix (aim 2×): $(ratio "$E2E_R_RATE" "$E2E_P_RATE")× (1 broker)$([ "$REPLICATED" = 1 ] && echo ", $(ratio "$E2E_3_RATE" "$E2E_P3_RATE")× (RF 3)")"
  echo "- delivery scaling 1 → 3 workers ≥ 2.5×: $(ratio "$(echo "${SCALE[2]}" | cut -d' ' -f2)" "$base")×"
  echo
  echo "![chart]($(basename "$PNG"))"
} >"$OUT"

printf '%s\n' "${ACCEPT[@]}" >"$RAW/accept.txt"
printf '%s\n' "${SCALE[@]}" >"$RAW/scale.txt"
$PY "$BENCH_DIR/tools/chart.py" "$RAW/accept.txt" "$E2E_R_RATE $E2E_P_RATE $E2E_R_P50 $E2E_P_P50 $E2E_R_P99 $E2E_P_P99 $E2E_3_RATE $E2E_3_P50 $E2E_3_P99" \
  "$RAW/scale.txt" "$PNG" || log "chart failed (see above)"

echo
echo "Relay/Postfix, accepted msg/s (smtp-source):"
for row in "${ACCEPT[@]}"; do
  read -r s size rr _ _ _ pr _ _ _ _ tr _ _ _ qr _ <<<"$row"
  printf '  %3s sessions %8s: Relay %8s  Postfix %8s  ratio %s | Relay RF3 %8s  Postfix %8s  ratio %s\n' "$s" "$(kib "$size")" \
    "$rr" "$pr" "$(ratio "$rr" "$pr")" "$(rf3 "$tr")" "$(rf3 "$qr")" "$(rf3 "$(ratio "$tr" "$qr")")"
done
echo "Relay/Postfix, end to end msg/s: $E2E_R_RATE / $E2E_P_RATE = $(ratio "$E2E_R_RATE" "$E2E_P_RATE")"
[ "$REPLICATED" = 1 ] && echo "Relay RF3/Postfix, end to end msg/s: $E2E_3_RATE / $E2E_P3_RATE = $(ratio "$E2E_3_RATE" "$E2E_P3_RATE") (part 4, the 1-broker Relay stopped)"
echo "Delivery scale-out msg/s (1/2/3 workers): $(for r in "${SCALE[@]}"; do echo -n "$(echo "$r" | cut -d' ' -f2) "; done)"
echo "Results: ${OUT#"$ROOT"/} and ${PNG#"$ROOT"/}"
