//! The one builder of a `Role` (core or replicant) from a generation-neutral `RoleInput`:
//! the generation's defaults and forced fields (`rules`) applied, the CRD's nested structural
//! defaults, the container ports merged the operator's way.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::defaults as d;
use super::rules::{self, Claim, Readiness, Rules, Written};
use super::{PodSpec, Role, RoleKind};
use crate::diag::{Diagnostic, Diagnostics};
use crate::hocon::facts::ConfigFacts;
use crate::input::{Locator, p};
use crate::yaml::Seg;

/// One role as a front end reads it from its generation's template.
#[derive(Debug, Clone)]
pub struct RoleInput {
    pub written: Written,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub replicas: Option<i32>,
    pub pod: PodSpec,
    /// The core data claim as written.
    pub claim: Option<core::PersistentVolumeClaimSpec>,
    pub min_ready_seconds: i32,
    pub dns_config: Option<core::PodDNSConfig>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

/// The role with the generation's defaults; its ports are merged later (`merge_container_ports`),
/// once the config's dashboard port is known.
pub fn role(
    kind: RoleKind,
    input: RoleInput,
    rules: &Rules,
    at: &Locator,
    diags: &mut Diagnostics,
) -> Role {
    let defaults = match kind {
        RoleKind::Core => rules.core,
        RoleKind::Replicant => rules.replicant,
    };
    let mut spec = input.pod;
    nested_defaults(&mut spec);
    if defaults.pod_defaults(input.written) {
        spec.liveness_probe.get_or_insert_with(rules.liveness);
        if let Readiness::Default(probe) = rules.readiness {
            spec.readiness_probe.get_or_insert_with(probe);
        }
        spec.pod_security_context
            .get_or_insert_with(rules.pod_security);
        if let Some(csc) = rules.container_security {
            spec.container_security_context.get_or_insert_with(csc);
        }
    }
    let base = format!("spec.{}Template.spec", kind.as_str());
    spread_selectors(&spec, &base, at, diags);
    if let Readiness::AvailabilityCheck = rules.readiness {
        availability_check(&mut spec, &base, at, diags);
    }
    if let (RoleKind::Replicant, Some(command)) = (kind, rules.replicant_pre_stop) {
        force_pre_stop(&mut spec, command, &base, at, diags);
    }
    let pvc = match (kind, rules.core_claim) {
        (RoleKind::Replicant, _) => None,
        (RoleKind::Core, Claim::AsWritten) => input.claim,
        (RoleKind::Core, Claim::Filled) => Some(core_claim(input.claim)),
    };
    Role {
        kind,
        replicas: input.replicas.or(defaults.replicas(input.written)),
        labels: input.labels,
        annotations: input.annotations,
        spec,
        pvc,
        ports: Vec::new(),
        min_ready_seconds: input.min_ready_seconds,
        dns_config: input.dns_config,
        termination_grace_period_seconds: None,
        min_available: input.min_available,
        max_unavailable: input.max_unavailable,
    }
}

/// A topology spread constraint without `labelSelector` matches no pods, so it spreads nothing:
/// `objects` fills in the role's pod selector, said here.
fn spread_selectors(spec: &PodSpec, base: &str, at: &Locator, diags: &mut Diagnostics) {
    for (i, t) in spec
        .topology_spread_constraints
        .iter()
        .flatten()
        .enumerate()
    {
        if t.label_selector.is_none() {
            let path = format!("{base}.topologySpreadConstraints[{i}]");
            diags.push(
                Diagnostic::warning(
                    "spread-selector-filled",
                    path.clone(),
                    "has no labelSelector, which matches no pods and spreads nothing; the role's own pod selector is filled in",
                )
                .at(at.value(&p(&path)))
                .help("write the labelSelector yourself to spread by other labels"),
            );
        }
    }
}

/// Operator 3.x keeps a readiness probe only if it is an httpGet probe on a path other than
/// /status; anything else becomes the availability check.
fn availability_check(spec: &mut PodSpec, base: &str, at: &Locator, diags: &mut Diagnostics) {
    let keep = spec
        .readiness_probe
        .as_ref()
        .and_then(|pr| pr.http_get.as_ref())
        .is_some_and(|h| h.path.as_deref().is_some_and(|p| p != d::PROBE_PATH));
    if keep {
        return;
    }
    if spec.readiness_probe.is_some() {
        let path = format!("{base}.readinessProbe");
        diags.push(
            Diagnostic::warning(
                "readiness-replaced",
                path.clone(),
                "replaced by the availability check, as Operator 3.x does with any readiness probe that is not an httpGet on a path other than /status",
            )
            .at(at.key(&p(&path)))
            .help(format!("use an httpGet probe, e.g. on {}", rules::AVAILABILITY_CHECK_PATH)),
        );
    }
    spec.readiness_probe = Some(rules::availability_check());
}

/// The preStop the operator forces on replicants, replacing any written one (with a warning).
fn force_pre_stop(
    spec: &mut PodSpec,
    command: &[&str],
    base: &str,
    at: &Locator,
    diags: &mut Diagnostics,
) {
    let lc = spec.lifecycle.get_or_insert_with(Default::default);
    if lc.pre_stop.is_some() {
        let path = format!("{base}.lifecycle.preStop");
        diags.push(
            Diagnostic::warning(
                "prestop-replaced",
                path.clone(),
                format!(
                    "replaced by `{}`, which Operator 3.x forces on replicants",
                    command.last().copied().unwrap_or_default()
                ),
            )
            .at(at.key(&p(&path))),
        );
    }
    lc.pre_stop = Some(core::LifecycleHandler {
        exec: Some(core::ExecAction {
            command: Some(command.iter().map(|s| s.to_string()).collect()),
        }),
        ..Default::default()
    });
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
        .or_insert_with(|| Quantity(rules::CORE_CLAIM_SIZE.into()));
    c.volume_mode.get_or_insert_with(|| "Filesystem".into());
    c
}

/// The CRD's structural defaults on Kubernetes types nested in a role's spec, which the API
/// server applies wherever the parent object exists: a container port's `protocol` is `TCP`, a
/// gRPC probe's `service` is empty; and a probe's zero counts and seconds are dropped, as the
/// operator's Go types and the API server drop them. The operator reads the resource with them filled in (its
/// v2alpha1 and v2beta1 CRDs carry them; the v2 and v3beta1 CRDs, made by the same generator
/// from the same Kubernetes types, are taken to, and `TCP` is Kubernetes' own port default).
/// Found by the operator oracle (tests/oracle/).
fn nested_defaults(s: &mut PodSpec) {
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

/// User ports first, then the dashboard ports; an entry whose name or number was already seen
/// is dropped (operator `MergeContainerPorts`). Nothing goes silently: each drop is a warning.
pub fn merge_container_ports(
    r: &Role,
    facts: &ConfigFacts,
    at: &Locator,
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
pub fn check_probe_ports(r: &Role, at: &Locator, diags: &mut Diagnostics) {
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
