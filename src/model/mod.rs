//! What we will build: a cluster spec normalized into one model, every CRD default applied the
//! way the API server applies structural defaults, the HOCON config read into facts.
//! Each front end (v2alpha1, v2beta1, later ones) lands here; `build/` sees only this.

pub mod config;
pub mod defaults;
pub mod evacuation;
pub mod v3;
pub mod version;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::diag::{Diagnostic, Diagnostics};
use crate::hocon::{self, facts::ConfigFacts};
use crate::input::{ApiVersion, ClusterSpec, p, v2};
use crate::settings::Settings;
use crate::yaml::Seg;
use defaults as d;
use version::Version;

/// A normalized cluster, ready to build.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub namespace: String,
    /// `metadata.labels` of the resource: the operator copies them to the headless Service,
    /// PDBs, Secrets and ConfigMap only.
    pub labels: BTreeMap<String, String>,
    pub image: String,
    /// `None`: the tag is not a version; the current contract is assumed.
    pub version: Option<Version>,
    pub image_pull_policy: Option<String>,
    pub image_pull_secrets: Vec<core::LocalObjectReference>,
    pub service_account_name: Option<String>,
    pub cluster_domain: String,
    /// Which operator's object layout and environment contract to follow.
    pub generation: Generation,
    /// The config files, byte for byte.
    pub files: ConfigFiles,
    /// v3beta1: sha256 of the start-only roots (`apps.emqx.io/startup-config-revision`).
    pub startup_revision: Option<String>,
    pub facts: ConfigFacts,
    pub api_keys: ApiKeys,
    pub revision_history_limit: i32,
    /// `appProtocol: kubernetes.io/ws|wss` on WebSocket listener ports (Operator 3.x).
    pub app_protocol: bool,
    /// The replicant Deployment's rolling update: (maxSurge, maxUnavailable).
    pub replicant_rollout: (IntOrString, IntOrString),
    pub core: Role,
    pub replicant: Option<Role>,
    pub dashboard_service: Option<ServiceTemplate>,
    pub listeners_service: Option<ServiceTemplate>,
    /// The Erlang cookie's Secret when Settings names one (else `<name>-node-cookie`).
    pub cookie_ref: Option<crate::settings::SecretKey>,
}

/// The object layout and environment a cluster gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Operator 2.0/2.2 (v2alpha1, v2beta1): config in `emqx.conf`, dashboard bind in the
    /// environment, bootstrap keys under `/opt/emqx/data` on every node.
    Legacy,
    /// Operator 2.3/3.x (v2, v3beta1): config in `base.hocon` (+ `emqx.conf`), no dashboard
    /// environment, bootstrap keys under `/opt/emqx/etc` on cores only.
    Modern,
}

/// The ConfigMap's files.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFiles {
    pub emqx_conf: String,
    /// Only in the Modern layout.
    pub base_hocon: Option<String>,
}

/// Bootstrap API keys: literal ones (they go into a Secret) and ones read from Secrets.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    pub literal: Vec<(String, String)>,
    pub refs: Vec<KeyRef>,
}

/// A key whose key and secret are read from Secrets inside the pod at start.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRef {
    pub key: KeySel,
    pub secret: KeySel,
    /// `administrator`, `viewer` or `publisher` (EMQX 5.4+ key file role column).
    pub role: Option<String>,
}

impl ApiKeys {
    pub fn is_empty(&self) -> bool {
        self.literal.is_empty() && self.refs.is_empty()
    }
}

/// A key of a Secret.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySel {
    pub secret_name: String,
    pub secret_key: String,
}

/// Core or replicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    Core,
    Replicant,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Core => "core",
            RoleKind::Replicant => "replicant",
        }
    }
}

/// One role's pod and workload settings, defaults applied.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    /// `None` only when the template has no `spec` (the CRD then defaults nothing).
    pub replicas: Option<i32>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: v2::RoleSpec,
    pub pvc: Option<core::PersistentVolumeClaimSpec>,
    /// Container ports: the user's, then the dashboard's, merged the operator's way.
    pub ports: Vec<core::ContainerPort>,
    pub min_ready_seconds: i32,
    pub dns_config: Option<core::PodDNSConfig>,
    /// Set when the pods evacuate before they stop (`evacuation`).
    pub termination_grace_period_seconds: Option<i64>,
}

