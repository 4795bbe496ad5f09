#!/usr/bin/env bash
# Renders an EMQX resource with emqx-render and with the EMQX Operator's own code (the oracle,
# built from the pinned module when not cached), and compares them (compare.py): exit 0 when
# every difference is on tests/oracle/differences.yaml, 1 with the field-level differences that
# are not, 2 when the resource's generation has no oracle (or on a usage or build error).
# Usage: compare.sh FILE.yaml [--render RENDER.yaml] [--used FILE] [--all]
#   FILE holds one apps.emqx.io EMQX resource (and may hold Settings documents, which the render
#   takes); EMQX_RENDER names the emqx-render binary (default: target/debug/emqx-render, built);
#   --render compares RENDER.yaml instead of rendering FILE (the tests break a render on purpose).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../cluster/lib.sh
source "$root/tests/cluster/lib.sh"

[[ $# -ge 1 && -f "$1" ]] || { echo "usage: tests/oracle/compare.sh FILE.yaml [--used FILE] [--all]" >&2; exit 2; }
input="$1"
shift
given_render=""
if [[ "${1:-}" == "--render" ]]; then
  given_render="$2"
  shift 2
fi
python="$root/.venv-val/bin/python"
[[ -x "$python" ]] || python=python3
"$python" -c 'import yaml' 2>/dev/null || { echo "compare.sh needs PyYAML ($python)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The EMQX resource alone, for the oracle; its generation decides whether there is one.
generation="$("$python" - "$input" "$work/emqx.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
emqx = [d for d in docs if d.get("kind") == "EMQX" and str(d.get("apiVersion", "")).startswith("apps.emqx.io/")]
if len(emqx) != 1:
    sys.exit(f"{sys.argv[1]}: holds {len(emqx)} EMQX resources; compare.sh takes one")
yaml.safe_dump(emqx[0], open(sys.argv[2], "w"))
print(emqx[0]["apiVersion"])
PY
)" || exit 2
if [[ "$generation" != "apps.emqx.io/v2beta1" && "$generation" != "apps.emqx.io/v2alpha1" ]]; then
  echo "no oracle for $generation: only apps.emqx.io/v2beta1 and v2alpha1 (Operator 2.2) have one (see tests/oracle/README.md)" >&2
  exit 2
fi

if [[ -n "$given_render" ]]; then
  cp "$given_render" "$work/render.yaml"
else
  bin="${EMQX_RENDER:-$root/target/debug/emqx-render}"
  if [[ -z "${EMQX_RENDER:-}" ]]; then
    (cd "$root" && cargo build --quiet)
  fi
  if ! "$bin" render -q "$input" >"$work/render.yaml" 2>"$work/render.err"; then
    echo "emqx-render could not render $input:" >&2
    cat "$work/render.err" >&2
    exit 2
  fi
fi
oracle="$("$CLUSTER_DIR/build.sh" oracle)/oracle"
crd="$(module_dir "$(operator_module)")/config/crd/bases/apps.emqx.io_emqxes.yaml"
"$oracle" "$crd" "$work/emqx.yaml" >"$work/oracle.yaml" || exit 2
set +e
"$python" "$here/compare.py" "$work/render.yaml" "$work/oracle.yaml" "$here/differences.yaml" --generation "${generation#apps.emqx.io/}" "$@"
status=$?
set -e
exit "$status"
