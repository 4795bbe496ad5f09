//! The `kind: Settings` document as the user writes it (emqx-render's own settings and the
//! opt-in extras), with its field lists for did-you-mean hints. Resolving it (layers, flags,
//! checks) is `crate::settings`.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use super::fields::fields_of;
use crate::yaml::Seg;

/// `monitoring.kind` values.
pub const POD_MONITOR: &str = "PodMonitor";
pub const SERVICE_MONITOR: &str = "ServiceMonitor";

/// emqx-render's own settings, as a document in the spec file.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SettingsDoc {
    #[schemars(extend("const" = "emqx-render/v1alpha1"))]
    pub api_version: Option<String>,
    #[schemars(extend("const" = "Settings"))]
    pub kind: Option<String>,
    /// Not used by the render; kpt needs `metadata.name` on a functionConfig.
    pub metadata: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    /// Kubernetes version to render for, tested 1.27 to 1.37 (default 1.27).
    pub kubernetes_version: Option<String>,
    /// Namespace of clusters whose spec names none (default `default`).
    pub namespace: Option<String>,
    /// Argo CD sync-wave annotations: shared objects in wave 0, the core StatefulSet in 1, the
    /// replicant Deployment in 2 (default true).
    pub sync_waves: Option<bool>,
    /// Keep Flux post-build variables (`${CLUSTER_DOMAIN}`) in the output for Flux to fill in,
    /// instead of refusing them where a name or a domain is checked (default false).
    pub keep_variables: Option<bool>,
    /// The EMQX edition and version of the image, stated for mirrors whose repository or tag
    /// does not say them (`registry.corp/vendor/emqx-ee:5.8.6`, a digest alone, a `${VERSION}`
    /// tag): `--emqx-edition`, `--emqx-version`.
    pub emqx: Option<EmqxImageDoc>,
    /// The platform the pods run on: `kubernetes` (default) or `openshift`, whose
    /// `restricted-v2` SCC assigns the UID, GID and fsGroup from the namespace's range.
    #[schemars(extend("enum" = ["kubernetes", "openshift"]))]
    pub platform: Option<String>,
    /// A NetworkPolicy per cluster: only its own pods reach ports 4370 and 5369, clients the
    /// listener and dashboard ports (default false). `true`, or the sources allowed in.
    pub network_policy: Option<NetworkPolicyDoc>,
    /// Read the EMQX licence from an existing Secret: `EMQX_LICENSE__KEY` on every EMQX container
    /// (key default `license`).
    pub license: Option<SecretKeyDoc>,
    /// Read the Erlang cookie from an existing Secret instead of `<cluster>-node-cookie`
    /// (key default `node_cookie`).
    pub cookie: Option<SecretKeyDoc>,
    /// Create a ServiceAccount for the EMQX pods (no RBAC: EMQX needs none).
    pub service_account: Option<ServiceAccountDoc>,
    /// A HorizontalPodAutoscaler for each cluster's replicants; the Deployment then leaves
    /// `replicas` to it.
    pub autoscaling: Option<AutoscalingDoc>,
    /// Ingresses for the dashboard and for MQTT over WebSocket.
    pub ingress: Option<IngressesDoc>,
    /// A Prometheus Operator PodMonitor or ServiceMonitor.
    pub monitoring: Option<MonitoringDoc>,
    /// A certificate for the TLS listeners, from cert-manager or an existing Secret.
    pub tls: Option<TlsDoc>,
    /// Running clusters to take over in place: the existing core StatefulSet's name, selector and
    /// claim templates (`emqx-render adopt` writes this), so that its claims and node names stay.
    pub adopt: Option<Vec<AdoptDoc>>,
    /// Patches applied to the rendered objects, last, as kustomize's `patches` (strategic merge
    /// or JSON 6902): for the fields the CRD does not carry.
    pub patches: Option<Vec<PatchDoc>>,
}

