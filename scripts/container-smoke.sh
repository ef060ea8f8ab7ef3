#!/usr/bin/env bash
# Proves the production image keeps its data across a stop and a start: build the project's own
# Dockerfile, run it on a named volume, create a session with a singer, a request and a songbook,
# stop the container with SIGTERM (it must exit 0), start it again, and check the session, its
# queue, its songbook and its QR PNG are unchanged; then do the same with a brand-new container on
# the same volume (a deploy).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/container-smoke.sh [options]

Builds the image from ./Dockerfile and checks, in a real container on a named volume, that a
session, its queue, its songbook and its QR PNG survive a SIGTERM stop + start and a container
replacement.
Prints PASS or FAIL; exit code 0 only on PASS.

Options:
  --engine docker|podman  container engine (default: docker if its engine answers, else podman)
  --port N                loopback port to publish 8080 on (default: a free port)
  --timeout SECONDS       how long to wait for /healthz after each start (default: 90)
  --keep-image            keep the karaoke-smoke image afterwards (container and volume are
                          always removed)
  -h, --help              show this help

Environment: CONTAINER_ENGINE (same as --engine), SMOKE_IMAGE (default karaoke-smoke).
Requires node on the host (JSON and HTTP); jq and curl are not needed.
EOF
}

engine="${CONTAINER_ENGINE:-}"
port=""
timeout=90
keep_image=0
image="${SMOKE_IMAGE:-karaoke-smoke}"

while (($#)); do
  case "$1" in
    --engine) engine="${2:?--engine needs a value}"; shift 2 ;;
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --keep-image) keep_image=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[smoke] %s\n' "$*"; }
fail() {
  printf '[smoke] FAIL: %s\n' "$*" >&2
  exit 1
}

command -v node >/dev/null || fail "node is required on the host"

if [[ -z "$engine" ]]; then
  # The docker CLI may be installed without a reachable daemon; only use it if `docker info` works.
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null; then
    engine=podman
  else
    fail "neither a working docker engine nor podman found"
  fi
fi
command -v "$engine" >/dev/null || fail "$engine not found"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_id="$$-$RANDOM"
volume="karaoke-smoke-data-$run_id"
containers=()
work="$(mktemp -d)"
status=1

cleanup() {
  local name
  if ((status != 0)); then
    for name in "${containers[@]}"; do
      "$engine" inspect "$name" >/dev/null 2>&1 || continue
      echo "----- last log lines of $name -----" >&2
      "$engine" logs --tail 40 "$name" >&2 2>&1 || true
    done
    echo "[smoke] FAIL" >&2
  fi
  for name in "${containers[@]}"; do "$engine" rm -f "$name" >/dev/null 2>&1 || true; done
  "$engine" volume rm -f "$volume" >/dev/null 2>&1 || true
  if ((!keep_image)); then
    # The run label also marks the build stage, which podman otherwise leaves as a 400 MB <none> image.
    "$engine" rmi "$image" >/dev/null 2>&1 || true
    "$engine" images -q --filter "label=karaoke-smoke.run=$run_id" 2>/dev/null | sort -u |
      while read -r id; do "$engine" rmi -f "$id" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "$port" ]]; then
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
fi
base="http://127.0.0.1:$port"

# req METHOD PATH OUTFILE [JSON_BODY] [BEARER]: prints the HTTP status; body goes to OUTFILE.
cat >"$work/req.mjs" <<'EOF'
import { writeFileSync } from 'node:fs';
const [method, url, out, body, token, type] = process.argv.slice(2);
const headers = {};
if (body) headers['content-type'] = type || 'application/json';
if (token) headers.authorization = `Bearer ${token}`;
try {
  const res = await fetch(url, { method, headers, body: body || undefined, signal: AbortSignal.timeout(10000) });
  writeFileSync(out, Buffer.from(await res.arrayBuffer()));
  console.log(res.status);
} catch {
  writeFileSync(out, '');
  console.log(0);
}
EOF
req() { node "$work/req.mjs" "$1" "$base$2" "$3" "${4:-}" "${5:-}" "${6:-}"; }

# json FILE EXPR: evaluate a JS expression on the parsed file as `j`, print the result.
json() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=('"$2"'); if (v===undefined||v===null) process.exit(1); process.stdout.write(typeof v==="string"?v:JSON.stringify(v))' "$1"; }

expect_status() { # expected actual what bodyfile
  [[ "$2" == "$1" ]] || fail "$3: expected HTTP $1, got $2: $(head -c 400 "$4" 2>/dev/null)"
}

wait_healthy() { # container
  local deadline=$((SECONDS + timeout)) code running
  while ((SECONDS < deadline)); do
    code="$(req GET /healthz "$work/health.json")"
    if [[ "$code" == 200 ]]; then
      log "healthy after start: $(head -c 300 "$work/health.json")"
      return 0
    fi
    running="$("$engine" inspect --format '{{.State.Running}}' "$1" 2>/dev/null || echo false)"
    [[ "$running" == true ]] || fail "container $1 exited during startup (exit code $("$engine" inspect --format '{{.State.ExitCode}}' "$1" 2>/dev/null))"
    sleep 1
  done
  fail "/healthz did not answer 200 within ${timeout}s (last status $code)"
}

