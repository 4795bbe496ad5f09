//! `emqx-render adopt`: from a running cluster's live objects, the Settings `adopt` entry that
//! makes the render take over its core StatefulSet in place (same name, selector, headless
//! Service and claim templates, so the same claims and Erlang node names). Pure: values in, a
//! Settings document and notes out.

use serde_json::{Value, json};

/// The objects of a YAML stream, with every `kind: List` flattened.
pub fn objects(docs: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for d in docs {
        match (d.get("kind").and_then(Value::as_str), d.get("items")) {
            (Some("List"), Some(Value::Array(items))) => out.extend(items.iter().cloned()),
            _ => out.push(d),
        }
    }
    out
}

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// The (namespace, name) of every `EMQX` resource among `objects`.
pub fn clusters(objects: &[Value]) -> Vec<(String, String)> {
    objects
        .iter()
        .filter(|o| {
            s(o, "/kind") == Some("EMQX")
                && s(o, "/apiVersion").is_some_and(|a| a.starts_with("apps.emqx.io/"))
        })
        .filter_map(|o| {
            Some((
                s(o, "/metadata/namespace").unwrap_or("default").to_string(),
                s(o, "/metadata/name")?.to_string(),
            ))
        })
        .collect()
}

/// What `adopt` found: the Settings document to commit beside the spec, and what to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    pub settings: Value,
    pub notes: Vec<String>,
    pub clusters: Vec<Adopted>,
}

/// One cluster taken over, for the runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Adopted {
    pub namespace: String,
    pub name: String,
    pub statefulset: String,
    /// `kind/name` of the objects the `EMQX` resource owns.
    pub owned: Vec<String>,
    /// The StatefulSet deletes its claims with it.
    pub delete_claims: bool,
}

/// The `adopt` entries for `clusters`, from the live `objects`.
pub fn adopt(objects: &[Value], clusters: &[(String, String)]) -> Result<Adoption, String> {
    if clusters.is_empty() {
        return Err("no EMQX resource: give LIVE with the `EMQX` resource (`kubectl get emqx,sts -o yaml`) or the spec to move to as SPEC".into());
    }
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let mut adopted = Vec::new();
    for (ns, name) in clusters {
        let cores: Vec<&Value> = objects
            .iter()
            .filter(|o| s(o, "/kind") == Some("StatefulSet"))
            .filter(|o| s(o, "/metadata/namespace").unwrap_or("default") == ns)
            .filter(|o| {
                let l = |k: &str| {
                    s(
                        o,
                        &format!("/spec/template/metadata/labels/{}", k.replace('/', "~1")),
                    )
                };
                l("apps.emqx.io/instance") == Some(name.as_str())
                    && l("apps.emqx.io/db-role") == Some("core")
            })
            .collect();
        let sts = match cores.as_slice() {
            [one] => *one,
            [] => {
                return Err(format!(
                    "{ns}/{name}: no core StatefulSet among the live objects (pods labelled apps.emqx.io/instance={name}, apps.emqx.io/db-role=core): give `kubectl -n {ns} get emqx,statefulset -o yaml`"
                ));
            }
            many => {
                let names: Vec<&str> = many.iter().filter_map(|o| s(o, "/metadata/name")).collect();
                return Err(format!(
                    "{ns}/{name}: {} core StatefulSets ({}): finish the operator's rollout first, so that one holds the cluster",
                    names.len(),
                    names.join(", ")
                ));
            }
        };
        let sts_name = s(sts, "/metadata/name").unwrap_or_default();
        let mut templates = sts
            .pointer("/spec/volumeClaimTemplates")
            .cloned()
            .unwrap_or(json!([]));
        for t in templates.as_array_mut().into_iter().flatten() {
            if let Some(m) = t.as_object_mut() {
                m.remove("status");
            }
            if let Some(meta) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("creationTimestamp");
            }
        }
        if let Some(owners) = sts
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
        {
            let by: Vec<String> = owners
                .iter()
                .map(|o| {
                    format!(
                        "{} {}",
                        s(o, "/kind").unwrap_or("?"),
                        s(o, "/name").unwrap_or("?")
                    )
                })
                .collect();
            notes.push(format!(
                "StatefulSet {ns}/{sts_name} is owned by {}: deleting that object cascades to it unless its ownerReferences are removed first (or it is deleted with --cascade=orphan)",
                by.join(", ")
            ));
        }
        if s(
            sts,
            "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted",
        ) == Some("Delete")
        {
            notes.push(format!(
                "StatefulSet {ns}/{sts_name} deletes its claims with it (persistentVolumeClaimRetentionPolicy.whenDeleted: Delete); the adopted render sets Retain, apply it before anything deletes the StatefulSet"
            ));
        }
        let claims = templates.as_array().map_or(0, Vec::len);
        notes.push(format!(
            "{ns}/{name}: the render takes over StatefulSet {sts_name} in place ({claims} claim template{}, its pods keep their names and so their Erlang node names)",
            if claims == 1 { "" } else { "s" }
        ));
        let owned: Vec<String> = objects
            .iter()
            .filter(|o| s(o, "/metadata/namespace").unwrap_or("default") == ns)
            .filter(|o| {
                o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|r| s(r, "/kind") == Some("EMQX") && s(r, "/name") == Some(name.as_str()))
            })
            .filter_map(|o| {
                Some(format!(
                    "{}/{}",
                    s(o, "/kind")?.to_ascii_lowercase(),
                    s(o, "/metadata/name")?
                ))
            })
            .collect();
        adopted.push(Adopted {
            namespace: ns.clone(),
            name: name.clone(),
            statefulset: sts_name.to_string(),
            owned,
            delete_claims: s(
                sts,
                "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted",
            ) == Some("Delete"),
        });
        entries.push(json!({
            "cluster": name,
            "namespace": ns,
            "coreStatefulSet": {
                "name": sts_name,
                "selector": sts.pointer("/spec/selector/matchLabels").cloned().unwrap_or(json!({})),
                "serviceName": s(sts, "/spec/serviceName"),
                "volumeClaimTemplates": templates,
            },
        }));
    }
    Ok(Adoption {
        settings: json!({
            "apiVersion": crate::input::SETTINGS_API_VERSION,
            "kind": "Settings",
            "adopt": entries,
        }),
        notes,
        clusters: adopted,
    })
}
