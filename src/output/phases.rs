//! The phased layout for Flux: the objects split into an upgrade phase per directory (cores with
//! everything they share, then replicants), and the Flux `Kustomization` objects that apply the
//! phases in order: the replicant phase `dependsOn` the core phase, and both `wait` for their
//! workloads to be rolled out and ready, with timeouts sized by the number of pods.

use serde_json::{Value, json};

use crate::manifest::Object;
use crate::objects::LABEL_DB_ROLE;

/// Directory of the first phase: configuration, Secrets, Services, core StatefulSets and PDBs.
pub const CORE_DIR: &str = "1-core";
/// Directory of the second phase: replicant Deployments and their PDBs.
pub const REPLICANT_DIR: &str = "2-replicants";
/// The Flux objects, beside the phase directories.
pub const FLUX_FILE: &str = "flux.yaml";

/// Where the Flux objects point and how they are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxOptions {
    /// The output directory as the Flux source sees it (`./clusters/prod/emqx`).
    pub path: String,
    /// Kind and name of the source (`GitRepository/flux-system`).
    pub source_kind: String,
    pub source_name: String,
    /// Namespace of the Flux objects and their source.
    pub namespace: String,
    /// Prefix of the Flux object names (`<prefix>-core`, `<prefix>-replicants`).
    pub name: String,
}

/// Whether an object belongs to the replicant phase.
pub fn is_replicant(o: &Object) -> bool {
    match o.kind.as_str() {
        "Deployment" | "PodDisruptionBudget" => {
            selector_label(o, LABEL_DB_ROLE) == Some("replicant")
        }
        // An autoscaler goes with what it scales.
        "HorizontalPodAutoscaler" => {
            o.value
                .pointer("/spec/scaleTargetRef/kind")
                .and_then(Value::as_str)
                == Some("Deployment")
        }
        _ => false,
    }
}

/// A label of the object's `spec.selector.matchLabels`.
pub fn selector_label<'a>(o: &'a Object, key: &str) -> Option<&'a str> {
    o.value
        .pointer("/spec/selector/matchLabels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// A label of the workload's pods: its selector's, else its pod template's (an adopted
/// StatefulSet keeps the selector it had, without our labels).
pub fn pod_label<'a>(o: &'a Object, key: &str) -> Option<&'a str> {
    selector_label(o, key).or_else(|| {
        o.value
            .pointer("/spec/template/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    })
}

fn int_at(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// Minutes Flux waits for a phase: five to start with, plus per pod two minutes to be replaced
/// and become ready, plus its `minReadySeconds` (pods of a StatefulSet roll one at a time;
/// a Deployment is counted the same way, which is the slowest its rollout can be).
pub fn timeout_minutes(objects: &[&Object], kind: &str) -> i64 {
    let mut seconds = 300;
    for o in objects.iter().filter(|o| o.kind == kind) {
        let replicas = o
            .value
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        seconds += replicas * (120 + int_at(&o.value, "/spec/minReadySeconds"));
    }
    (seconds + 59) / 60
}

fn kustomization(
    o: &FluxOptions,
    phase: &str,
    dir: &str,
    timeout: i64,
    depends: Option<&str>,
) -> Value {
    let mut spec = json!({
        "interval": "10m",
        "retryInterval": "1m",
        "path": format!("{}/{dir}", o.path.trim_end_matches('/')),
        "prune": true,
        "sourceRef": { "kind": o.source_kind, "name": o.source_name },
        "wait": true,
        "timeout": format!("{timeout}m"),
    });
    if let (Some(d), Some(m)) = (depends, spec.as_object_mut()) {
        m.insert("dependsOn".into(), json!([{ "name": d }]));
    }
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {
            "name": format!("{}-{phase}", o.name),
            "namespace": o.namespace,
        },
        "spec": spec,
    })
}

/// The Flux `Kustomization` objects for the phases that have objects.
pub fn flux_objects(o: &FluxOptions, core: &[&Object], replicants: &[&Object]) -> Vec<Value> {
    let core_name = format!("{}-core", o.name);
    let mut out = vec![kustomization(
        o,
        "core",
        CORE_DIR,
        timeout_minutes(core, "StatefulSet"),
        None,
    )];
    if !replicants.is_empty() {
        out.push(kustomization(
            o,
            "replicants",
            REPLICANT_DIR,
            timeout_minutes(replicants, "Deployment"),
            Some(&core_name),
        ));
    }
    out
}

/// `./dir` as Flux writes paths: relative to the source root, with `./` in front.
pub fn source_path(dir: &str) -> String {
    let d = dir.trim_start_matches("./").trim_end_matches('/');
    format!("./{d}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(kind: &str, value: Value) -> Object {
        Object {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            namespace: Some("mqtt".into()),
            name: "x".into(),
            value,
            text: None,
        }
    }

    #[test]
    fn timeouts_grow_with_the_pods() {
        let sts = obj(
            "StatefulSet",
            json!({"spec": {"replicas": 3, "minReadySeconds": 10}}),
        );
        // 300 + 3 × 130 = 690 s → 12 minutes.
        assert_eq!(timeout_minutes(&[&sts], "StatefulSet"), 12);
        let big = obj("StatefulSet", json!({"spec": {"replicas": 9}}));
        assert_eq!(timeout_minutes(&[&big], "StatefulSet"), 23);
        assert_eq!(timeout_minutes(&[], "Deployment"), 5);
    }

    #[test]
    fn replicant_objects_are_told_by_their_selector() {
        let d = obj(
            "Deployment",
            json!({"spec": {"selector": {"matchLabels": {LABEL_DB_ROLE: "replicant"}}}}),
        );
        let other = obj(
            "Deployment",
            json!({"spec": {"selector": {"matchLabels": {"app": "x"}}}}),
        );
        assert!(is_replicant(&d));
        assert!(!is_replicant(&other));
        assert_eq!(source_path("clusters/prod/emqx/"), "./clusters/prod/emqx");
        assert_eq!(source_path("./out"), "./out");
    }
}
