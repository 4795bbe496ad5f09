//! Settings `patches` on the rendered objects, as kustomize applies them: strategic-merge
//! patches (list merge keys for the Kubernetes kinds, `$patch: delete|replace`, `null` removes)
//! and JSON 6902 operations, each aimed by kind, name, namespace, group and version. A patched
//! object is read back as its Kubernetes type, so a misspelt field is an error, not a no-op.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::diag::{Diagnostic, did_you_mean};
use crate::input::settings::PatchDoc;
use crate::manifest::Object;

/// Which objects a patch applies to; every field given must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

/// The patch itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A strategic-merge patch.
    Strategic(Value),
    /// JSON 6902 operations.
    Json(Vec<Op>),
}

/// One JSON 6902 operation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    pub op: String,
    pub path: String,
    pub from: Option<String>,
    pub value: Option<Value>,
}

/// One entry of Settings `patches`, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// Its index in `patches` (for messages: `patches[2].patch`).
    pub index: usize,
    pub target: Target,
    pub body: Body,
}

fn bad(index: usize, field: &str, message: String, help: &str) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::error(
            "patch-invalid",
            format!("patches[{index}].{field}"),
            message,
        )
        .help(help),
    )
}

impl Patch {
    /// Reads `patches[index]`: the body (YAML, or a string of YAML) and the target.
    pub fn read(index: usize, doc: &PatchDoc) -> Result<Patch, Box<Diagnostic>> {
        let body = match &doc.patch {
            None => {
                return Err(bad(
                    index,
                    "patch",
                    "gives no patch".into(),
                    "write `patch:` with a strategic-merge mapping or a list of JSON 6902 operations",
                ));
            }
            Some(Value::String(text)) => {
                let docs = crate::yaml::load(text).map_err(|e| {
                    bad(
                        index,
                        "patch",
                        format!("is not YAML: {}", e.message),
                        "write the patch as YAML (or as a YAML mapping or list instead of a string)",
                    )
                })?;
                match docs.as_slice() {
                    [one] => one.to_json(),
                    _ => {
                        return Err(bad(
                            index,
                            "patch",
                            "holds more than one YAML document".into(),
                            "give each patch its own entry of `patches`",
                        ));
                    }
                }
            }
            Some(v) => v.clone(),
        };
        let body = match body {
            Value::Array(ops) => {
                let mut out = Vec::new();
                for (i, op) in ops.into_iter().enumerate() {
                    let op: Op = serde_json::from_value(op).map_err(|e| {
                        bad(
                            index,
                            &format!("patch[{i}]"),
                            format!("is not a JSON 6902 operation: {e}"),
                            "write `{op: add|remove|replace|move|copy|test, path: /spec/..., value: ...}`",
                        )
                    })?;
                    if !matches!(
                        op.op.as_str(),
                        "add" | "remove" | "replace" | "move" | "copy" | "test"
                    ) {
                        return Err(bad(
                            index,
                            &format!("patch[{i}].op"),
                            format!("`{}` is not a JSON 6902 operation", op.op),
                            "use add, remove, replace, move, copy or test",
                        ));
                    }
                    out.push(op);
                }
                Body::Json(out)
            }
            Value::Object(m) => Body::Strategic(Value::Object(m)),
            _ => {
                return Err(bad(
                    index,
                    "patch",
                    "is neither a mapping (strategic merge) nor a list (JSON 6902)".into(),
                    "write a mapping such as `spec: {template: {spec: {priorityClassName: high}}}`",
                ));
            }
        };
        let t = doc.target.clone().unwrap_or_default();
        let mut target = Target {
            group: t.group,
            version: t.version,
            kind: t.kind,
            name: t.name,
            namespace: t.namespace,
        };
        // A strategic-merge patch without a target names its object itself.
        if let (None, Body::Strategic(p)) = (&doc.target, &body) {
            let s = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).map(str::to_string);
            target.kind = s("/kind");
            target.name = s("/metadata/name");
            target.namespace = s("/metadata/namespace");
            if let Some((g, v)) = s("/apiVersion").map(|a| split_api(&a)) {
                target.group = Some(g);
                target.version = Some(v);
            }
        }
        if target.kind.is_none() && target.name.is_none() {
            return Err(bad(
                index,
                "target",
                "names no object: it would patch every object".into(),
                "give `target: {kind: StatefulSet, name: <cluster>-core}` (kind, name, or both)",
            ));
        }
        Ok(Patch {
            index,
            target,
            body,
        })
    }

    fn matches(&self, o: &Object) -> bool {
        let (group, version) = split_api(&o.api_version);
        let t = &self.target;
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        is(&t.group, &group)
            && is(&t.version, &version)
            && is(&t.kind, &o.kind)
            && is(&t.name, &o.name)
            && is(&t.namespace, o.namespace.as_deref().unwrap_or_default())
    }
}

