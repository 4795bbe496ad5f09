//! The `EMQX` resource of Operator 2.x (`apps.emqx.io/v2alpha1`, `v2beta1`, `v2`) as the user
//! writes it: one superset of the three versions' fields. Which field exists in which version is
//! checked by `input::gate`, so a field from the wrong version is reported, not silently accepted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::JsonSchema;
use serde::Deserialize;

/// A whole `kind: EMQX` document.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EmqxDoc {
    /// The operator generation: `apps.emqx.io/v2` (Operator 2.3), `v2beta1` (2.2) or `v2alpha1` (2.0).
    #[schemars(extend("enum" = ["apps.emqx.io/v2", "apps.emqx.io/v2beta1", "apps.emqx.io/v2alpha1"]))]
    pub api_version: Option<String>,
    #[schemars(extend("const" = "EMQX"))]
    pub kind: Option<String>,
    pub metadata: Option<ObjectMeta>,
    pub spec: Option<EmqxSpec>,
    /// Written by the operator; ignored (with a warning) when present in the input.
    pub status: Option<serde_json::Value>,
}

/// `spec` of the `EMQX` resource.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EmqxSpec {
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    pub image_pull_secrets: Option<Vec<core::LocalObjectReference>>,
    pub service_account_name: Option<String>,
    #[serde(rename = "bootstrapAPIKeys")]
    pub bootstrap_api_keys: Option<Vec<BootstrapApiKey>>,
    /// v2alpha1 only: the HOCON config (v2beta1 `config.data`).
    pub bootstrap_config: Option<String>,
    /// v2alpha1 only, and never real: the 2022 announcement's `emqxTemplate.image`.
    pub emqx_template: Option<EmqxTemplateAlias>,
    pub config: Option<Config>,
    pub cluster_domain: Option<String>,
    pub revision_history_limit: Option<i32>,
    pub update_strategy: Option<UpdateStrategy>,
    pub core_template: Option<Template>,
    pub replicant_template: Option<Template>,
    pub dashboard_service_template: Option<ServiceTemplate>,
    pub listeners_service_template: Option<ServiceTemplate>,
}

/// `spec.emqxTemplate` (the v1beta3/v1beta4 shape the 2022 blog used by mistake).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EmqxTemplateAlias {
    pub image: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Config {
    pub mode: Option<String>,
    pub data: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct UpdateStrategy {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub initial_delay_seconds: Option<i32>,
    pub evacuation_strategy: Option<EvacuationStrategy>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EvacuationStrategy {
    pub wait_takeover: Option<i32>,
    /// apps.emqx.io/v2 only.
    pub wait_health_check: Option<i32>,
    pub conn_evict_rate: Option<i32>,
    pub sess_evict_rate: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BootstrapApiKey {
    pub key: Option<String>,
    pub secret: Option<String>,
    pub secret_ref: Option<SecretRef>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SecretRef {
    pub key: Option<KeyRef>,
    pub secret: Option<KeyRef>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KeyRef {
    pub secret_name: Option<String>,
    pub secret_key: Option<String>,
}

/// `coreTemplate` / `replicantTemplate`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Template {
    pub metadata: Option<ObjectMeta>,
    pub spec: Option<RoleSpec>,
}

/// `coreTemplate.spec` / `replicantTemplate.spec` (replicants have no `volumeClaimTemplates`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RoleSpec {
    pub replicas: Option<i32>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub node_name: Option<String>,
    pub affinity: Option<core::Affinity>,
    pub tolerations: Option<Vec<core::Toleration>>,
    #[serde(rename = "toleRations")]
    pub tole_rations: Option<Vec<core::Toleration>>,
    pub topology_spread_constraints: Option<Vec<core::TopologySpreadConstraint>>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub ports: Option<Vec<core::ContainerPort>>,
    pub env: Option<Vec<core::EnvVar>>,
    pub env_from: Option<Vec<core::EnvFromSource>>,
    pub resources: Option<core::ResourceRequirements>,
    pub pod_security_context: Option<core::PodSecurityContext>,
    pub container_security_context: Option<core::SecurityContext>,
    pub init_containers: Option<Vec<core::Container>>,
    pub extra_containers: Option<Vec<core::Container>>,
    pub extra_volumes: Option<Vec<core::Volume>>,
    pub extra_volume_mounts: Option<Vec<core::VolumeMount>>,
    pub liveness_probe: Option<core::Probe>,
    pub readiness_probe: Option<core::Probe>,
    pub startup_probe: Option<core::Probe>,
    pub lifecycle: Option<core::Lifecycle>,
    pub volume_claim_templates: Option<core::PersistentVolumeClaimSpec>,
}

/// `dashboardServiceTemplate` / `listenersServiceTemplate`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceTemplate {
    pub enabled: Option<bool>,
    pub metadata: Option<ObjectMeta>,
    pub spec: Option<core::ServiceSpec>,
    /// v2alpha1 templates are whole Services; their `status` is ignored.
    pub status: Option<serde_json::Value>,
}
