//! Model → Kubernetes objects, built as typed k8s-openapi structs. Infallible: everything that
//! can be wrong was reported before the model was made. One file per object family.

pub mod adopt;
mod config;
pub mod mounted;
mod network;
mod pod;
mod services;
mod workloads;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::input::settings::NetworkPolicyRules;
use crate::manifest::Object;
use crate::model::{Cluster, RoleKind};

/// Label keys the operator uses (`apis/apps/v2beta1/const.go`).
pub const LABEL_INSTANCE: &str = "apps.emqx.io/instance";
pub const LABEL_MANAGED_BY: &str = "apps.emqx.io/managed-by";
pub const LABEL_DB_ROLE: &str = "apps.emqx.io/db-role";
/// Kept as the operator's value, so monitors written for operator-managed clusters
/// (the operator docs' PodMonitor selects on it) keep working.
pub const MANAGED_BY: &str = "emqx-operator";
/// Pod-template annotation whose change rolls the pods when the config changes.
pub const CHECKSUM_ANNOTATION: &str = "emqx-render/config-checksum";
/// On the workloads when Settings state the EMQX version (`emqx.version`): what `plan` reads
/// where the image's tag is not a version.
pub const VERSION_ANNOTATION: &str = "emqx-render/emqx-version";

/// All objects of one cluster, in the order the operator reconciles them.
pub fn build(c: &Cluster, network_policy: Option<&NetworkPolicyRules>) -> Vec<Object> {
    let checksum = config_checksum(c);
    let mut out = Vec::new();
    out.extend(config::secrets(c));
    out.push(config::config_map(c));
    out.push(services::headless(c));
    out.extend(services::dashboard(c));
    out.extend(services::listeners(c));
    if let Some(rules) = network_policy {
        out.push(network::policy(c, rules));
    }
    out.push(workloads::stateful_set(c, &checksum));
    out.extend(workloads::deployment(c, &checksum));
    out.extend(workloads::autoscaler(c));
    out.extend(workloads::pdbs(c));
    out
}

/// A ServiceAccount for the pods, with no API token mounted by default (EMQX needs none).
pub fn service_account(c: &Cluster, name: &str) -> Object {
    let sa = k8s_openapi::api::core::v1::ServiceAccount {
        metadata: meta(c, name.to_string(), default_labels(c)),
        automount_service_account_token: Some(false),
        ..Default::default()
    };
    object(&sa, &c.namespace, name)
}

/// Argo CD applies lower waves first and waits for them to be healthy before the next.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

/// The wave of each object of one cluster: shared objects (config, Secrets, Services, PDBs)
/// in 0, the core StatefulSet in 1, the replicant Deployment in 2. Argo CD's StatefulSet health
/// waits for every core pod to be updated and ready (the core update strategy is RollingUpdate),
/// so the replicants roll only after the cores.
pub fn sync_wave(kind: &str) -> &'static str {
    match kind {
        "StatefulSet" => "1",
        "Deployment" | "HorizontalPodAutoscaler" => "2",
        _ => "0",
    }
}

/// Adds the sync-wave annotation to the objects of one cluster.
pub fn add_sync_waves(objects: &mut [Object]) {
    for o in objects {
        let wave = sync_wave(&o.kind);
        if let Some(meta) = o.value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let Some(a) = ann.as_object_mut() {
                a.insert(SYNC_WAVE.to_string(), wave.into());
            }
        }
    }
}

/// `apps.emqx.io/instance` and `managed-by`: the operator's default labels.
pub fn default_labels(c: &Cluster) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_INSTANCE.to_string(), c.name.clone()),
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
    ])
}

/// Default labels plus the role: also the selector of that role's pods (never anything that changes).
pub fn role_labels(c: &Cluster, role: RoleKind) -> BTreeMap<String, String> {
    let mut l = default_labels(c);
    l.insert(LABEL_DB_ROLE.to_string(), role.as_str().to_string());
    l
}

/// `extra` merged under `base`: on a clash the base (operator) label wins.
pub fn merged(
    base: BTreeMap<String, String>,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = extra.clone();
    out.extend(base);
    out
}

pub fn meta(c: &Cluster, name: String, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(c.namespace.clone()),
        labels: Some(labels),
        ..Default::default()
    }
}

pub fn non_empty<K, V>(m: BTreeMap<K, V>) -> Option<BTreeMap<K, V>> {
    (!m.is_empty()).then_some(m)
}

pub fn non_empty_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// Turns a typed object into a manifest entry.
pub fn object<T: Serialize + k8s_openapi::Resource>(o: &T, namespace: &str, name: &str) -> Object {
    Object {
        api_version: T::API_VERSION.to_string(),
        kind: T::KIND.to_string(),
        namespace: Some(namespace.to_string()),
        name: name.to_string(),
        value: serde_json::to_value(o).unwrap_or(serde_json::Value::Null),
        text: None,
    }
}

/// A hash of everything that needs a restart to take effect: the config file, the Secret data
/// we render, and the names of Secrets the pods read at start.
fn config_checksum(c: &Cluster) -> String {
    let mut h = Sha256::new();
    h.update(b"emqx.conf\0");
    h.update(c.files.emqx_conf.as_bytes());
    if let Some(b) = &c.files.base_hocon {
        h.update(b"\0base.hocon\0");
        h.update(b.as_bytes());
    }
    for (k, s) in &c.api_keys.literal {
        h.update(b"\0key\0");
        h.update(k.as_bytes());
        h.update(b"\0");
        h.update(s.as_bytes());
    }
    for r in &c.api_keys.refs {
        if let Some(role) = &r.role {
            h.update(b"\0role\0");
            h.update(role.as_bytes());
        }
        for sel in [&r.key, &r.secret] {
            h.update(b"\0ref\0");
            h.update(sel.secret_name.as_bytes());
            h.update(b"/");
            h.update(sel.secret_key.as_bytes());
        }
    }
    hex_digest(&h.finalize())
}

/// `sha256:` and the digest in lower-case hex.
fn hex_digest(digest: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A custom resource (no k8s-openapi type): its typed spec under the given kind.
pub fn custom<S: Serialize>(
    api_version: &str,
    kind: &str,
    metadata: ObjectMeta,
    spec: &S,
) -> Object {
    let namespace = metadata.namespace.clone();
    let name = metadata.name.clone().unwrap_or_default();
    let value = serde_json::json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": metadata,
        "spec": spec,
    });
    Object {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace,
        name,
        value,
        text: None,
    }
}