start_container() { # name
  containers+=("$1")
  # Loopback only: nothing outside this machine can reach the test server.
  "$engine" run -d --name "$1" "${run_flags[@]}" -p "127.0.0.1:$port:8080" -v "$volume:/data" "$image" >/dev/null
  wait_healthy "$1"
}

stop_container() { # name: SIGTERM, up to 30 s to flush, then it must have exited 0 on its own
  local started=$SECONDS code
  "$engine" stop -t 30 "$1" >/dev/null
  code="$("$engine" inspect --format '{{.State.ExitCode}}' "$1")"
  [[ "$code" == 0 ]] || fail "$1 exited with code $code after SIGTERM (137 means it ignored SIGTERM and was killed)"
  log "stopped $1 with SIGTERM in $((SECONDS - started))s, exit code 0"
}

# The HEALTHCHECK from the image itself, run inside the container (engines run it on their own
# schedule, and podman drops it from OCI-format images, which this also catches).
check_image_healthcheck() { # container
  "$engine" image inspect --format '{{json .Config.Healthcheck}}' "$image" >"$work/hc.json"
  node -e '
    const hc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8") || "null");
    if (!hc || !Array.isArray(hc.Test) || hc.Test[0] !== "CMD") process.exit(1);
    process.stdout.write(JSON.stringify(hc.Test.slice(1)));' "$work/hc.json" >"$work/hc-argv.json" ||
    fail "the image has no exec-form HEALTHCHECK (podman needs --format docker to keep it)"
  local -a argv
  mapfile -t argv < <(node -e 'for (const a of JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))) console.log(a)' "$work/hc-argv.json")
  "$engine" exec "$1" "${argv[@]}" || fail "the image's HEALTHCHECK command fails inside the running container"
  log "image HEALTHCHECK passes inside the container"
}

# Public state without the parts computed from the clock at read time (generatedAt, and the ETAs
# estimatedStartAt/estimatedEndAt): everything else must survive byte for byte.
snapshot_state() { # outfile
  local code
  code="$(req GET "/api/sessions/$session_id" "$work/raw-state.json")"
  expect_status 200 "$code" "GET /api/sessions/$session_id" "$work/raw-state.json"
  node -e '
    const strip = (v) => Array.isArray(v) ? v.map(strip)
      : v && typeof v === "object" ? Object.fromEntries(Object.entries(v)
          .filter(([k]) => k !== "generatedAt" && !/^estimated/.test(k)).map(([k, x]) => [k, strip(x)]))
      : v;
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    require("fs").writeFileSync(process.argv[2], JSON.stringify(strip(s), null, 2) + "\n");' "$work/raw-state.json" "$1"
}

compare_after_restart() { # label
  snapshot_state "$work/state-$1.json"
  if ! cmp -s "$work/state-before.json" "$work/state-$1.json"; then
    diff -u "$work/state-before.json" "$work/state-$1.json" >&2 || true
    fail "session state differs after $1"
  fi
  json "$work/state-$1.json" 'j.queue.length' >/dev/null || fail "no queue in the state after $1"
  local code
  code="$(req GET "$qr_path" "$work/qr-$1.png")"
  expect_status 200 "$code" "GET $qr_path after $1" /dev/null
  cmp -s "$work/qr-before.png" "$work/qr-$1.png" || fail "QR PNG differs after $1"
  code="$(req GET "/api/sessions/$session_id/songbook" "$work/songbook-$1.json")"
  expect_status 200 "$code" "GET /api/sessions/:id/songbook after $1" "$work/songbook-$1.json"
  cmp -s "$work/songbook-before.json" "$work/songbook-$1.json" || fail "the songbook differs after $1"
  log "after $1: session, queue ($(json "$work/state-$1.json" 'j.queue.length') request(s)), songbook and QR PNG are identical"
}

log "engine: $engine; image: $image; port: $port; volume: $volume"

run_flags=()
# podman schedules HEALTHCHECK runs through systemd timers, which a container host may lack;
# check_image_healthcheck runs the same command by hand instead.
[[ "$engine" == podman ]] && run_flags+=(--no-healthcheck)

build_args=(build -t "$image" -f "$root/Dockerfile" --label "karaoke-smoke.run=$run_id")
if [[ "$engine" == podman ]]; then
  # docker format keeps HEALTHCHECK (OCI images drop it); host network lets npm ci reach the registry here.
  build_args+=(--format docker --network host)
fi
log "building the image from $root/Dockerfile (log: build output is shown only on failure)"
if ! "$engine" "${build_args[@]}" "$root" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  fail "image build failed"
fi
log "built $image"

