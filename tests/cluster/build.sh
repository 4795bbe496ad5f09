#!/usr/bin/env bash
# Builds the local control plane's components from their pinned wrapper modules (modules/*/go.mod
# and go.sum) into a cache outside the clone, keyed by those pins: a second run on the same machine
# builds nothing. Usage: build.sh [COMPONENT...]   (default: all; prints each bin directory)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v go >/dev/null || die "go is not on PATH: the control plane is built from Go modules (Go 1.26 or newer)"

have_all() {
  local dir="$1" p
  for p in ${PRODUCTS[$2]}; do [[ -x "$dir/$p" ]] || return 1; done
}

# Asks the module proxy for each top-level pin, outside any module (so nothing is rewritten).
# Fails within seconds, naming the module, when one is not served.
preflight() {
  local c="$1" mv out tmp wanted=() m
  for m in ${PREFLIGHT[$c]}; do
    wanted+=("$(pinned "$c" "$m")") || die "preflight for $c: $m is not pinned in tests/cluster/modules/$c/go.mod"
  done
  wanted+=(${PREFLIGHT_DATA[$c]:-})
  tmp="$(mktemp -d)"
  for mv in "${wanted[@]}"; do
    if ! out="$(cd "$tmp" && GOFLAGS= timeout 120 go mod download -json "$mv" 2>&1)" \
       || grep -q '"Error"' <<<"$out"; then
      rm -rf "$tmp"
      die "preflight for $c: the Go module proxy ($(go env GOPROXY)) did not serve $mv (pinned in tests/cluster/modules/$c/go.mod or tests/cluster/lib.sh).
  go said: $(grep -o '"Error": *"[^"]*"' <<<"$out" || tail -3 <<<"$out")
  Pick a served version (grep the module in the environment's Go package list, or try 'go list -m -versions ${mv%@*}'), update the wrapper module with 'go mod tidy', and commit go.mod and go.sum."
    fi
  done
  rm -rf "$tmp"
}

build_one() {
  local c="$1" dir tmp start
  dir="$(bin_dir "$c")"
  if have_all "$dir" "$c"; then
    note "$c: cached in $dir"
    printf '%s\n' "$dir"
    return
  fi
  preflight "$c"
  note "$c: building (${PRODUCTS[$c]}) with $GO_PARALLEL parallel jobs; cache $dir"
  start=$SECONDS
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  (
    cd "$(module_path "$c")"
    if ! go mod download 2>"$tmp/download.log"; then
      cat "$tmp/download.log" >&2
      die "$c: a module of the pinned graph ($(module_path "$c")/go.sum) could not be downloaded; see above"
    fi
    export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly -p=$GO_PARALLEL"
    case "$c" in
      k8s)
        go build -trimpath -tags=selinux,notest -ldflags "$(kube_ldflags)" -o "$tmp/" \
          k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
          k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ;;
      etcd) go build -trimpath -o "$tmp/etcd" go.etcd.io/etcd/server/v3 ;;
      kwok) go build -trimpath -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok ;;
      flux) go build -trimpath -o "$tmp/kustomize-controller" github.com/fluxcd/kustomize-controller ;;
      oracle) go build -trimpath -o "$tmp/oracle" . ;;
    esac
  )
  rm -f "$tmp/download.log"
  have_all "$tmp" "$c" || die "$c: the build finished without ${PRODUCTS[$c]}"
  if [[ "$c" == k8s ]]; then
    "$tmp/kube-apiserver" --version | grep -qx "Kubernetes $KUBE_VERSION" \
      || die "k8s: kube-apiserver --version does not say $KUBE_VERSION (version ldflags)"
  fi
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp" "$dir"
  note "$c: built in $((SECONDS - start)) s"
  printf '%s\n' "$dir"
}

want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=("${COMPONENTS[@]}" "${ORACLE_COMPONENTS[@]}")
for c in "${want[@]}"; do
  [[ -n "${PRODUCTS[$c]:-}" ]] || die "unknown component '$c' (known: ${COMPONENTS[*]} ${ORACLE_COMPONENTS[*]})"
  build_one "$c"
done
