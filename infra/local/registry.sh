#!/usr/bin/env bash
# A real OCI distribution registry on loopback for local development (`vigil scan image 127.0.0.1:5000/app:1`):
# Debian's docker-registry (distribution v2) with filesystem storage, optionally behind htpasswd basic auth.
# Tests do not use this script: they start their own throwaway registries through startRegistry() in
# @vigil/testing (which also covers bearer-token auth with a token server of its own).
#
#   infra/local/registry.sh start    write the config, start in the background, wait until /v2/ answers
#   infra/local/registry.sh stop     terminate it and wait until it is gone
#   infra/local/registry.sh status   exit 0 when it runs and answers, 3 when it is not running, 1 when it runs but does not answer
#   infra/local/registry.sh env      print VIGIL_REGISTRY=... (and the credentials with basic auth) for `eval` / `export`
#   infra/local/registry.sh push SOURCE REPO:TAG
#                                    copy an image in with skopeo: a docker-archive tar (.tar or .tar.gz), an OCI
#                                    layout directory, or any skopeo source reference (oci:DIR:TAG, docker://...)
#   infra/local/registry.sh reset    stop it and delete its storage
#
# Environment: VIGIL_REGISTRY_PORT (default 5000), VIGIL_REGISTRY_AUTH none|basic (default none), VIGIL_REGISTRY_USER
# and VIGIL_REGISTRY_PASSWORD (default vigil / vigil, used with basic auth), VIGIL_REGISTRY_START_TIMEOUT seconds
# (default 20). Not REGISTRY_*: docker-registry reads every REGISTRY_* variable as a config override, so the
# registry runs with a clean environment.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

port="${VIGIL_REGISTRY_PORT:-5000}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || { echo "registry.sh: VIGIL_REGISTRY_PORT must be a TCP port number, got '$port'" >&2; exit 2; }
auth="${VIGIL_REGISTRY_AUTH:-none}"
[[ "$auth" == none || "$auth" == basic ]] || { echo "registry.sh: VIGIL_REGISTRY_AUTH must be none or basic, got '$auth'" >&2; exit 2; }
user="${VIGIL_REGISTRY_USER:-vigil}"
password="${VIGIL_REGISTRY_PASSWORD:-vigil}"
timeout="${VIGIL_REGISTRY_START_TIMEOUT:-20}"

# Under .cache/ (ignored by git), one directory per port so two registries never share state.
state="$repo/.cache/registry/registry-$port"
storage="$state/storage"
config="$state/config.yml"
htpasswd_file="$state/htpasswd"
pidfile="$state/registry.pid"
logfile="$state/registry.log"
host="127.0.0.1:$port"

log() { echo "registry.sh: $*" >&2; }
die() { log "$*"; exit 1; }

need() {
  command -v "$1" >/dev/null || die "$1 is not on PATH: install it with apt-get install -y $2"
}

# The pid in the pid file is ours only if that process is docker-registry serving our config: pids get reused,
# and we must never signal somebody else's process.
running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "serve $config" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The registry answers GET /v2/ with 200 (no auth) or 401 (auth): either means the API is up.
probe() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$host/v2/")" || return 1
  [[ "$code" == 200 || "$code" == 401 ]]
}

write_config() {
  mkdir -p "$state" "$storage"
  local auth_section=""
  if [[ "$auth" == basic ]]; then
    need htpasswd apache2-utils
    htpasswd -Bbn "$user" "$password" >"$htpasswd_file"
    auth_section="auth:
  htpasswd:
    realm: vigil-local
    path: $htpasswd_file"
  fi
  cat >"$config" <<EOF
# Written by infra/local/registry.sh; regenerated on every start.
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: $host
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
$auth_section
EOF
}

take_lock() {
  mkdir -p "$state"
  exec 9>"$state/registry.lock"
  flock -w "$timeout" 9 || die "another registry.sh held $state/registry.lock for ${timeout}s"
}

cmd_start() {
  local pid
  need docker-registry docker-registry
  need curl curl
  take_lock
  if pid="$(running_pid)"; then
    if probe; then
      log "already running on $host (pid $pid)"
      return 0
    fi
    log "running (pid $pid) but not answering yet; waiting"
  else
    if port_open "$port"; then die "port $port is in use by another process; set VIGIL_REGISTRY_PORT to start a registry elsewhere"; fi
    write_config
    : >"$logfile"
    # setsid: the registry must outlive the shell that started it.
    setsid env -i PATH="$PATH" docker-registry serve "$config" </dev/null >>"$logfile" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
    log "starting docker-registry on $host (pid $pid, auth $auth, log $logfile)"
  fi
  local deadline=$((SECONDS + timeout))
  until probe; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logfile" >&2 || true
      rm -f "$pidfile"
      die "docker-registry exited during start; the last lines of $logfile are above"
    fi
    ((SECONDS < deadline)) || die "docker-registry did not answer http://$host/v2/ within ${timeout}s; see $logfile"
    sleep 0.2
  done
  log "ready on http://$host (storage $storage)"
}

cmd_stop() {
  local pid
  take_lock
  if ! pid="$(running_pid)"; then
    rm -f "$pidfile"
    log "not running on $host"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "pid $pid ignored SIGTERM for 20s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "not running on $host"
    exit 3
  fi
  if probe; then
    echo "running on http://$host (pid $pid, storage $storage)"
  else
    echo "running (pid $pid) but not answering on http://$host/v2/"
    exit 1
  fi
}

cmd_push() {
  [[ $# -eq 2 ]] || { echo "usage: $0 push SOURCE REPO:TAG" >&2; exit 2; }
  need skopeo skopeo
  local source="$1" dest="$2" src tmp=""
  if [[ "$source" =~ ^[a-z-]+: ]]; then
    src="$source"
  elif [[ -d "$source" ]]; then
    src="oci:$source"
  elif [[ -f "$source" ]]; then
    # skopeo reads only plain docker-archive tars; unpack a gzip-compressed `docker save` first.
    if [[ "$(head -c 2 "$source" | od -An -tx1 | tr -d ' ')" == 1f8b ]]; then
      tmp="$(mktemp "${TMPDIR:-/tmp}/registry-push-XXXXXX.tar")"
      gzip -dc "$source" >"$tmp"
      src="docker-archive:$tmp"
    else
      src="docker-archive:$source"
    fi
  else
    die "push: $source is neither a file, a directory nor a skopeo reference"
  fi
  local args=(--insecure-policy copy --dest-tls-verify=false)
  [[ -f "$config" ]] && grep -q htpasswd "$config" && args+=(--dest-creds "$user:$password")
  local rc=0
  skopeo "${args[@]}" "$src" "docker://$host/$dest" || rc=$?
  [[ -n "$tmp" ]] && rm -f "$tmp"
  ((rc == 0)) || die "push: skopeo could not copy $source to $host/$dest"
  log "pushed $source as $host/$dest"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env)
    echo "VIGIL_REGISTRY=$host"
    if [[ "$auth" == basic ]]; then
      echo "VIGIL_REGISTRY_USER=$user"
      echo "VIGIL_REGISTRY_PASSWORD=$password"
    fi
    ;;
  push)
    shift
    cmd_push "$@"
    ;;
  reset)
    cmd_stop
    rm -rf "$state"
    log "deleted the storage of $host"
    ;;
  *)
    echo "usage: $0 start|stop|status|env|push|reset" >&2
    exit 2
    ;;
esac
