//! The Operator 2.x front end (`apps.emqx.io/v2alpha1`, `v2beta1`, `v2`): the spec read into a
//! `ClusterInput`, with the warnings only these CRDs' fields can cause (the v2alpha1 image
//! alias, literal API keys, a core template without spec, fields the renderer sets itself).

use super::{common, or_default, pod_spec, written};
use crate::diag::{Diagnostic, Diagnostics};
use crate::input::{ApiVersion, ClusterSpec, Locator, p, v2};
use crate::model::cluster::{self, ClusterInput, default_rollout};
use crate::model::defaults as d;
use crate::model::evacuation::Evacuation;
use crate::model::layout::ConfigSource;
use crate::model::role::RoleInput;
use crate::model::rules::{self, Rules, Written};
use crate::model::{ApiKeys, Cluster, KeyRef, KeySel, RoleKind};
use crate::settings::Settings;

/// Spec → model. Problems come back located; warnings ride along with a successful result.
pub fn normalize(spec: &ClusterSpec, settings: &Settings) -> (Option<Cluster>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let at = &spec.at;
    let mut slot = None;
    let s = or_default(spec.doc.spec.as_ref(), &mut slot);
    let rules: &Rules = match spec.version {
        ApiVersion::V2alpha1 => &rules::V2ALPHA1,
        ApiVersion::V2 => &rules::V2,
        _ => &rules::V2BETA1,
    };
    let v1 = spec.version == ApiVersion::V2alpha1;
    // Config: the operator's default listener lines, a blank line, then the user's HOCON verbatim.
    let config = if v1 {
        ConfigSource::Data {
            path: "spec.bootstrapConfig",
            text: s.bootstrap_config.clone().unwrap_or_default(),
        }
    } else {
        ConfigSource::Data {
            path: "spec.config.data",
            text: s
                .config
                .as_ref()
                .and_then(|c| c.data.clone())
                .unwrap_or_default(),
        }
    };
    let min_ready_seconds = min_ready_seconds(s, spec.version);
    let common = common!(&spec.doc, settings);
    let role = |kind, tpl: Option<&v2::Template>, diags: &mut Diagnostics| {
        let ours = (
            format!("{}-{}", common.name, RoleKind::as_str(kind)),
            common.namespace.clone(),
        );
        role_input(kind, tpl, min_ready_seconds, &ours, at, diags)
    };
    let core = role(RoleKind::Core, s.core_template.as_ref(), &mut diags);
    let replicant = role(
        RoleKind::Replicant,
        s.replicant_template.as_ref(),
        &mut diags,
    );
    if !v1 && core.written == Written::TemplateOnly {
        diags.push(
            Diagnostic::warning("core-template-without-spec", "spec.coreTemplate", "coreTemplate has no spec, so the CRD defaults nothing: no replicas (Kubernetes runs 1), no probes, no security contexts")
                .at(at.key(&p("spec.coreTemplate")))
                .help("add `spec: {replicas: N}` to coreTemplate"),
        );
    }
    ignored_fields(s, at, &mut diags);
    let autoscaler = settings
        .autoscaling
        .of(&common.namespace, &common.name)
        .cloned();
    let input = ClusterInput {
        common,
        image: image(s, v1, at, &mut diags),
        config,
        api_keys: api_keys(s, at, &mut diags),
        api_keys_path: Some("spec.bootstrapAPIKeys"),
        core,
        replicant,
        evacuation: evacuation(s, spec.version, at),
        replicant_rollout: default_rollout(),
        stated: settings.emqx,
        autoscaler,
    };
    cluster::build(input, rules, at, diags)
}

/// The image (v2alpha1 also accepts the 2022 `emqxTemplate.image` alias; validate.rs checks
/// conflicts).
fn image(s: &v2::EmqxSpec, v1: bool, at: &Locator, diags: &mut Diagnostics) -> String {
    let alias = s.emqx_template.as_ref().and_then(|t| t.image.clone());
    match (&s.image, alias) {
        (Some(i), _) => i.clone(),
        (None, Some(a)) if v1 => {
            diags.push(
                Diagnostic::warning(
                    "image-alias",
                    "spec.emqxTemplate.image",
                    "read as spec.image; no v2alpha1 operator ever read this field",
                )
                .at(at.key(&p("spec.emqxTemplate.image")))
                .help("write `spec.image` instead"),
            );
            a
        }
        _ => String::new(),
    }
}

