//! ConfigMaps and Secrets passed through in the same input that the pods mount or read at start:
//! their content joins the pod template's config checksum, so changing one rolls the pods that
//! read it (and only those).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::input::Passthrough;
use crate::manifest::Object;

/// (kind, namespace, name) of a ConfigMap or Secret.
type Key = (String, String, String);

/// The content digests of the input's ConfigMaps and Secrets, by (kind, namespace, name).
#[derive(Debug, Clone, Default)]
pub struct Mounted {
    digests: BTreeMap<Key, [u8; 32]>,
}

impl Mounted {
    /// The core/v1 ConfigMaps and Secrets among `passed`; one without a namespace is in
    /// `default_namespace` (where the clusters without one go too).
    pub fn new<'a>(
        passed: impl IntoIterator<Item = &'a Passthrough>,
        default_namespace: &str,
    ) -> Self {
        let mut digests = BTreeMap::new();
        for p in passed {
            if p.api_version != "v1" || !matches!(p.kind.as_str(), "ConfigMap" | "Secret") {
                continue;
            }
            let ns = p
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| default_namespace.to_string());
            digests.insert((p.kind.clone(), ns, p.name.clone()), content(&p.object));
        }
        Mounted { digests }
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

/// A digest of what a pod sees of a ConfigMap or Secret: its data, key by key in sorted order
/// (the input's key order does not matter).
fn content(object: &serde_json::Value) -> [u8; 32] {
    let mut h = Sha256::new();
    for field in ["data", "binaryData", "stringData"] {
        let Some(map) = object.get(field).and_then(|m| m.as_object()) else {
            continue;
        };
        let sorted: BTreeMap<&String, &serde_json::Value> = map.iter().collect();
        for (k, v) in sorted {
            h.update(field.as_bytes());
            h.update(b"\0");
            h.update(k.as_bytes());
            h.update(b"\0");
            h.update(v.to_string().as_bytes());
            h.update(b"\0");
        }
    }
    h.finalize().into()
}

/// Folds the digests of the ConfigMaps and Secrets each workload's pods read (volumes, projected
/// volumes, `envFrom`, `env[].valueFrom`) into its `emqx-render/config-checksum`. A workload that
/// reads none of them keeps its checksum unchanged.
pub fn fold(objects: &mut [Object], mounted: &Mounted) {
    if mounted.is_empty() {
        return;
    }
    for o in objects {
        if !matches!(o.kind.as_str(), "StatefulSet" | "Deployment") {
            continue;
        }
        let ns = o.namespace.clone().unwrap_or_default();
        let Some(template) = o.value.pointer_mut("/spec/template") else {
            continue;
        };
        let mut read = BTreeSet::new();
        if let Some(spec) = template.get("spec") {
            references(spec, &mut read);
        }
        let found: Vec<(&Key, &[u8; 32])> = read
            .into_iter()
            .filter_map(|(kind, name)| mounted.digests.get_key_value(&(kind, ns.clone(), name)))
            .collect();
        let Some(annotations) = template
            .pointer_mut("/metadata/annotations")
            .and_then(|a| a.as_object_mut())
        else {
            continue;
        };
        let Some(before) = annotations
            .get(super::CHECKSUM_ANNOTATION)
            .and_then(|c| c.as_str())
        else {
            continue;
        };
        if found.is_empty() {
            continue;
        }
        let mut h = Sha256::new();
        h.update(before.as_bytes());
        for ((kind, _, name), digest) in found {
            h.update(b"\0");
            h.update(kind.as_bytes());
            h.update(b"/");
            h.update(name.as_bytes());
            h.update(b"\0");
            h.update(digest);
        }
        let after = super::hex_digest(&h.finalize());
        annotations.insert(
            super::CHECKSUM_ANNOTATION.to_string(),
            serde_json::Value::String(after),
        );
    }
}

/// The (kind, name) of every ConfigMap and Secret a pod spec reads.
fn references(spec: &serde_json::Value, out: &mut BTreeSet<(String, String)>) {
    let mut add = |kind: &str, name: Option<&serde_json::Value>| {
        if let Some(n) = name.and_then(|n| n.as_str()) {
            out.insert((kind.to_string(), n.to_string()));
        }
    };
    for v in list(spec, "volumes") {
        add("ConfigMap", v.pointer("/configMap/name"));
        add("Secret", v.pointer("/secret/secretName"));
        for s in list(
            v.get("projected").unwrap_or(&serde_json::Value::Null),
            "sources",
        ) {
            add("ConfigMap", s.pointer("/configMap/name"));
            add("Secret", s.pointer("/secret/name"));
        }
    }
    for c in list(spec, "initContainers").chain(list(spec, "containers")) {
        for e in list(c, "envFrom") {
            add("ConfigMap", e.pointer("/configMapRef/name"));
            add("Secret", e.pointer("/secretRef/name"));
        }
        for e in list(c, "env") {
            add("ConfigMap", e.pointer("/valueFrom/configMapKeyRef/name"));
            add("Secret", e.pointer("/valueFrom/secretKeyRef/name"));
        }
    }
}

fn list<'a>(v: &'a serde_json::Value, key: &str) -> impl Iterator<Item = &'a serde_json::Value> {
    v.get(key).and_then(|l| l.as_array()).into_iter().flatten()
}
