//! Opt-in extras around a cluster that the operator's resource cannot express and the Helm chart
//! offers: Ingresses, a Prometheus Operator monitor, listener TLS certificates. Each is off unless
//! the Settings name it (documents: `input::settings`; resolved: `settings::Extras`); each is a
//! typed object in the render, built after the cluster's own objects. The NetworkPolicy is built
//! with those (`objects::network`).

pub mod ingress;
pub mod monitoring;
pub mod tls;

use crate::diag::Diagnostic;
use crate::manifest::Object;
use crate::model::Cluster;
use crate::settings::Extras;

/// The objects the extras add to one cluster, or the problems, with paths into the Settings
/// document.
pub fn objects(x: &Extras, c: &Cluster, built: &[Object]) -> (Vec<Object>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut take = |r: Result<Vec<Object>, Box<Diagnostic>>| match r {
        Ok(o) => out.extend(o),
        Err(d) => problems.push(*d),
    };
    if let Some(i) = &x.dashboard_ingress {
        take(ingress::dashboard(c, i, built).map(|o| vec![o]));
    }
    if let Some(i) = &x.websocket_ingress {
        take(ingress::websocket(c, i, built).map(|o| vec![o]));
    }
    if let Some(m) = &x.monitoring {
        take(monitoring::objects(c, m));
    }
    if let Some(t) = &x.tls {
        take(Ok(tls::certificate(c, t).into_iter().collect()));
    }
    (out, problems)
}
