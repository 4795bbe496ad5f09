//! Refusals for what the EMQX image cannot run or upgrade through: topologies the edition and
//! version forbid (checked on every render), and rolling-upgrade paths EMQX does not support
//! (checked by `plan`). Facts: reference/user-voice.md §6 and EMQX's rolling-upgrade matrix
//! (docs.emqx.com, "Supported Rolling Upgrade Paths Since 5.0").

use crate::diag::Diagnostic;
use crate::model::{Cluster, Role};
use crate::version::{LICENSE_FOR_CLUSTERS_SINCE, Version};

/// Open-source `emqx/emqx` accepts only `node.role = core` from 5.8.0 on.
pub const OSS_NO_REPLICANTS_SINCE: Version = Version {
    major: 5,
    minor: 8,
    patch: 0,
};
fn env_names(r: &Role) -> impl Iterator<Item = &str> {
    r.spec.env.iter().flatten().map(|e| e.name.as_str())
}

/// Where a licence comes from: the config, or `EMQX_LICENSE__KEY` on every role. `None` when
/// an `envFrom` Secret or ConfigMap might hold it (we cannot look inside).
fn licensed(c: &Cluster) -> Option<bool> {
    if c.facts.has_license {
        return Some(true);
    }
    let roles: Vec<&Role> = std::iter::once(&c.core)
        .chain(c.replicant.as_ref())
        .collect();
    if roles
        .iter()
        .all(|r| env_names(r).any(|n| n == "EMQX_LICENSE__KEY"))
    {
        return Some(true);
    }
    if roles
        .iter()
        .any(|r| r.spec.env_from.as_ref().is_some_and(|v| !v.is_empty()))
    {
        return None;
    }
    Some(false)
}

/// Topologies the image cannot run. Errors are coded `topology-*`; `plan` reports them as refusals.
pub fn topology(c: &Cluster) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(v) = c.version else { return out };
    let replicants = c.replicant.as_ref().and_then(|r| r.replicas).unwrap_or(0);
    let nodes = c.core.replicas.unwrap_or(1) + replicants;
    if replicants > 0 && v >= OSS_NO_REPLICANTS_SINCE && !c.enterprise() {
        out.push(
            Diagnostic::error(
                "topology-oss-replicants",
                "spec.replicantTemplate.spec.replicas",
                format!("open-source EMQX {v} cannot run replicants: from 5.8.0 its config schema accepts only node.role = core"),
            )
            .help("use emqx/emqx-enterprise, or run cores only (replicantTemplate.spec.replicas: 0)"),
        );
    }
    if nodes > 1 && v >= LICENSE_FOR_CLUSTERS_SINCE {
        match licensed(c) {
            Some(true) => {}
            Some(false) => out.push(
                Diagnostic::error(
                    "topology-license",
                    "spec.image",
                    format!("EMQX {v} runs a cluster of more than one node ({nodes} here) only with a licence"),
                )
                .help("set EMQX_LICENSE__KEY from a Secret (env with valueFrom.secretKeyRef) in every role template, or license.key in the config; or run a single node"),
            ),
            None => out.push(
                Diagnostic::warning(
                    "topology-license-unknown",
                    "spec.image",
                    format!("EMQX {v} needs a licence for {nodes} nodes; it may come from an envFrom source emqx-render cannot see"),
                )
                .help("make sure EMQX_LICENSE__KEY is set on every node"),
            ),
        }
    }
    out
}

/// What EMQX says about rolling from one version to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradePath {
    Supported,
    /// Supported with the limitation described.
    Limited(String),
    /// Not supported; the text says what to do instead.
    Unsupported(String),
    /// To an older minor or major version.
    Downgrade,
    /// To an older patch of the same minor version.
    PatchDowngrade,
}

const NOTE_LIMITER: &str = "delete old limiter configs from etc/emqx.conf and data/configs/cluster-override.conf before the upgrade";
const NOTE_ROUTING: &str = "the pre-5.4 routing table is deleted: upgrade to 5.9 first, then restart the whole cluster (not rolling) before upgrading to 5.10 or later";
const NOTE_OTEL: &str = "5.8.7 and later need 5.9.1 or 5.10.1 (or remove the OpenTelemetry header configuration during the upgrade)";
const NOTE_V6: &str = "durable session states are lost from v5 to v6; sessions reappear clean after clients reconnect";

/// EMQX's rolling-upgrade matrix for 5.0 to 6.x.
pub fn upgrade_path(from: Version, to: Version) -> UpgradePath {
    let (f, t) = ((from.major, from.minor), (to.major, to.minor));
    if to < from && t < f {
        return UpgradePath::Downgrade;
    }
    if t == f {
        return if to < from {
            UpgradePath::PatchDowngrade
        } else {
            UpgradePath::Supported
        };
    }
    match (f, t) {
        ((5, 0), (5, 9)) => UpgradePath::Limited(NOTE_LIMITER.into()),
        ((5, 0..=3), (5, 10..)) | ((5, 0..=3), (6, _)) => {
            UpgradePath::Unsupported(NOTE_ROUTING.into())
        }
        ((5, 4 | 5), (5, 6)) => UpgradePath::Limited("see the 5.6 release notes".into()),
        ((5, 8), (5, 9 | 10)) if from.patch >= 7 && to.patch < 1 => {
            UpgradePath::Unsupported(NOTE_OTEL.into())
        }
        ((5, 8), (5, 9 | 10)) => UpgradePath::Limited(NOTE_OTEL.into()),
        ((5, 8..=10), (6, _)) => UpgradePath::Limited(NOTE_V6.into()),
        ((5, 4..=7), (6, _)) => UpgradePath::Unsupported("roll to 5.8, 5.9 or 5.10 first".into()),
        ((5, _), (5, _)) | ((6, _), (6, _)) => UpgradePath::Supported,
        _ => UpgradePath::Unsupported(
            "EMQX documents no rolling upgrade between these versions".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        crate::version::parse_tag(s).unwrap()
    }

    #[test]
    fn matrix() {
        assert_eq!(upgrade_path(v("5.8.5"), v("5.8.6")), UpgradePath::Supported);
        assert_eq!(upgrade_path(v("5.7.2"), v("5.8.6")), UpgradePath::Supported);
        assert!(matches!(
            upgrade_path(v("5.3.1"), v("5.10.1")),
            UpgradePath::Unsupported(_)
        ));
        assert!(matches!(
            upgrade_path(v("5.8.8"), v("5.9.0")),
            UpgradePath::Unsupported(_)
        ));
        assert!(matches!(
            upgrade_path(v("5.8.8"), v("5.9.1")),
            UpgradePath::Limited(_)
        ));
        assert!(matches!(
            upgrade_path(v("5.10.1"), v("6.2.2")),
            UpgradePath::Limited(_)
        ));
        assert_eq!(upgrade_path(v("5.9.0"), v("5.8.6")), UpgradePath::Downgrade);
        assert_eq!(
            upgrade_path(v("5.8.6"), v("5.8.5")),
            UpgradePath::PatchDowngrade
        );
    }
}
