//! The pod template of a role: the `emqx` container with the operator's environment (in its
//! order, picked by generation and EMQX version), ports, volumes and mounts, probes and security
//! contexts. Two layouts: Operator 2.0/2.2 (Legacy) and 2.3/3.x (Modern).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::config::{
    API_KEY_KEY, BASE_HOCON_KEY, CONFIG_KEY, api_key_secret_name, config_map_name,
    cookie_secret_name,
};
use super::services::headless_name;
use super::{merged, non_empty, non_empty_vec, role_labels};
use crate::model::defaults as d;
use crate::model::{Cluster, Generation, Role, RoleKind};
use crate::version::{BOOTSTRAP_FILE_SINCE, ROLE_ENV_SINCE};

pub const CONTAINER: &str = "emqx";
const API_KEY_SOURCES_VOLUME: &str = "bootstrap-api-key-sources";
const CONFIG_VOLUME: &str = "bootstrap-config";
const SOURCES_DIR: &str = "/bootstrap-sources";
const WRITE_DIR: &str = "/bootstrap";
/// Operator 3.x's bootstrap key file (Modern layout).
const MODERN_BOOTSTRAP_FILE: &str = "/opt/emqx/etc/bootstrap_api_keys";
const BASE_HOCON_PATH: &str = "/opt/emqx/etc/base.hocon";
/// The operator's startup-config annotation (Operator 3.x, v3beta1 `config.roots`).
pub const STARTUP_REVISION_ANNOTATION: &str = "apps.emqx.io/startup-config-revision";

/// Where the bootstrap API key file lives, by generation.
struct KeyFile {
    volume: &'static str,
    path: &'static str,
}

fn key_file(c: &Cluster) -> KeyFile {
    match c.generation {
        Generation::Legacy => KeyFile {
            volume: "bootstrap-api-key",
            path: d::BOOTSTRAP_FILE,
        },
        Generation::Modern => KeyFile {
            volume: "bootstrap-api-keys",
            path: MODERN_BOOTSTRAP_FILE,
        },
    }
}

/// Whether this role's pods load bootstrap API keys: every node in Operator 2.2, cores only
/// from 2.3 on (EMQX loads the file on cores; the keys replicate).
fn has_keys(c: &Cluster, r: &Role) -> bool {
    let bootstrap_ok = c.version.is_none_or(|v| v >= BOOTSTRAP_FILE_SINCE);
    !c.api_keys.is_empty()
        && bootstrap_ok
        && (c.generation == Generation::Legacy || r.kind == RoleKind::Core)
}