impl SettingsDoc {
    /// `over` laid on top: each field `over` gives replaces this document's whole field.
    pub fn overlay(&mut self, over: &SettingsDoc) {
        macro_rules! take {
            ($($f:ident),*) => {$(
                if over.$f.is_some() {
                    self.$f = over.$f.clone();
                }
            )*};
        }
        take!(
            kubernetes_version,
            namespace,
            sync_waves,
            keep_variables,
            platform,
            emqx,
            network_policy,
            license,
            cookie,
            service_account,
            autoscaling,
            ingress,
            monitoring,
            tls,
            adopt,
            patches
        );
    }
}

/// `emqx` in Settings.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct EmqxImageDoc {
    /// `opensource` or `enterprise`.
    #[schemars(extend("enum" = ["opensource", "enterprise"]))]
    pub edition: Option<String>,
    /// The EMQX version the image holds, e.g. `5.8.6`.
    pub version: Option<String>,
}

/// `serviceAccount` in Settings.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceAccountDoc {
    /// Create it (default false).
    pub create: Option<bool>,
    /// Its name (default: the spec's serviceAccountName, else the cluster's name).
    pub name: Option<String>,
}

/// `autoscaling` in Settings: the replicants' HorizontalPodAutoscaler (`autoscaling/v2`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AutoscalingDoc {
    /// The fewest replicants (default 1).
    pub min_replicas: Option<i32>,
    /// The most replicants (required).
    pub max_replicas: Option<i32>,
    /// The average CPU use, in percent of the requests, to keep the replicants at (default 80
    /// when no `metrics` are given).
    #[serde(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu_utilization_percentage: Option<i32>,
    /// The HPA's own metrics, instead of the CPU target.
    pub metrics: Option<Vec<k8s_openapi::api::autoscaling::v2::MetricSpec>>,
    /// The HPA's scaling behavior (stabilization windows, policies).
    pub behavior: Option<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior>,
}

/// One entry of `adopt`: a running cluster's core StatefulSet, as it exists.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AdoptDoc {
    /// The EMQX resource's name.
    pub cluster: Option<String>,
    /// Its namespace (default: the Settings namespace).
    pub namespace: Option<String>,
    /// The existing core StatefulSet.
    pub core_stateful_set: Option<AdoptStatefulSetDoc>,
    /// The name clients reach the listeners under, when it is not `<cluster>-listeners` (a Helm
    /// release's client Service `<fullname>`): the listeners Service is rendered under it.
    pub listeners_service: Option<String>,
}

/// `adopt[].coreStatefulSet`: the fields a StatefulSet cannot change, as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AdoptStatefulSetDoc {
    pub name: Option<String>,
    /// `spec.selector.matchLabels`.
    pub selector: Option<BTreeMap<String, String>>,
    /// `spec.serviceName`.
    pub service_name: Option<String>,
    /// `spec.volumeClaimTemplates`, as they are.
    pub volume_claim_templates: Option<Vec<k8s_openapi::api::core::v1::PersistentVolumeClaim>>,
}

/// One entry of `patches`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PatchDoc {
    /// The objects to patch (every field given must match). A strategic-merge patch may leave
    /// it out and name its object itself (`apiVersion`, `kind`, `metadata.name`).
    pub target: Option<PatchTargetDoc>,
    /// A strategic-merge patch (a mapping) or a JSON 6902 patch (a list of operations), as YAML
    /// or as a string holding YAML (kustomize's form).
    pub patch: Option<serde_json::Value>,
}

/// `patches[].target`, as kustomize selects.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PatchTargetDoc {
    /// API group (`apps`; empty for core objects).
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

/// A key of an existing Secret, named by reference (its value never enters the render).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SecretKeyDoc {
    pub secret_name: Option<String>,
    pub key: Option<String>,
}

