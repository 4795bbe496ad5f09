//! KRM function protocol (kustomize, kpt): a `config.kubernetes.io/v1` `ResourceList` in, the
//! same list out with the rendered objects appended and problems as `results`. A protocol
//! adapter around `compile`; pure (text in, text out).
//!
//! Where the specs come from:
//! - `functionConfig` is an `apps.emqx.io` `EMQX` resource, or a `v1` `List` of them (and of
//!   `Settings` documents): those are rendered (the copy that kustomize also puts into `items`
//!   is left alone);
//! - otherwise the `EMQX` resources among `items` are rendered; a `Settings` functionConfig is
//!   laid over their settings, and a `ConfigMap` functionConfig (what `kpt fn eval ... --
//!   key=value` makes) may set `kubernetesVersion`, `namespace`, `syncWaves`, `networkPolicy`
//!   and `settings` (a Settings document as text).
//!
//! Given items are kept as they came.

use serde_json::{Value, json};

use crate::compile::compile;
use crate::diag::{Diagnostic, Severity};
use crate::input::{GROUP, Source};
use crate::settings::{Layer, Overrides};
use crate::{output, yaml};

/// The outcome: the ResourceList to print and whether the function failed.
#[derive(Debug, Clone)]
pub struct KrmOutput {
    pub text: String,
    pub failed: bool,
}

/// Annotations kustomize and kpt add for their own bookkeeping; not part of the spec.
fn strip_tool_annotations(v: &mut Value) {
    let mut now_empty = false;
    if let Some(a) = v
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.retain(|k, _| {
            !(k.starts_with("config.kubernetes.io/")
                || k.starts_with("internal.config.kubernetes.io/")
                || k.starts_with("config.k8s.io/")
                || k.starts_with("kustomize.config.k8s.io/"))
        });
        now_empty = a.is_empty();
    }
    if now_empty && let Some(m) = v.pointer_mut("/metadata").and_then(Value::as_object_mut) {
        m.remove("annotations");
    }
}

fn is_emqx(v: &Value) -> bool {
    v.get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|a| a.starts_with(&format!("{GROUP}/")))
}

fn path_of(v: &Value) -> Option<String> {
    [
        "config.kubernetes.io/path",
        "internal.config.kubernetes.io/path",
    ]
    .iter()
    .find_map(|k| v.pointer(&format!("/metadata/annotations/{}", k.replace('/', "~1"))))
    .and_then(Value::as_str)
    .map(str::to_string)
}

/// One source per document to render, named after the file it came from.
fn source_of(docs: &[Value], name: String) -> Source {
    let mut text = String::new();
    for d in docs {
        let mut d = d.clone();
        strip_tool_annotations(&mut d);
        text.push_str("---\n");
        text.push_str(&output::object_yaml(&d, "", "").unwrap_or_default());
    }
    Source { name, text }
}

/// A KRM result. Line numbers would point into the re-serialized functionConfig, not the
/// user's file, so the location is the field path (and the file, when kpt names it).
fn result(d: &Diagnostic, file: Option<&str>) -> Value {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "info",
    };
    // The field path travels in `field.path` (kpt prints it before the message).
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str(&format!(" (help: {h})"));
    }
    let mut r = json!({ "message": message, "severity": severity, "tags": { "code": d.code } });
    if !d.path.is_empty() {
        r["field"] = json!({ "path": d.path });
    }
    if let Some(f) = file {
        r["file"] = json!({ "path": f });
    }
    r
}

fn fail(message: String) -> KrmOutput {
    let list = json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [],
        "results": [{ "message": message, "severity": "error" }],
    });
    KrmOutput {
        text: output::object_yaml(&list, "ResourceList", "").unwrap_or_default(),
        failed: true,
    }
}

