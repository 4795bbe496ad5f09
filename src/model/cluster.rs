//! The one builder of a `Cluster` from a generation-neutral `ClusterInput`: the config read,
//! both roles built (`role`), ports merged and probes checked against them, the Service
//! templates read, the evacuation applied. What differs between generations comes in `Rules`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::evacuation::{self, Evacuation};
use super::layout::{self, ConfigSource};
use super::role::{self, RoleInput, check_probe_ports, merge_container_ports};
use super::rules::Rules;
use super::{ApiKeys, Cluster, RoleKind, ServiceTemplate};
use crate::diag::{Diagnostic, Diagnostics};
use crate::input::{Locator, p};
use crate::settings::{Autoscaler, StatedImage};
use crate::version::{self, Version};

/// What every generation's `EMQX` resource says in the same fields (read by `front::common!`).
#[derive(Debug, Clone)]
pub struct Common {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub image_pull_policy: Option<String>,
    pub image_pull_secrets: Vec<core::LocalObjectReference>,
    pub service_account_name: Option<String>,
    pub cluster_domain: String,
    pub revision_history_limit: i32,
    pub dashboard_service: Option<TemplateParts>,
    pub listeners_service: Option<TemplateParts>,
    /// The fields of an export (`kubectl get emqx -o yaml`) the resource has: `status` and the
    /// metadata the API server writes; all ignored.
    pub exported: Vec<&'static str>,
}

/// A cluster as a front end reads it from its generation's spec.
#[derive(Debug, Clone)]
pub struct ClusterInput {
    pub common: Common,
    pub image: String,
    pub config: ConfigSource,
    pub api_keys: ApiKeys,
    /// Where the spec lists its bootstrap API keys (v2: `spec.bootstrapAPIKeys`; v3beta1 keys
    /// come from `EMQXAPIKey` documents).
    pub api_keys_path: Option<&'static str>,
    pub core: RoleInput,
    pub replicant: RoleInput,
    pub evacuation: Option<Evacuation>,
    pub replicant_rollout: (IntOrString, IntOrString),
    /// The edition and version Settings state about the image.
    pub stated: StatedImage,
    /// The HPA that sets the replicant count, if any.
    pub autoscaler: Option<Autoscaler>,
}

/// What an autoscaler over the replicants should be told: replicants the spec does not write,
/// a CPU target without CPU requests (the HPA then never scales).
fn autoscaled_replicants(
    a: &Autoscaler,
    replicant: &RoleInput,
    at: &Locator,
    diags: &mut Diagnostics,
) {
    if replicant.written == super::rules::Written::Nothing {
        diags.push(
            Diagnostic::note(
                "autoscaler-replicants",
                "spec.replicantTemplate",
                format!(
                    "no replicantTemplate: the cluster gets replicants with the default template, {} to {} as the autoscaler decides (under the operator its HPA would write the same)",
                    a.min_replicas, a.max_replicas
                ),
            )
            .at(at.key(&p("spec"))),
        );
    }
    let cpu_target = match &a.source {
        crate::settings::AutoscalerSource::Settings { metrics, .. } => metrics.iter().any(|m| {
            m.resource
                .as_ref()
                .is_some_and(|r| r.name == "cpu" && r.target.type_ == "Utilization")
        }),
        crate::settings::AutoscalerSource::Input { .. } => false,
    };
    let has_cpu_request = replicant
        .pod
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .is_some_and(|r| r.contains_key("cpu"));
    if cpu_target && !has_cpu_request {
        diags.push(
            Diagnostic::warning(
                "autoscaler-no-requests",
                "spec.replicantTemplate.spec.resources.requests.cpu",
                "the autoscaler aims at a CPU utilization, but the replicants request no CPU: utilization is a share of the request, so the HPA cannot scale",
            )
            .at(at.value(&p("spec.replicantTemplate.spec.resources")))
            .help("give the replicants `resources: {requests: {cpu: 500m}}`"),
        );
    }
}

/// Never below the desired count: one extra pod at a time, none taken away first.
pub fn default_rollout() -> (IntOrString, IntOrString) {
    (IntOrString::Int(1), IntOrString::Int(0))
}