fn split_api(api: &str) -> (String, String) {
    match api.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api.to_string()),
    }
}

/// Applies every patch to the objects it targets, in order. Returns the indexes of the patches
/// that matched an object, and the problems (located by the patch's path in Settings).
pub fn apply(patches: &[Patch], objects: &mut [Object]) -> (Vec<usize>, Vec<Diagnostic>) {
    let mut hit = Vec::new();
    let mut problems = Vec::new();
    for p in patches {
        for o in objects.iter_mut().filter(|o| p.matches(o)) {
            hit.push(p.index);
            let what = format!("{} {}", o.kind, o.name);
            let mut value = o.value.clone();
            let done = match &p.body {
                Body::Strategic(patch) => {
                    let mut patch = patch.clone();
                    // The patch's own identity fields only select; they are not merged in.
                    strip_identity(&mut patch);
                    merge(&mut value, &patch, "", is_builtin(&o.api_version))
                        .map_err(|e| (format!("patches[{}].patch", p.index), e))
                }
                Body::Json(ops) => ops.iter().enumerate().try_for_each(|(i, op)| {
                    json_op(&mut value, op)
                        .map_err(|e| (format!("patches[{}].patch[{i}]", p.index), e))
                }),
            };
            let base = format!("patches[{}].patch", p.index);
            let checked = done.and_then(|()| {
                same_identity(o, &value).map_err(|e| (base.clone(), e))?;
                typed_check(&o.kind, &o.api_version, &value).map_err(|(e, field)| {
                    // A strategic-merge patch holds the field itself: point at it.
                    match (field, &p.body) {
                        (Some(f), Body::Strategic(_)) => (format!("{base}.{f}"), e),
                        _ => (base.clone(), e),
                    }
                })
            });
            match checked {
                Ok(()) => o.value = value,
                Err((path, e)) => {
                    let help = if e.contains("does not exist") {
                        "replace, remove, move, copy and test need a path that exists in the rendered object (`emqx-render render` shows it); `add` creates a field"
                    } else {
                        "fix the patch: it must leave a valid object of the same kind, name and namespace"
                    };
                    problems.push(
                        Diagnostic::error("patch-invalid", path, format!("on {what}: {e}"))
                            .help(help),
                    )
                }
            }
        }
    }
    (hit, problems)
}

fn strip_identity(patch: &mut Value) {
    if let Some(m) = patch.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("name");
            meta.remove("namespace");
            if meta.is_empty() {
                m.remove("metadata");
            }
        }
    }
}

fn same_identity(o: &Object, v: &Value) -> Result<(), String> {
    let s = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).map(str::to_string);
    if s("/apiVersion").as_deref() != Some(o.api_version.as_str())
        || s("/kind").as_deref() != Some(o.kind.as_str())
        || s("/metadata/name").as_deref() != Some(o.name.as_str())
        || s("/metadata/namespace") != o.namespace
    {
        return Err("changes the object's apiVersion, kind, name or namespace (other objects refer to them)".into());
    }
    Ok(())
}

/// Kubernetes' own API groups: strategic merge uses their list merge keys; other kinds
/// (custom resources) are merged as a JSON merge patch, lists replaced.
fn is_builtin(api_version: &str) -> bool {
    let (group, _) = split_api(api_version);
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

/// The merge key of a list field of the built-in kinds (`patchMergeKey`), or `None` for a list
/// that a patch replaces whole.
fn merge_key(field: &str, element: &Map<String, Value>) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ports" if element.contains_key("containerPort") => "containerPort",
        "ports" => "port",
        _ => return None,
    })
}

