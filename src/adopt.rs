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
    /// `kind/name` of the objects the render takes over (the StatefulSet first; no Secrets), whose
    /// fields are handed to emqx-render's field manager before the apply.
    pub take_over: Vec<String>,
}

/// Whether `o` has an ownerReference to the `EMQX` resource `name`.
fn owned_by(o: &Value, name: &str) -> bool {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| s(r, "/kind") == Some("EMQX") && s(r, "/name") == Some(name))
}

/// `kind/name` of what the render takes over in `ns`: the StatefulSet, then every object the
/// operator made for `name` (labelled or owned), Secrets and the `EMQX` resource left out.
fn taken_over(objects: &[Value], ns: &str, name: &str, sts_name: &str) -> Vec<String> {
    let mut out = vec![format!("statefulset/{sts_name}")];
    for o in objects
        .iter()
        .filter(|o| s(o, "/metadata/namespace").unwrap_or("default") == ns)
        .filter(|o| !matches!(s(o, "/kind"), Some("Secret" | "EMQX") | None))
        .filter(|o| {
            s(o, "/metadata/labels/apps.emqx.io~1instance") == Some(name) || owned_by(o, name)
        })
    {
        let id = format!(
            "{}/{}",
            s(o, "/kind").unwrap_or_default().to_ascii_lowercase(),
            s(o, "/metadata/name").unwrap_or_default()
        );
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The claim templates of a live StatefulSet as they run (immutable), without what the API
/// server writes beside them (`status`, `creationTimestamp`).
pub fn claim_templates(sts: &Value) -> Value {
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
    templates
}

/// The live StatefulSet `ns/name` among `objects`.
pub fn statefulset<'a>(objects: &'a [Value], ns: &str, name: &str) -> Option<&'a Value> {
    objects.iter().find(|o| {
        s(o, "/kind") == Some("StatefulSet")
            && s(o, "/metadata/name") == Some(name)
            && s(o, "/metadata/namespace").unwrap_or(ns) == ns
    })
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
        let templates = claim_templates(sts);
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
            .filter(|o| owned_by(o, name))
            .filter_map(|o| {
                Some(format!(
                    "{}/{}",
                    s(o, "/kind")?.to_ascii_lowercase(),
                    s(o, "/metadata/name")?
                ))
            })
            .collect();
        let take_over = taken_over(objects, ns, name, sts_name);
        adopted.push(Adopted {
            take_over,
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

/// The field manager the runbooks apply with.
pub const FIELD_MANAGER: &str = "emqx-render";

fn merge_fields(into: &mut serde_json::Map<String, Value>, from: &serde_json::Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge_fields(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The live `objects` with every field any manager set handed to emqx-render's Apply manager
/// (status subresource entries kept), for `kubectl replace`: the next server-side apply then
/// removes what the render no longer sets (the operator's readiness gate, Helm's env ConfigMap),
/// instead of leaving it owned by a manager that will never write again. Nothing else changes.
pub fn own(objects: &[Value]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for o in objects {
        let name = format!(
            "{} {}",
            s(o, "/kind").unwrap_or("?"),
            s(o, "/metadata/name").unwrap_or("?")
        );
        if s(o, "/kind") == Some("Secret") {
            return Err(format!(
                "{name}: Secrets are not handed over (their values would pass through this output); leave them out"
            ));
        }
        let Some(entries) = o
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        else {
            return Err(format!(
                "{name} has no managedFields: export it with `kubectl get -o json --show-managed-fields`"
            ));
        };
        let mut fields = serde_json::Map::new();
        let mut kept = Vec::new();
        for e in entries {
            if e.get("subresource").is_some() {
                kept.push(e.clone());
            } else if let Some(f) = e.get("fieldsV1").and_then(Value::as_object) {
                merge_fields(&mut fields, f);
            }
        }
        let mut managed = vec![json!({
            "manager": FIELD_MANAGER,
            "operation": "Apply",
            "apiVersion": s(o, "/apiVersion").unwrap_or("v1"),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        })];
        managed.extend(kept);
        let mut o = o.clone();
        o["metadata"]["managedFields"] = Value::Array(managed);
        // Without the resourceVersion read a moment ago: a controller's status write in between
        // (the StatefulSet controller after the retention patch) would make the replace fail; the
        // fields are the ones just read, and a replace leaves status alone.
        if let Some(m) = o["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        out.push(o);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manager_s_fields_go_to_one_apply_entry_and_status_stays() {
        let live = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "emqx", "resourceVersion": "41", "managedFields": [
                {"manager": "manager", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:readinessGates": {}}}}}},
                {"manager": "kubectl-patch", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}]},
            "spec": {"replicas": 3}});
        let owned = own(std::slice::from_ref(&live)).unwrap();
        let m = owned[0]["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["manager"], FIELD_MANAGER);
        assert_eq!(m[0]["operation"], "Apply");
        assert_eq!(
            m[0]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:readinessGates": {}}}}})
        );
        assert_eq!(m[1]["subresource"], "status");
        assert!(owned[0]["metadata"].get("resourceVersion").is_none());
        assert_eq!(owned[0]["spec"], live["spec"]);
    }

    #[test]
    fn a_secret_is_refused() {
        let e = own(&[json!({"kind": "Secret", "metadata": {"name": "c", "managedFields": [{}]}})])
            .unwrap_err();
        assert!(e.contains("Secrets are not handed over"), "{e}");
    }

    #[test]
    fn an_export_without_managed_fields_is_refused() {
        let e =
            own(&[json!({"kind": "Service", "metadata": {"name": "emqx-headless"}})]).unwrap_err();
        assert!(e.contains("--show-managed-fields"), "{e}");
    }
}
