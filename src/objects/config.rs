//! The ConfigMap holding `emqx.conf`, and the Secrets rendered only when the spec itself holds
//! the secret material (a `node.cookie` in the config, literal bootstrap API keys).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::{default_labels, merged, meta, object};
use crate::manifest::Object;
use crate::model::Cluster;

pub const CONFIG_KEY: &str = "emqx.conf";
pub const BASE_HOCON_KEY: &str = "base.hocon";
pub const COOKIE_KEY: &str = "node_cookie";
pub const API_KEY_KEY: &str = "bootstrap_api_key";

pub fn config_map_name(c: &Cluster) -> String {
    format!("{}-configs", c.name)
}

pub fn cookie_secret_name(c: &Cluster) -> String {
    c.cookie_ref
        .as_ref()
        .map_or_else(|| format!("{}-node-cookie", c.name), |r| r.name.clone())
}

/// The key of the cookie Secret.
pub fn cookie_key(c: &Cluster) -> String {
    c.cookie_ref
        .as_ref()
        .map_or_else(|| COOKIE_KEY.to_string(), |r| r.key.clone())
}

pub fn api_key_secret_name(c: &Cluster) -> String {
    format!("{}-bootstrap-api-key", c.name)
}

pub fn config_map(c: &Cluster) -> Object {
    let name = config_map_name(c);
    let cm = ConfigMap {
        metadata: meta(c, name.clone(), merged(default_labels(c), &c.labels)),
        data: Some(
            [
                Some((CONFIG_KEY.to_string(), c.files.emqx_conf.clone())),
                c.files
                    .base_hocon
                    .clone()
                    .map(|b| (BASE_HOCON_KEY.to_string(), b)),
            ]
            .into_iter()
            .flatten()
            .collect::<BTreeMap<_, _>>(),
        ),
        ..Default::default()
    };
    object(&cm, &c.namespace, &name)
}

/// The content of the bootstrap file for literal keys: `key:secret` lines.
pub fn literal_api_key_file(c: &Cluster) -> String {
    c.api_keys
        .literal
        .iter()
        .map(|(k, s)| format!("{k}:{s}\n"))
        .collect()
}

/// A Secret's `data` (base64 in the output): the form the API server stores, so the rendered
/// Secret reads back from the live object unchanged (`stringData` is folded into `data` on write).
fn secret_data(key: &str, value: &str) -> BTreeMap<String, ByteString> {
    BTreeMap::from([(key.to_string(), ByteString(value.as_bytes().to_vec()))])
}

pub fn secrets(c: &Cluster) -> Vec<Object> {
    let labels = merged(default_labels(c), &c.labels);
    let mut out = Vec::new();
    if let Some(cookie) = &c.facts.cookie {
        let name = cookie_secret_name(c);
        let s = Secret {
            metadata: meta(c, name.clone(), labels.clone()),
            data: Some(secret_data(COOKIE_KEY, cookie)),
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        out.push(object(&s, &c.namespace, &name));
    }
    if !c.api_keys.literal.is_empty() {
        let name = api_key_secret_name(c);
        let s = Secret {
            metadata: meta(c, name.clone(), labels),
            data: Some(secret_data(API_KEY_KEY, &literal_api_key_file(c))),
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        out.push(object(&s, &c.namespace, &name));
    }
    out
}
