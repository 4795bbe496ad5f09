//! Renderer settings: one type, filled in rising precedence from a `kind: Settings` document in
//! the input, then from command-line flags.

use std::fmt;

use serde::Deserialize;

use crate::diag::Diagnostic;
use crate::spec::fields::fields_of;
use crate::yaml::Seg;

/// A Kubernetes minor version, e.g. 1.33.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

/// The oldest Kubernetes emqx-render supports: the k8s-openapi feature it is built with.
pub const OLDEST_KUBE: KubeVersion = KubeVersion {
    major: 1,
    minor: 33,
};
/// The newest Kubernetes emqx-render is tested against.
pub const NEWEST_KUBE: KubeVersion = KubeVersion {
    major: 1,
    minor: 37,
};
/// The namespace for clusters whose spec names none.
pub const DEFAULT_NAMESPACE: &str = "default";

impl KubeVersion {
    /// Reads `1.33`, `v1.33` or `1.33.4`.
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let s = s.trim().trim_start_matches('v');
        let mut it = s.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.trim_end_matches('+').parse().ok()?;
        Some(KubeVersion { major, minor })
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The settings document as written (`apiVersion: emqx-render/v1alpha1`, `kind: Settings`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDoc {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub kubernetes_version: Option<String>,
    pub namespace: Option<String>,
}

/// Field names of the settings document, for did-you-mean hints.
pub fn fields_at(path: &[Seg]) -> &'static [&'static str] {
    if path.is_empty() {
        fields_of::<SettingsDoc>()
    } else {
        &[]
    }
}

/// Values given on the command line (or by an integration's environment).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub kubernetes_version: Option<String>,
    pub namespace: Option<String>,
}

/// The settings a render runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub kubernetes_version: KubeVersion,
    /// Namespace for clusters whose `metadata.namespace` is empty.
    pub namespace: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kubernetes_version: OLDEST_KUBE,
            namespace: DEFAULT_NAMESPACE.to_string(),
        }
    }
}

impl Settings {
    /// Layers the settings document and the overrides over the defaults.
    pub fn resolve(
        doc: Option<&SettingsDoc>,
        over: &Overrides,
    ) -> Result<Settings, Box<Diagnostic>> {
        let mut s = Settings::default();
        let kube = over
            .kubernetes_version
            .as_deref()
            .or(doc.and_then(|d| d.kubernetes_version.as_deref()));
        if let Some(v) = kube {
            let parsed = KubeVersion::parse(v).ok_or_else(|| {
                Box::new(
                    Diagnostic::error(
                        "settings-kube-version",
                        "kubernetesVersion",
                        format!("`{v}` is not a Kubernetes version"),
                    )
                    .help("write it as 1.33"),
                )
            })?;
            if parsed < OLDEST_KUBE || parsed > NEWEST_KUBE {
                return Err(Box::new(
                    Diagnostic::error(
                        "settings-kube-version",
                        "kubernetesVersion",
                        format!("Kubernetes {parsed} is not supported"),
                    )
                    .help(format!(
                        "emqx-render supports Kubernetes {OLDEST_KUBE} to {NEWEST_KUBE}"
                    )),
                ));
            }
            s.kubernetes_version = parsed;
        }
        if let Some(ns) = over
            .namespace
            .as_deref()
            .or(doc.and_then(|d| d.namespace.as_deref()))
        {
            s.namespace = ns.to_string();
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_document() {
        let doc = SettingsDoc {
            kubernetes_version: Some("1.34".into()),
            ..Default::default()
        };
        let over = Overrides {
            kubernetes_version: Some("v1.36".into()),
            ..Default::default()
        };
        let s = Settings::resolve(Some(&doc), &over).unwrap();
        assert_eq!(
            s.kubernetes_version,
            KubeVersion {
                major: 1,
                minor: 36
            }
        );
        let s = Settings::resolve(Some(&doc), &Overrides::default()).unwrap();
        assert_eq!(
            s.kubernetes_version,
            KubeVersion {
                major: 1,
                minor: 34
            }
        );
    }

    #[test]
    fn unsupported_version_is_refused() {
        let over = Overrides {
            kubernetes_version: Some("1.20".into()),
            ..Default::default()
        };
        assert!(Settings::resolve(None, &over).is_err());
    }
}
