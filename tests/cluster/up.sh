#!/usr/bin/env bash
# Starts a local Kubernetes control plane on loopback with its state in DIR: etcd, kube-apiserver
# (RBAC, default admission incl. PodSecurity and ServiceAccount, real certificates),
# kube-controller-manager, kube-scheduler, KWOK with fake nodes, Flux's kustomize-controller and a
# static file server for Flux artifacts. Builds what is missing first (build.sh). Returns once the
# API answers and every fake node is Ready. Writes DIR/kubeconfig and DIR/cluster.env; every
# process it starts is listed in DIR/pids, which down.sh stops.
# Usage: up.sh DIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $# -eq 1 ]] || die "usage: tests/cluster/up.sh DIR"
mkdir -p "$1"
D="$(cd "$1" && pwd)"
NODES="${EMQX_RENDER_CLUSTER_NODES:-6}"

if [[ -s "$D/pids" ]]; then
  while read -r _ pid _; do
    if kill -0 "$pid" 2>/dev/null; then
      die "a control plane started from $D still runs (pid $pid): run tests/cluster/down.sh $D first"
    fi
  done <"$D/pids"
fi
rm -rf "$D/etcd" "$D/logs" "$D/pki" "$D/artifacts" "$D/pids" "$D/kubeconfig" "$D/cluster.env"
mkdir -p "$D/logs" "$D/pki" "$D/artifacts"
: >"$D/pids"

for tool in openssl curl python3; do
  command -v "$tool" >/dev/null || die "$tool is needed to start the control plane"
done

for c in "${COMPONENTS[@]}"; do
  "$CLUSTER_DIR/build.sh" "$c" >/dev/null
done
K8S="$(bin_dir k8s)"
ETCD="$(bin_dir etcd)/etcd"
KWOK="$(bin_dir kwok)/kwok"
FLUX="$(bin_dir flux)/kustomize-controller"
KUBECTL="$K8S/kubectl"

started_ok=0
on_exit() {
  if [[ $started_ok -ne 1 ]]; then
    note "start-up failed; stopping what was started (logs in $D/logs)"
    "$CLUSTER_DIR/down.sh" "$D" || true
  fi
}
trap on_exit EXIT

# A free port below the kernel's ephemeral range (where the kernel picks the source ports of
# outgoing connections: a port taken from it can be handed to a client connection before the
# server that was meant to listen on it starts), none given twice in one start-up.
PORTS_GIVEN=""
# free_port VAR: sets VAR to such a port.
free_port() {
  local port
  port="$(python3 - "$PORTS_GIVEN" <<'PY'
import random, socket, sys
low = 32768
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    pass
given = set(sys.argv[1].split())
for _ in range(1000):
    p = random.randrange(max(1024, low - 12000), low)
    if str(p) in given:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    sys.exit("no free port below the ephemeral range")
PY
)" || return 1
  PORTS_GIVEN="$PORTS_GIVEN $port"
  printf -v "$1" '%s' "$port"
}

# start NAME BINARY ARGS...: runs BINARY in the background, output to logs/NAME.log, and records
# "NAME PID BINARY" in DIR/pids (down.sh checks the binary before it signals the pid).
start() {
  local name="$1" bin="$2"
  shift 2
  "$bin" "$@" >"$D/logs/$name.log" 2>&1 </dev/null &
  printf '%s %s %s\n' "$name" "$!" "$bin" >>"$D/pids"
}

# wait_for WHAT SECONDS COMMAND...: retries COMMAND until it succeeds.
wait_for() {
  local what="$1" limit="$2" t=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    t=$((t + 1))
    if [[ $t -ge $((limit * 2)) ]]; then
      note "$what did not come up within $limit s; last lines of its log:"
      tail -n 20 "$D/logs/$what.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
}

free_port ETCD_PORT
free_port ETCD_PEER_PORT
free_port API_PORT
free_port KCM_PORT
free_port SCHED_PORT
free_port KWOK_PORT
free_port FLUX_METRICS_PORT
free_port FLUX_HEALTH_PORT
free_port ARTIFACT_PORT

