//! The Operator 3.x front end (`apps.emqx.io/v3beta1`, and the `EMQXAPIKey`s naming the
//! cluster): the spec read into a `ClusterInput`. The newest shape keeps its config in
//! `config.roots`; the earlier one (`config.data`, which Operator 3.0 no longer reads) is
//! rendered as Operator 2.3 did, with its own CRD defaults (`rules::V3BETA1_EARLY`).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{common, namespace, or_default, pod_spec, written};
use crate::diag::{Diagnostic, Diagnostics};
use crate::input::{ApiKeySpec, ClusterSpecV3, p, v3};
use crate::model::cluster::{self, ClusterInput, default_rollout};
use crate::model::defaults as d;
use crate::model::evacuation::Evacuation;
use crate::model::layout::ConfigSource;
use crate::model::role::RoleInput;
use crate::model::rules;
use crate::model::{ApiKeys, Cluster, KeyRef, KeySel};
use crate::settings::Settings;

/// Spec → model for v3beta1; `keys` are the EMQXAPIKeys that name this cluster.
pub fn normalize(
    spec: &ClusterSpecV3,
    keys: &[KeyRef],
    settings: &Settings,
) -> (Option<Cluster>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let at = &spec.at;
    let mut slot = None;
    let s = or_default(spec.doc.spec.as_ref(), &mut slot);
    let config = s.config.clone().unwrap_or_default();
    if config.data.is_some() {
        diags.push(
            Diagnostic::warning(
                "config-data-v3",
                "spec.config.data",
                "Operator 3.0 no longer reads config.data (the earlier v3beta1 shape); rendered as base.hocon the way Operator 2.3 did",
            )
            .at(at.key(&p("spec.config.data")))
            .help("move the settings to spec.config.roots: `emqx-render convert --to v3beta1` does it"),
        );
    }
    if config.mode.as_deref().is_some_and(|m| m != d::CONFIG_MODE) {
        diags.push(
            Diagnostic::warning(
                "field-no-effect",
                "spec.config.mode",
                "has no effect: Operator 3.0 dropped config modes",
            )
            .at(at.key(&p("spec.config.mode"))),
        );
    }
    let (rules, source) = match (config.data, config.roots) {
        (Some(text), _) => (
            &rules::V3BETA1_EARLY,
            ConfigSource::Data {
                path: "spec.config.data",
                text,
            },
        ),
        (None, roots) => (
            &rules::V3BETA1,
            ConfigSource::Roots(roots.unwrap_or_default()),
        ),
    };
    let us = s.update_strategy.clone().unwrap_or_default();
    let common = common!(&spec.doc, settings);
    let autoscaler = settings
        .autoscaling
        .of(&common.namespace, &common.name)
        .cloned();
    let input = ClusterInput {
        common,
        image: s.image.clone().unwrap_or_default(),
        config: source,
        api_keys: ApiKeys {
            literal: Vec::new(),
            refs: keys.to_vec(),
        },
        api_keys_path: None,
        core: role_input(s.core_template.as_ref()),
        replicant: role_input(s.replicant_template.as_ref()),
        evacuation: us
            .evacuation_strategy
            .as_ref()
            .filter(|e| e.type_.as_deref() != Some("Disabled"))
            .map(|e| {
                Evacuation::from_spec(
                    e.wait_health_check,
                    e.connection_eviction_rate,
                    e.session_eviction_rate,
                    e.wait_takeover.unwrap_or(d::WAIT_TAKEOVER),
                )
            }),
        replicant_rollout: match &us.replicants {
            None => default_rollout(),
            Some(r) => (
                r.max_surge.clone().unwrap_or(IntOrString::Int(0)),
                r.max_unavailable.clone().unwrap_or(IntOrString::Int(1)),
            ),
        },
        stated: settings.emqx,
        autoscaler,
    };
    cluster::build(input, rules, at, diags)
}

/// One role's template.
fn role_input(tpl: Option<&v3::Template>) -> RoleInput {
    let (mut meta_slot, mut spec_slot) = (None, None);
    let meta = or_default(tpl.and_then(|t| t.metadata.as_ref()), &mut meta_slot);
    let s = or_default(tpl.and_then(|t| t.spec.as_ref()), &mut spec_slot);
    RoleInput {
        written: written(tpl, |t| t.spec.as_ref()),
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        replicas: s.replicas,
        pod: pod_spec!(&s, tolerations: s.tolerations.clone()),
        claim: s.persistent_volume_claim_spec.clone(),
        min_ready_seconds: s.min_ready_seconds.unwrap_or(0),
        dns_config: s.dns_config.clone(),
        min_available: None,
        max_unavailable: None,
    }
}

/// An `EMQXAPIKey` (already checked): the namespace and name of the cluster it names, and the
/// key read from its Secret inside the pods.
pub fn api_key(k: &ApiKeySpec, settings: &Settings) -> (String, String, KeyRef) {
    let ks = k.doc.spec.clone().unwrap_or_default();
    let ns = namespace(&k.doc.metadata.clone().unwrap_or_default(), settings);
    let cluster = ks.emqx_ref.and_then(|r| r.name).unwrap_or_default();
    let secret = ks.secret_ref.and_then(|r| r.name).unwrap_or_default();
    let sel = |key: &str| KeySel {
        secret_name: secret.clone(),
        secret_key: key.to_string(),
    };
    let key = KeyRef {
        key: sel("apiKey"),
        secret: sel("apiSecret"),
        role: Some(
            ks.role
                .unwrap_or_else(|| "Administrator".into())
                .to_ascii_lowercase(),
        ),
    };
    (ns, cluster, key)
}
