//! The v3beta1 front end: an Operator 3.x `EMQX` resource (and the `EMQXAPIKey`s naming it)
//! normalized into the same model as every other generation, with the CRD defaults of the
//! newest v3beta1 (feature-map-v3 §2.1) and what the 3.x controllers put on their objects
//! (§3): `base.hocon`/`emqx.conf` split, the availability-check readiness probe, the forced
//! replicant preStop, `appProtocol` on WebSocket ports, a claim for core data.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::config::{self as cfg};
use super::defaults as d;
use super::version::{self, Version};
use super::{
    ApiKeys, Cluster, ConfigFiles, Generation, KeyRef, Role, RoleKind, SELECTOR_IGNORED,
    TemplateParts, analyze_hocon, check_probe_ports, data_layout, default_rollout,
    merge_container_ports, service_template,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::hocon::facts::ConfigFacts;
use crate::input::{ClusterSpecV3, p, v2, v3};
use crate::settings::Settings;

/// Operator 3.x core data claim defaults (`coreDataVolumeClaimSpec`).
pub const CORE_CLAIM_SIZE: &str = "500Mi";
/// The readiness probe Operator 3.x puts on every pod (`EvacuationReadinessProbe`).
pub const AVAILABILITY_CHECK_PATH: &str = "/api/v5/load_rebalance/availability_check";
/// The preStop Operator 3.x forces on replicants.
pub const REPLICANT_PRE_STOP: [&str; 3] = ["/bin/sh", "-c", "emqx ctl cluster leave"];

fn readiness() -> core::Probe {
    core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(AVAILABILITY_CHECK_PATH.into()),
            port: IntOrString::String(d::PROBE_PORT_NAME.into()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(10),
        timeout_seconds: Some(3),
        period_seconds: Some(5),
        failure_threshold: Some(1),
        success_threshold: Some(1),
        ..Default::default()
    }
}

fn liveness() -> core::Probe {
    core::Probe {
        initial_delay_seconds: Some(d::LIVENESS.0),
        period_seconds: Some(d::LIVENESS.1),
        failure_threshold: Some(d::LIVENESS.2),
        http_get: Some(core::HTTPGetAction {
            path: Some(d::PROBE_PATH.into()),
            port: IntOrString::String(d::PROBE_PORT_NAME.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod_security_context() -> core::PodSecurityContext {
    core::PodSecurityContext {
        run_as_user: Some(d::EMQX_UID),
        run_as_group: Some(d::EMQX_UID),
        run_as_non_root: Some(true),
        fs_group: Some(d::EMQX_UID),
        fs_group_change_policy: Some("Always".into()),
        ..Default::default()
    }
}

/// The core data claim with the controller's fill-ins (RWO, 500Mi, Filesystem).
fn core_claim(user: Option<core::PersistentVolumeClaimSpec>) -> core::PersistentVolumeClaimSpec {
    let mut c = user.unwrap_or_default();
    if c.access_modes.as_ref().is_none_or(Vec::is_empty) {
        c.access_modes = Some(vec!["ReadWriteOnce".into()]);
    }
    let resources = c.resources.get_or_insert_with(Default::default);
    let requests = resources.requests.get_or_insert_with(BTreeMap::new);
    requests
        .entry("storage".into())
        .or_insert_with(|| Quantity(CORE_CLAIM_SIZE.into()));
    c.volume_mode.get_or_insert_with(|| "Filesystem".into());
    c
}

/// The v3beta1 pod fields in the shared shape.
fn role_spec(s: &v3::RoleSpec) -> v2::RoleSpec {
    v2::RoleSpec {
        replicas: s.replicas,
        node_selector: s.node_selector.clone(),
        node_name: s.node_name.clone(),
        affinity: s.affinity.clone(),
        tolerations: s.tolerations.clone(),
        topology_spread_constraints: s.topology_spread_constraints.clone(),
        command: s.command.clone(),
        args: s.args.clone(),
        ports: s.ports.clone(),
        env: s.env.clone(),
        env_from: s.env_from.clone(),
        resources: s.resources.clone(),
        pod_security_context: s.pod_security_context.clone(),
        container_security_context: s.container_security_context.clone(),
        init_containers: s.init_containers.clone(),
        extra_containers: s.extra_containers.clone(),
        extra_volumes: s.extra_volumes.clone(),
        extra_volume_mounts: s.extra_volume_mounts.clone(),
        liveness_probe: s.liveness_probe.clone(),
        readiness_probe: s.readiness_probe.clone(),
        startup_probe: s.startup_probe.clone(),
        lifecycle: s.lifecycle.clone(),
        ..Default::default()
    }
}

/// `early`: the spec is in the earlier v3beta1 shape (`config.data`), whose CRD defaulted 2
/// cores, and 2 replicants when `replicantTemplate.spec` exists (feature-map-v3 §2.2).
fn role(
    kind: RoleKind,
    tpl: Option<&v3::Template>,
    early: bool,
    at: &crate::input::Locator,
    diags: &mut Diagnostics,
) -> Role {
    let base = format!("spec.{}Template.spec", kind.as_str());
    let s3 = tpl.and_then(|t| t.spec.clone()).unwrap_or_default();
    let meta = tpl.and_then(|t| t.metadata.clone()).unwrap_or_default();
    let mut spec = role_spec(&s3);
    super::nested_defaults(&mut spec);
    let spec_present = tpl.is_some_and(|t| t.spec.is_some());
    let replicas = Some(s3.replicas.unwrap_or(match (kind, early) {
        (RoleKind::Core, false) => 1,
        (RoleKind::Core, true) => 2,
        (RoleKind::Replicant, true) if spec_present => 2,
        (RoleKind::Replicant, _) => 0,
    }));
    spec.liveness_probe.get_or_insert_with(liveness);
    spec.pod_security_context
        .get_or_insert_with(pod_security_context);
    // Operator 3.x keeps a readiness probe only if it is an httpGet probe on a path other than
    // /status; anything else becomes the availability check.
    let keep = spec
        .readiness_probe
        .as_ref()
        .and_then(|pr| pr.http_get.as_ref())
        .is_some_and(|h| h.path.as_deref().is_some_and(|p| p != d::PROBE_PATH));
    if !keep {
        if spec.readiness_probe.is_some() {
            let path = format!("{base}.readinessProbe");
            diags.push(
                Diagnostic::warning(
                    "readiness-replaced",
                    path.clone(),
                    "replaced by the availability check, as Operator 3.x does with any readiness probe that is not an httpGet on a path other than /status",
                )
                .at(at.key(&p(&path)))
                .help(format!("use an httpGet probe, e.g. on {AVAILABILITY_CHECK_PATH}")),
            );
        }
        spec.readiness_probe = Some(readiness());
    }
    if kind == RoleKind::Replicant {
        let lc = spec.lifecycle.get_or_insert_with(Default::default);
        if lc.pre_stop.is_some() {
            let path = format!("{base}.lifecycle.preStop");
            diags.push(
                Diagnostic::warning(
                    "prestop-replaced",
                    path.clone(),
                    "replaced by `emqx ctl cluster leave`, which Operator 3.x forces on replicants",
                )
                .at(at.key(&p(&path))),
            );
        }
        lc.pre_stop = Some(core::LifecycleHandler {
            exec: Some(core::ExecAction {
                command: Some(REPLICANT_PRE_STOP.iter().map(|s| s.to_string()).collect()),
            }),
            ..Default::default()
        });
    }
    Role {
        kind,
        replicas,
        labels: meta.labels.unwrap_or_default(),
        annotations: meta.annotations.unwrap_or_default(),
        spec,
        pvc: (kind == RoleKind::Core).then(|| core_claim(s3.persistent_volume_claim_spec.clone())),
        ports: Vec::new(),
        min_ready_seconds: s3.min_ready_seconds.unwrap_or(0),
        dns_config: s3.dns_config.clone(),
        termination_grace_period_seconds: None,
    }
}

/// The config files and facts of `config.roots`.
fn roots_layout(
    roots: &BTreeMap<String, serde_json::Value>,
    name: &str,
    at: &crate::input::Locator,
    diags: &mut Diagnostics,
) -> (ConfigFiles, Option<String>, ConfigFacts, bool) {
    let (runtime, startup) = cfg::split_roots(roots);
    let base = format!(
        "{}{}",
        cfg::BASE_HOCON_DEFAULTS_V3,
        cfg::render_roots(&runtime)
    );
    let conf = cfg::render_roots(&startup);
    let files = ConfigFiles {
        emqx_conf: conf.clone(),
        base_hocon: Some(base.clone()),
    };
    // emqx.conf overrides base.hocon; the implicit default listeners come first.
    let analysis = format!("{}{base}\n{conf}", cfg::IMPLICIT_DEFAULT_LISTENERS);
    let mut local = Diagnostics::default();
    let (facts, ok) = analyze_hocon(
        &analysis,
        u32::MAX,
        "spec.config.roots",
        name,
        at,
        &mut local,
    );
    // Positions in generated text mean nothing to the user: point at the roots path instead.
    for mut dg in local.0 {
        let hocon_path = dg
            .path
            .split_once(": ")
            .map(|(_, h)| h.to_string())
            .unwrap_or_default();
        let mut yaml_path = p("spec.config.roots");
        yaml_path.extend(p(&hocon_path));
        dg.loc = at.value(&yaml_path);
        if !hocon_path.is_empty() {
            dg.path = format!("spec.config.roots.{hocon_path}");
        }
        diags.push(dg);
    }
    (files, cfg::startup_revision(&startup), facts, ok)
}

/// Spec → model for v3beta1.
pub fn normalize(
    spec: &ClusterSpecV3,
    keys: &[KeyRef],
    settings: &Settings,
) -> (Option<Cluster>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let at = &spec.at;
    let meta = spec.doc.metadata.clone().unwrap_or_default();
    let s = spec.doc.spec.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let namespace = meta
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| settings.namespace.clone());
    let image = s.image.clone().unwrap_or_default();
    let version: Option<Version> = version::image_tag(&image).and_then(version::parse_tag);
    if version.is_none() && !image.is_empty() {
        diags.push(
            Diagnostic::warning(
                "image-version-unknown",
                "spec.image",
                format!(
                    "cannot read an EMQX version from image `{image}`; assuming a current EMQX"
                ),
            )
            .at(at.value(&p("spec.image")))
            .help("pin a version tag such as emqx/emqx-enterprise:5.10.1"),
        );
    }

    let config = s.config.clone().unwrap_or_default();
    let (files, startup_revision, facts, config_ok) = match (&config.roots, &config.data) {
        (_, Some(data)) => {
            diags.push(
                Diagnostic::warning(
                    "config-data-v3",
                    "spec.config.data",
                    "Operator 3.0 no longer reads config.data (the earlier v3beta1 shape); rendered as base.hocon the way Operator 2.3 did",
                )
                .at(at.key(&p("spec.config.data")))
                .help("move the settings to spec.config.roots: `emqx-render convert --to v3beta1` does it"),
            );
            let (files, analysis, offset) = data_layout(Generation::Modern, data);
            let (facts, ok) =
                analyze_hocon(&analysis, offset, "spec.config.data", &name, at, &mut diags);
            (files, None, facts, ok)
        }
        (Some(roots), None) => roots_layout(roots, &name, at, &mut diags),
        (None, None) => roots_layout(&BTreeMap::new(), &name, at, &mut diags),
    };
    if config.mode.is_some() {
        diags.push(
            Diagnostic::warning(
                "field-no-effect",
                "spec.config.mode",
                "has no effect: Operator 3.0 dropped config modes",
            )
            .at(at.key(&p("spec.config.mode"))),
        );
    }

    let early = config.data.is_some();
    let mut core = role(
        RoleKind::Core,
        s.core_template.as_ref(),
        early,
        at,
        &mut diags,
    );
    let mut replicant = Some(role(
        RoleKind::Replicant,
        s.replicant_template.as_ref(),
        early,
        at,
        &mut diags,
    ))
    .filter(|r| r.replicas.unwrap_or(0) > 0);
    for r in std::iter::once(&mut core).chain(replicant.as_mut()) {
        r.ports = merge_container_ports(r, &facts, at, &mut diags);
        if config_ok {
            check_probe_ports(r, at, &mut diags);
        }
    }

    let us = s.update_strategy.clone().unwrap_or_default();
    // A written evacuationStrategy that is not `Disabled` opts in to evacuating replicants.
    let evacuation = us
        .evacuation_strategy
        .as_ref()
        .filter(|e| e.type_.as_deref() != Some("Disabled"))
        .map(|e| {
            super::evacuation::Evacuation::from_spec(
                e.wait_health_check,
                e.connection_eviction_rate,
                e.session_eviction_rate,
                e.wait_takeover.unwrap_or(d::WAIT_TAKEOVER),
            )
        });
    let replicant_rollout = match &us.replicants {
        None => default_rollout(),
        Some(r) => (
            r.max_surge.clone().unwrap_or(IntOrString::Int(0)),
            r.max_unavailable.clone().unwrap_or(IntOrString::Int(1)),
        ),
    };
    if spec.doc.status.is_some() {
        diags.push(
            Diagnostic::warning(
                "status-ignored",
                "status",
                "status is written by the operator; it is ignored",
            )
            .at(at.key(&p("status"))),
        );
    }
    let mut cluster = Cluster {
        name,
        namespace,
        labels: meta.labels.clone().unwrap_or_default(),
        image,
        version,
        image_pull_policy: s.image_pull_policy.clone(),
        image_pull_secrets: s.image_pull_secrets.clone().unwrap_or_default(),
        service_account_name: s.service_account_name.clone(),
        cluster_domain: s
            .cluster_domain
            .clone()
            .unwrap_or_else(|| d::CLUSTER_DOMAIN.to_string()),
        generation: Generation::Modern,
        files,
        startup_revision,
        facts,
        api_keys: ApiKeys {
            literal: Vec::new(),
            refs: keys.to_vec(),
        },
        revision_history_limit: s
            .revision_history_limit
            .unwrap_or(d::REVISION_HISTORY_LIMIT),
        app_protocol: true,
        replicant_rollout,
        core,
        replicant,
        dashboard_service: service_template(
            s.dashboard_service_template
                .as_ref()
                .map(TemplateParts::from),
            &[SELECTOR_IGNORED],
            "spec.dashboardServiceTemplate",
            at,
            &mut diags,
        ),
        listeners_service: service_template(
            s.listeners_service_template
                .as_ref()
                .map(TemplateParts::from),
            &[SELECTOR_IGNORED],
            "spec.listenersServiceTemplate",
            at,
            &mut diags,
        ),
        cookie_ref: None,
    };
    if let Some(e) = evacuation {
        super::evacuation::apply(&mut cluster, e, at, &mut diags);
    }
    let ok = !diags.has_errors();
    (ok.then_some(cluster), diags)
}
