# Shared by scripts/bench and scripts/bench-offline (sourced, not run): a
# Release uvchatd on a free loopback port, pinned to CPU 1 with the load
# generator on CPU 0 where there are two CPUs, and docs/BENCHMARKS.md
# sections. The caller sets `build`, `workdir`, `docs` and `program`.

# Command prefixes that pin to one CPU where taskset and two CPUs exist.
# Arrays rather than a function, so that `"${server_pin[@]}" uvchatd &` gives
# the server's own PID (taskset execs it) and not a subshell's.
server_pin=()
bench_pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_pin=(taskset -c 1)
  bench_pin=(taskset -c 0)
fi
server_pid=""
server_port=""

# Starts uvchatd on a free port (its log in $workdir/NAME.log), with the
# per-client limits off (the load comes from one address) and then "$@";
# sets server_pid and server_port.
start_server() {
  local name=$1
  shift
  local log="$workdir/$name.log"
  "${server_pin[@]}" "$build/uvchatd" --host 127.0.0.1 --port 0 --db "$workdir/$name.db" \
    --max-queue 1000000 --rate 0 --max-per-ip 0 --max-registrations 0 --log-level info "$@" \
    </dev/null >/dev/null 2>"$log" &
  server_pid=$!
  server_port=""
  for _ in $(seq 100); do
    server_port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+)$/\1/p' "$log" | head -n 1)
    [ -n "$server_port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$program: uvchatd did not start listening; its log:" >&2
  cat "$log" >&2
  return 1
}

# SIGTERM, then SIGKILL if it has not exited after 10 s. Only our own PID.
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -KILL "$server_pid" 2>/dev/null; then
    echo "$program: uvchatd did not stop on SIGTERM within 10 s; killed it" >&2
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# A top-level number of the bench's JSON line. The greedy match finds the
# last occurrence, past any parameter of the same name.
json_number() {
  sed -nE "s/.*\"$1\":(-?[0-9.]+).*/\1/p" <<<"$2"
}

revision() {
  local rev
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD 2>/dev/null || rev="$rev with uncommitted changes"
  echo "$rev"
}

machine() {
  local cpu pinning
  cpu=$(sed -nE 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  pinning="not pinned"
  [ ${#server_pin[@]} -eq 0 ] || pinning="server pinned to CPU 1, load generator to CPU 0"
  echo "${cpu:-unknown CPU}, $(nproc) cores; $pinning"
}

docs_intro() {
  cat <<'INTRO'
# Benchmarks

Figures measured with the project's load generator, `uvchat-bench` (built by
`make bench`; sources in src/bench/), against a Release build of `uvchatd` on
loopback. Each table comes from one run on one machine, named with the table,
and other work may have been running alongside: take the figures as rough and
noisy, and rerun the command shown on your own machine before comparing.
Every run also checks that each acknowledged message arrived exactly once and
intact, and fails if not.

To reproduce a table, run the command listed under it from a clone of the
repository (Debian 12; the script builds what it needs with `make bench`).
`build-release/uvchat-bench --help` lists the scenarios and their options.

INTRO
}

# Replaces the section under the heading $1 (up to the next "## " heading)
# with $2, or appends it; creates the file with an introduction if need be.
write_section() {
  local heading=$1 section_file="$workdir/section" updated="$workdir/BENCHMARKS.md"
  printf '%s\n' "$2" >"$section_file"
  [ -f "$docs" ] || docs_intro >"$docs"
  if grep -qxF "$heading" "$docs"; then
    awk -v heading="$heading" -v section_file="$section_file" '
      $0 == heading { while ((getline line < section_file) > 0) print line; skipping = 1; next }
      skipping && /^## / { skipping = 0; print "" }
      !skipping { print }
    ' "$docs" >"$updated"
  else
    { cat "$docs"; [ -z "$(tail -n 1 "$docs")" ] || echo; cat "$section_file"; } >"$updated"
  fi
  mv "$updated" "$docs"
}
