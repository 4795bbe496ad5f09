//! The config files EMQX gets, per operator generation:
//! - 2.0/2.2 (v2alpha1, v2beta1): `emqx.conf` = the operator's default listener lines, a blank
//!   line, then `config.data`;
//! - 2.3 (v2) and the earlier v3beta1 shape: `base.hocon` = the operator's minimal defaults, then
//!   `config.data`; `emqx.conf` empty;
//! - 3.x (v3beta1 `config.roots`): roots EMQX applies at runtime into `base.hocon`, roots read
//!   only at start into `emqx.conf`, each as `"<root>" = <canonical JSON>` lines.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::defaults as d;

/// `emqx.conf` of the 2.0/2.2 operator (`mergeDefaultConfig`).
pub fn legacy_emqx_conf(data: &str) -> String {
    format!("{}\n{}", d::DEFAULT_LISTENER_LINES, data)
}

/// The minimal defaults Operator 2.3 (and the earlier v3beta1) put before `config.data` in
/// `base.hocon` (emqx-operator `resources/config.go@e58f4ad2`).
pub const BASE_HOCON_DEFAULTS_V2: &str = "\n### Minimal default configuration\n# This is generally provided by 'emqx.conf' but defined here instead, as 'emqx.conf' should now be empty.\ndashboard.listeners.http.bind = 18083\n\n### User-supplied configuration\n";

/// The minimal defaults Operator 3.x puts before the runtime roots in `base.hocon`
/// (`EMQXDefaults`).
pub const BASE_HOCON_DEFAULTS_V3: &str = "\n### Minimal default configuration\n# This is generally provided by 'emqx.conf' but defined here instead, as 'emqx.conf' should now be empty.\ndashboard {\n  listeners {\n    http.bind = \"0.0.0.0:18083\"\n  }\n}\n\n### User-supplied configuration\n";

/// `base.hocon` for a HOCON `config.data` (2.3 and the earlier v3beta1).
pub fn base_hocon_from_data(data: &str) -> String {
    format!("{BASE_HOCON_DEFAULTS_V2}{data}")
}

/// Roots EMQX reads only at start; changing them needs a restart. The operator's list
/// (`config.SplitRoots`): `node`, `rpc`, `durable_sessions`, `durable_storage`, `dashboard`,
/// and every key of `cluster` except `cluster.links`.
pub const STARTUP_ROOTS: &[&str] = &[
    "dashboard",
    "durable_sessions",
    "durable_storage",
    "node",
    "rpc",
];

/// Splits roots into (runtime, startup).
pub fn split_roots(
    roots: &BTreeMap<String, serde_json::Value>,
) -> (
    BTreeMap<String, serde_json::Value>,
    BTreeMap<String, serde_json::Value>,
) {
    let mut runtime = BTreeMap::new();
    let mut startup = BTreeMap::new();
    for (k, v) in roots {
        if k == "cluster" {
            if let serde_json::Value::Object(m) = v {
                let mut links = serde_json::Map::new();
                let mut rest = serde_json::Map::new();
                for (ck, cv) in m {
                    if ck == "links" {
                        links.insert(ck.clone(), cv.clone());
                    } else {
                        rest.insert(ck.clone(), cv.clone());
                    }
                }
                if !links.is_empty() {
                    runtime.insert(k.clone(), serde_json::Value::Object(links));
                }
                if !rest.is_empty() {
                    startup.insert(k.clone(), serde_json::Value::Object(rest));
                }
                continue;
            }
            startup.insert(k.clone(), v.clone());
        } else if STARTUP_ROOTS.contains(&k.as_str()) {
            startup.insert(k.clone(), v.clone());
        } else {
            runtime.insert(k.clone(), v.clone());
        }
    }
    (runtime, startup)
}

/// JSON with object keys sorted at every level (the operator's json-iterator `SortMapKeys`).
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: BTreeMap<&String, serde_json::Value> =
                    m.iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sort(v)).unwrap_or_default()
}

/// `RenderRoots`: one line per root, roots sorted, `"<root>" = <canonical JSON>`.
pub fn render_roots(roots: &BTreeMap<String, serde_json::Value>) -> String {
    roots
        .iter()
        .map(|(k, v)| {
            format!(
                "{} = {}\n",
                serde_json::to_string(k).unwrap_or_default(),
                canonical_json(v)
            )
        })
        .collect()
}

/// The operator's `apps.emqx.io/startup-config-revision`: sha256 (hex) of the rendered
/// startup roots.
pub fn startup_revision(startup: &BTreeMap<String, serde_json::Value>) -> Option<String> {
    if startup.is_empty() {
        return None;
    }
    let digest = Sha256::digest(render_roots(startup).as_bytes());
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Listeners EMQX always has unless disabled (`ensure_default_listener`): in the 2.3/3.x layout
/// no config line names them, so the analysis adds them before the real files.
pub const IMPLICIT_DEFAULT_LISTENERS: &str = "listeners.tcp.default {}\nlisteners.ssl.default {}\nlisteners.ws.default {}\nlisteners.wss.default {}\n";

/// HOCON → roots: the value tree of a parsed config as JSON, keyed by root.
pub fn roots_from_hocon(o: &crate::hocon::Object) -> BTreeMap<String, serde_json::Value> {
    use crate::hocon::Value as H;
    fn json(v: &H) -> serde_json::Value {
        match v {
            H::Null | H::Pending(..) => serde_json::Value::Null,
            H::Bool(b) => serde_json::Value::Bool(*b),
            H::Int(i) => i64::try_from(*i)
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::from(*i as f64)),
            H::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            H::Str(s) => serde_json::Value::String(s.clone()),
            H::Array(a) => serde_json::Value::Array(a.iter().map(|n| json(&n.value)).collect()),
            H::Object(o) => serde_json::Value::Object(
                o.entries()
                    .iter()
                    .map(|e| (e.key.clone(), json(&e.node.value)))
                    .collect(),
            ),
        }
    }
    o.entries()
        .iter()
        .map(|e| (e.key.clone(), json(&e.node.value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roots_render_sorted_as_json_hocon() {
        let roots: BTreeMap<String, serde_json::Value> = [
            (
                "log".to_string(),
                json!({"console": {"level": "info", "formatter": "json"}}),
            ),
            (
                "dashboard".to_string(),
                json!({"listeners": {"http": {"bind": 18083}}}),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            render_roots(&roots),
            "\"dashboard\" = {\"listeners\":{\"http\":{\"bind\":18083}}}\n\"log\" = {\"console\":{\"formatter\":\"json\",\"level\":\"info\"}}\n"
        );
    }

    #[test]
    fn cluster_links_are_runtime_and_the_rest_of_cluster_is_startup() {
        let roots: BTreeMap<String, serde_json::Value> = [
            ("cluster".to_string(), json!({"name": "c", "links": []})),
            ("log".to_string(), json!({})),
        ]
        .into_iter()
        .collect();
        let (runtime, startup) = split_roots(&roots);
        assert_eq!(runtime["cluster"], json!({"links": []}));
        assert_eq!(startup["cluster"], json!({"name": "c"}));
        assert!(runtime.contains_key("log"));
        assert!(startup_revision(&startup).is_some());
        assert_eq!(startup_revision(&BTreeMap::new()), None);
    }
}
