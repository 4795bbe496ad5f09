//! HorizontalPodAutoscalers of the input. One aimed at an `EMQX` resource (Operator 3.x's scale
//! subresource, as its documentation shows) is aimed at the replicant Deployment instead; one
//! aimed at that Deployment already is taken as it is. Either way its cluster is autoscaled: the
//! Deployment leaves `replicas` to it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::front;
use crate::diag::{Diagnostic, Diagnostics};
use crate::input::{Document, GROUP, Passthrough, p};
use crate::settings::{Autoscaler, AutoscalerSource, Settings};

/// (namespace, cluster name).
type Key = (String, String);

/// The clusters of `docs` that an input HPA scales, with the HPAs aimed at EMQX resources
/// rewritten in place to aim at the replicant Deployments.
pub fn from_input(
    docs: &mut [Document],
    settings: &Settings,
) -> (BTreeMap<Key, Autoscaler>, Diagnostics) {
    let clusters: BTreeSet<Key> = docs
        .iter()
        .filter_map(|d| cluster_key(d, settings))
        .collect();
    let mut found: BTreeMap<Key, Autoscaler> = BTreeMap::new();
    let mut diags = Diagnostics::default();
    for d in docs.iter_mut() {
        let Document::Passthrough(hpa) = d else {
            continue;
        };
        if hpa.kind != "HorizontalPodAutoscaler" || !hpa.api_version.starts_with("autoscaling/") {
            continue;
        }
        let Some(key) = target(hpa, settings, &clusters, &mut diags) else {
            continue;
        };
        let Some(scaler) = bounds(hpa, &mut diags) else {
            continue;
        };
        let at = hpa.at.value(&p("spec.scaleTargetRef"));
        if settings.autoscaling.all.is_some() || found.contains_key(&key) {
            diags.push(
                Diagnostic::error(
                    "autoscaler-twice",
                    "spec.scaleTargetRef",
                    format!("cluster {}/{} already has an autoscaler", key.0, key.1),
                )
                .at(at)
                .help("keep one: this HorizontalPodAutoscaler, or Settings `autoscaling` (which writes one for every cluster)"),
            );
            continue;
        }
        found.insert(key, scaler);
    }
    (found, diags)
}

/// The (namespace, name) of a cluster document.
fn cluster_key(d: &Document, settings: &Settings) -> Option<Key> {
    let meta = match d {
        Document::Cluster(c) => c.doc.metadata.as_ref(),
        Document::ClusterV3(c) => c.doc.metadata.as_ref(),
        _ => return None,
    };
    let mut slot = None;
    let m = front::or_default(meta, &mut slot);
    Some((
        front::namespace(m, settings),
        m.name.clone().unwrap_or_default(),
    ))
}

/// The cluster an HPA scales, retargeting one aimed at the `EMQX` resource; `None` (with a
/// warning where it deserves one) for HPAs of anything else.
fn target(
    hpa: &mut Passthrough,
    settings: &Settings,
    clusters: &BTreeSet<Key>,
    diags: &mut Diagnostics,
) -> Option<Key> {
    let ns = hpa
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| settings.namespace.clone());
    let reference = hpa.object.pointer("/spec/scaleTargetRef")?;
    let field = |f: &str| {
        reference
            .get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (api, kind, name) = (field("apiVersion"), field("kind"), field("name"));
    let at = hpa.at.value(&p("spec.scaleTargetRef"));
    let group = api.split_once('/').map_or("", |(g, _)| g);
    match kind.as_str() {
        "EMQX" if group == GROUP => {
            let key = (ns, name.clone());
            if !clusters.contains(&key) {
                diags.push(
                    Diagnostic::warning(
                        "autoscaler-target-missing",
                        "spec.scaleTargetRef",
                        format!("scales EMQX {}/{name}, which is not in the input; passed through unchanged", key.0),
                    )
                    .at(at)
                    .help("render it together with the cluster's spec, so that it scales the cluster's replicant Deployment"),
                );
                return None;
            }
            let deployment = format!("{name}-replicant");
            if let Some(r) = hpa.object.pointer_mut("/spec/scaleTargetRef") {
                *r = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment});
            }
            diags.push(
                Diagnostic::note(
                    "autoscaler-retargeted",
                    "spec.scaleTargetRef",
                    format!("aimed at the replicant Deployment {deployment}: the EMQX resource and its scale subresource are not rendered, the Deployment is what the HPA scales"),
                )
                .at(at),
            );
            Some(key)
        }
        "Deployment" if group == "apps" => {
            let key = (ns, name.strip_suffix("-replicant")?.to_string());
            clusters.contains(&key).then_some(key)
        }
        "StatefulSet" if group == "apps" => {
            let key = (ns, name.strip_suffix("-core")?.to_string());
            if clusters.contains(&key) {
                diags.push(
                    Diagnostic::warning(
                        "autoscaler-cores",
                        "spec.scaleTargetRef",
                        format!("scales the core StatefulSet {name}: cores hold the database, and the render keeps writing their count, so the two will fight"),
                    )
                    .at(at)
                    .help("scale the replicants (EMQX resource or Deployment <cluster>-replicant) and set the core count in the spec"),
                );
            }
            None
        }
        _ => None,
    }
}

/// The HPA's replica bounds (`minReplicas` defaults to 1, as in Kubernetes).
fn bounds(hpa: &Passthrough, diags: &mut Diagnostics) -> Option<Autoscaler> {
    let int = |f: &str| {
        hpa.object
            .pointer(&format!("/spec/{f}"))
            .and_then(Value::as_i64)
    };
    let max = int("maxReplicas")
        .and_then(|m| i32::try_from(m).ok())
        .filter(|m| *m >= 1);
    let min = int("minReplicas").map_or(Some(1), |m| i32::try_from(m).ok());
    match (min, max) {
        (Some(min), Some(max)) if min <= max => Some(Autoscaler {
            min_replicas: min,
            max_replicas: max,
            source: AutoscalerSource::Input {
                name: hpa.name.clone(),
            },
        }),
        _ => {
            diags.push(
                Diagnostic::error(
                    "autoscaler-bounds",
                    "spec.maxReplicas",
                    "needs a maxReplicas of 1 or more, and no minReplicas above it",
                )
                .at(hpa.at.value(&p("spec.maxReplicas")))
                .help("write `minReplicas: 2` and `maxReplicas: 10`, say"),
            );
            None
        }
    }
}
