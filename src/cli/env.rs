//! Settings from the environment an integration sets. Argo CD's Config Management Plugin
//! passes the destination namespace (`ARGOCD_APP_NAMESPACE`), the cluster's version
//! (`KUBE_VERSION`), the Application's plugin env (`ARGOCD_ENV_<NAME>`) and parameters
//! (`PARAM_<NAME>`). Nothing here is set outside such an integration.

use crate::diag::Diagnostic;
use crate::input::Source;
use crate::settings::{KubeVersion, Layer, NEWEST_KUBE};

/// Reads one variable through a lookup (the process environment, or a map in tests).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn first(get: Lookup<'_>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
}

/// The environment layer and the fallback namespace, plus warnings to show.
pub fn from_env(get: Lookup<'_>) -> (Layer, Option<String>, Vec<Diagnostic>) {
    let mut warnings = Vec::new();
    let mut kubernetes_version = first(
        get,
        &["PARAM_KUBERNETES_VERSION", "ARGOCD_ENV_KUBERNETES_VERSION"],
    );
    if kubernetes_version.is_none() {
        // The live cluster's version: a newer cluster than we know gets the newest we know.
        if let Some(v) = first(get, &["KUBE_VERSION"]) {
            match KubeVersion::parse(&v) {
                Some(k) if k > NEWEST_KUBE => {
                    warnings.push(Diagnostic::warning(
                        "kube-version-newer",
                        "KUBE_VERSION",
                        format!("the cluster runs Kubernetes {k}; rendering for {NEWEST_KUBE}, the newest emqx-render knows"),
                    ));
                    kubernetes_version = Some(NEWEST_KUBE.to_string());
                }
                _ => kubernetes_version = Some(v),
            }
        }
    }
    let layer = Layer {
        kubernetes_version,
        namespace: first(get, &["PARAM_NAMESPACE", "ARGOCD_ENV_NAMESPACE"]),
        sync_waves: first(get, &["PARAM_SYNC_WAVES", "ARGOCD_ENV_SYNC_WAVES"]),
        network_policy: first(get, &["PARAM_NETWORK_POLICY", "ARGOCD_ENV_NETWORK_POLICY"]),
    };
    (layer, first(get, &["ARGOCD_APP_NAMESPACE"]), warnings)
}

/// The Settings document given as the plugin parameter `settings` (YAML text), named after the
/// variable it came in, so that messages point into it.
pub fn settings_source(get: Lookup<'_>) -> Option<Source> {
    ["PARAM_SETTINGS", "ARGOCD_ENV_SETTINGS"]
        .iter()
        .find_map(|n| {
            get(n).filter(|v| !v.trim().is_empty()).map(|text| Source {
                name: (*n).to_string(),
                text,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn run(vars: &[(&str, &str)]) -> (Layer, Option<String>, Vec<Diagnostic>) {
        let m: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_env(&|k| m.get(k).cloned())
    }

    #[test]
    fn argo_cd_variables() {
        let (l, fallback, w) = run(&[("ARGOCD_APP_NAMESPACE", "mqtt"), ("KUBE_VERSION", "1.34.2")]);
        assert_eq!(l.kubernetes_version.as_deref(), Some("1.34.2"));
        assert_eq!(l.namespace, None);
        assert_eq!(fallback.as_deref(), Some("mqtt"));
        assert!(w.is_empty());
        let (l, _, _) = run(&[
            ("KUBE_VERSION", "1.34.2"),
            ("PARAM_KUBERNETES_VERSION", "1.36"),
            ("ARGOCD_ENV_NAMESPACE", "x"),
        ]);
        assert_eq!(l.kubernetes_version.as_deref(), Some("1.36"));
        assert_eq!(l.namespace.as_deref(), Some("x"));
        let (l, _, w) = run(&[("KUBE_VERSION", "1.40.0")]);
        assert_eq!(l.kubernetes_version.as_deref(), Some("1.37"));
        assert_eq!(w.len(), 1);
    }
}
