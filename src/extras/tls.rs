//! `tls`: a certificate for the TLS listeners. The Secret (issued by cert-manager, or an existing
//! one) is mounted read-only into every EMQX pod, and the covered listeners' `ssl_options` point
//! at its files. Only names and paths enter the render, never key material.

use k8s_openapi::api::core::v1 as core;
use serde::Serialize;

use crate::diag::Diagnostic;
use crate::input::settings::TlsDoc;
use crate::manifest::Object;
use crate::model::Cluster;
use crate::objects::{custom, default_labels, meta};

/// The pod volume holding the Secret.
pub const VOLUME: &str = "emqx-render-tls";
/// Where the Secret's files appear in the EMQX container (beside the image's own certs).
pub const MOUNT_DIR: &str = "/opt/emqx/etc/certs/emqx-render";
/// cert-manager's API version.
pub const CERT_MANAGER_API: &str = "cert-manager.io/v1";

/// The Secret the pods mount.
pub fn secret_name(c: &Cluster, t: &TlsDoc) -> String {
    t.secret_name
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}-tls", c.name))
}

/// The HOCON appended to the config: each covered listener's certificate paths.
fn hocon(listeners: &[&str], ca: bool) -> String {
    let mut out =
        String::from("\n# emqx-render Settings tls: certificates from the mounted Secret\n");
    for l in listeners {
        out.push_str(&format!("{l}.ssl_options {{\n"));
        out.push_str(&format!("  certfile = \"{MOUNT_DIR}/tls.crt\"\n"));
        out.push_str(&format!("  keyfile = \"{MOUNT_DIR}/tls.key\"\n"));
        if ca {
            out.push_str(&format!("  cacertfile = \"{MOUNT_DIR}/ca.crt\"\n"));
        }
        out.push_str("}\n");
    }
    out
}

/// Points the covered listeners at the mounted Secret and mounts it into both roles.
/// Problems carry paths into the Settings document.
pub fn apply(c: &mut Cluster, t: &TlsDoc) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut covered: Vec<String> = Vec::new();
    match &t.listeners {
        None => {
            for l in &c.facts.listeners {
                if l.gateway.is_none() && matches!(l.kind.as_str(), "ssl" | "wss") {
                    covered.push(l.path.clone());
                }
            }
            if covered.is_empty() {
                problems.push(
                    Diagnostic::error(
                        "tls-no-listener",
                        "tls",
                        format!("cluster {} has no enabled ssl or wss listener to serve the certificate", c.name),
                    )
                    .help("enable one (`listeners.ssl.default.bind = 8883`), or name the listener in `tls.listeners`"),
                );
            }
        }
        Some(names) => {
            for (i, n) in names.iter().enumerate() {
                let found = c.facts.listeners.iter().find(|l| &l.port_name == n);
                match found {
                    Some(l) if l.gateway.is_none() && matches!(l.kind.as_str(), "ssl" | "wss" | "quic") => {
                        covered.push(l.path.clone());
                    }
                    Some(_) => problems.push(
                        Diagnostic::error(
                            "tls-listener",
                            format!("tls.listeners[{i}]"),
                            format!("`{n}` is not an ssl, wss or quic listener"),
                        )
                        .help("name an ssl, wss or quic listener; gateway listeners take their certificates in their own config"),
                    ),
                    None => {
                        let known: Vec<&str> = c
                            .facts
                            .listeners
                            .iter()
                            .filter(|l| l.gateway.is_none() && matches!(l.kind.as_str(), "ssl" | "wss" | "quic"))
                            .map(|l| l.port_name.as_str())
                            .collect();
                        problems.push(
                            Diagnostic::error(
                                "tls-listener",
                                format!("tls.listeners[{i}]"),
                                format!("cluster {} has no enabled listener `{n}`", c.name),
                            )
                            .help(if known.is_empty() {
                                "enable an ssl listener in the config first".to_string()
                            } else {
                                format!("its TLS listeners are: {}", known.join(", "))
                            }),
                        );
                    }
                }
            }
        }
    }
    for path in &covered {
        if c.facts
            .listeners
            .iter()
            .any(|l| &l.path == path && l.sets_cert)
        {
            problems.push(
                Diagnostic::error(
                    "tls-twice",
                    "tls",
                    format!("the config of cluster {} sets {path}.ssl_options certfile/keyfile, and Settings tls covers that listener too", c.name),
                )
                .help("keep one: remove certfile/keyfile from the config, or leave the listener out of `tls.listeners`"),
            );
        }
    }
    for role in std::iter::once(&c.core).chain(c.replicant.as_ref()) {
        if role
            .spec
            .extra_volumes
            .iter()
            .flatten()
            .any(|v| v.name == VOLUME)
        {
            problems.push(
                Diagnostic::error(
                    "tls-volume",
                    "tls",
                    format!("cluster {} already has a volume named {VOLUME}", c.name),
                )
                .help("rename that extraVolume"),
            );
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let paths: Vec<&str> = covered.iter().map(String::as_str).collect();
    let text = hocon(&paths, t.ca_cert == Some(true));
    match &mut c.files.base_hocon {
        Some(b) => b.push_str(&text),
        None => c.files.emqx_conf.push_str(&text),
    }
    let secret = secret_name(c, t);
    for role in std::iter::once(&mut c.core).chain(c.replicant.as_mut()) {
        role.spec
            .extra_volumes
            .get_or_insert_with(Vec::new)
            .push(core::Volume {
                name: VOLUME.into(),
                secret: Some(core::SecretVolumeSource {
                    secret_name: Some(secret.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            });
        role.spec
            .extra_volume_mounts
            .get_or_insert_with(Vec::new)
            .push(core::VolumeMount {
                name: VOLUME.into(),
                mount_path: MOUNT_DIR.into(),
                read_only: Some(true),
                ..Default::default()
            });
    }
    Vec::new()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuerRef {
    name: String,
    kind: String,
    group: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateSpec {
    secret_name: String,
    issuer_ref: IssuerRef,
    dns_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    renew_before: Option<String>,
}

/// The cert-manager Certificate, when cert-manager issues the Secret.
pub fn certificate(c: &Cluster, t: &TlsDoc) -> Option<Object> {
    let cm = t.cert_manager.as_ref()?;
    let svc = format!("{}-listeners", c.name);
    let ns = &c.namespace;
    let mut dns_names = if cm.service_dns_names == Some(false) {
        Vec::new()
    } else {
        vec![
            svc.clone(),
            format!("{svc}.{ns}"),
            format!("{svc}.{ns}.svc"),
            format!("{svc}.{ns}.svc.{}", c.cluster_domain),
        ]
    };
    for n in cm.dns_names.iter().flatten() {
        if !dns_names.contains(n) {
            dns_names.push(n.clone());
        }
    }
    let spec = CertificateSpec {
        secret_name: secret_name(c, t),
        issuer_ref: IssuerRef {
            name: cm.issuer_name.clone().unwrap_or_default(),
            kind: cm.issuer_kind.clone().unwrap_or_else(|| "Issuer".into()),
            group: cm
                .issuer_group
                .clone()
                .unwrap_or_else(|| "cert-manager.io".into()),
        },
        dns_names,
        duration: cm.duration.clone(),
        renew_before: cm.renew_before.clone(),
    };
    Some(custom(
        CERT_MANAGER_API,
        "Certificate",
        meta(c, format!("{}-tls", c.name), default_labels(c)),
        &spec,
    ))
}