/// Literal keys and keys read from Secrets; literal ones are warned about.
fn api_keys(s: &v2::EmqxSpec, at: &Locator, diags: &mut Diagnostics) -> ApiKeys {
    let mut keys = ApiKeys::default();
    for k in s.bootstrap_api_keys.iter().flatten() {
        match (&k.key, &k.secret, &k.secret_ref) {
            (Some(key), Some(secret), None) => keys.literal.push((key.clone(), secret.clone())),
            (_, _, Some(r)) => {
                let sel = |x: &Option<v2::KeyRef>| {
                    x.as_ref().map(|x| KeySel {
                        secret_name: x.secret_name.clone().unwrap_or_default(),
                        secret_key: x.secret_key.clone().unwrap_or_default(),
                    })
                };
                if let (Some(a), Some(b)) = (sel(&r.key), sel(&r.secret)) {
                    keys.refs.push(KeyRef {
                        key: a,
                        secret: b,
                        role: None,
                    });
                }
            }
            _ => {}
        }
    }
    if !keys.literal.is_empty() {
        diags.push(
            Diagnostic::warning(
                "api-key-in-spec",
                "spec.bootstrapAPIKeys",
                "literal bootstrap API keys are rendered into a Secret, so the secrets sit in Git",
            )
            .at(at.key(&p("spec.bootstrapAPIKeys")))
            .help("use secretRef entries that name Secrets created in the cluster"),
        );
    }
    keys
}

/// In v2beta1 the `updateStrategy` object default applies only when the object is absent; v2
/// gives `initialDelaySeconds` a field default of its own.
fn min_ready_seconds(s: &v2::EmqxSpec, version: ApiVersion) -> i32 {
    match &s.update_strategy {
        None => d::INITIAL_DELAY_SECONDS,
        Some(u) if version == ApiVersion::V2 => {
            u.initial_delay_seconds.unwrap_or(d::INITIAL_DELAY_SECONDS)
        }
        Some(u) => u.initial_delay_seconds.unwrap_or(0),
    }
}

/// A written `evacuationStrategy` opts in to evacuating replicants before they stop.
fn evacuation(s: &v2::EmqxSpec, version: ApiVersion, at: &Locator) -> Option<Evacuation> {
    s.update_strategy
        .as_ref()
        .and_then(|u| u.evacuation_strategy.as_ref())
        .filter(|_| at.has(&p("spec.updateStrategy.evacuationStrategy")))
        .map(|e| {
            Evacuation::from_spec(
                e.wait_health_check,
                e.conn_evict_rate,
                e.sess_evict_rate,
                // v2 defaults the field to 10; in v2beta1 an unset (0) wait is left out of the
                // operator's call, so EMQX's own default applies.
                match (version, e.wait_takeover) {
                    (ApiVersion::V2, w) => w.unwrap_or(d::WAIT_TAKEOVER),
                    (_, Some(w)) if w > 0 => w,
                    _ => d::EMQX_WAIT_TAKEOVER,
                },
            )
        })
}

/// Fields of the resource that have no effect, said once each (`config.mode: Merge`, the
/// default, is quiet).
fn ignored_fields(s: &v2::EmqxSpec, at: &Locator, diags: &mut Diagnostics) {
    let path = "spec.config.mode";
    let mode = s.config.as_ref().and_then(|c| c.mode.as_deref());
    if at.has(&p(path)) && mode != Some(d::CONFIG_MODE) {
        diags.push(
            Diagnostic::warning("field-no-effect", path, "has no effect: it only steers the operator's live config update; emqx-render rolls the pods on a config change instead")
                .at(at.key(&p(path))),
        );
    }
    let path = "metadata.annotations";
    let only_last_applied = only_last_applied_annotation(at);
    if at.has(&p(path)) && !only_last_applied {
        diags.push(
            Diagnostic::warning(
                "field-ignored",
                path,
                "annotations of the EMQX resource are not copied to any object (as with the operator)",
            )
            .at(at.key(&p(path))),
        );
    }
}

/// Whether the resource's only annotation is `kubectl apply`'s record (an export's, noted once).
fn only_last_applied_annotation(at: &Locator) -> bool {
    at.root
        .find(&p("metadata.annotations"))
        .map(|a| a.keys().map(|k| k.name.clone()).collect::<Vec<_>>())
        .is_some_and(|keys| keys == [super::LAST_APPLIED])
}

