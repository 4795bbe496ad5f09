//! `ingress`: Ingresses for the dashboard and for MQTT over WebSocket. Each points at the port
//! of the Service the render writes (found in the built Service, so a port renamed by the
//! service template is still found).

use k8s_openapi::api::networking::v1 as net;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::hocon::facts::Listener;
use crate::input::settings::IngressDoc;
use crate::manifest::Object;
use crate::model::Cluster;
use crate::objects::{default_labels, meta, non_empty, object};

/// EMQX's default `websocket.mqtt_path`.
pub const DEFAULT_MQTT_PATH: &str = "/mqtt";

/// The port of Service `service` among `built` that targets `target` (or has `name`).
fn service_port(
    built: &[Object],
    service: &str,
    target: u16,
    name: &str,
) -> Option<net::ServiceBackendPort> {
    let svc = built
        .iter()
        .find(|o| o.kind == "Service" && o.name == service)?;
    let ports = svc.value.pointer("/spec/ports")?.as_array()?;
    let hit = ports
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .or_else(|| {
            ports.iter().find(|p| {
                p.get("targetPort").and_then(Value::as_i64) == Some(i64::from(target))
                    || p.get("port").and_then(Value::as_i64) == Some(i64::from(target))
            })
        })?;
    Some(match hit.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => net::ServiceBackendPort {
            name: Some(n.to_string()),
            number: None,
        },
        _ => net::ServiceBackendPort {
            name: None,
            number: hit
                .get("port")
                .and_then(Value::as_i64)
                .and_then(|p| i32::try_from(p).ok()),
        },
    })
}

fn ingress(
    c: &Cluster,
    name: String,
    i: &IngressDoc,
    service: String,
    port: net::ServiceBackendPort,
    default_path: &str,
) -> Object {
    let hosts = i.hosts.clone().unwrap_or_default();
    let path = net::HTTPIngressPath {
        path: Some(i.path.clone().unwrap_or_else(|| default_path.to_string())),
        path_type: i.path_type.clone().unwrap_or_else(|| "Prefix".into()),
        backend: net::IngressBackend {
            service: Some(net::IngressServiceBackend {
                name: service,
                port: Some(port),
            }),
            ..Default::default()
        },
    };
    let rules = hosts
        .iter()
        .map(|h| net::IngressRule {
            host: Some(h.clone()),
            http: Some(net::HTTPIngressRuleValue {
                paths: vec![path.clone()],
            }),
        })
        .collect();
    let tls = i.tls_secret_name.as_ref().map(|s| {
        vec![net::IngressTLS {
            hosts: Some(hosts.clone()),
            secret_name: Some(s.clone()),
        }]
    });
    let mut m = meta(c, name.clone(), default_labels(c));
    m.annotations = i.annotations.clone().and_then(non_empty);
    let ing = net::Ingress {
        metadata: m,
        spec: Some(net::IngressSpec {
            ingress_class_name: i.class_name.clone(),
            rules: Some(rules),
            tls,
            ..Default::default()
        }),
        ..Default::default()
    };
    object(&ing, &c.namespace, &name)
}

/// The dashboard Ingress (`<cluster>-dashboard`).
pub fn dashboard(c: &Cluster, i: &IngressDoc, built: &[Object]) -> Result<Object, Box<Diagnostic>> {
    let service = format!("{}-dashboard", c.name);
    let Some(http) = c.facts.dashboard_http else {
        return Err(Box::new(
            Diagnostic::error(
                "ingress-backend",
                "ingress.dashboard",
                format!(
                    "cluster {} has no HTTP dashboard listener (dashboard.listeners.http.bind = 0)",
                    c.name
                ),
            )
            .help("enable the HTTP dashboard listener, or remove ingress.dashboard"),
        ));
    };
    let port = service_port(built, &service, http, "dashboard").ok_or_else(|| {
        Box::new(Diagnostic::error(
            "ingress-backend",
            "ingress.dashboard",
            format!(
                "cluster {} has no dashboard Service (dashboardServiceTemplate.enabled is false)",
                c.name
            ),
        )
        .help("enable the dashboard Service, or remove ingress.dashboard"))
    })?;
    Ok(ingress(
        c,
        format!("{}-dashboard", c.name),
        i,
        service,
        port,
        "/",
    ))
}

fn websocket_listener<'a>(c: &'a Cluster, i: &IngressDoc) -> Result<&'a Listener, Box<Diagnostic>> {
    let ws = |l: &&Listener| l.gateway.is_none() && matches!(l.kind.as_str(), "ws" | "wss");
    match &i.listener {
        Some(n) => c
            .facts
            .listeners
            .iter()
            .filter(ws)
            .find(|l| &l.port_name == n)
            .ok_or_else(|| {
                let known: Vec<&str> = c.facts.listeners.iter().filter(ws).map(|l| l.port_name.as_str()).collect();
                Box::new(Diagnostic::error(
                    "ingress-backend",
                    "ingress.websocket.listener",
                    format!("cluster {} has no enabled WebSocket listener `{n}`", c.name),
                )
                .help(if known.is_empty() {
                    "enable one: `listeners.ws.default.bind = 8083`".to_string()
                } else {
                    format!("its WebSocket listeners are: {}", known.join(", "))
                }))
            }),
        None => c
            .facts
            .listeners
            .iter()
            .find(|l| l.gateway.is_none() && l.kind == "ws")
            .ok_or_else(|| {
                Box::new(Diagnostic::error(
                    "ingress-backend",
                    "ingress.websocket",
                    format!("cluster {} has no enabled ws listener", c.name),
                )
                .help("enable one (`listeners.ws.default.bind = 8083`), or name a wss listener in `listener` and give the controller its backend-protocol annotation"))
            }),
    }
}

/// The MQTT-over-WebSocket Ingress (`<cluster>-websocket`).
pub fn websocket(c: &Cluster, i: &IngressDoc, built: &[Object]) -> Result<Object, Box<Diagnostic>> {
    let l = websocket_listener(c, i)?;
    let service = format!("{}-listeners", c.name);
    let port = service_port(built, &service, l.port, &l.port_name).ok_or_else(|| {
        Box::new(Diagnostic::error(
            "ingress-backend",
            "ingress.websocket",
            format!(
                "cluster {} has no listeners Service (listenersServiceTemplate.enabled is false)",
                c.name
            ),
        )
        .help("enable the listeners Service, or remove ingress.websocket"))
    })?;
    let path = l
        .mqtt_path
        .as_deref()
        .map(|p| p.trim_matches('"'))
        .unwrap_or(DEFAULT_MQTT_PATH)
        .to_string();
    Ok(ingress(
        c,
        format!("{}-websocket", c.name),
        i,
        service,
        port,
        &path,
    ))
}
