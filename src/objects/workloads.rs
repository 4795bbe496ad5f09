//! The core StatefulSet, the replicant Deployment, its HorizontalPodAutoscaler and the
//! PodDisruptionBudgets. Fixed names, selectors of identity labels only, native rolling updates.

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::pod::{data_volume_name, template, workload_labels};
use super::services::headless_name;
use super::{default_labels, merged, meta, non_empty, object, role_labels};
use crate::manifest::Object;
use crate::model::{Cluster, Role, RoleKind};
use crate::settings::AutoscalerSource;

fn selector(c: &Cluster, role: RoleKind) -> LabelSelector {
    LabelSelector {
        match_labels: Some(role_labels(c, role)),
        ..Default::default()
    }
}

fn workload_meta(c: &Cluster, r: &Role, name: String) -> ObjectMeta {
    let mut m = meta(c, name, workload_labels(c, r));
    let mut annotations = r.annotations.clone();
    if let Some(v) = c.stated_version {
        annotations.insert(super::VERSION_ANNOTATION.to_string(), v.to_string());
    }
    m.annotations = non_empty(annotations);
    m
}

pub fn stateful_set(c: &Cluster, checksum: &str) -> Object {
    let r = &c.core;
    let name = format!("{}-core", c.name);
    let claims = r.pvc.as_ref().map(|pvc| {
        let mut spec = pvc.clone();
        spec.volume_mode
            .get_or_insert_with(|| "Filesystem".to_string());
        vec![PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(data_volume_name(c, RoleKind::Core)),
                labels: Some(role_labels(c, RoleKind::Core)),
                ..Default::default()
            },
            spec: Some(spec),
            ..Default::default()
        }]
    });
    // k8s-openapi leaves apiVersion/kind off nested claim templates; write them so that tools
    // diffing the StatefulSet see what the API server stores.
    let sts = StatefulSet {
        metadata: workload_meta(c, r, name.clone()),
        spec: Some(StatefulSetSpec {
            service_name: Some(headless_name(c)),
            pod_management_policy: Some("Parallel".into()),
            replicas: r.replicas,
            selector: selector(c, RoleKind::Core),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateStatefulSetStrategy {
                    partition: Some(0),
                    ..Default::default()
                }),
            }),
            min_ready_seconds: min_ready_seconds(r),
            revision_history_limit: Some(c.revision_history_limit),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            volume_claim_templates: claims,
            template: template(c, r, checksum),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut obj = object(&sts, &c.namespace, &name);
    if let Some(claims) = obj
        .value
        .pointer_mut("/spec/volumeClaimTemplates")
        .and_then(serde_json::Value::as_array_mut)
    {
        for claim in claims {
            if let Some(m) = claim.as_object_mut() {
                let mut with_type = serde_json::Map::new();
                with_type.insert("apiVersion".into(), "v1".into());
                with_type.insert("kind".into(), "PersistentVolumeClaim".into());
                with_type.extend(std::mem::take(m));
                *m = with_type;
            }
        }
    }
    obj
}

pub fn deployment(c: &Cluster, checksum: &str) -> Option<Object> {
    let r = c.replicant.as_ref()?;
    let name = format!("{}-replicant", c.name);
    let d = Deployment {
        metadata: workload_meta(c, r, name.clone()),
        spec: Some(DeploymentSpec {
            // Under an HPA the count is the HPA's: a written one would reset it on every sync.
            replicas: r.replicas.filter(|_| c.autoscaler.is_none()),
            selector: selector(c, RoleKind::Replicant),
            // Never below the desired count during a rollout: one extra pod at a time.
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(c.replicant_rollout.0.clone()),
                    max_unavailable: Some(c.replicant_rollout.1.clone()),
                }),
            }),
            min_ready_seconds: min_ready_seconds(r),
            revision_history_limit: Some(c.revision_history_limit),
            template: template(c, r, checksum),
            ..Default::default()
        }),
        ..Default::default()
    };
    Some(object(&d, &c.namespace, &name))
}

/// The replicants' HorizontalPodAutoscaler when Settings ask for one (an HPA of the input is
/// passed through instead).
pub fn autoscaler(c: &Cluster) -> Option<Object> {
    use k8s_openapi::api::autoscaling::v2::{
        CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    };
    let a = c.autoscaler.as_ref()?;
    let AutoscalerSource::Settings { metrics, behavior } = &a.source else {
        return None;
    };
    c.replicant.as_ref()?;
    let name = format!("{}-replicant", c.name);
    let hpa = HorizontalPodAutoscaler {
        metadata: meta(c, name.clone(), role_labels(c, RoleKind::Replicant)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: name.clone(),
            },
            min_replicas: Some(a.min_replicas),
            max_replicas: a.max_replicas,
            metrics: Some(metrics.clone()),
            behavior: behavior.clone(),
        }),
        ..Default::default()
    };
    Some(object(&hpa, &c.namespace, &name))
}

/// A PDB per role that sets minAvailable or maxUnavailable.
pub fn pdbs(c: &Cluster) -> Vec<Object> {
    let mut out = Vec::new();
    for r in std::iter::once(&c.core).chain(c.replicant.as_ref()) {
        if r.min_available.is_none() && r.max_unavailable.is_none() {
            continue;
        }
        let name = format!("{}-{}", c.name, r.kind.as_str());
        let pdb = PodDisruptionBudget {
            metadata: meta(c, name.clone(), merged(default_labels(c), &c.labels)),
            spec: Some(PodDisruptionBudgetSpec {
                min_available: r.min_available.clone(),
                max_unavailable: r.max_unavailable.clone(),
                selector: Some(selector(c, r.kind)),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(object(&pdb, &c.namespace, &name));
    }
    out
}

/// `minReadySeconds`, left out at its default 0: the API server does not store a zero, so a
/// written 0 would never read back from the live object (a perpetual diff for Argo CD).
fn min_ready_seconds(r: &Role) -> Option<i32> {
    (r.min_ready_seconds != 0).then_some(r.min_ready_seconds)
}