/// Strategic merge of `patch` into `target`; `field` names the list being merged (for its key).
fn merge(target: &mut Value, patch: &Value, field: &str, builtin: bool) -> Result<(), String> {
    let Value::Object(pm) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut m = pm.clone();
        m.remove("$patch");
        *target = Value::Object(m);
        return Ok(());
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(tm) = target else {
        return Ok(());
    };
    for (k, v) in pm {
        if k.starts_with('$') {
            return Err(format!(
                "`{k}` (in {field}) is not a directive emqx-render applies: use `$patch: delete` or `$patch: replace`, or a JSON 6902 patch"
            ));
        }
        match v {
            Value::Null => {
                tm.remove(k);
            }
            Value::Object(_) => merge(tm.entry(k.clone()).or_insert(Value::Null), v, k, builtin)?,
            Value::Array(items) => {
                let slot = tm.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                merge_list(slot, items, k, builtin)?;
            }
            _ => {
                tm.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

fn merge_list(
    target: &mut Value,
    items: &[Value],
    field: &str,
    builtin: bool,
) -> Result<(), String> {
    let replace_all = items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"));
    let key = items
        .iter()
        .find_map(Value::as_object)
        .and_then(|first| builtin.then(|| merge_key(field, first)).flatten());
    let (Some(key), false, Value::Array(current)) = (key, replace_all, &mut *target) else {
        let kept: Vec<Value> = items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .collect();
        *target = Value::Array(kept);
        return Ok(());
    };
    for item in items {
        let Some(id) = item.get(key) else {
            return Err(format!(
                "an element of `{field}` has no `{key}`, which identifies the element to merge with"
            ));
        };
        let at = current.iter().position(|c| c.get(key) == Some(id));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                current.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => merge(&mut current[i], item, field, builtin)?,
            (None, false) => current.push(item.clone()),
        }
    }
    Ok(())
}

/// A JSON pointer's reference tokens (RFC 6901).
fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("path `{path}` does not start with /"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent_mut<'a>(
    root: &'a mut Value,
    toks: &[String],
    path: &str,
) -> Result<&'a mut Value, String> {
    let mut cur = root;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("path `{path}`: `{t}` does not exist"))?;
    }
    Ok(cur)
}

fn add(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let toks = tokens(path)?;
    let Some((last, parents)) = toks.split_last() else {
        *root = value;
        return Ok(());
    };
    match parent_mut(root, parents, path)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) if last == "-" => {
            a.push(value);
            Ok(())
        }
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i <= a.len() => {
                a.insert(i, value);
                Ok(())
            }
            _ => Err(format!("path `{path}`: index `{last}` is outside the list")),
        },
        _ => Err(format!(
            "path `{path}`: its parent is not a mapping or list"
        )),
    }
}

fn remove(root: &mut Value, path: &str) -> Result<Value, String> {
    let toks = tokens(path)?;
    let Some((last, parents)) = toks.split_last() else {
        return Err("cannot remove the whole object".into());
    };
    let gone = match parent_mut(root, parents, path)? {
        Value::Object(m) => m.shift_remove(last),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => Some(a.remove(i)),
            _ => None,
        },
        _ => None,
    };
    gone.ok_or_else(|| format!("path `{path}` does not exist"))
}

fn get(root: &Value, path: &str) -> Result<Value, String> {
    let toks = tokens(path)?;
    let mut cur = root;
    for t in &toks {
        cur = match cur {
            Value::Object(m) => m.get(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("path `{path}` does not exist"))?;
    }
    Ok(cur.clone())
}

fn json_op(root: &mut Value, op: &Op) -> Result<(), String> {
    let value = || {
        op.value
            .clone()
            .ok_or_else(|| format!("`{}` needs a value", op.op))
    };
    let from = || {
        op.from
            .clone()
            .ok_or_else(|| format!("`{}` needs from", op.op))
    };
    match op.op.as_str() {
        "add" => add(root, &op.path, value()?),
        "remove" => remove(root, &op.path).map(|_| ()),
        "replace" => {
            remove(root, &op.path)?;
            add(root, &op.path, value()?)
        }
        "move" => {
            let v = remove(root, &from()?)?;
            add(root, &op.path, v)
        }
        "copy" => {
            let v = get(root, &from()?)?;
            add(root, &op.path, v)
        }
        "test" => {
            if get(root, &op.path)? == value()? {
                Ok(())
            } else {
                Err(format!("test of `{}` failed: the value differs", op.path))
            }
        }
        other => Err(format!("`{other}` is not a JSON 6902 operation")),
    }
}

/// Reads `v` back as the Kubernetes type of `kind`: unknown fields and wrong types are errors.
/// Custom resources (no type here) pass.
fn typed_check(kind: &str, api_version: &str, v: &Value) -> Result<(), Problem> {
    use k8s_openapi::api::{apps, autoscaling, core, networking, policy};
    if !is_builtin(api_version) {
        return Ok(());
    }
    match kind {
        "StatefulSet" => check::<apps::v1::StatefulSet>(v),
        "Deployment" => check::<apps::v1::Deployment>(v),
        "Service" => check::<core::v1::Service>(v),
        "ConfigMap" => check::<core::v1::ConfigMap>(v),
        "Secret" => check::<core::v1::Secret>(v),
        "ServiceAccount" => check::<core::v1::ServiceAccount>(v),
        "PodDisruptionBudget" => check::<policy::v1::PodDisruptionBudget>(v),
        "NetworkPolicy" => check::<networking::v1::NetworkPolicy>(v),
        "Ingress" => check::<networking::v1::Ingress>(v),
        "HorizontalPodAutoscaler" => check::<autoscaling::v2::HorizontalPodAutoscaler>(v),
        _ => Ok(()),
    }
}

/// A problem of a patched object: its message, and the field it is at (when known).
type Problem = (String, Option<String>);

fn check<T: DeserializeOwned>(v: &Value) -> Result<(), Problem> {
    let mut unknown: Vec<String> = Vec::new();
    let read: Result<T, serde_path_to_error::Error<serde_json::Error>> = {
        let mut on_ignored = |path: serde_ignored::Path<'_>| {
            unknown.push(crate::yaml::path_string(&crate::input::ignored_path(&path)));
        };
        let de = serde_ignored::Deserializer::new(v, &mut on_ignored);
        serde_path_to_error::deserialize(de)
    };
    if let Err(e) = read {
        let at = e.path().to_string();
        return Err((format!("`{at}`: {}", e.inner()), Some(at)));
    }
    if let Some(path) = unknown.first() {
        let field = path.rsplit('.').next().unwrap_or(path);
        let hint = did_you_mean(
            field,
            crate::input::PATCH_FIELDS
                .iter()
                .chain(MORE_FIELDS)
                .copied(),
        )
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
        return Err((format!("unknown field `{path}`{hint}"), Some(path.clone())));
    }
    Ok(())
}

