//! `emqx-render convert`: rewrites `EMQX` resources from one operator generation to another by
//! the operator's own mapping (feature-map-v3 §1.3), turning a HOCON `config.data` into
//! structured `config.roots` (and back), writing out values whose defaults differ between
//! generations, and saying plainly what has no equivalent. Pure: documents in, documents out.

use serde_json::{Map, Value, json};

use crate::compile::compile;
use crate::diag::Diagnostics;
use crate::input::{self, ApiVersion, Document, Source};
use crate::manifest::Object;
use crate::model::config::{render_roots, roots_from_hocon};
use crate::settings::Overrides;

/// The generation to convert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    V2beta1,
    V2,
    V3beta1,
}

impl Target {
    fn api_version(self) -> &'static str {
        match self {
            Target::V2beta1 => "apps.emqx.io/v2beta1",
            Target::V2 => "apps.emqx.io/v2",
            Target::V3beta1 => "apps.emqx.io/v3beta1",
        }
    }
}

/// The converted documents (as YAML text) and what the user must know.
#[derive(Debug, Clone)]
pub struct Converted {
    pub documents: Vec<Value>,
    pub notes: Vec<String>,
    /// How many EMQX resources were converted.
    pub converted: usize,
}

/// Why nothing came out.
#[derive(Debug)]
pub enum ConvertError {
    /// The input does not render: the problems.
    Invalid(Diagnostics),
    /// No `EMQX` resource in the input.
    Nothing,
}

fn take(m: &mut Map<String, Value>, k: &str) -> Option<Value> {
    m.shift_remove(k).filter(|v| !v.is_null())
}

fn name_of(doc: &Value) -> String {
    doc.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// Converts every `EMQX` resource of `source` to `target`; other documents pass unchanged.
pub fn convert(source: &Source, target: Target) -> Result<Converted, ConvertError> {
    // The model of each cluster gives the values whose defaults differ between generations.
    let compiled = compile(std::slice::from_ref(source), &Overrides::default())
        .map_err(ConvertError::Invalid)?;
    let objects = compiled.manifest.objects();
    let (docs, _) = input::load(source);
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut converted = 0;
    // EMQXAPIKey documents fold into bootstrapAPIKeys when leaving v3beta1.
    let api_keys: Vec<Value> = docs
        .iter()
        .filter_map(|d| match d {
            Document::ApiKey(k) => Some(k.at.root.to_json()),
            _ => None,
        })
        .collect();
    for d in &docs {
        match d {
            Document::Cluster(c) => {
                let mut v = c.at.root.to_json();
                let _ = from_v2(&mut v, c.version, target, objects, &mut notes);
                out.push(v);
                converted += 1;
            }
            Document::ClusterV3(c) => {
                let mut v = c.at.root.to_json();
                let _ = from_v3(&mut v, target, objects, &api_keys, &mut notes);
                out.push(v);
                converted += 1;
            }
            // Leaving v3beta1, EMQXAPIKeys become bootstrapAPIKeys of their cluster (from_v3).
            Document::ApiKey(_) if target != Target::V3beta1 => {}
            Document::ApiKey(k) => out.push(k.at.root.to_json()),
            Document::Settings(_, at) => out.push(at.root.to_json()),
            Document::Passthrough(p) => out.push(p.object.clone()),
        }
    }
    if converted == 0 {
        return Err(ConvertError::Nothing);
    }
    Ok(Converted {
        documents: out,
        notes,
        converted,
    })
}

fn find<'a>(objects: &'a [Object], kind: &str, name: &str) -> Option<&'a Object> {
    objects.iter().find(|o| o.kind == kind && o.name == name)
}