/// Runs the function on a ResourceList. `base` carries settings from outside the list.
pub fn run(input: &str, base: &Overrides) -> KrmOutput {
    let docs = match yaml::load(input) {
        Ok(d) => d,
        Err(e) => return fail(format!("input is not YAML: {}", e.message)),
    };
    let Some(list) = docs.first().map(yaml::Node::to_json) else {
        return fail("no ResourceList on standard input".into());
    };
    if list.get("kind").and_then(Value::as_str) != Some("ResourceList") {
        return fail("standard input must be a config.kubernetes.io/v1 ResourceList".into());
    }
    let items: Vec<Value> = list
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let config = list.get("functionConfig").cloned().unwrap_or(Value::Null);

    let mut over = base.clone();
    let config_kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    let (specs, from): (Vec<Value>, String) = if is_emqx(&config) {
        (
            vec![config.clone()],
            path_of(&config).unwrap_or_else(|| "functionConfig".into()),
        )
    } else if config_kind == "List" {
        let inner = config
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        (
            inner,
            path_of(&config).unwrap_or_else(|| "functionConfig".into()),
        )
    } else {
        if config_kind == "Settings" {
            // `kpt fn eval --fn-config settings.yaml`: the Settings document itself.
            let mut c = config.clone();
            strip_tool_annotations(&mut c);
            over.settings_layers.push(Source {
                name: path_of(&config).unwrap_or_else(|| "functionConfig".into()),
                text: output::object_yaml(&c, "", "").unwrap_or_default(),
            });
        }
        if config_kind == "ConfigMap" {
            if let Some(text) = config.pointer("/data/settings").and_then(Value::as_str) {
                over.settings_layers.push(Source {
                    name: "functionConfig.data.settings".into(),
                    text: text.to_string(),
                });
            }
            let data = |k: &str| {
                config
                    .pointer(&format!("/data/{k}"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            over.env = Layer {
                kubernetes_version: data("kubernetesVersion").or(over.env.kubernetes_version),
                namespace: data("namespace").or(over.env.namespace),
                sync_waves: data("syncWaves").or(over.env.sync_waves),
                network_policy: data("networkPolicy").or(over.env.network_policy),
                keep_variables: data("keepVariables").or(over.env.keep_variables),
                platform: data("platform").or(over.env.platform),
                emqx_edition: data("emqxEdition").or(over.env.emqx_edition),
                emqx_version: data("emqxVersion").or(over.env.emqx_version),
            };
        }
        let emqx: Vec<Value> = items
            .iter()
            .filter(|i| {
                is_emqx(i)
                    || i.get("apiVersion").and_then(Value::as_str)
                        == Some(crate::input::SETTINGS_API_VERSION)
            })
            .cloned()
            .collect();
        let name = emqx
            .iter()
            .find_map(path_of)
            .unwrap_or_else(|| "items".into());
        (emqx, name)
    };
    if specs.is_empty() {
        return fail(
            "no EMQX resource found: give one as functionConfig or among the items".into(),
        );
    }
    let source = source_of(&specs, from);
    let (rendered, diags, failed) = match compile(&[source], &over) {
        Ok(c) => (
            c.manifest
                .objects()
                .iter()
                .map(|o| o.value.clone())
                .collect::<Vec<_>>(),
            c.diagnostics.0,
            false,
        ),
        Err(d) => (Vec::new(), d.0, true),
    };
    let mut out_items = items;
    out_items.extend(rendered);
    let mut out = json!({
        "apiVersion": list.get("apiVersion").cloned().unwrap_or(json!("config.kubernetes.io/v1")),
        "kind": "ResourceList",
        "items": out_items,
    });
    let file = specs.iter().find_map(path_of);
    let results: Vec<Value> = diags.iter().map(|d| result(d, file.as_deref())).collect();
    if !results.is_empty() {
        out["results"] = Value::Array(results);
    }
    KrmOutput {
        text: output::object_yaml(&out, "ResourceList", "").unwrap_or_default(),
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: mqtt\nfunctionConfig:\n  apiVersion: apps.emqx.io/v2beta1\n  kind: EMQX\n  metadata:\n    name: emqx\n    namespace: mqtt\n    annotations:\n      config.kubernetes.io/path: emqx.yaml\n  spec:\n    image: emqx/emqx:5.8.6\n";

    #[test]
    fn appends_rendered_objects_and_keeps_items() {
        let out = run(LIST, &Overrides::default());
        assert!(!out.failed, "{}", out.text);
        let v: Vec<yaml::Node> = yaml::load(&out.text).unwrap();
        let items = v[0].to_json()["items"].as_array().unwrap().clone();
        assert_eq!(items[0]["kind"], "Namespace");
        assert!(
            items
                .iter()
                .any(|i| i["kind"] == "StatefulSet" && i["metadata"]["name"] == "emqx-core")
        );
    }

    #[test]
    fn errors_become_results_and_fail() {
        let out = run(
            &LIST.replace(
                "image: emqx/emqx:5.8.6",
                "image: emqx/emqx:5.8.6\n    replicantTemplate:\n      spec:\n        replicas: -1",
            ),
            &Overrides::default(),
        );
        assert!(out.failed);
        assert!(out.text.contains("severity: error"), "{}", out.text);
        assert!(out.text.contains("must be at least 0"), "{}", out.text);
    }

    /// A ConfigMap functionConfig's `platform`, as the Argo CD parameter and the flag.
    #[test]
    fn config_map_platform() {
        let list = |platform: &str| {
            format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: apps.emqx.io/v2beta1\n  kind: EMQX\n  metadata:\n    name: emqx\n    namespace: mqtt\n    annotations:\n      config.kubernetes.io/path: emqx.yaml\n  spec:\n    image: emqx/emqx:5.8.6\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: emqx-render\n  data:\n    platform: {platform}\n"
            )
        };
        let k8s = run(&list("kubernetes"), &Overrides::default());
        assert!(!k8s.failed, "{}", k8s.text);
        assert!(k8s.text.contains("runAsUser: 1000"), "{}", k8s.text);
        let os = run(&list("openshift"), &Overrides::default());
        assert!(!os.failed, "{}", os.text);
        assert!(!os.text.contains("runAsUser"), "{}", os.text);
        assert!(os.text.contains("runAsNonRoot: true"), "{}", os.text);
    }
}