/// Fields people patch besides the pod fields the CRD lacks (`input::PATCH_FIELDS`), for
/// did-you-mean hints on a misspelt one.
const MORE_FIELDS: &[&str] = &[
    "annotations",
    "labels",
    "tolerations",
    "nodeSelector",
    "affinity",
    "resources",
    "securityContext",
    "serviceAccountName",
    "externalTrafficPolicy",
    "loadBalancerClass",
    "sessionAffinity",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts() -> Object {
        Object {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            namespace: Some("mqtt".into()),
            name: "emqx-core".into(),
            value: json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "emqx-core", "namespace": "mqtt"},
                "spec": {"serviceName": "emqx-headless", "selector": {}, "template": {"spec": {"containers": [
                    {"name": "emqx", "image": "emqx/emqx:5.8.6",
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                ]}}},
            }),
            text: None,
        }
    }

    fn patch(v: Value) -> Patch {
        Patch::read(
            0,
            &PatchDoc {
                target: Some(crate::input::settings::PatchTargetDoc {
                    kind: Some("StatefulSet".into()),
                    ..Default::default()
                }),
                patch: Some(v),
            },
        )
        .unwrap()
    }

    #[test]
    fn strategic_merge_merges_lists_by_their_key_and_deletes_on_request() {
        let mut o = [sts()];
        let p = patch(json!({"spec": {"template": {"spec": {
            "priorityClassName": "high",
            "containers": [{"name": "emqx", "env": [
                {"name": "B", "value": "3"}, {"name": "A", "$patch": "delete"}, {"name": "C", "value": "4"}]}],
        }}}}));
        let (hit, problems) = apply(&[p], &mut o);
        assert_eq!((hit, problems), (vec![0], vec![]));
        let spec = &o[0].value["spec"]["template"]["spec"];
        assert_eq!(spec["priorityClassName"], "high");
        assert_eq!(spec["containers"][0]["image"], "emqx/emqx:5.8.6");
        assert_eq!(
            spec["containers"][0]["env"],
            json!([{"name": "B", "value": "3"}, {"name": "C", "value": "4"}])
        );
    }

    #[test]
    fn json_6902_operations_and_their_failures() {
        let mut o = [sts()];
        let p = patch(json!([
            {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "Z", "value": "9"}},
            {"op": "replace", "path": "/spec/template/spec/containers/0/env/0/value", "value": "0"},
            {"op": "test", "path": "/spec/serviceName", "value": "emqx-headless"},
        ]));
        let (_, problems) = apply(&[p], &mut o);
        assert!(problems.is_empty(), "{problems:?}");
        let env = &o[0].value["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env[0]["value"], "0");
        assert_eq!(env[2]["name"], "Z");
        let bad = patch(json!([{"op": "remove", "path": "/spec/nothing"}]));
        let (_, problems) = apply(&[bad], &mut o);
        assert!(
            problems[0].message.contains("does not exist"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_misspelt_field_or_a_new_name_is_refused() {
        let mut o = [sts()];
        let typo = patch(json!({"spec": {"template": {"spec": {"priorityClassNme": "high"}}}}));
        let (_, problems) = apply(&[typo], &mut o);
        assert!(
            problems[0]
                .message
                .contains("did you mean `priorityClassName`?"),
            "{problems:?}"
        );
        let rename = patch(json!([{"op": "replace", "path": "/metadata/name", "value": "x"}]));
        let (_, problems) = apply(&[rename], &mut o);
        assert!(problems[0].message.contains("name"), "{problems:?}");
        assert!(
            o[0].value["spec"]["template"]["spec"]
                .get("priorityClassNme")
                .is_none()
        );
    }
}
