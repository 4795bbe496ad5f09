//! The front ends: each generation's spec types (exact mirrors of its CRD, in `input`) read
//! into the one generation-neutral `ClusterInput`. What the generations share is read here once
//! (`common!`, `pod_spec!`, `template_parts!`); each front end reads only its own fields and
//! says which `Rules` apply.

pub mod v2;
pub mod v3;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::rules::Written;
use crate::settings::Settings;

/// The pod fields every generation's role spec has, by name: one list for every front end.
macro_rules! pod_spec {
    ($s:expr, tolerations: $tolerations:expr) => {{
        let s = $s;
        $crate::model::PodSpec {
            node_selector: s.node_selector.clone(),
            node_name: s.node_name.clone(),
            affinity: s.affinity.clone(),
            tolerations: $tolerations,
            topology_spread_constraints: s.topology_spread_constraints.clone(),
            command: s.command.clone(),
            args: s.args.clone(),
            ports: s.ports.clone(),
            env: s.env.clone(),
            env_from: s.env_from.clone(),
            resources: s.resources.clone(),
            pod_security_context: s.pod_security_context.clone(),
            container_security_context: s.container_security_context.clone(),
            init_containers: s.init_containers.clone(),
            extra_containers: s.extra_containers.clone(),
            extra_volumes: s.extra_volumes.clone(),
            extra_volume_mounts: s.extra_volume_mounts.clone(),
            liveness_probe: s.liveness_probe.clone(),
            readiness_probe: s.readiness_probe.clone(),
            startup_probe: s.startup_probe.clone(),
            lifecycle: s.lifecycle.clone(),
        }
    }};
}
pub(crate) use pod_spec;

/// The fields every generation's `EMQX` resource has, by name: `$doc` is the whole document.
macro_rules! common {
    ($doc:expr, $settings:expr) => {{
        let doc = $doc;
        let (mut meta_slot, mut spec_slot) = (None, None);
        let meta = $crate::model::front::or_default(doc.metadata.as_ref(), &mut meta_slot);
        let s = $crate::model::front::or_default(doc.spec.as_ref(), &mut spec_slot);
        $crate::model::cluster::Common {
            namespace: $crate::model::front::namespace(meta, $settings),
            name: meta.name.clone().unwrap_or_default(),
            labels: meta.labels.clone().unwrap_or_default(),
            image_pull_policy: s.image_pull_policy.clone(),
            image_pull_secrets: s.image_pull_secrets.clone().unwrap_or_default(),
            service_account_name: s.service_account_name.clone(),
            cluster_domain: s
                .cluster_domain
                .clone()
                .unwrap_or_else(|| $crate::model::defaults::CLUSTER_DOMAIN.to_string()),
            revision_history_limit: s
                .revision_history_limit
                .unwrap_or($crate::model::defaults::REVISION_HISTORY_LIMIT),
            dashboard_service: s
                .dashboard_service_template
                .as_ref()
                .map($crate::model::cluster::TemplateParts::from),
            listeners_service: s
                .listeners_service_template
                .as_ref()
                .map($crate::model::cluster::TemplateParts::from),
            exported: $crate::model::front::exported(meta, doc.status.is_some()),
        }
    }};
}
pub(crate) use common;

/// Every generation's Service templates have `enabled`, `metadata.labels/annotations`, `spec`.
macro_rules! template_parts {
    ($($t:ty),*) => {$(
        impl From<&$t> for $crate::model::cluster::TemplateParts {
            fn from(t: &$t) -> Self {
                let meta = t.metadata.clone().unwrap_or_default();
                let (name, namespace) = $crate::model::front::Named::name_and_namespace(&meta);
                $crate::model::cluster::TemplateParts {
                    enabled: t.enabled,
                    name,
                    namespace,
                    labels: meta.labels,
                    annotations: meta.annotations,
                    spec: t.spec.clone(),
                }
            }
        }
    )*};
}

/// A template's `metadata`: v2's is a whole ObjectMeta, v3beta1's has no name or namespace.
pub trait Named {
    fn name_and_namespace(&self) -> (Option<String>, Option<String>);
}

impl Named for ObjectMeta {
    fn name_and_namespace(&self) -> (Option<String>, Option<String>) {
        (self.name.clone(), self.namespace.clone())
    }
}

impl Named for crate::input::v3::TemplateMeta {
    fn name_and_namespace(&self) -> (Option<String>, Option<String>) {
        (None, None)
    }
}

template_parts!(
    crate::input::v2::ServiceTemplate,
    crate::input::v3::ServiceTemplate
);

/// The value, or a default kept in `slot`: a borrowed view of an optional part of a spec, so
/// that reading it copies only the fields taken.
pub fn or_default<'a, T: Default>(v: Option<&'a T>, slot: &'a mut Option<T>) -> &'a T {
    match v {
        Some(v) => v,
        None => slot.get_or_insert_with(T::default),
    }
}

/// The cluster's namespace: the resource's own, else the Settings' default.
pub fn namespace(meta: &ObjectMeta, settings: &Settings) -> String {
    meta.namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| settings.namespace.clone())
}

/// The annotation `kubectl apply` keeps the applied configuration in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The fields an export (`kubectl get -o yaml`) adds to what was written, present in `meta`.
pub fn exported(meta: &ObjectMeta, status: bool) -> Vec<&'static str> {
    let present = [
        ("metadata.managedFields", meta.managed_fields.is_some()),
        ("metadata.resourceVersion", meta.resource_version.is_some()),
        ("metadata.uid", meta.uid.is_some()),
        (
            "metadata.creationTimestamp",
            meta.creation_timestamp.is_some(),
        ),
        ("metadata.generation", meta.generation.is_some()),
        ("metadata.selfLink", meta.self_link.is_some()),
        (
            "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration",
            meta.annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(LAST_APPLIED)),
        ),
        ("status", status),
    ];
    present
        .into_iter()
        .filter_map(|(f, here)| here.then_some(f))
        .collect()
}

/// How much of a template is written.
pub fn written<T, S>(tpl: Option<&T>, spec: impl Fn(&T) -> Option<&S>) -> Written {
    match tpl {
        None => Written::Nothing,
        Some(t) if spec(t).is_none() => Written::TemplateOnly,
        Some(_) => Written::Spec,
    }
}