/// Replica counts and the core claim the source renders to.
fn rendered_facts(objects: &[Object], cluster: &str) -> (i64, i64, Option<Value>) {
    let sts = find(objects, "StatefulSet", &format!("{cluster}-core"));
    let cores = sts
        .and_then(|s| s.value.pointer("/spec/replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let replicants = find(objects, "Deployment", &format!("{cluster}-replicant"))
        .and_then(|d| d.value.pointer("/spec/replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let claim = sts
        .and_then(|s| s.value.pointer("/spec/volumeClaimTemplates/0/spec"))
        .cloned();
    (cores, replicants, claim)
}

/// HOCON text → roots; `node.cookie` has no place in v3beta1.
fn hocon_to_roots(data: &str, cluster: &str, notes: &mut Vec<String>) -> Map<String, Value> {
    let Ok(parsed) = crate::hocon::parse(data) else {
        return Map::new();
    };
    let mut roots: Map<String, Value> = roots_from_hocon(&parsed).into_iter().collect();
    if let Some(Value::Object(node)) = roots.get_mut("node") {
        if node.shift_remove("cookie").is_some() {
            notes.push(format!(
                "{cluster}: node.cookie is dropped: v3beta1 reserves it; create the Secret {cluster}-node-cookie (key node_cookie) with the same value so that nodes keep clustering"
            ));
        }
        if node.is_empty() {
            roots.shift_remove("node");
        }
    }
    roots
}

/// v2alpha1 / v2beta1 / v2 → any target.
fn from_v2(
    doc: &mut Value,
    from: ApiVersion,
    target: Target,
    objects: &[Object],
    notes: &mut Vec<String>,
) -> Option<()> {
    let name = name_of(doc);
    let (cores, replicants, _) = rendered_facts(objects, &name);
    let root = doc.as_object_mut()?;
    root.insert("apiVersion".into(), json!(target.api_version()));
    root.shift_remove("status");
    let spec = root.entry("spec").or_insert(json!({})).as_object_mut()?;
    // v2alpha1 shapes.
    if let Some(img) = take(spec, "emqxTemplate").and_then(|t| t.get("image").cloned()) {
        spec.entry("image").or_insert(img);
    }
    if let Some(data) = take(spec, "bootstrapConfig") {
        spec.entry("config")
            .or_insert(json!({}))
            .as_object_mut()?
            .insert("data".into(), data);
    }
    if from == ApiVersion::V2alpha1 {
        spec.entry("imagePullPolicy")
            .or_insert(json!("IfNotPresent"));
    }
    // Replica counts as rendered: the defaults differ between every generation.
    let has_replicants = replicants > 0;
    for (tpl, n) in [("coreTemplate", cores), ("replicantTemplate", replicants)] {
        if tpl == "replicantTemplate" && !has_replicants && !spec.contains_key(tpl) {
            continue;
        }
        let t = spec.entry(tpl).or_insert(json!({})).as_object_mut()?;
        let s = t.entry("spec").or_insert(json!({})).as_object_mut()?;
        s.insert("replicas".into(), json!(n));
    }
    if target != Target::V3beta1 {
        if target == Target::V2beta1
            && spec
                .get_mut("updateStrategy")
                .and_then(|u| u.get_mut("evacuationStrategy"))
                .and_then(Value::as_object_mut)
                .and_then(|e| e.shift_remove("waitHealthCheck"))
                .is_some()
        {
            notes.push(format!("{name}: updateStrategy.evacuationStrategy.waitHealthCheck has no v2beta1 equivalent and is dropped"));
        }
        return Some(());
    }
    // → v3beta1 (the operator's migration table).
    let cluster_has_claim = spec
        .get("coreTemplate")
        .and_then(|t| t.pointer("/spec/volumeClaimTemplates"))
        .is_some();
    config_to_v3(spec, &name, notes);
    if let Some(keys) = take(spec, "bootstrapAPIKeys") {
        let n = keys.as_array().map_or(0, Vec::len);
        notes.push(format!(
            "{name}: bootstrapAPIKeys ({n}) have no v3beta1 field: declare an EMQXAPIKey per key, naming a Secret with the keys apiKey and apiSecret"
        ));
    }
    update_strategy_to_v3(spec, &name, notes);
    for tpl in ["coreTemplate", "replicantTemplate"] {
        if let Some(t) = spec.get_mut(tpl).and_then(Value::as_object_mut) {
            template_to_v3(tpl, t, &name, notes);
        }
    }
    for svc in ["dashboardServiceTemplate", "listenersServiceTemplate"] {
        if let Some(m) = spec
            .get_mut(svc)
            .and_then(|t| t.get_mut("metadata"))
            .and_then(Value::as_object_mut)
        {
            m.retain(|k, _| k == "labels" || k == "annotations");
        }
        if let Some(t) = spec.get_mut(svc).and_then(Value::as_object_mut) {
            t.shift_remove("status");
        }
    }
    if has_replicants && cores < 2 {
        if let Some(s) = spec
            .get_mut("coreTemplate")
            .and_then(|t| t.get_mut("spec"))
            .and_then(Value::as_object_mut)
        {
            s.insert("replicas".into(), json!(2));
        }
        notes.push(format!(
            "{name}: coreTemplate.spec.replicas is raised from {cores} to 2: v3beta1 needs at least 2 cores with replicants"
        ));
    }
    if !cluster_has_claim {
        notes.push(format!(
            "{name}: v3beta1 always keeps core data on a volume claim (ReadWriteOnce, 500Mi unless persistentVolumeClaimSpec says otherwise); the source kept it in an emptyDir"
        ));
    }
    notes.push(format!(
        "{name}: v3beta1 defaults differ: no container securityContext default, podSecurityContext with runAsNonRoot and without supplementalGroups"
    ));
    Some(())
}

/// `config.mode` dropped, `config.data` as `config.roots`.
fn config_to_v3(spec: &mut Map<String, Value>, name: &str, notes: &mut Vec<String>) {
    if let Some(cfg) = spec.get_mut("config").and_then(Value::as_object_mut) {
        if cfg.shift_remove("mode").is_some() {
            notes.push(format!(
                "{name}: config.mode is dropped: Operator 3.0 has no config modes"
            ));
        }
        if let Some(Value::String(data)) = cfg.shift_remove("data") {
            let roots = hocon_to_roots(&data, name, notes);
            if !roots.is_empty() {
                cfg.insert("roots".into(), Value::Object(roots));
            }
        }
        if cfg.is_empty() {
            spec.shift_remove("config");
        }
    }
}

/// `updateStrategy`: what v3beta1 has no field for is dropped with a note, the rates renamed.
fn update_strategy_to_v3(spec: &mut Map<String, Value>, name: &str, notes: &mut Vec<String>) {
    if let Some(us) = spec
        .get_mut("updateStrategy")
        .and_then(Value::as_object_mut)
    {
        if us.shift_remove("type").is_some() {
            notes.push(format!("{name}: updateStrategy.type Recreate is dropped: v3beta1 rolls pods (RollingUpdate)"));
        }
        if us.shift_remove("initialDelaySeconds").is_some() {
            notes.push(format!(
                "{name}: updateStrategy.initialDelaySeconds has no v3beta1 equivalent (the operator's guide: do not map it to minReadySeconds)"
            ));
        }
        if let Some(ev) = us
            .get_mut("evacuationStrategy")
            .and_then(Value::as_object_mut)
        {
            for (old, new) in [
                ("connEvictRate", "connectionEvictionRate"),
                ("sessEvictRate", "sessionEvictionRate"),
            ] {
                if let Some(v) = ev.shift_remove(old) {
                    ev.insert(new.into(), v);
                }
            }
        }
        if us.is_empty() {
            spec.shift_remove("updateStrategy");
        }
    }
}

/// One role template: v2-only fields renamed, merged or dropped with a note.
fn template_to_v3(tpl: &str, t: &mut Map<String, Value>, name: &str, notes: &mut Vec<String>) {
    if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
        m.retain(|k, _| k == "labels" || k == "annotations");
    }
    let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(vct) = s.shift_remove("volumeClaimTemplates") {
        s.insert("persistentVolumeClaimSpec".into(), vct);
    }
    if let Some(Value::Array(tr)) = s.shift_remove("toleRations") {
        let t = s.entry("tolerations").or_insert(json!([]));
        if let Some(a) = t.as_array_mut() {
            a.extend(tr);
        }
    }
    for f in ["minAvailable", "maxUnavailable"] {
        if s.shift_remove(f).is_some() {
            notes.push(format!(
                "{name}: {tpl}.spec.{f} is dropped: v3beta1 has no PodDisruptionBudget fields; write the PodDisruptionBudget yourself"
            ));
        }
    }
    if let Some(Value::Array(ports)) = s.get_mut("ports") {
        let before = ports.len();
        ports.retain(|p| {
            !matches!(
                p.get("name").and_then(Value::as_str),
                Some("dashboard" | "dashboard-https")
            )
        });
        if ports.len() < before {
            notes.push(format!(
                "{name}: {tpl}.spec.ports named dashboard/dashboard-https are dropped: v3beta1 reserves them and adds them from the config"
            ));
        }
        if ports.is_empty() {
            s.shift_remove("ports");
        }
    }
    let status_probe = s
        .get("readinessProbe")
        .and_then(|p| p.pointer("/httpGet/path"))
        .and_then(Value::as_str)
        == Some("/status");
    if status_probe {
        s.shift_remove("readinessProbe");
        notes.push(format!(
            "{name}: {tpl}.spec.readinessProbe on /status is dropped: Operator 3.x probes /api/v5/load_rebalance/availability_check"
        ));
    }
}

/// v3beta1 → v2beta1 or v2 (or v3beta1 unchanged).
fn from_v3(
    doc: &mut Value,
    target: Target,
    objects: &[Object],
    api_keys: &[Value],
    notes: &mut Vec<String>,
) -> Option<()> {
    let name = name_of(doc);
    if target == Target::V3beta1 {
        notes.push(format!("{name}: already apps.emqx.io/v3beta1"));
        return Some(());
    }
    let (cores, replicants, claim) = rendered_facts(objects, &name);
    let root = doc.as_object_mut()?;
    root.insert("apiVersion".into(), json!(target.api_version()));
    root.shift_remove("status");
    let spec = root.entry("spec").or_insert(json!({})).as_object_mut()?;
    if let Some(cfg) = spec.get_mut("config").and_then(Value::as_object_mut)
        && let Some(Value::Object(roots)) = cfg.shift_remove("roots")
    {
        let roots: std::collections::BTreeMap<String, Value> = roots.into_iter().collect();
        cfg.insert("data".into(), json!(render_roots(&roots)));
    }
    for (tpl, n) in [("coreTemplate", cores), ("replicantTemplate", replicants)] {
        let t = spec.entry(tpl).or_insert(json!({})).as_object_mut()?;
        let s = t.entry("spec").or_insert(json!({})).as_object_mut()?;
        s.insert("replicas".into(), json!(n));
        if (s.shift_remove("persistentVolumeClaimSpec").is_some() || tpl == "coreTemplate")
            && let Some(c) = &claim
        {
            s.insert("volumeClaimTemplates".into(), c.clone());
        }
        for (f, why) in [
            (
                "minReadySeconds",
                "no v2 equivalent (updateStrategy.initialDelaySeconds is the closest)",
            ),
            ("dnsConfig", "no v2 equivalent"),
        ] {
            if s.shift_remove(f).is_some() {
                notes.push(format!("{name}: {tpl}.spec.{f} is dropped: {why}"));
            }
        }
    }
    if let Some(us) = spec
        .get_mut("updateStrategy")
        .and_then(Value::as_object_mut)
    {
        us.shift_remove("type");
        if us.shift_remove("replicants").is_some() {
            notes.push(format!(
                "{name}: updateStrategy.replicants is dropped: the replicant Deployment then rolls with maxSurge 1, maxUnavailable 0"
            ));
        }
        if let Some(ev) = us
            .get_mut("evacuationStrategy")
            .and_then(Value::as_object_mut)
        {
            if ev.shift_remove("type").is_some() {
                notes.push(format!(
                    "{name}: updateStrategy.evacuationStrategy.type is dropped: no v2 equivalent"
                ));
            }
            for (new, old) in [
                ("connectionEvictionRate", "connEvictRate"),
                ("sessionEvictionRate", "sessEvictRate"),
            ] {
                if let Some(v) = ev.shift_remove(new) {
                    ev.insert(old.into(), v);
                }
            }
            if target == Target::V2beta1 && ev.shift_remove("waitHealthCheck").is_some() {
                notes.push(format!("{name}: evacuationStrategy.waitHealthCheck has no v2beta1 equivalent and is dropped"));
            }
        }
        if us.is_empty() {
            spec.shift_remove("updateStrategy");
        }
    }
    // EMQXAPIKey documents of this cluster become bootstrapAPIKeys secretRef entries.
    let mut keys = Vec::new();
    for k in api_keys {
        if k.pointer("/spec/emqxRef/name").and_then(Value::as_str) != Some(name.as_str()) {
            continue;
        }
        let secret = k
            .pointer("/spec/secretRef/name")
            .cloned()
            .unwrap_or(Value::Null);
        keys.push(json!({ "secretRef": {
            "key": { "secretName": secret, "secretKey": "apiKey" },
            "secret": { "secretName": secret, "secretKey": "apiSecret" },
        }}));
        if k.pointer("/spec/role")
            .and_then(Value::as_str)
            .is_some_and(|r| r != "Administrator")
        {
            notes.push(format!(
                "{name}: the role of EMQXAPIKey {} is dropped: v2 bootstrapAPIKeys have no role (administrator)",
                name_of(k)
            ));
        }
    }
    if !keys.is_empty() {
        spec.insert("bootstrapAPIKeys".into(), Value::Array(keys));
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source {
            name: "t.yaml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn v2beta1_to_v3beta1_maps_fields_and_says_what_is_lost() {
        let out = convert(
            &src("apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx:5.8.6\n  config:\n    mode: Merge\n    data: |\n      log.console.level = info\n      node.cookie = abc\n  updateStrategy:\n    type: Recreate\n    initialDelaySeconds: 5\n    evacuationStrategy:\n      connEvictRate: 10\n  coreTemplate:\n    spec:\n      replicas: 3\n      minAvailable: 2\n"),
            Target::V3beta1,
        )
        .unwrap();
        let d = &out.documents[0];
        assert_eq!(d["apiVersion"], "apps.emqx.io/v3beta1");
        assert_eq!(
            d["spec"]["config"]["roots"]["log"]["console"]["level"],
            "info"
        );
        assert!(d["spec"]["config"]["roots"].get("node").is_none());
        assert_eq!(
            d["spec"]["updateStrategy"]["evacuationStrategy"]["connectionEvictionRate"],
            10
        );
        assert!(
            d["spec"]["coreTemplate"]["spec"]
                .get("minAvailable")
                .is_none()
        );
        let notes = out.notes.join("\n");
        for lost in [
            "node.cookie",
            "config.mode",
            "initialDelaySeconds",
            "minAvailable",
            "Recreate",
        ] {
            assert!(notes.contains(lost), "no note about {lost}: {notes}");
        }
    }

    #[test]
    fn nothing_to_convert() {
        assert!(matches!(
            convert(
                &src("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),
                Target::V3beta1
            ),
            Err(ConvertError::Nothing)
        ));
    }
}
