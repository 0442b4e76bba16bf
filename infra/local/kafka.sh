#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and benchmarks on
# machines without a container runtime. The broker jars come from Maven Central through ./kafka/pom.xml (the
# one pinned version of the repo) and run on the system JDK.
#
#   infra/local/kafka.sh start    fetch (once), format (once), start in the background, wait until it answers
#   infra/local/kafka.sh stop     terminate it and wait until it is gone
#   infra/local/kafka.sh status   exit 0 when it runs and answers, 3 when it is not running, 1 when it runs but does not answer
#   infra/local/kafka.sh env      print KAFKA_BROKERS=... for `eval` / `export`
#   infra/local/kafka.sh reset    stop it and delete its data (topics, offsets, consumer groups)
#   infra/local/kafka.sh fetch    only fetch the jars
#   infra/local/kafka.sh smoke    produce, consume in a group and use the admin API through kafkajs (prints the results)
#   infra/local/kafka.sh tool CLASS ARGS...
#                                 run a Kafka tool of the pinned version on the same jars, logging only warnings, e.g.
#                                 tool org.apache.kafka.tools.ProducerPerformance --topic t --num-records 200000 ...
#
# Environment: KAFKA_PORT (default 9092), KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1), KAFKA_HEAP (default
# 768m), KAFKA_START_TIMEOUT seconds (default 90), JAVA_HOME (else `java` on PATH).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pom="$here/kafka/pom.xml"
state="$here/.kafka"
lib="$state/lib"

port="${KAFKA_PORT:-9092}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || { echo "kafka.sh: KAFKA_PORT must be a TCP port number, got '$port'" >&2; exit 2; }
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
[[ "$cport" =~ ^[0-9]+$ ]] && ((cport > 0 && cport < 65536 && cport != port)) || { echo "kafka.sh: KAFKA_CONTROLLER_PORT must be a TCP port number other than KAFKA_PORT, got '$cport'" >&2; exit 2; }
heap="${KAFKA_HEAP:-768m}"
timeout="${KAFKA_START_TIMEOUT:-90}"

# One directory per client port, so a second broker on another port (KAFKA_PORT=19092) never shares state.
node_dir="$state/broker-$port"
data_dir="$state/data/broker-$port"
props="$node_dir/server.properties"
log4j="$node_dir/log4j2.properties"
pidfile="$node_dir/kafka.pid"
logfile="$node_dir/kafka.log"
brokers="127.0.0.1:$port"

java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

pinned_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1
}

# Fetches the jars unless the ones present were copied from this exact pom (a stamp holds its checksum), so a
# second run neither refetches nor even starts Maven.
fetch() {
  local want have=""
  want="$(sha256sum "$pom" | cut -d' ' -f1)"
  [[ -f "$lib/.pom.sha256" ]] && have="$(cat "$lib/.pom.sha256")"
  if [[ "$want" == "$have" ]] && compgen -G "$lib/kafka_2.13-*.jar" >/dev/null; then return 0; fi
  command -v mvn >/dev/null || die "mvn is not on PATH: install Maven (apt-get install -y maven) to fetch the Kafka broker"
  local tmp="$state/lib.tmp"
  rm -rf "$tmp"
  mkdir -p "$state"
  local args=(-q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$tmp")
  log "fetching Apache Kafka $(pinned_version) from Maven Central into $lib"
  # Offline first: when ~/.m2 already holds every jar this costs no network at all.
  if ! mvn -o "${args[@]}" >/dev/null 2>&1; then
    mvn "${args[@]}" || die "mvn could not fetch the Kafka jars of $pom (see the Maven output above)"
  fi
  rm -rf "$lib"
  mv "$tmp" "$lib"
  echo "$want" >"$lib/.pom.sha256"
}

check_java() {
  command -v "$java_bin" >/dev/null || die "no Java runtime: set JAVA_HOME or put java (17 or newer) on PATH"
  local v
  v="$("$java_bin" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${v%%.*}" =~ ^[0-9]+$ ]] && ((${v%%.*} >= 17)) || die "Kafka $(pinned_version) needs Java 17 or newer; $java_bin is '$v'"
}

# The pid in the pid file is ours only if that process is a JVM running kafka.Kafka on our properties file:
# pids get reused, and we must never signal somebody else's process.
running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $props" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A metadata round trip through kafkajs (the client our code uses), not just an open port. Prints the cluster id.
probe() {
  node "$here/kafka-probe.mjs" "$brokers"
}

write_config() {
  mkdir -p "$node_dir" "$data_dir"
  cat >"$props" <<EOF
# Written by infra/local/kafka.sh; regenerated on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir
# Tests create their own topics with explicit partition counts; a typo must fail, not create a topic.
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A group's first member gets its partitions at once instead of after the default 3 s delay.
group.initial.rebalance.delay.ms=0
# Small segments and short retention: test topics are throwaway, and the disk is shared.
log.segment.bytes=16777216
log.retention.hours=24
log.retention.check.interval.ms=60000
log.cleaner.dedupe.buffer.size=8388608
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  cat >"$log4j" <<'EOF'
# The broker logs to stdout, which kafka.sh sends to kafka.log; chatty request and state-change logs stay at WARN.
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.controller.name = org.apache.kafka.controller
logger.controller.level = warn
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
EOF
}