/// Field names of the settings document, for did-you-mean hints.
pub fn fields_at(path: &[Seg]) -> &'static [&'static str] {
    match path {
        [] => fields_of::<SettingsDoc>(),
        [Seg::Key(k)] if k == "license" || k == "cookie" => fields_of::<SecretKeyDoc>(),
        [Seg::Key(k)] if k == "serviceAccount" => fields_of::<ServiceAccountDoc>(),
        [Seg::Key(k)] if k == "emqx" => fields_of::<EmqxImageDoc>(),
        [Seg::Key(k)] if k == "autoscaling" => fields_of::<AutoscalingDoc>(),
        [Seg::Key(k), Seg::Index(_)] if k == "patches" => fields_of::<PatchDoc>(),
        [Seg::Key(k), Seg::Index(_)] if k == "adopt" => fields_of::<AdoptDoc>(),
        [Seg::Key(k), Seg::Index(_), Seg::Key(c)] if k == "adopt" && c == "coreStatefulSet" => {
            fields_of::<AdoptStatefulSetDoc>()
        }
        [Seg::Key(k), Seg::Index(_), Seg::Key(t)] if k == "patches" && t == "target" => {
            fields_of::<PatchTargetDoc>()
        }
        [Seg::Key(k)] if k == "networkPolicy" => fields_of::<NetworkPolicyRules>(),
        [Seg::Key(k)] if k == "ingress" => fields_of::<IngressesDoc>(),
        [Seg::Key(k), Seg::Key(_)] if k == "ingress" => fields_of::<IngressDoc>(),
        [Seg::Key(k)] if k == "monitoring" => fields_of::<MonitoringDoc>(),
        [Seg::Key(k), Seg::Key(a)] if k == "monitoring" && a == "apiKeySecret" => {
            fields_of::<ApiKeySecretDoc>()
        }
        [Seg::Key(k)] if k == "tls" => fields_of::<TlsDoc>(),
        [Seg::Key(k), Seg::Key(c)] if k == "tls" && c == "certManager" => {
            fields_of::<CertManagerDoc>()
        }
        _ => &[],
    }
}

/// `networkPolicy`: `true`/`false`, or the sources allowed to reach the client ports.
#[derive(Debug, Clone, PartialEq, schemars::JsonSchema)]
#[schemars(untagged)]
pub enum NetworkPolicyDoc {
    Switch(bool),
    Rules(NetworkPolicyRules),
}

/// `networkPolicy` as an object: the policy is on; listener and dashboard ports are open to
/// every source unless a list of sources is given.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct NetworkPolicyRules {
    /// Write the policy (default true when this object is given).
    pub enabled: Option<bool>,
    /// Who may reach the MQTT listener and gateway ports (NetworkPolicy peers; default anyone).
    pub listeners_from: Option<Vec<NetworkPolicyPeer>>,
    /// Who may reach the dashboard and REST API port (NetworkPolicy peers; default anyone).
    /// Prometheus must be among them when `monitoring` is on.
    pub dashboard_from: Option<Vec<NetworkPolicyPeer>>,
}

impl<'de> Deserialize<'de> for NetworkPolicyDoc {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NetworkPolicyDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false, or {listenersFrom, dashboardFrom}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(NetworkPolicyDoc::Switch(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                NetworkPolicyRules::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(NetworkPolicyDoc::Rules)
            }
        }
        d.deserialize_any(V)
    }
}

impl NetworkPolicyDoc {
    /// The rules when the policy is on.
    pub fn rules(&self) -> Option<NetworkPolicyRules> {
        match self {
            NetworkPolicyDoc::Switch(true) => Some(NetworkPolicyRules::default()),
            NetworkPolicyDoc::Switch(false) => None,
            NetworkPolicyDoc::Rules(r) => r.on().then(|| r.clone()),
        }
    }
}

/// `ingress`: an Ingress for the dashboard, one for MQTT over WebSocket, or both.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IngressesDoc {
    /// The dashboard and REST API (Service `<cluster>-dashboard`, port `dashboard`).
    pub dashboard: Option<IngressDoc>,
    /// MQTT over WebSocket (Service `<cluster>-listeners`, the `ws` listener's port).
    pub websocket: Option<IngressDoc>,
}

