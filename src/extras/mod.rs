//! Opt-in extras around a cluster that the operator's resource cannot express and the Helm chart
//! offers: Ingresses, a Prometheus Operator monitor, listener TLS certificates, NetworkPolicy
//! sources. Each is off unless the Settings name it; each is a typed document here and a typed
//! object in the render.

pub mod ingress;
pub mod monitoring;
pub mod tls;

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use crate::diag::Diagnostic;
use crate::manifest::Object;
use crate::model::Cluster;

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

/// The extras that the Settings switch on, after the checks that need no cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    pub network_policy: Option<NetworkPolicyRules>,
    pub dashboard_ingress: Option<IngressDoc>,
    pub websocket_ingress: Option<IngressDoc>,
    pub monitoring: Option<MonitoringDoc>,
    pub tls: Option<TlsDoc>,
}

fn required(field: &str, v: &Option<String>, help: &str) -> Result<(), Box<Diagnostic>> {
    if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(Box::new(
            Diagnostic::error("settings-required", field, "is required").help(help),
        ));
    }
    Ok(())
}

fn one_of(field: &str, v: &Option<String>, allowed: &[&str]) -> Result<(), Box<Diagnostic>> {
    match v.as_deref() {
        Some(x) if !allowed.contains(&x) => Err(Box::new(
            Diagnostic::error("settings-value", field, format!("`{x}` is not allowed"))
                .help(format!("write one of {}", allowed.join(", "))),
        )),
        _ => Ok(()),
    }
}

fn check_ingress(field: &str, i: &IngressDoc, websocket: bool) -> Result<(), Box<Diagnostic>> {
    if i.hosts.as_ref().is_none_or(|h| h.is_empty()) {
        return Err(Box::new(
            Diagnostic::error("settings-required", format!("{field}.hosts"), "names no host")
                .help("write `hosts: [emqx.example.com]`: an Ingress without a host would take every host of its class"),
        ));
    }
    one_of(
        &format!("{field}.pathType"),
        &i.path_type,
        &["Prefix", "Exact", "ImplementationSpecific"],
    )?;
    if !websocket && i.listener.is_some() {
        return Err(Box::new(
            Diagnostic::error(
                "settings-value",
                format!("{field}.listener"),
                "is for the websocket Ingress only",
            )
            .help("remove it: the dashboard Ingress always points at the dashboard Service"),
        ));
    }
    Ok(())
}

fn check_peers(field: &str, peers: &Option<Vec<NetworkPolicyPeer>>) -> Result<(), Box<Diagnostic>> {
    if peers.as_ref().is_some_and(Vec::is_empty) {
        return Err(Box::new(
            Diagnostic::error("settings-value", field, "is an empty list").help("leave it out to let every source in, or name the sources (podSelector, namespaceSelector, ipBlock)"),
        ));
    }
    Ok(())
}

impl Extras {
    /// Reads the extras of a Settings document; `network_policy` is the switch already layered
    /// with flags and environment.
    pub fn resolve(
        doc: &crate::settings::SettingsDoc,
        network_policy: Option<NetworkPolicyRules>,
    ) -> Result<Extras, Box<Diagnostic>> {
        if let Some(r) = &network_policy {
            check_peers("networkPolicy.listenersFrom", &r.listeners_from)?;
            check_peers("networkPolicy.dashboardFrom", &r.dashboard_from)?;
        }
        let ingress = doc.ingress.clone().unwrap_or_default();
        let dashboard_ingress = ingress.dashboard.filter(IngressDoc::on);
        if let Some(i) = &dashboard_ingress {
            check_ingress("ingress.dashboard", i, false)?;
        }
        let websocket_ingress = ingress.websocket.filter(IngressDoc::on);
        if let Some(i) = &websocket_ingress {
            check_ingress("ingress.websocket", i, true)?;
        }
        let monitoring = doc.monitoring.clone().filter(MonitoringDoc::on);
        if let Some(m) = &monitoring {
            one_of(
                "monitoring.kind",
                &m.kind,
                &[monitoring::POD_MONITOR, monitoring::SERVICE_MONITOR],
            )?;
            if let Some(k) = &m.api_key_secret {
                required(
                    "monitoring.apiKeySecret.secretName",
                    &k.secret_name,
                    "name the Secret that holds the API key and secret: `apiKeySecret: {secretName: emqx-prometheus}`",
                )?;
            }
        }
        let tls = doc.tls.clone().filter(TlsDoc::on);
        if let Some(t) = &tls {
            match &t.cert_manager {
                Some(cm) => {
                    required(
                        "tls.certManager.issuerName",
                        &cm.issuer_name,
                        "name the cert-manager Issuer or ClusterIssuer: `certManager: {issuerName: letsencrypt, issuerKind: ClusterIssuer}`",
                    )?;
                    one_of(
                        "tls.certManager.issuerKind",
                        &cm.issuer_kind,
                        &["Issuer", "ClusterIssuer"],
                    )?;
                    if cm.service_dns_names == Some(false)
                        && cm.dns_names.as_ref().is_none_or(Vec::is_empty)
                    {
                        return Err(Box::new(
                            Diagnostic::error(
                                "settings-required",
                                "tls.certManager.dnsNames",
                                "names no DNS name, and serviceDnsNames is false",
                            )
                            .help(
                                "list the names clients connect to: `dnsNames: [mqtt.example.com]`",
                            ),
                        ));
                    }
                }
                None => required(
                    "tls.secretName",
                    &t.secret_name,
                    "name an existing kubernetes.io/tls Secret, or add `certManager: {issuerName: ...}` to have one issued",
                )?,
            }
            if t.listeners.as_ref().is_some_and(Vec::is_empty) {
                return Err(Box::new(
                    Diagnostic::error("settings-value", "tls.listeners", "is an empty list")
                        .help("leave it out to serve every ssl and wss listener, or name them: [ssl-default]"),
                ));
            }
        }
        Ok(Extras {
            network_policy,
            dashboard_ingress,
            websocket_ingress,
            monitoring,
            tls,
        })
    }

    /// The objects the extras add to one cluster (the NetworkPolicy is built with the cluster's
    /// own objects), or the problems, with paths into the Settings document.
    pub fn objects(&self, c: &Cluster, built: &[Object]) -> (Vec<Object>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        let mut take = |r: Result<Vec<Object>, Box<Diagnostic>>| match r {
            Ok(o) => out.extend(o),
            Err(d) => problems.push(*d),
        };
        if let Some(i) = &self.dashboard_ingress {
            take(ingress::dashboard(c, i, built).map(|o| vec![o]));
        }
        if let Some(i) = &self.websocket_ingress {
            take(ingress::websocket(c, i, built).map(|o| vec![o]));
        }
        if let Some(m) = &self.monitoring {
            take(monitoring::objects(c, m));
        }
        if let Some(t) = &self.tls {
            take(Ok(tls::certificate(c, t).into_iter().collect()));
        }
        (out, problems)
    }
}
