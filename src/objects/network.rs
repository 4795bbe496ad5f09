//! The opt-in NetworkPolicy of a cluster: only the cluster's own pods reach the Erlang
//! distribution and RPC ports (4370, 5369); clients reach the listener and dashboard ports, from
//! anywhere or from the sources the Settings name for each.
//! Ingress only; egress is left open (DNS, the other nodes, external integrations).

use std::collections::BTreeSet;

use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{default_labels, meta, object};
use crate::input::settings::NetworkPolicyRules;
use crate::manifest::Object;
use crate::model::Cluster;
use crate::model::defaults as d;

/// Name of the NetworkPolicy of cluster `name`.
pub fn name(c: &Cluster) -> String {
    format!("{}-network", c.name)
}

fn port(p: i32, protocol: &str) -> net::NetworkPolicyPort {
    net::NetworkPolicyPort {
        port: Some(IntOrString::Int(p)),
        protocol: Some(protocol.into()),
        ..Default::default()
    }
}

type PortSet = BTreeSet<(i32, String)>;

/// The ports clients may reach, as (listener ports, dashboard ports): the listeners of the
/// config (with EMQX's default binds) and any other container port of the EMQX containers; the
/// dashboard's HTTP and HTTPS ports.
fn client_ports(c: &Cluster) -> (PortSet, PortSet) {
    let cluster_ports = [d::ERLANG_DIST_PORT, d::GEN_RPC_PORT];
    let mut dashboard: PortSet = BTreeSet::new();
    for p in [c.facts.dashboard_http, c.facts.dashboard_https]
        .into_iter()
        .flatten()
    {
        dashboard.insert((i32::from(p), "TCP".into()));
    }
    let mut listeners: PortSet = BTreeSet::new();
    for l in &c.facts.listeners {
        let proto = if l.udp { "UDP" } else { "TCP" };
        listeners.insert((i32::from(l.port), proto.into()));
    }
    for r in std::iter::once(&c.core).chain(c.replicant.as_ref()) {
        for p in &r.ports {
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            listeners.insert((p.container_port, proto));
        }
    }
    listeners.retain(|(p, proto)| {
        !cluster_ports.contains(p) && !dashboard.contains(&(*p, proto.clone()))
    });
    dashboard.retain(|(p, _)| !cluster_ports.contains(p));
    (listeners, dashboard)
}

fn rule(
    ports: PortSet,
    from: Option<&Vec<net::NetworkPolicyPeer>>,
) -> Option<net::NetworkPolicyIngressRule> {
    (!ports.is_empty()).then(|| net::NetworkPolicyIngressRule {
        from: from.cloned(),
        ports: Some(
            ports
                .into_iter()
                .map(|(p, proto)| port(p, &proto))
                .collect(),
        ),
    })
}

/// The NetworkPolicy for one cluster.
pub fn policy(c: &Cluster, sources: &NetworkPolicyRules) -> Object {
    let pods = LabelSelector {
        match_labels: Some(default_labels(c)),
        ..Default::default()
    };
    let mut rules = vec![net::NetworkPolicyIngressRule {
        from: Some(vec![net::NetworkPolicyPeer {
            pod_selector: Some(pods.clone()),
            ..Default::default()
        }]),
        ports: Some(vec![
            port(d::ERLANG_DIST_PORT, "TCP"),
            port(d::GEN_RPC_PORT, "TCP"),
        ]),
    }];
    let (listeners, dashboard) = client_ports(c);
    match (&sources.listeners_from, &sources.dashboard_from) {
        (None, None) => {
            let all: PortSet = listeners.into_iter().chain(dashboard).collect();
            rules.extend(rule(all, None));
        }
        (l, d) => {
            rules.extend(rule(listeners, l.as_ref()));
            rules.extend(rule(dashboard, d.as_ref()));
        }
    }
    let np = net::NetworkPolicy {
        metadata: meta(c, name(c), default_labels(c)),
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(pods),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(rules),
            ..Default::default()
        }),
    };
    object(&np, &c.namespace, &name(c))
}
