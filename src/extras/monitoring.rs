//! `monitoring`: a Prometheus Operator PodMonitor (default) or ServiceMonitor for EMQX's
//! Prometheus endpoint on every EMQX pod, cores and replicants. The API key Prometheus
//! authenticates with is a Secret reference, never a value.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::diag::Diagnostic;
use crate::input::settings::MonitoringDoc;
pub use crate::input::settings::{POD_MONITOR, SERVICE_MONITOR};
use crate::manifest::Object;
use crate::model::Cluster;
use crate::objects::{custom, default_labels, merged, meta, object};

/// The Prometheus Operator's API version.
pub const API_VERSION: &str = "monitoring.coreos.com/v1";
/// EMQX's Prometheus endpoint (text format).
pub const PATH: &str = "/api/v5/prometheus/stats";
/// The container and Service port the endpoint is served on.
pub const PORT: &str = "dashboard";
/// Marks the ServiceMonitor's Service apart from the cluster's other Services, which carry the
/// same default labels and (the dashboard Service) the same port name.
pub const SCRAPE_LABEL: &str = "emqx-render/scrape";

#[derive(Serialize, Clone)]
struct SecretKeySelector {
    name: String,
    key: String,
}

#[derive(Serialize, Clone)]
struct BasicAuth {
    username: SecretKeySelector,
    password: SecretKeySelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    port: &'static str,
    path: &'static str,
    scheme: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scrape_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic_auth: Option<BasicAuth>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMonitorSpec {
    selector: LabelSelector,
    pod_metrics_endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    endpoints: Vec<Endpoint>,
}

/// Name of the monitor, and of the ServiceMonitor's headless Service.
pub fn name(c: &Cluster) -> String {
    format!("{}-metrics", c.name)
}

fn endpoint(m: &MonitoringDoc) -> Endpoint {
    Endpoint {
        port: PORT,
        path: PATH,
        scheme: "http",
        interval: m.interval.clone(),
        scrape_timeout: m.scrape_timeout.clone(),
        basic_auth: m.api_key_secret.as_ref().map(|k| {
            let secret = k.secret_name.clone().unwrap_or_default();
            BasicAuth {
                username: SecretKeySelector {
                    name: secret.clone(),
                    key: k.key_key.clone().unwrap_or_else(|| "apiKey".into()),
                },
                password: SecretKeySelector {
                    name: secret,
                    key: k.secret_key.clone().unwrap_or_else(|| "apiSecret".into()),
                },
            }
        }),
    }
}

/// The monitor (and, for a ServiceMonitor, the headless Service it reads endpoints from).
pub fn objects(c: &Cluster, m: &MonitoringDoc) -> Result<Vec<Object>, Box<Diagnostic>> {
    let Some(port) = c.facts.dashboard_http else {
        return Err(Box::new(Diagnostic::error(
            "monitoring-port",
            "monitoring",
            format!("cluster {} has no HTTP dashboard listener, which serves {PATH}", c.name),
        )
        .help("enable the HTTP dashboard listener (dashboard.listeners.http.bind), or remove monitoring")));
    };
    let pods = LabelSelector {
        match_labels: Some(default_labels(c)),
        ..Default::default()
    };
    let labels = merged(default_labels(c), &m.labels.clone().unwrap_or_default());
    let kind = m.kind.as_deref().unwrap_or(POD_MONITOR);
    if kind == POD_MONITOR {
        let spec = PodMonitorSpec {
            selector: pods,
            pod_metrics_endpoints: vec![endpoint(m)],
        };
        return Ok(vec![custom(
            API_VERSION,
            POD_MONITOR,
            meta(c, name(c), labels),
            &spec,
        )]);
    }
    // A headless Service over every EMQX pod: the ServiceMonitor scrapes each endpoint.
    let mut svc_labels = default_labels(c);
    svc_labels.insert(SCRAPE_LABEL.into(), "true".into());
    let svc = core::Service {
        metadata: meta(c, name(c), svc_labels.clone()),
        spec: Some(core::ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(default_labels(c)),
            ports: Some(vec![core::ServicePort {
                name: Some(PORT.into()),
                port: i32::from(port),
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::String(PORT.into())),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let spec = ServiceMonitorSpec {
        selector: LabelSelector {
            match_labels: Some(svc_labels),
            ..Default::default()
        },
        endpoints: vec![endpoint(m)],
    };
    Ok(vec![
        object(&svc, &c.namespace, &name(c)),
        custom(
            API_VERSION,
            SERVICE_MONITOR,
            meta(c, name(c), labels),
            &spec,
        ),
    ])
}
