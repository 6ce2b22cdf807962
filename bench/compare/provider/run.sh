#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The Traefik endpoint against nginx serving the same bytes from a file, in the same run:
# wrk -t2 -c64 (and -t1 -c1) against GET /v1/traefik of `constellation-agent traefik serve` and
# against nginx (2 workers, sendfile, keep-alive) serving the rendered configuration as a static
# file. Runs are interleaved (nginx, constellation, nginx, ...) so both see the same machine load;
# the ratio of the medians is what counts. Goal: >= 0.5x nginx's requests/s at 64 connections.
#
# Usage: bench/compare/provider/run.sh [build dir]     (default build/dev)
#   env: RUNS=3 DUR=10s CONNS=64 THREADS=2 SERVER_THREADS=2 SERVICES=30 BASE=29000
# Needs nginx and wrk (installed with apt-get when missing, as root).
set -euo pipefail
cd "$(dirname "$0")/../../.."

BUILD=${1:-build/dev}
RUNS=${RUNS:-3}
DUR=${DUR:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
SERVER_THREADS=${SERVER_THREADS:-2}
SERVICES=${SERVICES:-30}
BASE=${BASE:-29000}
AGENT="$BUILD/apps/constellation-agent"

if [ ! -x "$AGENT" ]; then
  echo "compare/provider: $AGENT not found; build first: cmake --preset dev && cmake --build --preset dev" >&2
  exit 1
fi
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "compare/provider: installing $2" >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$2" >/dev/null
}
need nginx nginx-light
need wrk wrk
need curl curl

TMP=$(mktemp -d -t cst-provider-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
median() { python3 -c 'import sys,statistics; print(round(statistics.median(float(x) for x in sys.argv[1:]),1))' "$@"; }

# A state with $SERVICES labelled services, three replicas each on five nodes: about 20 KB of JSON.
python3 - "$SERVICES" >"$TMP/state.json" <<'EOF'
import json, sys
services = int(sys.argv[1])
nodes = []
for n in range(5):
    insts = []
    for s in range(services):
        if (s + n) % 5 >= 3:
            continue
        name = f"app{s}"
        insts.append({
            "id": f"{name}-{n}", "service": name, "project": "bench", "networks": ["backend"],
            "ports": [{"target": 8080, "published": 20000 + s}],
            "labels": {
                f"traefik.http.routers.{name}.rule": f"Host(`{name}.example.com`)",
                f"traefik.http.routers.{name}.entrypoints": "websecure",
                f"traefik.http.routers.{name}.tls.certresolver": "le",
                f"traefik.http.services.{name}.loadbalancer.server.port": "8080",
                f"traefik.http.services.{name}.loadbalancer.healthcheck.path": "/health",
            },
        })
    nodes.append({"name": f"node-{n}", "version": 1, "addresses": {"backend": f"10.0.0.{n + 1}"}, "instances": insts})
print(json.dumps({"generation": 1, "complete": True, "nodes": nodes}))
EOF
mkdir -p "$TMP/www"
"$AGENT" traefik render --state "$TMP/state.json" --format json --quiet --output "$TMP/www/config.json"
BYTES=$(stat -c %s "$TMP/www/config.json")

P_NGX=$((BASE + 1))
P_CST=$((BASE + 2))
mkdir -p "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/json;
  client_body_temp_path $TMP/nginx/tmp; proxy_temp_path $TMP/nginx/tmp; fastcgi_temp_path $TMP/nginx/tmp;
  uwsgi_temp_path $TMP/nginx/tmp; scgi_temp_path $TMP/nginx/tmp;
  server { listen 127.0.0.1:$P_NGX; root $TMP/www; }
}
EOF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx/out.log" 2>&1 &
PIDS+=("$!")
"$AGENT" traefik serve --state "$TMP/state.json" --format json --port "$P_CST" --threads "$SERVER_THREADS" \
  >"$TMP/cst.out" 2>"$TMP/cst.err" &
PIDS+=("$!")

NGX_URL="http://127.0.0.1:$P_NGX/config.json"
CST_URL="http://127.0.0.1:$P_CST/v1/traefik"
for _ in $(seq 100); do
  curl -sf -o /dev/null "$NGX_URL" && curl -sf -o /dev/null "$CST_URL" && break
  sleep 0.1
done
curl -sf "$NGX_URL" -o "$TMP/from-nginx"
curl -sf "$CST_URL" -o "$TMP/from-cst"
if ! cmp -s "$TMP/from-nginx" "$TMP/from-cst"; then
  echo "compare/provider: nginx and constellation serve different bytes" >&2
  exit 1
fi
echo "body: $BYTES bytes of JSON ($SERVICES services); nginx $(nginx -v 2>&1 | cut -d/ -f2), 2 workers;" \
     "constellation $SERVER_THREADS thread(s); nproc=$(nproc); wrk -d$DUR, $RUNS interleaved runs"

one_run() { # <url> <threads> <conns> -> prints rps
  local out
  out=$(wrk -t"$2" -c"$3" -d"$DUR" --latency "$1" 2>&1)
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "compare/provider: errors from $1: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')" >&2
  fi
  awk '/Requests\/sec/{print $2}' <<<"$out"
}

compare() { # <threads> <conns>
  local t=$1 c=$2 ngx=() cst=() r a b
  echo "=== wrk -t$t -c$c ==="
  for ((r = 1; r <= RUNS; r++)); do
    a=$(one_run "$NGX_URL" "$t" "$c")
    b=$(one_run "$CST_URL" "$t" "$c")
    ngx+=("$a")
    cst+=("$b")
    echo "  run $r: nginx=$a constellation=$b ratio=$(python3 -c "print(round($b/$a,3))") load=$(cut -d' ' -f1 /proc/loadavg)"
  done
  local mn mc
  mn=$(median "${ngx[@]}")
  mc=$(median "${cst[@]}")
  echo "RESULT c$c: nginx median rps=$mn constellation median rps=$mc ratio=$(python3 -c "print(round($mc/$mn,3))")"
}

compare "$THREADS" "$CONNS"
compare 1 1
