//! Field names of the types a spec path leads to, read from the types' own `Deserialize` impls,
//! so that an unknown field can be answered with "did you mean ...?" — inside embedded
//! Kubernetes types (`resources.limts`) as well as in our own.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{self, Visitor};

use super::{v2, v3};
use crate::yaml::Seg;

/// The field names `T` accepts (empty if `T` is not a struct).
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut found: &'static [&'static str] = &[];
    let _ = T::deserialize(Capture(&mut found));
    found
}

struct Capture<'a>(&'a mut &'static [&'static str]);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probe")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for Capture<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = fields;
        Err(Stop)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Stop> {
        v.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

fn keys(path: &[Seg]) -> Vec<&str> {
    path.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect()
}

/// The fields of the object at `path` in an `EMQX` document, when its type is known.
pub fn fields_at(path: &[Seg]) -> &'static [&'static str] {
    let k = keys(path);
    match k.as_slice() {
        [] => fields_of::<v2::EmqxDoc>(),
        ["spec"] => fields_of::<v2::EmqxSpec>(),
        ["spec", "config"] => fields_of::<v2::Config>(),
        ["spec", "emqxTemplate"] => fields_of::<v2::EmqxTemplateAlias>(),
        ["spec", "updateStrategy"] => fields_of::<v2::UpdateStrategy>(),
        ["spec", "updateStrategy", "evacuationStrategy"] => fields_of::<v2::EvacuationStrategy>(),
        ["spec", "bootstrapAPIKeys"] => fields_of::<v2::BootstrapApiKey>(),
        ["spec", "bootstrapAPIKeys", "secretRef"] => fields_of::<v2::SecretRef>(),
        ["spec", "bootstrapAPIKeys", "secretRef", _] => fields_of::<v2::KeyRef>(),
        ["spec", "coreTemplate" | "replicantTemplate"] => fields_of::<v2::Template>(),
        ["spec", "coreTemplate" | "replicantTemplate", "spec"] => fields_of::<v2::RoleSpec>(),
        [
            "spec",
            "dashboardServiceTemplate" | "listenersServiceTemplate",
        ] => fields_of::<v2::ServiceTemplate>(),
        [
            "spec",
            "dashboardServiceTemplate" | "listenersServiceTemplate",
            "spec",
            rest @ ..,
        ] => service_spec_fields(rest),
        [.., last] => k8s_fields(last),
    }
}

/// The fields of the object at `path` in an `apps.emqx.io/v3beta1` `EMQX` document.
pub fn fields_at_v3(path: &[Seg]) -> &'static [&'static str] {
    let k = keys(path);
    match k.as_slice() {
        [] => fields_of::<v3::EmqxDoc>(),
        ["spec"] => fields_of::<v3::EmqxSpec>(),
        ["spec", "config"] => fields_of::<v3::Config>(),
        // Anything under config.roots is EMQX's own configuration.
        ["spec", "config", "roots", ..] => &[],
        ["spec", "updateStrategy"] => fields_of::<v3::UpdateStrategy>(),
        ["spec", "updateStrategy", "evacuationStrategy"] => fields_of::<v3::EvacuationStrategy>(),
        ["spec", "updateStrategy", "replicants"] => fields_of::<v3::ReplicantRollout>(),
        ["spec", "coreTemplate" | "replicantTemplate"] => fields_of::<v3::Template>(),
        ["spec", "coreTemplate" | "replicantTemplate", "metadata"] => {
            fields_of::<v3::TemplateMeta>()
        }
        ["spec", "coreTemplate" | "replicantTemplate", "spec"] => fields_of::<v3::RoleSpec>(),
        ["spec", "coreTemplate", "spec", "persistentVolumeClaimSpec"] => {
            fields_of::<core::PersistentVolumeClaimSpec>()
        }
        [
            "spec",
            "dashboardServiceTemplate" | "listenersServiceTemplate",
        ] => fields_of::<v3::ServiceTemplate>(),
        [
            "spec",
            "dashboardServiceTemplate" | "listenersServiceTemplate",
            "metadata",
        ] => fields_of::<v3::TemplateMeta>(),
        [
            "spec",
            "dashboardServiceTemplate" | "listenersServiceTemplate",
            "spec",
            rest @ ..,
        ] => service_spec_fields(rest),
        ["spec", _, "spec", "dnsConfig"] => fields_of::<core::PodDNSConfig>(),
        [.., last] => k8s_fields(last),
    }
}

