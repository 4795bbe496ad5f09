#!/usr/bin/env bash
# Stops exactly the processes up.sh started for DIR (listed in DIR/pids), newest first: each pid is
# signalled only while it still runs the binary recorded for it, so a reused pid is never hit.
# Leaves DIR (logs, state) in place. Usage: down.sh DIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || die "usage: tests/cluster/down.sh DIR"
D="$1"
[[ -f "$D/pids" ]] || { note "nothing recorded in $D/pids: nothing to stop"; exit 0; }

ours() { # ours PID BINARY: does PID still run BINARY?
  [[ -e "/proc/$1/exe" ]] && [[ "$(readlink -f "/proc/$1/exe" 2>/dev/null)" == "$(readlink -f "$2")" ]]
}

mapfile -t lines < <(tac "$D/pids")
for line in "${lines[@]}"; do
  read -r name pid bin <<<"$line"
  if ours "$pid" "$bin"; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
done
left=()
for line in "${lines[@]}"; do
  read -r name pid bin <<<"$line"
  for _ in $(seq 1 40); do
    ours "$pid" "$bin" || break
    sleep 0.25
  done
  if ours "$pid" "$bin"; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
    ours "$pid" "$bin" && left+=("$name($pid)")
  fi
done
[[ ${#left[@]} -eq 0 ]] || die "still running after SIGKILL: ${left[*]}"
: >"$D/pids"
note "stopped the control plane of $D"