/// One Ingress.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IngressDoc {
    /// Write it (default true when this object is given).
    pub enabled: Option<bool>,
    /// `spec.ingressClassName` (default: the cluster's default class).
    pub class_name: Option<String>,
    /// Host names the Ingress answers (at least one).
    pub hosts: Option<Vec<String>>,
    /// Path (default `/` for the dashboard, the listener's `websocket.mqtt_path` for WebSocket).
    pub path: Option<String>,
    /// `Prefix` (default), `Exact` or `ImplementationSpecific`.
    pub path_type: Option<String>,
    /// TLS Secret for the hosts (terminated at the Ingress); none: plain HTTP.
    pub tls_secret_name: Option<String>,
    /// Annotations for the Ingress controller.
    pub annotations: Option<BTreeMap<String, String>>,
    /// WebSocket only: the listener, as its port name (`ws-default`; default the first
    /// enabled `ws` listener).
    pub listener: Option<String>,
}

/// `monitoring`: a Prometheus Operator PodMonitor (or ServiceMonitor) scraping
/// `/api/v5/prometheus/stats` on every EMQX pod.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct MonitoringDoc {
    /// Write it (default true when this object is given).
    pub enabled: Option<bool>,
    /// `PodMonitor` (default) or `ServiceMonitor` (with a headless `<cluster>-metrics` Service).
    pub kind: Option<String>,
    /// Scrape interval, e.g. `15s` (default: Prometheus's global interval).
    pub interval: Option<String>,
    /// Scrape timeout, e.g. `10s`.
    pub scrape_timeout: Option<String>,
    /// Labels for the monitor, for the Prometheus resource's monitor selector.
    pub labels: Option<BTreeMap<String, String>>,
    /// The Secret holding the API key Prometheus authenticates with (HTTP basic auth; EMQX 6.3
    /// and later require it unless `prometheus.enable_basic_auth = false`).
    pub api_key_secret: Option<ApiKeySecretDoc>,
}

/// An API key in an existing Secret, by reference.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ApiKeySecretDoc {
    pub secret_name: Option<String>,
    /// Key holding the API key (default `apiKey`, as an EMQXAPIKey's Secret).
    pub key_key: Option<String>,
    /// Key holding the API secret (default `apiSecret`).
    pub secret_key: Option<String>,
}

/// `tls`: a certificate for the TLS listeners, from cert-manager or an existing Secret,
/// mounted into every EMQX pod and written into the listeners' `ssl_options`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct TlsDoc {
    /// Apply it (default true when this object is given).
    pub enabled: Option<bool>,
    /// The `kubernetes.io/tls` Secret (default with certManager `<cluster>-tls`; required without).
    pub secret_name: Option<String>,
    /// Have cert-manager issue the Secret.
    pub cert_manager: Option<CertManagerDoc>,
    /// Listeners to serve it, as port names (default every enabled `ssl` and `wss` listener;
    /// `quic` listeners may be named).
    pub listeners: Option<Vec<String>>,
    /// Also set `cacertfile` to the Secret's `ca.crt` (for client certificates, mTLS).
    pub ca_cert: Option<bool>,
}

/// The cert-manager `Certificate` to write.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CertManagerDoc {
    /// The issuer's name (required).
    pub issuer_name: Option<String>,
    /// `Issuer` (default) or `ClusterIssuer`.
    pub issuer_kind: Option<String>,
    /// The issuer's API group (default `cert-manager.io`).
    pub issuer_group: Option<String>,
    /// DNS names besides the listeners Service's own: the names clients use from outside.
    pub dns_names: Option<Vec<String>>,
    /// Include the listeners Service's names (`<cluster>-listeners`, `.<ns>`, `.<ns>.svc`,
    /// `.<ns>.svc.<clusterDomain>`; default true). Public ACME issuers such as Let's Encrypt
    /// refuse these internal names: set false and list the public names in `dnsNames`.
    pub service_dns_names: Option<bool>,
    /// Certificate lifetime, e.g. `2160h` (default cert-manager's, 90 days).
    pub duration: Option<String>,
    /// Renew this long before expiry, e.g. `360h`.
    pub renew_before: Option<String>,
}

/// An extra given as an object is on unless it says `enabled: false`.
macro_rules! switchable {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn on(&self) -> bool {
                self.enabled != Some(false)
            }
        }
    )*};
}

switchable!(IngressDoc, MonitoringDoc, TlsDoc, NetworkPolicyRules);
