//! The headless, dashboard and listeners Services, with ports derived from the config and
//! merged under the user's template ports the way the operator merges them.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{default_labels, merged, meta, non_empty, non_empty_vec, object, role_labels};
use crate::manifest::Object;
use crate::model::defaults as d;
use crate::model::{Cluster, RoleKind, ServiceTemplate};

pub fn headless_name(c: &Cluster) -> String {
    format!("{}-headless", c.name)
}

fn port(name: &str, number: i32, udp: bool) -> ServicePort {
    ServicePort {
        name: Some(name.to_string()),
        port: number,
        protocol: Some(if udp { "UDP" } else { "TCP" }.to_string()),
        target_port: Some(IntOrString::Int(number)),
        ..Default::default()
    }
}

pub fn headless(c: &Cluster) -> Object {
    let name = headless_name(c);
    let svc = Service {
        metadata: meta(c, name.clone(), merged(default_labels(c), &c.labels)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            session_affinity: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(role_labels(c, RoleKind::Core)),
            ports: Some(vec![
                port("erlang-dist", d::ERLANG_DIST_PORT, false),
                port("gen-rpc", d::GEN_RPC_PORT, false),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    };
    object(&svc, &c.namespace, &name)
}

/// Template ports first; a derived port is dropped when its name or its number (with the same
/// protocol) is already there, so users can pin `nodePort`s (operator `MergeServicePorts`).
fn merge_ports(template: &[ServicePort], derived: Vec<ServicePort>) -> Vec<ServicePort> {
    let mut out: Vec<ServicePort> = template.to_vec();
    for p in derived {
        let clash = out.iter().any(|t| {
            t.name == p.name
                || (t.port == p.port
                    && t.protocol.as_deref().unwrap_or("TCP")
                        == p.protocol.as_deref().unwrap_or("TCP"))
        });
        if !clash {
            out.push(p);
        }
    }
    out
}

fn service(
    c: &Cluster,
    name: String,
    tpl: &ServiceTemplate,
    ports: Vec<ServicePort>,
    selector: RoleKind,
) -> Option<Object> {
    let ports = merge_ports(tpl.spec.ports.as_deref().unwrap_or(&[]), ports);
    if ports.is_empty() {
        return None;
    }
    let mut m = meta(c, name.clone(), merged(default_labels(c), &tpl.labels));
    m.annotations = non_empty(tpl.annotations.clone());
    let svc = Service {
        metadata: m,
        spec: Some(ServiceSpec {
            ports: non_empty_vec(ports),
            selector: Some(role_labels(c, selector)),
            ..tpl.spec.clone()
        }),
        ..Default::default()
    };
    Some(object(&svc, &c.namespace, &name))
}

/// Dashboard ports, sorted by name as the operator sorts them.
pub fn dashboard_ports(c: &Cluster) -> Vec<(&'static str, u16)> {
    let mut v = Vec::new();
    if let Some(p) = c.facts.dashboard_http {
        v.push(("dashboard", p));
    }
    if let Some(p) = c.facts.dashboard_https {
        v.push(("dashboard-https", p));
    }
    v
}

pub fn dashboard(c: &Cluster) -> Option<Object> {
    let tpl = c.dashboard_service.as_ref()?;
    let ports = dashboard_ports(c)
        .into_iter()
        .map(|(n, p)| port(n, i32::from(p), false))
        .collect();
    service(
        c,
        format!("{}-dashboard", c.name),
        tpl,
        ports,
        RoleKind::Core,
    )
}

pub fn listeners(c: &Cluster) -> Option<Object> {
    let tpl = c.listeners_service.as_ref()?;
    let ports = c
        .facts
        .listeners
        .iter()
        .map(|l| {
            let mut p = port(&l.port_name, i32::from(l.port), l.udp);
            // Operator 3.x marks WebSocket listeners for ingress controllers and meshes.
            let ws = l.port_name.starts_with("ws-") || l.port_name.contains("-ws-");
            let wss = l.port_name.starts_with("wss-") || l.port_name.contains("-wss-");
            if c.app_protocol && (ws || wss) {
                p.app_protocol = Some(
                    if wss {
                        "kubernetes.io/wss"
                    } else {
                        "kubernetes.io/ws"
                    }
                    .into(),
                );
            }
            p
        })
        .collect();
    let selector = if c.replicant.is_some() {
        RoleKind::Replicant
    } else {
        RoleKind::Core
    };
    service(c, format!("{}-listeners", c.name), tpl, ports, selector)
}