/// Input → model. Problems come back located; warnings ride along with a successful result.
pub fn build(
    input: ClusterInput,
    rules: &Rules,
    at: &Locator,
    mut diags: Diagnostics,
) -> (Option<Cluster>, Diagnostics) {
    let common = input.common;
    let version = image_version(&input.image, input.stated.version, rules, at, &mut diags);
    if let Some(path) = input.api_keys_path
        && !input.api_keys.is_empty()
        && version.is_some_and(|v| v < version::BOOTSTRAP_FILE_SINCE)
    {
        diags.push(
            Diagnostic::warning(
                "api-keys-unsupported",
                path,
                "EMQX before 5.0.14 has no api_key.bootstrap_file; these keys are not loaded",
            )
            .at(at.key(&p(path)))
            .help("use EMQX 5.0.14 or newer for bootstrap API keys"),
        );
    }
    let enterprise = input
        .stated
        .enterprise
        .unwrap_or_else(|| version::is_enterprise(&input.image, version));
    let config = layout::read(
        &input.config,
        rules.generation,
        &common.name,
        enterprise,
        at,
        &mut diags,
    );
    let mut core = role::role(RoleKind::Core, input.core, rules, at, &mut diags);
    let mut replicant_input = input.replicant;
    if let Some(a) = &input.autoscaler {
        autoscaled_replicants(a, &replicant_input, at, &mut diags);
        // The HPA writes `replicantTemplate.spec.replicas` under the operator, so the template
        // has a spec (and its defaults) whatever was written; the count is the HPA's.
        replicant_input.written = super::rules::Written::Spec;
    }
    let mut replicant = Some(role::role(
        RoleKind::Replicant,
        replicant_input,
        rules,
        at,
        &mut diags,
    ))
    .filter(|r| input.autoscaler.is_some() || r.replicas.unwrap_or(0) > 0);
    for r in std::iter::once(&mut core).chain(replicant.as_mut()) {
        r.ports = merge_container_ports(r, &config.facts, at, &mut diags);
        if config.ok {
            check_probe_ports(r, at, &mut diags);
        }
    }
    let mut service = |t: Option<TemplateParts>, base: &str, suffix: &str| {
        let ours = (
            format!("{}-{suffix}", common.name),
            common.namespace.clone(),
        );
        service_template(t, rules.template_ignored, &ours, base, at, &mut diags)
    };
    let dashboard_service = service(
        common.dashboard_service,
        "spec.dashboardServiceTemplate",
        "dashboard",
    );
    let listeners_service = service(
        common.listeners_service,
        "spec.listenersServiceTemplate",
        "listeners",
    );
    if let Some(first) = common.exported.first() {
        diags.push(
            Diagnostic::note(
                "export-ignored",
                *first,
                format!(
                    "read as an export of a live resource: the fields the API server and the operator write are ignored ({})",
                    common.exported.join(", ")
                ),
            )
            .at(at.key(&p(first))),
        );
    }
    let mut cluster = Cluster {
        name: common.name,
        namespace: common.namespace,
        labels: common.labels,
        image: input.image,
        version,
        stated_version: input.stated.version,
        stated_enterprise: input.stated.enterprise,
        image_pull_policy: common
            .image_pull_policy
            .or_else(|| rules.image_pull_policy.map(str::to_string)),
        image_pull_secrets: common.image_pull_secrets,
        service_account_name: common.service_account_name,
        cluster_domain: common.cluster_domain,
        generation: rules.generation,
        files: config.files,
        startup_revision: config.startup_revision,
        facts: config.facts,
        api_keys: input.api_keys,
        revision_history_limit: common.revision_history_limit,
        app_protocol: rules.app_protocol,
        replicant_rollout: input.replicant_rollout,
        core,
        replicant,
        dashboard_service,
        listeners_service,
        cookie_ref: None,
        autoscaler: input.autoscaler,
    };
    if let Some(e) = input.evacuation {
        evacuation::apply(&mut cluster, e, at, &mut diags);
    }
    let ok = !diags.has_errors();
    (ok.then_some(cluster), diags)
}

/// The EMQX version: the stated one (a warning if the tag says another), else the image tag's,
/// else a warning saying what is assumed.
fn image_version(
    image: &str,
    stated: Option<Version>,
    rules: &Rules,
    at: &Locator,
    diags: &mut Diagnostics,
) -> Option<Version> {
    let version = version::image_tag(image).and_then(version::parse_tag);
    if let Some(s) = stated {
        if let Some(t) = version.filter(|t| *t != s) {
            diags.push(
                Diagnostic::warning(
                    "image-version-stated",
                    "spec.image",
                    format!("the image's tag says EMQX {t}, and Settings state {s}: {s} is used"),
                )
                .at(at.value(&p("spec.image")))
                .help("state the version only for images whose tag is not one, or correct it"),
            );
        }
        return Some(s);
    }
    if version.is_none() && !image.is_empty() {
        let (assumed, example) = rules.unknown_version;
        diags.push(
            Diagnostic::warning(
                "image-version-unknown",
                "spec.image",
                format!("cannot read an EMQX version from image `{image}`; assuming {assumed}"),
            )
            .at(at.value(&p("spec.image")))
            .help(format!("pin a version tag such as {example}")),
        );
    }
    version
}

/// A Service template as either generation writes it: whether it is on, its labels and
/// annotations, its spec.
#[derive(Debug, Clone)]
pub struct TemplateParts {
    pub enabled: Option<bool>,
    /// `metadata.name` and `metadata.namespace` (v2 templates are whole Services).
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub spec: Option<core::ServiceSpec>,
}

/// The Service template at `base` (absent: the default Service; `enabled: false`: none).
/// `ours`: the name and namespace emqx-render gives the Service (written the same: quiet).
fn service_template(
    t: Option<TemplateParts>,
    ignored: &[(&str, &str)],
    ours: &(String, String),
    base: &str,
    at: &Locator,
    diags: &mut Diagnostics,
) -> Option<ServiceTemplate> {
    let Some(t) = t else {
        return Some(ServiceTemplate::default());
    };
    if t.enabled == Some(false) {
        return None;
    }
    for (field, why) in ignored {
        let path = format!("{base}.{field}");
        let same = match *field {
            "metadata.name" => t.name.as_deref() == Some(ours.0.as_str()),
            "metadata.namespace" => t.namespace.as_deref() == Some(ours.1.as_str()),
            _ => false,
        };
        if at.has(&p(&path)) && !same {
            diags.push(
                Diagnostic::warning("field-ignored", path.clone(), format!("ignored: {why}"))
                    .at(at.key(&p(&path))),
            );
        }
    }
    let mut spec = t.spec.unwrap_or_default();
    spec.selector = None;
    // The CRD's structural default on each port of the template.
    for p in spec.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".into());
    }
    Some(ServiceTemplate {
        labels: t.labels.unwrap_or_default(),
        annotations: t.annotations.unwrap_or_default(),
        spec,
    })
}
