//! The pod template of a role: the `emqx` container with the operator's environment (in its
//! order, picked by EMQX version), ports, volumes and mounts, probes and security contexts.

use k8s_openapi::api::core::v1 as core;

use super::config::{
    API_KEY_KEY, CONFIG_KEY, COOKIE_KEY, api_key_secret_name, config_map_name, cookie_secret_name,
};
use super::services::headless_name;
use super::{merged, non_empty, non_empty_vec, role_labels};
use crate::model::defaults as d;
use crate::model::version::{BOOTSTRAP_FILE_SINCE, ROLE_ENV_SINCE};
use crate::model::{Cluster, Role, RoleKind};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

pub const CONTAINER: &str = "emqx";
const API_KEY_VOLUME: &str = "bootstrap-api-key";
const API_KEY_SOURCES_VOLUME: &str = "bootstrap-api-key-sources";
const CONFIG_VOLUME: &str = "bootstrap-config";
const SOURCES_DIR: &str = "/bootstrap-sources";
const WRITE_DIR: &str = "/bootstrap";

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

fn env_list(c: &Cluster, r: &Role, ports: &[core::ContainerPort]) -> Vec<core::EnvVar> {
    let mut out: Vec<core::EnvVar> = Vec::new();
    // Each dashboard port found is prepended, so HTTPS ends up before HTTP.
    for p in ports {
        let var = match p.name.as_deref() {
            Some("dashboard") => "EMQX_DASHBOARD__LISTENERS__HTTP__BIND",
            Some("dashboard-https") => "EMQX_DASHBOARD__LISTENERS__HTTPS__BIND",
            _ => continue,
        };
        out.insert(0, env(var, &p.container_port.to_string()));
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
                key: COOKIE_KEY.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let bootstrap_ok = c.version.is_none_or(|v| v >= BOOTSTRAP_FILE_SINCE);
    if !c.api_keys.is_empty() && bootstrap_ok {
        // The operator writes the value with its double quotes (HOCON string syntax).
        out.push(env(
            "EMQX_API_KEY__BOOTSTRAP_FILE",
            &format!("\"{}\"", d::BOOTSTRAP_FILE),
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

/// Volumes in the operator's order: [data emptyDir], api key, config, log, [data], extras.
fn volumes(c: &Cluster, r: &Role) -> Vec<core::Volume> {
    let mut v = Vec::new();
    let data_on_pvc = r.kind == RoleKind::Core && r.pvc.is_some();
    if !data_on_pvc && r.kind == RoleKind::Core {
        v.push(empty_dir(data_volume_name(c, r.kind)));
    }
    if !c.api_keys.is_empty() {
        if c.api_keys.refs.is_empty() {
            v.push(core::Volume {
                name: API_KEY_VOLUME.into(),
                secret: Some(core::SecretVolumeSource {
                    secret_name: Some(api_key_secret_name(c)),
                    ..Default::default()
                }),
                ..Default::default()
            });
        } else {
            v.push(empty_dir(API_KEY_VOLUME.into()));
            v.push(api_key_sources(c));
        }
    }
    v.push(core::Volume {
        name: CONFIG_VOLUME.into(),
        config_map: Some(core::ConfigMapVolumeSource {
            name: config_map_name(c),
            ..Default::default()
        }),
        ..Default::default()
    });
    v.push(empty_dir(log_volume_name(c, r.kind)));
    if r.kind == RoleKind::Replicant {
        v.push(empty_dir(data_volume_name(c, r.kind)));
    }
    v.extend(r.spec.extra_volumes.clone().unwrap_or_default());
    v
}

/// The Secrets behind `secretRef` keys (and the literal ones), projected for the init container.
fn api_key_sources(c: &Cluster) -> core::Volume {
    let mut sources = Vec::new();
    if !c.api_keys.literal.is_empty() {
        sources.push(core::VolumeProjection {
            secret: Some(core::SecretProjection {
                name: api_key_secret_name(c),
                items: Some(vec![core::KeyToPath {
                    key: API_KEY_KEY.into(),
                    path: "literal".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    for (i, (k, s)) in c.api_keys.refs.iter().enumerate() {
        for (sel, part) in [(k, "key"), (s, "secret")] {
            sources.push(core::VolumeProjection {
                secret: Some(core::SecretProjection {
                    name: sel.secret_name.clone(),
                    items: Some(vec![core::KeyToPath {
                        key: sel.secret_key.clone(),
                        path: format!("ref-{i}-{part}"),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            });
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

/// Writes `key:secret` lines from the projected Secrets into the file EMQX reads: EMQX reads one
/// file, and a projected volume cannot concatenate keys.
fn api_key_init(c: &Cluster, r: &Role) -> core::Container {
    let out = format!("{WRITE_DIR}/{API_KEY_KEY}");
    let mut script = format!("set -eu\n: > {out}\n");
    if !c.api_keys.literal.is_empty() {
        script.push_str(&format!("cat {SOURCES_DIR}/literal >> {out}\n"));
    }
    for i in 0..c.api_keys.refs.len() {
        script.push_str(&format!(
            "printf '%s:%s\\n' \"$(cat {SOURCES_DIR}/ref-{i}-key)\" \"$(cat {SOURCES_DIR}/ref-{i}-secret)\" >> {out}\n"
        ));
    }
    core::Container {
        name: "bootstrap-api-key".into(),
        image: Some(c.image.clone()),
        image_pull_policy: c.image_pull_policy.clone(),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        security_context: r.spec.container_security_context.clone(),
        volume_mounts: Some(vec![
            mount(API_KEY_SOURCES_VOLUME, SOURCES_DIR, None, true),
            mount(API_KEY_VOLUME, WRITE_DIR, None, false),
        ]),
        ..Default::default()
    }
}

fn mounts(c: &Cluster, r: &Role) -> Vec<core::VolumeMount> {
    let mut m = Vec::new();
    if !c.api_keys.is_empty() {
        m.push(mount(
            API_KEY_VOLUME,
            d::BOOTSTRAP_FILE,
            Some(API_KEY_KEY),
            true,
        ));
    }
    m.push(mount(
        CONFIG_VOLUME,
        d::EMQX_CONF_PATH,
        Some(CONFIG_KEY),
        true,
    ));
    m.push(mount(&log_volume_name(c, r.kind), d::LOG_DIR, None, false));
    m.push(mount(
        &data_volume_name(c, r.kind),
        d::DATA_DIR,
        None,
        false,
    ));
    m.extend(r.spec.extra_volume_mounts.clone().unwrap_or_default());
    m
}

/// The pod template of a role.
pub fn template(c: &Cluster, r: &Role, checksum: &str) -> core::PodTemplateSpec {
    let s = &r.spec;
    let ports = r.ports.clone();
    let container = core::Container {
        name: CONTAINER.into(),
        image: Some(c.image.clone()),
        image_pull_policy: c.image_pull_policy.clone(),
        command: s.command.clone(),
        args: s.args.clone(),
        env: non_empty_vec(env_list(c, r, &ports)),
        env_from: s.env_from.clone(),
        ports: non_empty_vec(ports),
        resources: s.resources.clone(),
        security_context: s.container_security_context.clone(),
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
    if !c.api_keys.refs.is_empty() {
        init.push(api_key_init(c, r));
    }
    init.extend(s.init_containers.clone().unwrap_or_default());
    let mut tolerations = s.tolerations.clone().unwrap_or_default();
    tolerations.extend(s.tole_rations.clone().unwrap_or_default());
    let mut annotations = r.annotations.clone();
    annotations.insert(super::CHECKSUM_ANNOTATION.to_string(), checksum.to_string());
    core::PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(merged(role_labels(c, r.kind), &r.labels)),
            annotations: non_empty(annotations),
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            affinity: s.affinity.clone(),
            containers,
            image_pull_secrets: non_empty_vec(c.image_pull_secrets.clone()),
            init_containers: non_empty_vec(init),
            node_name: s.node_name.clone(),
            node_selector: s.node_selector.clone(),
            security_context: s.pod_security_context.clone(),
            service_account_name: c.service_account_name.clone(),
            tolerations: non_empty_vec(tolerations),
            topology_spread_constraints: s.topology_spread_constraints.clone(),
            volumes: Some(volumes(c, r)),
            ..Default::default()
        }),
    }
}

/// Labels of a role's workload object (and its pods): operator labels over template labels.
pub fn workload_labels(c: &Cluster, r: &Role) -> BTreeMap<String, String> {
    merged(role_labels(c, r.kind), &r.labels)
}