# PKI: a CA, the API server's serving certificate, the service-account signing key, a token.
P="$D/pki"
(
  cd "$P"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=emqx-render-test-ca \
    -keyout ca.key -out ca.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 \
    -extfile san.ext -out apiserver.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  TOKEN="$(openssl rand -hex 24)"
  printf '%s,emqx-render-admin,emqx-render-admin,"system:masters"\n' "$TOKEN" >tokens.csv
  printf '%s' "$TOKEN" >admin.token
  chmod 600 ./*.key tokens.csv admin.token
)
cat >"$D/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: emqx-render-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $P/ca.crt
users:
- name: emqx-render-admin
  user:
    tokenFile: $P/admin.token
contexts:
- name: emqx-render-test
  context:
    cluster: emqx-render-test
    user: emqx-render-admin
current-context: emqx-render-test
EOF
chmod 600 "$D/kubeconfig"
K="$D/kubeconfig"

note "etcd on 127.0.0.1:$ETCD_PORT"
start etcd "$ETCD" --name=emqx-render-test --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="emqx-render-test=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --log-level=warn
wait_for etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

note "kube-apiserver $KUBE_VERSION on https://127.0.0.1:$API_PORT"
start kube-apiserver "$K8S/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --token-auth-file="$P/tokens.csv" --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.key" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
  --enable-admission-plugins=NodeRestriction --profiling=false
wait_for kube-apiserver 120 curl -fsS --cacert "$P/ca.crt" "https://127.0.0.1:$API_PORT/readyz"

note "kube-controller-manager, kube-scheduler, kwok"
start kube-controller-manager "$K8S/kube-controller-manager" --kubeconfig="$K" \
  --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --use-service-account-credentials=false --profiling=false
start kube-scheduler "$K8S/kube-scheduler" --kubeconfig="$K" \
  --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --profiling=false
start kwok "$KWOK" --kubeconfig="$K" --manage-all-nodes=true --cidr=10.244.0.0/16 \
  --node-ip=10.0.0.1 --server-address="127.0.0.1:$KWOK_PORT" --node-lease-duration-seconds=40
wait_for kube-controller-manager 60 curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz"
wait_for kube-scheduler 60 curl -fsSk "https://127.0.0.1:$SCHED_PORT/healthz"

# Fake nodes in three zones; kwok keeps them Ready and runs their pods. kwok renews a Lease per
# node: without leases the nodes miss the controller manager's heartbeat grace now and then, it
# marks their pods not ready, and kwok never marks them ready again (a rollout then stalls).
for i in $(seq 0 $((NODES - 1))); do
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone-$((i % 3))
    type: kwok
spec: {}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
EOF
done | "$KUBECTL" --kubeconfig="$K" apply -f - >/dev/null
nodes_ready() {
  [[ "$("$KUBECTL" --kubeconfig="$K" get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -eq "$NODES" ]]
}
wait_for kwok 120 nodes_ready
node_leases() {
  [[ "$("$KUBECTL" --kubeconfig="$K" -n kube-node-lease get leases -o name | grep -c kwok-node-)" -eq "$NODES" ]]
}
wait_for kwok 60 node_leases
# The default ServiceAccount, which pods need, is made by the controller manager.
wait_for kube-controller-manager 60 "$KUBECTL" --kubeconfig="$K" -n default get serviceaccount default

# cert-manager's CRD files are Helm templates whose only template parts are labels and
# annotations (and START/END comments): those blocks are left out.
helm_free_crd() {
  python3 - "$1" <<'PY'
import sys
skip = None
for line in open(sys.argv[1]):
    body = line.lstrip()
    indent = len(line) - len(body)
    if skip is not None:
        if body.strip() == "" or indent > skip or body.startswith("#"):
            continue
        skip = None
    if "{{" in line and body.startswith("#"):
        continue
    if indent == 2 and body.rstrip() in ("labels:", "annotations:"):
        skip = indent
        continue
    sys.stdout.write(line)
PY
}
for crd in certificates issuers clusterissuers certificaterequests; do
  helm_free_crd "$(module_dir "$CERT_MANAGER_CRDS")/deploy/crds/crd-$crd.yaml" \
    | "$KUBECTL" --kubeconfig="$K" apply --server-side -f - >/dev/null
done
for crd in podmonitors servicemonitors; do
  "$KUBECTL" --kubeconfig="$K" apply --server-side \
    -f "$(module_dir "$PROMETHEUS_CRDS")/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" >/dev/null
done

note "Flux kustomize-controller and the artifact server on 127.0.0.1:$ARTIFACT_PORT"
# The interpreter itself, not a wrapper script (pyenv's shim), so down.sh recognises the process.
PYTHON="$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')"
start artifacts "$PYTHON" -m http.server "$ARTIFACT_PORT" --bind 127.0.0.1 --directory "$D/artifacts"
for crd in "$(module_dir "$FLUX_SOURCE_CRDS")"/config/crd/bases/*.yaml \
           "$(module_dir "$FLUX_KUSTOMIZE_CRDS")"/config/crd/bases/*.yaml; do
  "$KUBECTL" --kubeconfig="$K" apply --server-side -f "$crd" >/dev/null
done
"$KUBECTL" --kubeconfig="$K" create namespace flux-system >/dev/null
"$KUBECTL" --kubeconfig="$K" wait --for=condition=Established --timeout=60s \
  crd/kustomizations.kustomize.toolkit.fluxcd.io crd/externalartifacts.source.toolkit.fluxcd.io >/dev/null
RUNTIME_NAMESPACE=flux-system KUBECONFIG="$K" start kustomize-controller "$FLUX" \
  --feature-gates=ExternalArtifact=true --watch-all-namespaces=true \
  --metrics-addr="127.0.0.1:$FLUX_METRICS_PORT" --health-addr="127.0.0.1:$FLUX_HEALTH_PORT" \
  --requeue-dependency=2s --concurrent=4 --log-level=info
wait_for kustomize-controller 60 curl -fsS "http://127.0.0.1:$FLUX_HEALTH_PORT/readyz"
wait_for artifacts 30 curl -fsS "http://127.0.0.1:$ARTIFACT_PORT/"

cat >"$D/cluster.env" <<EOF
KUBECONFIG=$K
KUBECTL=$KUBECTL
KUBE_VERSION=$KUBE_VERSION
ARTIFACT_DIR=$D/artifacts
ARTIFACT_URL=http://127.0.0.1:$ARTIFACT_PORT
EOF
started_ok=1
note "ready: export KUBECONFIG=$K   (kubectl: $KUBECTL; stop with tests/cluster/down.sh $D)"
