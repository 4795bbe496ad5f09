//! The opt-in NetworkPolicy of a cluster: only the cluster's own pods reach the Erlang
//! distribution and RPC ports (4370, 5369); clients reach the listener and dashboard ports.
//! Ingress only; egress is left open (DNS, the other nodes, external integrations).

use std::collections::BTreeSet;

use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{default_labels, meta, object};
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

/// Every port clients may reach: the listeners of the config (with EMQX's default binds), the
/// dashboard, and any other container port of the EMQX containers.
fn client_ports(c: &Cluster) -> Vec<net::NetworkPolicyPort> {
    let cluster_ports = [d::ERLANG_DIST_PORT, d::GEN_RPC_PORT];
    let mut seen: BTreeSet<(i32, String)> = BTreeSet::new();
    for l in &c.facts.listeners {
        let proto = if l.udp { "UDP" } else { "TCP" };
        seen.insert((i32::from(l.port), proto.into()));
    }
    for p in [c.facts.dashboard_http, c.facts.dashboard_https]
        .into_iter()
        .flatten()
    {
        seen.insert((i32::from(p), "TCP".into()));
    }
    for r in std::iter::once(&c.core).chain(c.replicant.as_ref()) {
        for p in &r.ports {
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            seen.insert((p.container_port, proto));
        }
    }
    seen.into_iter()
        .filter(|(p, _)| !cluster_ports.contains(p))
        .map(|(p, proto)| port(p, &proto))
        .collect()
}

/// The NetworkPolicy for one cluster.
pub fn policy(c: &Cluster) -> Object {
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
    let clients = client_ports(c);
    if !clients.is_empty() {
        rules.push(net::NetworkPolicyIngressRule {
            from: None,
            ports: Some(clients),
        });
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