/// One role's template; its `metadata.name`/`namespace` are warned about (we name objects)
/// unless they are the ones emqx-render gives (`ours`: name and namespace).
fn role_input(
    kind: RoleKind,
    tpl: Option<&v2::Template>,
    min_ready_seconds: i32,
    ours: &(String, String),
    at: &Locator,
    diags: &mut Diagnostics,
) -> RoleInput {
    let base = format!("spec.{}Template", kind.as_str());
    let given = tpl.and_then(|t| t.metadata.as_ref());
    for (field, value, our) in [
        ("name", given.and_then(|m| m.name.as_deref()), &ours.0),
        (
            "namespace",
            given.and_then(|m| m.namespace.as_deref()),
            &ours.1,
        ),
    ] {
        let path = format!("{base}.metadata.{field}");
        if at.has(&p(&path)) && value != Some(our.as_str()) {
            diags.push(
                Diagnostic::warning(
                    "field-ignored",
                    path.clone(),
                    format!(
                        "ignored: emqx-render names the {} objects itself",
                        kind.as_str()
                    ),
                )
                .at(at.key(&p(&path))),
            );
        }
    }
    let (mut meta_slot, mut spec_slot) = (None, None);
    let meta = or_default(tpl.and_then(|t| t.metadata.as_ref()), &mut meta_slot);
    let s = or_default(tpl.and_then(|t| t.spec.as_ref()), &mut spec_slot);
    // `toleRations`, the misspelt field of early CRDs, adds to `tolerations`.
    let tolerations = match (&s.tolerations, &s.tole_rations) {
        (None, None) => None,
        (a, b) => Some(a.iter().chain(b.iter()).flatten().cloned().collect()),
    };
    RoleInput {
        written: written(tpl, |t| t.spec.as_ref()),
        labels: meta.labels.clone().unwrap_or_default(),
        annotations: meta.annotations.clone().unwrap_or_default(),
        replicas: s.replicas,
        pod: pod_spec!(&s, tolerations: tolerations),
        claim: claim(kind, s.volume_claim_templates.as_ref(), at, diags),
        min_ready_seconds,
        dns_config: None,
        min_available: s.min_available.clone(),
        max_unavailable: s.max_unavailable.clone(),
    }
}

/// Whether a claim spec is Go's zero value, which the operator reads as no claim
/// (`reflect.Value.IsZero`): every field unset, `resources` at most an empty object. An empty
/// list or map is set (and a claim without access modes or storage, which `validate` refuses).
pub fn is_zero_claim(c: &k8s_openapi::api::core::v1::PersistentVolumeClaimSpec) -> bool {
    let resources_zero = c
        .resources
        .as_ref()
        .is_none_or(|r| r.limits.is_none() && r.requests.is_none());
    resources_zero
        && c.access_modes.is_none()
        && c.selector.is_none()
        && c.volume_name.is_none()
        && c.storage_class_name.is_none()
        && c.volume_mode.is_none()
        && c.data_source.is_none()
        && c.data_source_ref.is_none()
        && c.volume_attributes_class_name.is_none()
}

/// The core's `volumeClaimTemplates`: an empty one (`{}`, `{resources: {}}`) is none, as the
/// operator reads it, said in a warning since the data then lives in an emptyDir.
fn claim(
    kind: RoleKind,
    c: Option<&k8s_openapi::api::core::v1::PersistentVolumeClaimSpec>,
    at: &Locator,
    diags: &mut Diagnostics,
) -> Option<k8s_openapi::api::core::v1::PersistentVolumeClaimSpec> {
    let c = c?;
    if kind == RoleKind::Core && is_zero_claim(c) {
        let path = "spec.coreTemplate.spec.volumeClaimTemplates";
        diags.push(
            Diagnostic::warning(
                "volume-claim-empty",
                path,
                "is empty, so there is no claim and the core data lives in an emptyDir (as with the operator): it is lost when a pod is deleted or moved",
            )
            .at(at.key(&p(path)))
            .help("give accessModes and resources.requests.storage to keep the data on a claim, or remove the empty field"),
        );
        return None;
    }
    Some(c.clone())
}