fn env(name: &str, value: &str) -> core::EnvVar {
    core::EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn field_env(name: &str, path: &str) -> core::EnvVar {
    core::EnvVar {
        name: name.into(),
        value_from: Some(core::EnvVarSource {
            field_ref: Some(core::ObjectFieldSelector {
                field_path: path.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn data_volume_name(c: &Cluster, role: RoleKind) -> String {
    format!("{}-{}-data", c.name, role.as_str())
}

fn log_volume_name(c: &Cluster, role: RoleKind) -> String {
    format!("{}-{}-log", c.name, role.as_str())
}

fn env_list(c: &Cluster, r: &Role) -> Vec<core::EnvVar> {
    let mut out: Vec<core::EnvVar> = Vec::new();
    // Operator 2.2 prepends each dashboard port it finds, so HTTPS ends up before HTTP. From
    // 2.3 on the bind comes from base.hocon instead.
    if c.generation == Generation::Legacy {
        for p in &r.ports {
            let var = match p.name.as_deref() {
                Some("dashboard") => "EMQX_DASHBOARD__LISTENERS__HTTP__BIND",
                Some("dashboard-https") => "EMQX_DASHBOARD__LISTENERS__HTTPS__BIND",
                _ => continue,
            };
            out.insert(0, env(var, &p.container_port.to_string()));
        }
    }
    if r.kind == RoleKind::Core {
        out.push(field_env("POD_NAME", "metadata.name"));
    }
    out.push(env("EMQX_CLUSTER__DISCOVERY_STRATEGY", "dns"));
    out.push(env("EMQX_CLUSTER__DNS__RECORD_TYPE", "srv"));
    out.push(env(
        "EMQX_CLUSTER__DNS__NAME",
        &format!(
            "{}.{}.svc.{}",
            headless_name(c),
            c.namespace,
            c.cluster_domain
        ),
    ));
    match r.kind {
        RoleKind::Core => out.push(env("EMQX_HOST", "$(POD_NAME).$(EMQX_CLUSTER__DNS__NAME)")),
        RoleKind::Replicant => out.push(field_env("EMQX_HOST", "status.podIP")),
    }
    out.push(env("EMQX_NODE__DATA_DIR", "data"));
    let role_var = if c.version.is_some_and(|v| v < ROLE_ENV_SINCE) {
        "EMQX_NODE__DB_ROLE"
    } else {
        "EMQX_NODE__ROLE"
    };
    out.push(env(role_var, r.kind.as_str()));
    out.push(core::EnvVar {
        name: "EMQX_NODE__COOKIE".into(),
        value_from: Some(core::EnvVarSource {
            secret_key_ref: Some(core::SecretKeySelector {
                name: cookie_secret_name(c),
                key: super::config::cookie_key(c),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    if has_keys(c, r) {
        // The operator writes the value with its double quotes (HOCON string syntax).
        out.push(env(
            "EMQX_API_KEY__BOOTSTRAP_FILE",
            &format!("\"{}\"", key_file(c).path),
        ));
    }
    out.extend(r.spec.env.clone().unwrap_or_default());
    out
}

fn mount(name: &str, path: &str, sub: Option<&str>, read_only: bool) -> core::VolumeMount {
    core::VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        sub_path: sub.map(str::to_string),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

fn empty_dir(name: String) -> core::Volume {
    core::Volume {
        name,
        empty_dir: Some(core::EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

/// The API key volumes: the Secret of literal keys, or (with keys read from Secrets) an
/// emptyDir the init container writes plus the projected sources.
fn key_volumes(c: &Cluster) -> Vec<core::Volume> {
    let volume = key_file(c).volume;
    if c.api_keys.refs.is_empty() {
        vec![core::Volume {
            name: volume.into(),
            secret: Some(core::SecretVolumeSource {
                secret_name: Some(api_key_secret_name(c)),
                ..Default::default()
            }),
            ..Default::default()
        }]
    } else {
        vec![empty_dir(volume.into()), api_key_sources(c)]
    }
}

fn config_volume(c: &Cluster) -> core::Volume {
    core::Volume {
        name: CONFIG_VOLUME.into(),
        config_map: Some(core::ConfigMapVolumeSource {
            name: config_map_name(c),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Volumes in the operator's order.
/// Legacy: [data emptyDir], api key, config, log, [replicant data], extras.
/// Modern: config, [api key], log, [data emptyDir when no claim], extras.
fn volumes(c: &Cluster, r: &Role) -> Vec<core::Volume> {
    let mut v = Vec::new();
    let data_on_pvc = r.kind == RoleKind::Core && r.pvc.is_some();
    let keys = has_keys(c, r);
    match c.generation {
        Generation::Legacy => {
            if !data_on_pvc && r.kind == RoleKind::Core {
                v.push(empty_dir(data_volume_name(c, r.kind)));
            }
            if keys {
                v.extend(key_volumes(c));
            }
            v.push(config_volume(c));
            v.push(empty_dir(log_volume_name(c, r.kind)));
            if r.kind == RoleKind::Replicant {
                v.push(empty_dir(data_volume_name(c, r.kind)));
            }
        }
        Generation::Modern => {
            v.push(config_volume(c));
            if keys {
                v.extend(key_volumes(c));
            }
            v.push(empty_dir(log_volume_name(c, r.kind)));
            if !data_on_pvc {
                v.push(empty_dir(data_volume_name(c, r.kind)));
            }
        }
    }
    v.extend(r.spec.extra_volumes.clone().unwrap_or_default());
    v
}

/// The Secrets behind `secretRef` keys (and the literal ones), projected for the init container.
fn api_key_sources(c: &Cluster) -> core::Volume {
    let mut sources = Vec::new();
    let project = |name: String, key: String, path: String| core::VolumeProjection {
        secret: Some(core::SecretProjection {
            name,
            items: Some(vec![core::KeyToPath {
                key,
                path,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    if !c.api_keys.literal.is_empty() {
        sources.push(project(
            api_key_secret_name(c),
            API_KEY_KEY.into(),
            "literal".into(),
        ));
    }
    for (i, r) in c.api_keys.refs.iter().enumerate() {
        for (sel, part) in [(&r.key, "key"), (&r.secret, "secret")] {
            sources.push(project(
                sel.secret_name.clone(),
                sel.secret_key.clone(),
                format!("ref-{i}-{part}"),
            ));
        }
    }
    core::Volume {
        name: API_KEY_SOURCES_VOLUME.into(),
        projected: Some(core::ProjectedVolumeSource {
            sources: Some(sources),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Writes `key:secret[:role]` lines from the projected Secrets into the file EMQX reads: EMQX
/// reads one file, and a projected volume cannot concatenate keys.
fn api_key_init(c: &Cluster, r: &Role) -> core::Container {
    let out = format!("{WRITE_DIR}/{API_KEY_KEY}");
    let mut script = format!("set -eu\n: > {out}\n");
    if !c.api_keys.literal.is_empty() {
        script.push_str(&format!("cat {SOURCES_DIR}/literal >> {out}\n"));
    }
    for (i, k) in c.api_keys.refs.iter().enumerate() {
        let role = k.role.as_ref().map(|r| format!(":{r}")).unwrap_or_default();
        script.push_str(&format!(
            "printf '%s:%s{role}\\n' \"$(cat {SOURCES_DIR}/ref-{i}-key)\" \"$(cat {SOURCES_DIR}/ref-{i}-secret)\" >> {out}\n"
        ));
    }
    core::Container {
        name: "bootstrap-api-key".into(),
        image: Some(c.image.clone()),
        image_pull_policy: c.image_pull_policy.clone(),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        // The EMQX container's: never more than the pod already asks for.
        resources: r.spec.resources.clone(),
        security_context: Some(hardened(r)),
        volume_mounts: Some(vec![
            mount(API_KEY_SOURCES_VOLUME, SOURCES_DIR, None, true),
            mount(key_file(c).volume, WRITE_DIR, None, false),
        ]),
        ..Default::default()
    }
}

/// Mounts in the operator's order.
/// Legacy: api key, emqx.conf, log, data, extras. Modern: log, data, [api key], base.hocon,
/// emqx.conf, extras.
fn mounts(c: &Cluster, r: &Role) -> Vec<core::VolumeMount> {
    let mut m = Vec::new();
    let keys = has_keys(c, r);
    let kf = key_file(c);
    let log = mount(&log_volume_name(c, r.kind), d::LOG_DIR, None, false);
    let data = mount(&data_volume_name(c, r.kind), d::DATA_DIR, None, false);
    let conf = mount(CONFIG_VOLUME, d::EMQX_CONF_PATH, Some(CONFIG_KEY), true);
    match c.generation {
        Generation::Legacy => {
            if keys {
                m.push(mount(kf.volume, kf.path, Some(API_KEY_KEY), true));
            }
            m.extend([conf, log, data]);
        }
        Generation::Modern => {
            m.extend([log, data]);
            if keys {
                m.push(mount(kf.volume, kf.path, Some(API_KEY_KEY), true));
            }
            m.push(mount(
                CONFIG_VOLUME,
                BASE_HOCON_PATH,
                Some(BASE_HOCON_KEY),
                true,
            ));
            m.push(conf);
        }
    }
    m.extend(r.spec.extra_volume_mounts.clone().unwrap_or_default());
    m
}

fn runs_as_root(r: &Role) -> bool {
    let c = r
        .spec
        .container_security_context
        .as_ref()
        .and_then(|c| c.run_as_user);
    let p = r
        .spec
        .pod_security_context
        .as_ref()
        .and_then(|p| p.run_as_user);
    c.or(p) == Some(0)
}

/// The container security context of EMQX and our init container: the spec's (or the CRD
/// default), with what the Kubernetes "restricted" Pod Security Standard needs filled in where
/// the spec leaves it unset: no privilege escalation, every capability dropped, non-root (unless
/// the spec runs as root). A value the spec sets is kept.
pub fn hardened(r: &Role) -> core::SecurityContext {
    let mut c = r
        .spec
        .container_security_context
        .clone()
        .unwrap_or_default();
    c.allow_privilege_escalation.get_or_insert(false);
    c.capabilities.get_or_insert_with(|| core::Capabilities {
        drop: Some(vec!["ALL".into()]),
        ..Default::default()
    });
    if !runs_as_root(r) {
        c.run_as_non_root.get_or_insert(true);
    }
    c
}

/// The pod security context: the spec's (or the CRD default), with the `RuntimeDefault`
/// seccomp profile when neither the pod nor the container names one.
pub fn hardened_pod(r: &Role) -> core::PodSecurityContext {
    let mut p = r.spec.pod_security_context.clone().unwrap_or_default();
    let container_has = r
        .spec
        .container_security_context
        .as_ref()
        .is_some_and(|c| c.seccomp_profile.is_some());
    if !container_has {
        p.seccomp_profile
            .get_or_insert_with(|| core::SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            });
    }
    p
}

/// The role's topology spread constraints; one without `labelSelector` matches no pods and
/// spreads nothing, so it gets the role's own pod selector (as the Helm chart writes it;
/// `model::role` warns).
fn spread(c: &Cluster, r: &Role) -> Option<Vec<core::TopologySpreadConstraint>> {
    let mut list = r.spec.topology_spread_constraints.clone()?;
    for t in &mut list {
        t.label_selector.get_or_insert_with(|| LabelSelector {
            match_labels: Some(role_labels(c, r.kind)),
            ..Default::default()
        });
    }
    Some(list)
}

/// The pod template of a role.
pub fn template(c: &Cluster, r: &Role, checksum: &str) -> core::PodTemplateSpec {
    let s = &r.spec;
    let container = core::Container {
        name: CONTAINER.into(),
        image: Some(c.image.clone()),
        image_pull_policy: c.image_pull_policy.clone(),
        command: s.command.clone(),
        args: s.args.clone(),
        env: non_empty_vec(env_list(c, r)),
        env_from: s.env_from.clone(),
        ports: non_empty_vec(r.ports.clone()),
        resources: s.resources.clone(),
        security_context: Some(hardened(r)),
        volume_mounts: Some(mounts(c, r)),
        liveness_probe: s.liveness_probe.clone(),
        readiness_probe: s.readiness_probe.clone(),
        startup_probe: s.startup_probe.clone(),
        lifecycle: s.lifecycle.clone(),
        ..Default::default()
    };
    let mut containers = vec![container];
    containers.extend(s.extra_containers.clone().unwrap_or_default());
    let mut init = Vec::new();
    if !c.api_keys.refs.is_empty() && has_keys(c, r) {
        init.push(api_key_init(c, r));
    }
    init.extend(s.init_containers.clone().unwrap_or_default());
    let tolerations = s.tolerations.clone().unwrap_or_default();
    let mut annotations = r.annotations.clone();
    annotations.insert(super::CHECKSUM_ANNOTATION.to_string(), checksum.to_string());
    if let Some(rev) = &c.startup_revision {
        annotations.insert(STARTUP_REVISION_ANNOTATION.to_string(), rev.clone());
    }
    core::PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(merged(role_labels(c, r.kind), &r.labels)),
            annotations: non_empty(annotations),
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            affinity: s.affinity.clone(),
            containers,
            dns_config: r.dns_config.clone(),
            image_pull_secrets: non_empty_vec(c.image_pull_secrets.clone()),
            init_containers: non_empty_vec(init),
            node_name: s.node_name.clone(),
            node_selector: s.node_selector.clone(),
            security_context: Some(hardened_pod(r)),
            // EMQX finds its peers through DNS and never calls the Kubernetes API: without a
            // service account of the user's, the pods get no API token.
            automount_service_account_token: c.service_account_name.is_none().then_some(false),
            service_account_name: c.service_account_name.clone(),
            termination_grace_period_seconds: r.termination_grace_period_seconds,
            tolerations: non_empty_vec(tolerations),
            topology_spread_constraints: spread(c, r),
            volumes: Some(volumes(c, r)),
            ..Default::default()
        }),
    }
}

/// Labels of a role's workload object (and its pods): operator labels over template labels.
pub fn workload_labels(c: &Cluster, r: &Role) -> BTreeMap<String, String> {
    merged(role_labels(c, r.kind), &r.labels)
}