# ---- without a volume the production image must refuse to start, not run on a throwaway disk ----
bare="karaoke-smoke-novolume-$run_id"
containers+=("$bare")
"$engine" run -d --name "$bare" "${run_flags[@]}" -p "127.0.0.1:$port:8080" "$image" >/dev/null
deadline=$((SECONDS + 30))
while [[ "$("$engine" inspect --format '{{.State.Running}}' "$bare")" == true ]]; do
  ((SECONDS < deadline)) || fail "the image started without a volume at /data; it must refuse (NODE_ENV=production)"
  sleep 0.5
done
code="$("$engine" inspect --format '{{.State.ExitCode}}' "$bare")"
[[ "$code" != 0 ]] || fail "without a volume the server exited 0 instead of refusing to start"
log "without a volume the image refuses to start (exit $code): $("$engine" logs "$bare" 2>&1 | tail -n 1 | head -c 200)"
"$engine" rm "$bare" >/dev/null

"$engine" volume create "$volume" >/dev/null

# ---- first start: create data ----
start_container "karaoke-smoke-a-$run_id"
ctr="${containers[-1]}"

uid="$("$engine" exec "$ctr" node -e 'process.stdout.write(String(process.getuid()))')"
[[ "$uid" != 0 ]] || fail "the server runs as root inside the container"
log "server runs as uid $uid"
# The image's compile cache must be the one its user reads: Node names the folder after the uid,
# and a cache made as another user would be silently skipped.
"$engine" exec -e NODE_DEBUG_NATIVE=COMPILE_CACHE "$ctr" node dist/scripts/warm-compile-cache.js >"$work/cache.log" 2>&1 ||
  fail "the compile cache warm-up fails inside the container: $(tail -n 5 "$work/cache.log")"
accepted="$(grep -c 'was accepted' "$work/cache.log" || true)"
compiled="$(grep -c 'was not initialized' "$work/cache.log" || true)"
((accepted > 100 && compiled == 0)) || fail "the image's compile cache is not used: $accepted modules read from it, $compiled compiled anew"
log "the modules of a start come from the image's compile cache ($accepted read, none compiled anew)"
check_image_healthcheck "$ctr"

code="$(req POST /api/sessions "$work/created.json" '{"name":"Container smoke test"}')"
expect_status 201 "$code" "POST /api/sessions" "$work/created.json"
session_id="$(json "$work/created.json" 'j.session.id')" || fail "no session.id in $(cat "$work/created.json")"
json "$work/created.json" 'j.hostKey' >/dev/null || fail "no hostKey in the create response"
qr_path="$(json "$work/created.json" 'new URL(j.qrUrl, "http://x").pathname' 2>/dev/null || echo "/qr-codes/$session_id.png")"

code="$(req POST "/api/sessions/$session_id/singers" "$work/singer.json" '{"name":"Smoke Singer"}')"
expect_status 201 "$code" "POST /api/sessions/:id/singers" "$work/singer.json"
guest_key="$(json "$work/singer.json" 'j.guestKey')" || fail "no guestKey in $(cat "$work/singer.json")"

code="$(req POST "/api/sessions/$session_id/requests" "$work/request.json" '{"title":"Bohemian Rhapsody","artist":"Queen"}' "$guest_key")"
expect_status 201 "$code" "POST /api/sessions/:id/requests" "$work/request.json"

host_key="$(json "$work/created.json" 'j.hostKey')"
code="$(req PUT "/api/sessions/$session_id/songbook" "$work/songbook-put.json" $'Artist,Title\r\nQueen,Bohemian Rhapsody\r\nBj\xc3\xb6rk,J\xc3\xb3ga\r\n' "$host_key" text/csv)"
expect_status 200 "$code" "PUT /api/sessions/:id/songbook" "$work/songbook-put.json"
code="$(req GET "/api/sessions/$session_id/songbook" "$work/songbook-before.json")"
expect_status 200 "$code" "GET /api/sessions/:id/songbook" "$work/songbook-before.json"

snapshot_state "$work/state-before.json"
[[ "$(json "$work/state-before.json" 'j.queue.length')" -ge 1 ]] || fail "the request is not in the queue"
code="$(req GET "$qr_path" "$work/qr-before.png")"
expect_status 200 "$code" "GET $qr_path" /dev/null
[[ "$(head -c 8 "$work/qr-before.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "$qr_path is not a PNG"
log "created session $session_id with a singer and a request; QR PNG $(wc -c <"$work/qr-before.png") bytes"

# ---- stop with SIGTERM, start the same container again ----
stop_container "$ctr"
"$engine" start "$ctr" >/dev/null
wait_healthy "$ctr"
compare_after_restart "restart"

# ---- replace the container, as a deploy does: new root filesystem, same volume ----
# A restarted container keeps its own writable layer, so only this step proves the data is on the
# volume and not somewhere in the container's filesystem (tried: a server writing to /tmp passes
# the restart above and fails here).
stop_container "$ctr"
"$engine" rm "$ctr" >/dev/null
start_container "karaoke-smoke-b-$run_id"
compare_after_restart "replacement"
stop_container "${containers[-1]}"

status=0
log "PASS: session $session_id, its queue, its songbook and its QR PNG survived a SIGTERM restart and a container replacement ($engine)"
