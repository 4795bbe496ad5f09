//! What we will build: a cluster spec normalized into one model, every CRD default applied the
//! way the API server applies structural defaults, the HOCON config read into facts. This file
//! holds the model's types; the pipeline that fills them is, in order:
//!
//! - `front::v2`, `front::v3`: each generation's spec read into one generation-neutral input
//!   (`front::ClusterInput`), with the warnings only that generation's fields can cause;
//! - `rules`: the differences between generations as data (defaults, forced fields, layouts);
//! - `cluster` and `role`: the one builder of a `Cluster` and of a `Role` from that input;
//! - `layout`: the config files of each generation and the facts read from them;
//! - `evacuation`: the opt-in replicant evacuation; `secrets`: the Secrets Settings name;
//!   `platform`: what OpenShift refuses, taken out.
//!
//! `objects/` sees only these types.

pub mod autoscaling;
pub mod cluster;
pub mod config;
pub mod defaults;
pub mod evacuation;
pub mod front;
pub mod layout;
pub mod platform;
pub mod role;
pub mod roots;
pub mod rules;
pub mod secrets;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::hocon::facts::ConfigFacts;
use crate::version::Version;

/// A normalized cluster, ready to build.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub namespace: String,
    /// `metadata.labels` of the resource: the operator copies them to the headless Service,
    /// PDBs, Secrets and ConfigMap only.
    pub labels: BTreeMap<String, String>,
    pub image: String,
    /// `None`: the tag is not a version and none is stated; the current contract is assumed.
    pub version: Option<Version>,
    /// The version Settings state (`emqx.version`), which `version` is: the workloads carry it
    /// for `plan` (`emqx-render/emqx-version`).
    pub stated_version: Option<Version>,
    /// The edition Settings state (`emqx.edition`; `Some(true)`: Enterprise).
    pub stated_enterprise: Option<bool>,
    pub image_pull_policy: Option<String>,
    pub image_pull_secrets: Vec<core::LocalObjectReference>,
    pub service_account_name: Option<String>,
    pub cluster_domain: String,
    /// Which operator's object layout and environment contract to follow.
    pub generation: Generation,
    /// The config files, byte for byte.
    pub files: ConfigFiles,
    /// v3beta1: sha256 of the start-only roots (`apps.emqx.io/startup-config-revision`).
    pub startup_revision: Option<String>,
    pub facts: ConfigFacts,
    pub api_keys: ApiKeys,
    pub revision_history_limit: i32,
    /// `appProtocol: kubernetes.io/ws|wss` on WebSocket listener ports (Operator 3.x).
    pub app_protocol: bool,
    /// The replicant Deployment's rolling update: (maxSurge, maxUnavailable).
    pub replicant_rollout: (IntOrString, IntOrString),
    pub core: Role,
    pub replicant: Option<Role>,
    pub dashboard_service: Option<ServiceTemplate>,
    pub listeners_service: Option<ServiceTemplate>,
    /// The Erlang cookie's Secret when Settings names one (else `<name>-node-cookie`).
    pub cookie_ref: Option<crate::settings::SecretKey>,
    /// The HPA that owns the replicant count (the Deployment then has no `replicas`).
    pub autoscaler: Option<crate::settings::Autoscaler>,
}

impl Cluster {
    /// Whether the image is EMQX Enterprise: as stated, else as its reference says.
    pub fn enterprise(&self) -> bool {
        self.stated_enterprise
            .unwrap_or_else(|| crate::version::is_enterprise(&self.image, self.version))
    }
}

/// The object layout and environment a cluster gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Operator 2.0/2.2 (v2alpha1, v2beta1): config in `emqx.conf`, dashboard bind in the
    /// environment, bootstrap keys under `/opt/emqx/data` on every node.
    Legacy,
    /// Operator 2.3/3.x (v2, v3beta1): config in `base.hocon` (+ `emqx.conf`), no dashboard
    /// environment, bootstrap keys under `/opt/emqx/etc` on cores only.
    Modern,
}

/// The ConfigMap's files.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFiles {
    pub emqx_conf: String,
    /// Only in the Modern layout.
    pub base_hocon: Option<String>,
}

/// Bootstrap API keys: literal ones (they go into a Secret) and ones read from Secrets.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    pub literal: Vec<(String, String)>,
    pub refs: Vec<KeyRef>,
}

/// A key whose key and secret are read from Secrets inside the pod at start.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRef {
    pub key: KeySel,
    pub secret: KeySel,
    /// `administrator`, `viewer` or `publisher` (EMQX 5.4+ key file role column).
    pub role: Option<String>,
}

impl ApiKeys {
    pub fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.refs.is_empty()
    }
}

/// A key of a Secret.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySel {
    pub secret_name: String,
    pub secret_key: String,
}

/// Core or replicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    Core,
    Replicant,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Core => "core",
            RoleKind::Replicant => "replicant",
        }
    }
}

/// One role's pod and workload settings, defaults applied.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    /// `None` only when the template has no `spec` (the CRD then defaults nothing).
    pub replicas: Option<i32>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: PodSpec,
    pub pvc: Option<core::PersistentVolumeClaimSpec>,
    /// Container ports: the user's, then the dashboard's, merged the operator's way.
    pub ports: Vec<core::ContainerPort>,
    pub min_ready_seconds: i32,
    pub dns_config: Option<core::PodDNSConfig>,
    /// Set when the pods evacuate before they stop (`evacuation`).
    pub termination_grace_period_seconds: Option<i64>,
    /// The PodDisruptionBudget's bounds as written (v2beta1 and v2; at most one is set).
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

/// The pod and container fields every generation's role template has, as written (the CRD's
/// defaults are applied by `role::role`).
#[derive(Debug, Clone, Default)]
pub struct PodSpec {
    pub node_selector: Option<BTreeMap<String, String>>,
    pub node_name: Option<String>,
    pub affinity: Option<core::Affinity>,
    pub tolerations: Option<Vec<core::Toleration>>,
    pub topology_spread_constraints: Option<Vec<core::TopologySpreadConstraint>>,
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
}

/// A Service template: the user's metadata and spec; ports are merged and the selector set later.
#[derive(Debug, Clone, Default)]
pub struct ServiceTemplate {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: core::ServiceSpec,
}