/// The fields of the object at `path` in an `EMQXAPIKey` document.
pub fn fields_at_api_key(path: &[Seg]) -> &'static [&'static str] {
    match keys(path).as_slice() {
        [] => fields_of::<v3::ApiKeyDoc>(),
        ["spec"] => fields_of::<v3::ApiKeySpec>(),
        ["spec", "emqxRef" | "secretRef"] => fields_of::<v3::NameRef>(),
        ["metadata"] => fields_of::<ObjectMeta>(),
        _ => &[],
    }
}

/// Inside a Service template's `spec` (the same Kubernetes type in every generation).
fn service_spec_fields(rest: &[&str]) -> &'static [&'static str] {
    match rest {
        [] => fields_of::<core::ServiceSpec>(),
        ["ports"] => fields_of::<core::ServicePort>(),
        [.., last] => k8s_fields(last),
    }
}

/// Embedded Kubernetes types, known by the field that holds them.
fn k8s_fields(key: &str) -> &'static [&'static str] {
    match key {
        "metadata" => fields_of::<ObjectMeta>(),
        "resources" => fields_of::<core::ResourceRequirements>(),
        "env" => fields_of::<core::EnvVar>(),
        "valueFrom" => fields_of::<core::EnvVarSource>(),
        "secretKeyRef" => fields_of::<core::SecretKeySelector>(),
        "configMapKeyRef" => fields_of::<core::ConfigMapKeySelector>(),
        "fieldRef" => fields_of::<core::ObjectFieldSelector>(),
        "envFrom" => fields_of::<core::EnvFromSource>(),
        "ports" => fields_of::<core::ContainerPort>(),
        "livenessProbe" | "readinessProbe" | "startupProbe" => fields_of::<core::Probe>(),
        "httpGet" => fields_of::<core::HTTPGetAction>(),
        "tcpSocket" => fields_of::<core::TCPSocketAction>(),
        "exec" => fields_of::<core::ExecAction>(),
        "lifecycle" => fields_of::<core::Lifecycle>(),
        "preStop" | "postStart" => fields_of::<core::LifecycleHandler>(),
        "podSecurityContext" => fields_of::<core::PodSecurityContext>(),
        "containerSecurityContext" | "securityContext" => fields_of::<core::SecurityContext>(),
        "capabilities" => fields_of::<core::Capabilities>(),
        "seccompProfile" => fields_of::<core::SeccompProfile>(),
        "affinity" => fields_of::<core::Affinity>(),
        "nodeAffinity" => fields_of::<core::NodeAffinity>(),
        "podAffinity" => fields_of::<core::PodAffinity>(),
        "podAntiAffinity" => fields_of::<core::PodAntiAffinity>(),
        "tolerations" | "toleRations" => fields_of::<core::Toleration>(),
        "topologySpreadConstraints" => fields_of::<core::TopologySpreadConstraint>(),
        "volumeClaimTemplates" => fields_of::<core::PersistentVolumeClaimSpec>(),
        "extraVolumes" | "volumes" => fields_of::<core::Volume>(),
        "extraVolumeMounts" | "volumeMounts" => fields_of::<core::VolumeMount>(),
        "initContainers" | "extraContainers" | "containers" => fields_of::<core::Container>(),
        "emptyDir" => fields_of::<core::EmptyDirVolumeSource>(),
        "configMap" => fields_of::<core::ConfigMapVolumeSource>(),
        "secret" => fields_of::<core::SecretVolumeSource>(),
        "persistentVolumeClaim" => fields_of::<core::PersistentVolumeClaimVolumeSource>(),
        "imagePullSecrets" => fields_of::<core::LocalObjectReference>(),
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_field_lists_from_types() {
        assert!(fields_of::<core::ResourceRequirements>().contains(&"limits"));
        assert!(fields_of::<v2::RoleSpec>().contains(&"toleRations"));
        let p = [
            Seg::Key("spec".into()),
            Seg::Key("coreTemplate".into()),
            Seg::Key("spec".into()),
            Seg::Key("env".into()),
            Seg::Index(0),
        ];
        assert!(fields_at(&p).contains(&"value"));
    }
}
