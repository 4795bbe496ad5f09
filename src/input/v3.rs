//! The `EMQX` resource of Operator 3.x (`apps.emqx.io/v3beta1`), in its newest shape
//! (`config.roots`) and its earlier one (`config.data`, which Operator 3.0 no longer reads), and
//! the `EMQXAPIKey` kind that names the Secret holding an API key.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::JsonSchema;
use serde::Deserialize;

/// A whole `apps.emqx.io/v3beta1` `kind: EMQX` document.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EmqxDoc {
    #[schemars(extend("const" = "apps.emqx.io/v3beta1"))]
    pub api_version: Option<String>,
    #[schemars(extend("const" = "EMQX"))]
    pub kind: Option<String>,
    pub metadata: Option<ObjectMeta>,
    pub spec: Option<EmqxSpec>,
    /// Written by the operator; ignored (with a warning) when present in the input.
    pub status: Option<serde_json::Value>,
}

/// `spec` of the v3beta1 `EMQX` resource.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EmqxSpec {
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    pub image_pull_secrets: Option<Vec<core::LocalObjectReference>>,
    pub service_account_name: Option<String>,
    pub config: Option<Config>,
    pub cluster_domain: Option<String>,
    pub revision_history_limit: Option<i32>,
    pub update_strategy: Option<UpdateStrategy>,
    pub core_template: Option<Template>,
    pub replicant_template: Option<Template>,
    pub dashboard_service_template: Option<ServiceTemplate>,
    pub listeners_service_template: Option<ServiceTemplate>,
}

/// `spec.config`: `roots` (newest) or `data`/`mode` (the earlier v3beta1 shape).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Config {
    /// Top-level EMQX configuration roots as YAML (`log: {console: {level: info}}`).
    pub roots: Option<BTreeMap<String, serde_json::Value>>,
    /// The earlier v3beta1 shape: HOCON text. Operator 3.0 no longer reads it.
    pub data: Option<String>,
    /// The earlier v3beta1 shape: Merge or Replace.
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct UpdateStrategy {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub evacuation_strategy: Option<EvacuationStrategy>,
    pub replicants: Option<ReplicantRollout>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EvacuationStrategy {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub connection_eviction_rate: Option<i32>,
    pub session_eviction_rate: Option<i32>,
    pub wait_takeover: Option<i32>,
    pub wait_health_check: Option<i32>,
}

/// `updateStrategy.replicants`: how the replicant rollout surges and drains.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ReplicantRollout {
    pub max_unavailable: Option<IntOrString>,
    pub max_surge: Option<IntOrString>,
}

/// `metadata` of a template: only labels and annotations.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TemplateMeta {
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Template {
    pub metadata: Option<TemplateMeta>,
    pub spec: Option<RoleSpec>,
}

/// `coreTemplate.spec` / `replicantTemplate.spec` of v3beta1.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RoleSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub node_name: Option<String>,
    pub affinity: Option<core::Affinity>,
    pub tolerations: Option<Vec<core::Toleration>>,
    pub topology_spread_constraints: Option<Vec<core::TopologySpreadConstraint>>,
    pub dns_config: Option<core::PodDNSConfig>,
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
    /// Core only: the data volume's claim (always present; RWO 500Mi by default).
    pub persistent_volume_claim_spec: Option<core::PersistentVolumeClaimSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceTemplate {
    pub enabled: Option<bool>,
    pub metadata: Option<TemplateMeta>,
    pub spec: Option<core::ServiceSpec>,
}

/// `apps.emqx.io/v3beta1` `kind: EMQXAPIKey`: an API key of a cluster, held in a Secret with the
/// keys `apiKey` and `apiSecret`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ApiKeyDoc {
    #[schemars(extend("const" = "apps.emqx.io/v3beta1"))]
    pub api_version: Option<String>,
    #[schemars(extend("const" = "EMQXAPIKey"))]
    pub kind: Option<String>,
    pub metadata: Option<ObjectMeta>,
    pub spec: Option<ApiKeySpec>,
    pub status: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ApiKeySpec {
    pub emqx_ref: Option<NameRef>,
    pub secret_ref: Option<NameRef>,
    pub description: Option<String>,
    /// Administrator (default), Viewer or Publisher.
    pub role: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct NameRef {
    pub name: Option<String>,
}
