# Shared by build.sh, up.sh and down.sh: the pinned components, where their builds are cached,
# and small helpers. Sourced, never run.

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULES="$CLUSTER_DIR/modules"

# Kubernetes version of the control plane (README: "A real control plane").
KUBE_VERSION=v1.34.4

# Flux's source CRDs (ExternalArtifact among them) ship in source-controller's module, at the
# version of the source API that kustomize-controller v1.9.4 requires; they are read from the
# module cache, never copied into the repository.
FLUX_SOURCE_CRDS=github.com/fluxcd/source-controller@v1.9.0
FLUX_KUSTOMIZE_CRDS=github.com/fluxcd/kustomize-controller@v1.9.4

# The CRDs of the custom kinds the extras render (Certificate, PodMonitor, ServiceMonitor), at
# the versions tests/crd-validate.py checks, read from the projects' modules like Flux's.
CERT_MANAGER_CRDS=github.com/cert-manager/cert-manager@v1.17.1
PROMETHEUS_CRDS=github.com/prometheus-operator/prometheus-operator@v0.80.1

# component -> the top-level modules of its wrapper module that the preflight asks the proxy for,
# at the versions its go.mod pins (see pinned); the rest of the graph is in its go.sum.
declare -A PREFLIGHT=(
  [k8s]="k8s.io/kubernetes k8s.io/api k8s.io/apiserver"
  [etcd]="go.etcd.io/etcd/server/v3"
  [kwok]="sigs.k8s.io/kwok"
  [flux]="github.com/fluxcd/kustomize-controller github.com/fluxcd/kustomize-controller/api"
  [oracle]="github.com/emqx/emqx-operator"
)
# Module versions the preflight also asks for: data read from modules, not built.
declare -A PREFLIGHT_DATA=(
  [flux]="$FLUX_SOURCE_CRDS"
)
COMPONENTS=(etcd k8s kwok flux)
# Built on demand by tests/oracle/compare.sh (and by .ci/run), not by up.sh.
ORACLE_COMPONENTS=(oracle)

# The operator's pseudo-versions are not in the checksum database the proxy fronts (a lookup
# answers 404); their hashes are pinned by the committed go.sum instead.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/emqx/emqx-operator"
export CGO_ENABLED=0
# 2 cores here: as many Go compile jobs as cores.
GO_PARALLEL="$(nproc)"

CACHE_ROOT="${EMQX_RENDER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/emqx-render}/cluster"

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
note() { printf '[cluster] %s\n' "$*" >&2; }

kube_ldflags() {
  local minor
  minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
  printf '%s' "-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

# The cache key of a component: every file of its wrapper module (go.mod, go.sum and, for the
# oracle, our own Go sources), the Go version and the build command (so a changed flag
# rebuilds), hashed.
cache_key() {
  local c="$1" dir
  dir="$(module_path "$c")"
  { find "$dir" -maxdepth 1 -type f | LC_ALL=C sort | xargs cat; go env GOVERSION; build_recipe "$c"; } \
    | sha256sum | cut -c1-16
}

# module_path COMPONENT: the directory of its wrapper module.
module_path() {
  case "$1" in
    oracle) printf '%s' "$(cd "$CLUSTER_DIR/../oracle/v2beta1" && pwd)" ;;
    *) printf '%s' "$MODULES/$1" ;;
  esac
}

bin_dir() { printf '%s/%s-%s/bin' "$CACHE_ROOT" "$1" "$(cache_key "$1")"; }

# What each component builds (packages and flags), as one line used by both the build and the key.
build_recipe() {
  case "$1" in
    k8s) printf 'go build -trimpath -tags=selinux,notest -ldflags=%s k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl' "$(kube_ldflags)" ;;
    etcd) printf 'go build -trimpath -o etcd go.etcd.io/etcd/server/v3' ;;
    kwok) printf 'go build -trimpath sigs.k8s.io/kwok/cmd/kwok' ;;
    flux) printf 'go build -trimpath github.com/fluxcd/kustomize-controller' ;;
    oracle) printf 'go build -trimpath -o oracle .' ;;
    *) die "unknown component $1" ;;
  esac
}

# Binaries each component must leave in its bin directory.
declare -A PRODUCTS=(
  [k8s]="kube-apiserver kube-controller-manager kube-scheduler kubectl"
  [etcd]="etcd"
  [kwok]="kwok"
  [flux]="kustomize-controller"
  [oracle]="oracle"
)

# module_dir MODULE@VERSION: the module's directory in the module cache (downloading it).
module_dir() {
  local out
  out="$(cd "${TMPDIR:-/tmp}" && GOFLAGS= go mod download -json "$1" 2>&1)" || die "could not download $1: $out"
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Dir"]) if "Dir" in d else sys.exit("no Dir: " + d.get("Error", ""))' <<<"$out" \
    || die "could not download $1"
}

# pinned COMPONENT MODULE: MODULE@VERSION as the component's go.mod pins it (a replace directive's
# version where there is one).
pinned() {
  (cd "$(module_path "$1")" && GOFLAGS= go mod edit -json) | python3 -c '
import json, sys
mod, m = sys.argv[1], json.load(sys.stdin)
for r in m.get("Replace") or []:
    if r["Old"]["Path"] == mod and r["New"].get("Version"):
        print(mod + "@" + r["New"]["Version"]); sys.exit()
for r in m.get("Require") or []:
    if r["Path"] == mod:
        print(mod + "@" + r["Version"]); sys.exit()
sys.exit(mod + " is not in the go.mod of this component")' "$2"
}

# operator_module: the operator module the oracle is built from, as its go.mod pins it (the
# oracle reads the operator's CRD from there).
operator_module() { pinned oracle github.com/emqx/emqx-operator; }
