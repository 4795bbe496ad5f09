//! The Secrets that Settings name for a cluster (the EMQX licence, the Erlang cookie), applied
//! to its model after normalizing, so that they read the same in every generation.

use k8s_openapi::api::core::v1 as core;

use super::Cluster;
use crate::diag::Diagnostic;
use crate::settings::Settings;

/// The licence and cookie Secrets that Settings names, applied to one cluster.
pub fn apply(c: &mut Cluster, settings: &Settings) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(l) = &settings.license {
        for (path, r) in [
            ("spec.coreTemplate.spec.env", Some(&mut c.core)),
            ("spec.replicantTemplate.spec.env", c.replicant.as_mut()),
        ] {
            let Some(r) = r else { continue };
            let env = r.spec.env.get_or_insert_with(Vec::new);
            if env.iter().any(|e| e.name == "EMQX_LICENSE__KEY") {
                out.push(
                    Diagnostic::error(
                        "license-twice",
                        path,
                        "sets EMQX_LICENSE__KEY, and Settings names a licence Secret too",
                    )
                    .help("keep one: the env entry, or `license` in Settings"),
                );
                continue;
            }
            env.push(core::EnvVar {
                name: "EMQX_LICENSE__KEY".into(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: l.name.clone(),
                        key: l.key.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    if let Some(k) = &settings.cookie {
        if c.facts.cookie.is_some() {
            out.push(
                Diagnostic::error("cookie-twice", "spec.config", "node.cookie is in the config, and Settings names a cookie Secret too")
                    .help("remove node.cookie from the config; the cookie then comes from the Secret alone"),
            );
        } else {
            c.cookie_ref = Some(k.clone());
        }
    }
    out
}