format_storage() {
  [[ -f "$data_dir/meta.properties" ]] && return 0
  local id
  # A cluster id is 16 random bytes in URL-safe base64 without padding (what `StorageTool random-uuid` prints);
  # made here to spare a JVM start. Like Kafka's own, it never starts with "-": the tool's argument parser would
  # take such an id for an option (one start in 64 failed that way).
  local tries=0
  id="-"
  while [[ "$id" == -* && $tries -lt 100 ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    tries=$((tries + 1))
  done
  [[ ${#id} -eq 22 && "$id" != -* ]] || die "could not make a cluster id from /dev/urandom"
  log "formatting KRaft storage in $data_dir (cluster id $id)"
  "$java_bin" -Dlog4j2.configurationFile="$log4j" -cp "$lib/*" kafka.tools.StorageTool format \
    -t "$id" -c "$props" --ignore-formatted >>"$logfile" 2>&1 || die "formatting KRaft storage failed; see $logfile"
}

# Two callers starting (or one starting, one stopping) the same broker at once would race on the pid file and
# the port; they take turns instead. The lock is released when the script exits.
take_lock() {
  mkdir -p "$state"
  exec 9>"$state/broker-$port.lock"
  if command -v flock >/dev/null; then flock -w "$timeout" 9 || die "another kafka.sh held $state/broker-$port.lock for ${timeout}s"; fi
}

cmd_start() {
  local pid started_at=$SECONDS
  take_lock
  if pid="$(running_pid)"; then
    if probe >/dev/null 2>&1; then
      log "already running on $brokers (pid $pid)"
      return 0
    fi
    log "running (pid $pid) but not answering yet; waiting"
  else
    if port_open "$port"; then die "port $port is in use by another process; set KAFKA_PORT to start a broker elsewhere"; fi
    if port_open "$cport"; then die "controller port $cport is in use by another process; set KAFKA_CONTROLLER_PORT"; fi
    check_java
    fetch
    write_config
    : >"$logfile"
    format_storage
    started_at=$SECONDS
    # setsid: the broker must outlive the shell (and the test run's process group) that started it.
    setsid "$java_bin" -Xms256m "-Xmx$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$log4j" \
      -cp "$lib/*" kafka.Kafka "$props" </dev/null >>"$logfile" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
    log "starting Kafka $(pinned_version) on $brokers (pid $pid, log $logfile)"
  fi
  local deadline=$((SECONDS + timeout)) id
  # First the broker's own word that it started, then a metadata request from a real client.
  until grep -q "Kafka Server started" "$logfile" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      rm -f "$pidfile"
      die "the broker exited during start; the last lines of $logfile are above"
    fi
    ((SECONDS < deadline)) || die "the broker did not start within ${timeout}s; see $logfile"
    sleep 0.3
  done
  local rc=0
  until id="$(probe 2>/dev/null)"; do
    rc=$?
    ((rc != 3)) || die "kafkajs is not installed (needed to check the broker answers); run npm ci at the repository root"
    ((SECONDS < deadline)) || die "the broker logged that it started but answers no metadata request on $brokers within ${timeout}s"
    sleep 0.5
  done
  log "ready on $brokers (cluster id $id, $((SECONDS - started_at))s)"
}

cmd_stop() {
  local pid
  take_lock
  if ! pid="$(running_pid)"; then
    rm -f "$pidfile"
    log "not running on $brokers"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "pid $pid ignored SIGTERM for 60s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.3
  done
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid id
  if ! pid="$(running_pid)"; then
    echo "not running on $brokers"
    exit 3
  fi
  if id="$(probe 2>/dev/null)"; then
    echo "running on $brokers (pid $pid, Kafka $(pinned_version), cluster id $id)"
  else
    echo "running (pid $pid) but not answering on $brokers"
    exit 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "KAFKA_BROKERS=$brokers" ;;
  reset)
    cmd_stop
    rm -rf "$data_dir" "$node_dir"
    log "deleted the data of $brokers"
    ;;
  fetch) fetch ;;
  smoke) node "$here/kafka-smoke.mjs" "$brokers" ;;
  tool)
    shift
    [[ $# -ge 1 ]] || { echo "usage: $0 tool CLASS [ARGS...]" >&2; exit 2; }
    check_java
    fetch
    tool_log4j="$state/tools-log4j2.properties"
    printf '%s\n' 'status = warn' 'appender.err.type = Console' 'appender.err.name = err' 'appender.err.target = SYSTEM_ERR' \
      'appender.err.layout.type = PatternLayout' 'appender.err.layout.pattern = [%d] %p %m (%c)%n' \
      'rootLogger.level = warn' 'rootLogger.appenderRef.err.ref = err' >"$tool_log4j"
    exec "$java_bin" -Xmx512m -Dlog4j2.configurationFile="$tool_log4j" -cp "$lib/*" "$@"
    ;;
  version) pinned_version ;;
  *)
    echo "usage: $0 start|stop|status|env|reset|fetch|smoke|tool|version" >&2
    exit 2
    ;;
esac