/// A Service template: the user's metadata and spec; ports are merged and the selector set later.
#[derive(Debug, Clone, Default)]
pub struct ServiceTemplate {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: core::ServiceSpec,
}

fn probe(defaults: (i32, i32, i32)) -> core::Probe {
    core::Probe {
        initial_delay_seconds: Some(defaults.0),
        period_seconds: Some(defaults.1),
        failure_threshold: Some(defaults.2),
        http_get: Some(core::HTTPGetAction {
            path: Some(d::PROBE_PATH.into()),
            port: IntOrString::String(d::PROBE_PORT_NAME.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The CRD's whole-object defaults inside a template `spec` that exists.
fn apply_spec_defaults(s: &mut v2::RoleSpec) {
    s.liveness_probe.get_or_insert_with(|| probe(d::LIVENESS));
    s.readiness_probe.get_or_insert_with(|| probe(d::READINESS));
    s.pod_security_context
        .get_or_insert_with(|| core::PodSecurityContext {
            run_as_user: Some(d::EMQX_UID),
            run_as_group: Some(d::EMQX_UID),
            fs_group: Some(d::EMQX_UID),
            fs_group_change_policy: Some("Always".into()),
            supplemental_groups: Some(vec![d::EMQX_UID]),
            ..Default::default()
        });
    s.container_security_context
        .get_or_insert_with(|| core::SecurityContext {
            run_as_user: Some(d::EMQX_UID),
            run_as_group: Some(d::EMQX_UID),
            run_as_non_root: Some(true),
            ..Default::default()
        });
}

/// The CRD's structural defaults on Kubernetes types nested in a role's spec, which the API
/// server applies wherever the parent object exists: a container port's `protocol` is `TCP`, a
/// gRPC probe's `service` is empty; and a probe's zero counts and seconds are dropped, as the
/// operator's Go types and the API server drop them. The operator reads the resource with them filled in (its
/// v2alpha1 and v2beta1 CRDs carry them; the v2 and v3beta1 CRDs, made by the same generator
/// from the same Kubernetes types, are taken to, and `TCP` is Kubernetes' own port default).
/// Found by the operator oracle (tests/oracle/).
pub(crate) fn nested_defaults(s: &mut v2::RoleSpec) {
    fn ports(list: &mut Option<Vec<core::ContainerPort>>) {
        for p in list.iter_mut().flatten() {
            p.protocol.get_or_insert_with(|| "TCP".into());
        }
    }
    fn probe(p: &mut Option<core::Probe>) {
        let Some(p) = p.as_mut() else { return };
        if let Some(g) = p.grpc.as_mut() {
            g.service.get_or_insert_with(String::new);
        }
        // A zero here is Go's "unset" (the fields are omitempty): the API server does not store
        // it and applies its own default instead, so a written 0 would not read back.
        for f in [
            &mut p.initial_delay_seconds,
            &mut p.timeout_seconds,
            &mut p.period_seconds,
            &mut p.success_threshold,
            &mut p.failure_threshold,
        ] {
            if *f == Some(0) {
                *f = None;
            }
        }
        if p.termination_grace_period_seconds == Some(0) {
            p.termination_grace_period_seconds = None;
        }
    }
    ports(&mut s.ports);
    let containers = s
        .init_containers
        .iter_mut()
        .chain(s.extra_containers.iter_mut())
        .flatten()
        .flat_map(|c| {
            ports(&mut c.ports);
            [
                &mut c.liveness_probe,
                &mut c.readiness_probe,
                &mut c.startup_probe,
            ]
        });
    for p in [
        &mut s.liveness_probe,
        &mut s.readiness_probe,
        &mut s.startup_probe,
    ]
    .into_iter()
    .chain(containers)
    {
        probe(p);
    }
}

/// Spec → model. Problems come back located; warnings ride along with a successful result.
pub fn normalize(spec: &ClusterSpec, settings: &Settings) -> (Option<Cluster>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let at = &spec.at;
    let doc = &spec.doc;
    let meta = doc.metadata.clone().unwrap_or_default();
    let s = doc.spec.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let namespace = meta
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| settings.namespace.clone());
    let v1 = spec.version == ApiVersion::V2alpha1;

    // Image (v2alpha1 also accepts the 2022 `emqxTemplate.image` alias; validate.rs checks conflicts).
    let alias = s.emqx_template.as_ref().and_then(|t| t.image.clone());
    let image = match (&s.image, alias) {
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
    };
    let version = version::image_tag(&image).and_then(version::parse_tag);
    if version.is_none() && !image.is_empty() {
        diags.push(
            Diagnostic::warning(
                "image-version-unknown",
                "spec.image",
                format!(
                    "cannot read an EMQX version from image `{image}`; assuming EMQX 5.1 or newer"
                ),
            )
            .at(at.value(&p("spec.image")))
            .help("pin a version tag such as emqx/emqx:5.8.6 so the environment matches the image"),
        );
    }

    // Config: the operator's default listener lines, a blank line, then the user's HOCON verbatim.
    let (data_path, data) = if v1 {
        ("spec.bootstrapConfig", s.bootstrap_config.clone())
    } else {
        (
            "spec.config.data",
            s.config.as_ref().and_then(|c| c.data.clone()),
        )
    };
    let data = data.unwrap_or_default();
    let generation = if spec.version == ApiVersion::V2 {
        Generation::Modern
    } else {
        Generation::Legacy
    };
    let (files, analysis, offset) = data_layout(generation, &data);
    let (facts, config_ok) = analyze_hocon(&analysis, offset, data_path, &name, at, &mut diags);
    // Bootstrap API keys.
    let mut api_keys = ApiKeys::default();
    for k in s.bootstrap_api_keys.iter().flatten() {
        match (&k.key, &k.secret, &k.secret_ref) {
            (Some(key), Some(secret), None) => api_keys.literal.push((key.clone(), secret.clone())),
            (_, _, Some(r)) => {
                let sel = |x: &Option<v2::KeyRef>| {
                    x.as_ref().map(|x| KeySel {
                        secret_name: x.secret_name.clone().unwrap_or_default(),
                        secret_key: x.secret_key.clone().unwrap_or_default(),
                    })
                };
                if let (Some(a), Some(b)) = (sel(&r.key), sel(&r.secret)) {
                    api_keys.refs.push(KeyRef {
                        key: a,
                        secret: b,
                        role: None,
                    });
                }
            }
            _ => {}
        }
    }
    if !api_keys.literal.is_empty() {
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
    if !api_keys.is_empty() && version.is_some_and(|v| v < version::BOOTSTRAP_FILE_SINCE) {
        diags.push(
            Diagnostic::warning(
                "api-keys-unsupported",
                "spec.bootstrapAPIKeys",
                "EMQX before 5.0.14 has no api_key.bootstrap_file; these keys are not loaded",
            )
            .at(at.key(&p("spec.bootstrapAPIKeys")))
            .help("use EMQX 5.0.14 or newer for bootstrap API keys"),
        );
    }

    // Update strategy: in v2beta1 the object default applies only when the object is absent;
    // v2 gives initialDelaySeconds a field default of its own.
    let min_ready_seconds = match &s.update_strategy {
        None => d::INITIAL_DELAY_SECONDS,
        Some(u) if spec.version == ApiVersion::V2 => {
            u.initial_delay_seconds.unwrap_or(d::INITIAL_DELAY_SECONDS)
        }
        Some(u) => u.initial_delay_seconds.unwrap_or(0),
    };

    // Roles.
    let core = role(
        RoleKind::Core,
        s.core_template.as_ref(),
        spec.version,
        at,
        &mut diags,
    );
    let replicant = match role(
        RoleKind::Replicant,
        s.replicant_template.as_ref(),
        spec.version,
        at,
        &mut diags,
    ) {
        r if r.replicas.unwrap_or(0) > 0 => Some(r),
        _ => None,
    };
    let core = match core {
        // v2beta1's object default is 1 core, v2's is 2 (feature-map-v3 §2.3).
        r if s.core_template.is_none() && !v1 => Role {
            replicas: Some(if spec.version == ApiVersion::V2 {
                d::CORE_REPLICAS_FIELD
            } else {
                d::CORE_REPLICAS_WITHOUT_TEMPLATE
            }),
            ..r
        },
        r => r,
    };
    let core = Role {
        min_ready_seconds,
        ..core
    };
    let replicant = replicant.map(|r| Role {
        min_ready_seconds,
        ..r
    });
    if !v1 && s.core_template.as_ref().is_some_and(|t| t.spec.is_none()) {
        diags.push(
            Diagnostic::warning("core-template-without-spec", "spec.coreTemplate", "coreTemplate has no spec, so the CRD defaults nothing: no replicas (Kubernetes runs 1), no probes, no security contexts")
                .at(at.key(&p("spec.coreTemplate")))
                .help("add `spec: {replicas: N}` to coreTemplate"),
        );
    }

    for (path, why) in [(
        "spec.config.mode",
        "it only steers the operator's live config update; emqx-render rolls the pods on a config change instead",
    )] {
        if at.has(&p(path)) {
            diags.push(
                Diagnostic::warning("field-no-effect", path, format!("has no effect: {why}"))
                    .at(at.key(&p(path))),
            );
        }
    }
    let mut core = core;
    let mut replicant = replicant;
    for r in std::iter::once(&mut core).chain(replicant.as_mut()) {
        r.ports = merge_container_ports(r, &facts, at, &mut diags);
        if config_ok {
            check_probe_ports(r, at, &mut diags);
        }
    }

    let dashboard_service = service_template(
        s.dashboard_service_template
            .as_ref()
            .map(TemplateParts::from),
        V2_TEMPLATE_IGNORED,
        "spec.dashboardServiceTemplate",
        at,
        &mut diags,
    );
    let listeners_service = service_template(
        s.listeners_service_template
            .as_ref()
            .map(TemplateParts::from),
        V2_TEMPLATE_IGNORED,
        "spec.listenersServiceTemplate",
        at,
        &mut diags,
    );
    if doc.status.is_some() {
        diags.push(
            Diagnostic::warning(
                "status-ignored",
                "status",
                "status is written by the operator; it is ignored",
            )
            .at(at.key(&p("status"))),
        );
    }
    for (path, what) in [(
        "metadata.annotations",
        "annotations of the EMQX resource are not copied to any object (as with the operator)",
    )] {
        if at.has(&p(path)) {
            diags.push(Diagnostic::warning("field-ignored", path, what).at(at.key(&p(path))));
        }
    }

    let image_pull_policy = s
        .image_pull_policy
        .clone()
        .or_else(|| v1.then(|| d::V2ALPHA1_IMAGE_PULL_POLICY.to_string()));
    // A written evacuationStrategy opts in to evacuating replicants before they stop.
    let evacuation = s
        .update_strategy
        .as_ref()
        .and_then(|u| u.evacuation_strategy.as_ref())
        .filter(|_| at.has(&p("spec.updateStrategy.evacuationStrategy")))
        .map(|e| {
            evacuation::Evacuation::from_spec(
                e.wait_health_check,
                e.conn_evict_rate,
                e.sess_evict_rate,
                // v2 defaults the field to 10; in v2beta1 an unset (0) wait is left out of the
                // operator's call, so EMQX's own default applies.
                match (spec.version, e.wait_takeover) {
                    (ApiVersion::V2, w) => w.unwrap_or(d::WAIT_TAKEOVER),
                    (_, Some(w)) if w > 0 => w,
                    _ => d::EMQX_WAIT_TAKEOVER,
                },
            )
        });
    let mut cluster = Cluster {
        name,
        namespace,
        labels: meta.labels.clone().unwrap_or_default(),
        image,
        version,
        image_pull_policy,
        image_pull_secrets: s.image_pull_secrets.clone().unwrap_or_default(),
        service_account_name: s.service_account_name.clone(),
        cluster_domain: s
            .cluster_domain
            .clone()
            .unwrap_or_else(|| d::CLUSTER_DOMAIN.to_string()),
        generation,
        files,
        startup_revision: None,
        facts,
        api_keys,
        revision_history_limit: s
            .revision_history_limit
            .unwrap_or(d::REVISION_HISTORY_LIMIT),
        app_protocol: false,
        replicant_rollout: default_rollout(),
        core,
        replicant,
        dashboard_service,
        listeners_service,
        cookie_ref: None,
    };
    if let Some(e) = evacuation {
        evacuation::apply(&mut cluster, e, at, &mut diags);
    }
    let ok = !diags.has_errors();
    (ok.then_some(cluster), diags)
}

/// Never below the desired count: one extra pod at a time, none taken away first.
pub(crate) fn default_rollout() -> (IntOrString, IntOrString) {
    (IntOrString::Int(1), IntOrString::Int(0))
}

/// The config files for a HOCON `config.data`, the text to analyse (what EMQX merges: the
/// implicit default listeners, then the files) and the line of that text where `data` starts.
pub(crate) fn data_layout(generation: Generation, data: &str) -> (ConfigFiles, String, u32) {
    match generation {
        Generation::Legacy => {
            let conf = config::legacy_emqx_conf(data);
            let files = ConfigFiles {
                emqx_conf: conf.clone(),
                base_hocon: None,
            };
            (files, conf, d::DEFAULT_LINES_COUNT)
        }
        Generation::Modern => {
            let prefix = format!(
                "{}{}",
                config::IMPLICIT_DEFAULT_LISTENERS,
                config::BASE_HOCON_DEFAULTS_V2
            );
            let files = ConfigFiles {
                emqx_conf: String::new(),
                base_hocon: Some(config::base_hocon_from_data(data)),
            };
            let offset = u32::try_from(prefix.matches('\n').count()).unwrap_or(0);
            (files, format!("{prefix}{data}"), offset)
        }
    }
}

/// Parses and analyses a config whose user part (`data_path` in the spec) starts at line
/// `offset + 1` of `text`; every problem is reported at its line in the YAML file.
pub(crate) fn analyze_hocon(
    text: &str,
    offset: u32,
    data_path: &str,
    name: &str,
    at: &crate::input::Locator,
    diags: &mut Diagnostics,
) -> (ConfigFacts, bool) {
    let data_segs = p(data_path);
    let hocon_loc = |pos: hocon::Pos| {
        if pos.line > offset {
            at.hocon(
                &data_segs,
                hocon::Pos {
                    line: pos.line - offset,
                    col: pos.col,
                },
            )
        } else {
            at.value(&data_segs)
        }
    };
    let mut config_ok = true;
    let facts = match hocon::parse(text) {
        Ok(root) => {
            let (facts, problems) = hocon::facts::analyze(&root);
            for pr in problems {
                diags.push(
                    Diagnostic::error(
                        "config-value",
                        format!("{data_path}: {}", pr.path),
                        pr.message,
                    )
                    .at(hocon_loc(pr.pos))
                    .help(pr.help),
                );
            }
            facts
        }
        Err(e) => {
            config_ok = false;
            let mut message = format!("invalid HOCON: {}", e.message);
            if let Some(l) = e.opened_at.and_then(hocon_loc) {
                message.push_str(&format!(" (opened at {}:{}:{})", l.file, l.line, l.col));
            }
            diags.push(
                Diagnostic::error("config-syntax", data_path, message)
                    .at(hocon_loc(e.pos))
                    .help(e.help),
            );
            ConfigFacts::default()
        }
    };
    check_listener_names(&facts, data_path, &hocon_loc, diags);
    if let (Some(pos), Some(_)) = (facts.cookie_pos, &facts.cookie) {
        diags.push(
            Diagnostic::warning(
                "cookie-in-config",
                format!("{data_path}: node.cookie"),
                "the Erlang cookie is written in the spec, so it sits in Git and in the rendered Secret",
            )
            .at(hocon_loc(pos))
            .help(format!(
                "remove node.cookie and create the Secret {name}-node-cookie (key node_cookie) in the cluster instead"
            )),
        );
    }
    (facts, config_ok)
}

fn role(
    kind: RoleKind,
    tpl: Option<&v2::Template>,
    version: ApiVersion,
    at: &crate::input::Locator,
    diags: &mut Diagnostics,
) -> Role {
    let v1 = version == ApiVersion::V2alpha1;
    let base = format!("spec.{}Template", kind.as_str());
    let meta = tpl.and_then(|t| t.metadata.clone()).unwrap_or_default();
    for field in ["name", "namespace"] {
        let path = format!("{base}.metadata.{field}");
        if at.has(&p(&path)) {
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
    let spec_present = tpl.is_some_and(|t| t.spec.is_some());
    let mut spec = tpl.and_then(|t| t.spec.clone()).unwrap_or_default();
    // v2alpha1 with the 2022 semantics: templates always existed (the webhook made them).
    let replicas = match (v1, spec.replicas, spec_present) {
        (_, Some(r), _) => Some(r),
        (true, None, _) => Some(match kind {
            RoleKind::Core => d::V2ALPHA1_CORE_REPLICAS,
            RoleKind::Replicant => d::V2ALPHA1_REPLICANT_REPLICAS,
        }),
        (false, None, true) => Some(match kind {
            RoleKind::Core => d::CORE_REPLICAS_FIELD,
            RoleKind::Replicant => d::REPLICANT_REPLICAS_FIELD,
        }),
        (false, None, false) => None,
    };
    if v1 || spec_present || (kind == RoleKind::Core && tpl.is_none()) {
        apply_spec_defaults(&mut spec);
    }
    nested_defaults(&mut spec);
    let pvc = if kind == RoleKind::Core {
        spec.volume_claim_templates.take()
    } else {
        None
    };
    spec.volume_claim_templates = None;
    Role {
        kind,
        replicas,
        labels: meta.labels.unwrap_or_default(),
        annotations: meta.annotations.unwrap_or_default(),
        spec,
        pvc,
        ports: Vec::new(),
        min_ready_seconds: 0,
        dns_config: None,
        termination_grace_period_seconds: None,
    }
}

/// A Service template as either generation writes it: whether it is on, its labels and
/// annotations, its spec.
pub(crate) struct TemplateParts {
    pub enabled: Option<bool>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub spec: Option<core::ServiceSpec>,
}

/// Both generations' templates have `enabled`, `metadata.labels/annotations` and `spec`.
macro_rules! template_parts {
    ($($t:ty),*) => {$(
        impl From<&$t> for TemplateParts {
            fn from(t: &$t) -> Self {
                let meta = t.metadata.clone().unwrap_or_default();
                TemplateParts {
                    enabled: t.enabled,
                    labels: meta.labels,
                    annotations: meta.annotations,
                    spec: t.spec.clone(),
                }
            }
        }
    )*};
}

template_parts!(v2::ServiceTemplate, crate::input::v3::ServiceTemplate);

/// Fields of a template the renderer sets itself, with why: warned about when written.
pub(crate) const SELECTOR_IGNORED: (&str, &str) =
    ("spec.selector", "the selector is set to the cluster's pods");

/// The Service template at `base` (absent: the default Service; `enabled: false`: none).
pub(crate) fn service_template(
    t: Option<TemplateParts>,
    ignored: &[(&str, &str)],
    base: &str,
    at: &crate::input::Locator,
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
        if at.has(&p(&path)) {
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

/// What a v2 template may set that the renderer sets itself.
const V2_TEMPLATE_IGNORED: &[(&str, &str)] = &[
    ("metadata.name", "emqx-render names the Service itself"),
    (
        "metadata.namespace",
        "the Service lives in the cluster's namespace",
    ),
    SELECTOR_IGNORED,
];

/// User ports first, then the dashboard ports; an entry whose name or number was already seen
/// is dropped (operator `MergeContainerPorts`). Nothing goes silently: each drop is a warning.
pub(crate) fn merge_container_ports(
    r: &Role,
    facts: &ConfigFacts,
    at: &crate::input::Locator,
    diags: &mut Diagnostics,
) -> Vec<core::ContainerPort> {
    let base = format!("spec.{}Template.spec.ports", r.kind.as_str());
    let mut out: Vec<core::ContainerPort> = Vec::new();
    let user = r.spec.ports.clone().unwrap_or_default();
    let n_user = user.len();
    let dashboard: Vec<core::ContainerPort> = [
        ("dashboard", facts.dashboard_http),
        ("dashboard-https", facts.dashboard_https),
    ]
    .into_iter()
    .filter_map(|(n, p)| {
        p.map(|p| core::ContainerPort {
            name: Some(n.into()),
            container_port: i32::from(p),
            protocol: Some("TCP".into()),
            ..Default::default()
        })
    })
    .collect();
    for (i, port) in user.into_iter().chain(dashboard).enumerate() {
        let clash = out
            .iter()
            .find(|o| o.name == port.name || o.container_port == port.container_port)
            .cloned();
        let Some(kept) = clash else {
            out.push(port);
            continue;
        };
        let label = |p: &core::ContainerPort| match &p.name {
            Some(n) => format!("`{n}` ({})", p.container_port),
            None => format!("{} (unnamed)", p.container_port),
        };
        if i < n_user {
            let mut path = p(&base);
            path.push(Seg::Index(i));
            diags.push(
                Diagnostic::warning(
                    "port-dropped",
                    format!("{base}[{i}]"),
                    format!(
                        "port {} is dropped: {} already has its name or number",
                        label(&port),
                        label(&kept)
                    ),
                )
                .at(at.value(&path))
                .help("give every container port its own name and number"),
            );
        } else if port.name != kept.name {
            diags.push(
                Diagnostic::warning(
                    "port-dropped",
                    base.clone(),
                    format!(
                        "the dashboard port {} is replaced by the user port {}",
                        label(&port),
                        label(&kept)
                    ),
                )
                .at(at.key(&p(&base)))
                .help("name the user port `dashboard` or give it another number"),
            );
        }
    }
    out
}

/// Probes that name a port (the default ones name `dashboard`) need that container port; the
/// dashboard port disappears with `dashboard.listeners.http.bind = 0`.
pub(crate) fn check_probe_ports(r: &Role, at: &crate::input::Locator, diags: &mut Diagnostics) {
    let names: Vec<String> = r.ports.iter().filter_map(|p| p.name.clone()).collect();
    let base = format!("spec.{}Template.spec", r.kind.as_str());
    for (field, probe) in [
        ("livenessProbe", &r.spec.liveness_probe),
        ("readinessProbe", &r.spec.readiness_probe),
        ("startupProbe", &r.spec.startup_probe),
    ] {
        let port = probe.as_ref().and_then(|pr| {
            pr.http_get
                .as_ref()
                .map(|h| h.port.clone())
                .or_else(|| pr.tcp_socket.as_ref().map(|t| t.port.clone()))
        });
        if let Some(IntOrString::String(name)) = port
            && !names.contains(&name)
        {
            let path = format!("{base}.{field}");
            diags.push(
                    Diagnostic::error("probe-port", path.clone(), format!("probe uses the port named `{name}`, which the container does not have"))
                        .at(at.key(&p(&path)).or_else(|| at.value(&p(&base))))
                        .help("the default probes use the dashboard port; with dashboard.listeners.http.bind = 0 set the probes yourself (e.g. tcpSocket on port 1883)"),
                );
        }
    }
}

/// Service port names must be DNS labels; two listeners cannot share a port and protocol.
fn check_listener_names(
    facts: &ConfigFacts,
    data_path: &str,
    loc: &dyn Fn(hocon::Pos) -> Option<crate::diag::Loc>,
    diags: &mut Diagnostics,
) {
    let mut seen: BTreeMap<(u16, bool), &str> = BTreeMap::new();
    for l in &facts.listeners {
        if let Err(why) = crate::names::dns_label(&l.port_name) {
            diags.push(
                Diagnostic::error("listener-name", format!("{data_path}: {}", l.path), format!("listener gives the Service port name `{}`, which {why}", l.port_name))
                    .at(loc(l.pos))
                    .help("rename the listener with lowercase letters, digits and `-` (e.g. `my-listener`)"),
            );
        }
        if let Some(other) = seen.insert((l.port, l.udp), &l.path) {
            diags.push(
                Diagnostic::error(
                    "duplicate-port",
                    format!("{data_path}: {}", l.path),
                    format!("port {} is also used by {other}", l.port),
                )
                .at(loc(l.pos))
                .help("give each listener its own port, or disable one with `enable = false`"),
            );
        }
    }
}

/// Path helper for callers that build paths with indices.
pub fn seg(s: &str) -> Seg {
    Seg::Key(s.to_string())
}
