//! Settings from the environment an integration sets. Argo CD's Config Management Plugin
//! passes the destination namespace (`ARGOCD_APP_NAMESPACE`), the cluster's version
//! (`KUBE_VERSION`), the Application's plugin env (`ARGOCD_ENV_<NAME>`) and parameters
//! (`PARAM_<NAME>`). Nothing here is set outside such an integration.

use crate::input::Source;
use crate::settings::Layer;

/// Reads one variable through a lookup (the process environment, or a map in tests).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn first(get: Lookup<'_>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
}

/// The environment layer and the fallback namespace.
pub fn from_env(get: Lookup<'_>) -> (Layer, Option<String>) {
    let mut kubernetes_version = first(
        get,
        &["PARAM_KUBERNETES_VERSION", "ARGOCD_ENV_KUBERNETES_VERSION"],
    );
    if kubernetes_version.is_none() {
        // The live cluster's version (`1.32.4`, `v1.32.4+k3s1`); one outside the tested
        // versions is rendered for with a warning (settings::Settings::resolve).
        kubernetes_version = first(get, &["KUBE_VERSION"]);
    }
    let layer = Layer {
        kubernetes_version,
        namespace: first(get, &["PARAM_NAMESPACE", "ARGOCD_ENV_NAMESPACE"]),
        sync_waves: first(get, &["PARAM_SYNC_WAVES", "ARGOCD_ENV_SYNC_WAVES"]),
        network_policy: first(get, &["PARAM_NETWORK_POLICY", "ARGOCD_ENV_NETWORK_POLICY"]),
        keep_variables: first(get, &["PARAM_KEEP_VARIABLES", "ARGOCD_ENV_KEEP_VARIABLES"]),
        platform: first(get, &["PARAM_PLATFORM", "ARGOCD_ENV_PLATFORM"]),
        emqx_edition: first(get, &["PARAM_EMQX_EDITION", "ARGOCD_ENV_EMQX_EDITION"]),
        emqx_version: first(get, &["PARAM_EMQX_VERSION", "ARGOCD_ENV_EMQX_VERSION"]),
    };
    (layer, first(get, &["ARGOCD_APP_NAMESPACE"]))
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

    fn run(vars: &[(&str, &str)]) -> (Layer, Option<String>) {
        let m: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_env(&|k| m.get(k).cloned())
    }

    #[test]
    fn argo_cd_variables() {
        let (l, fallback) = run(&[("ARGOCD_APP_NAMESPACE", "mqtt"), ("KUBE_VERSION", "1.34.2")]);
        assert_eq!(l.kubernetes_version.as_deref(), Some("1.34.2"));
        assert_eq!(l.namespace, None);
        assert_eq!(fallback.as_deref(), Some("mqtt"));
        let (l, _) = run(&[
            ("KUBE_VERSION", "1.34.2"),
            ("PARAM_KUBERNETES_VERSION", "1.36"),
            ("ARGOCD_ENV_NAMESPACE", "x"),
        ]);
        assert_eq!(l.kubernetes_version.as_deref(), Some("1.36"));
        assert_eq!(l.namespace.as_deref(), Some("x"));
        // A cluster newer than the tested ones is rendered for as it is (with a warning there).
        let (l, _) = run(&[("KUBE_VERSION", "v1.40.0+k3s1")]);
        assert_eq!(l.kubernetes_version.as_deref(), Some("v1.40.0+k3s1"));
    }
}
