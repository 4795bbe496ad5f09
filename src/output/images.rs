//! The image listing: every container image a render uses (EMQX, init containers, sidecars,
//! objects passed through), for mirroring into an air-gapped registry.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::manifest::Manifest;

/// One container that uses an image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ImageUse {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: String,
    pub container: String,
}

/// An image and every container that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub image: String,
    pub used_by: Vec<ImageUse>,
}

const LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Every image of every object, sorted by reference, each with the containers that use it.
/// Containers are found wherever an object holds a container list (a pod template, a Job's,
/// a CronJob's, a Pod's own spec), so objects passed through count too.
pub fn images(m: &Manifest) -> Result<Vec<Image>, super::SerializeError> {
    let mut found: BTreeMap<String, Vec<ImageUse>> = BTreeMap::new();
    for o in m.objects() {
        let value = match &o.text {
            // An object already written as text (the fast path of `render`) is read back.
            Some(t) => serde_saphyr::from_str(t).map_err(|e| super::SerializeError {
                kind: o.kind.clone(),
                name: o.name.clone(),
                reason: e.to_string(),
            })?,
            None => o.value.clone(),
        };
        let mut visit = |list: &str, c: &serde_json::Value| {
            if let Some(image) = c.get("image").and_then(|i| i.as_str()) {
                found.entry(image.to_string()).or_default().push(ImageUse {
                    kind: o.kind.clone(),
                    namespace: o.namespace.clone(),
                    name: o.name.clone(),
                    list: list.to_string(),
                    container: c
                        .get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        };
        walk(&value, &mut visit);
    }
    Ok(found
        .into_iter()
        .map(|(image, mut used_by)| {
            used_by.sort();
            used_by.dedup();
            Image { image, used_by }
        })
        .collect())
}

fn walk(v: &serde_json::Value, visit: &mut impl FnMut(&str, &serde_json::Value)) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                match (LISTS.contains(&k.as_str()), child) {
                    (true, serde_json::Value::Array(items)) => {
                        for c in items {
                            visit(k, c);
                        }
                    }
                    _ => walk(child, visit),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for child in items {
                walk(child, visit);
            }
        }
        _ => {}
    }
}

/// The listing as text: one image per line, sorted, each once (for `xargs`, `skopeo`, `crane`).
pub fn text(list: &[Image]) -> String {
    let mut s = String::new();
    for i in list {
        s.push_str(&i.image);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Object;

    fn object(kind: &str, name: &str, value: serde_json::Value) -> Object {
        Object {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            namespace: Some("ns".into()),
            name: name.into(),
            value,
            text: None,
        }
    }

    #[test]
    fn finds_every_container_list_once_per_image() {
        let sts = serde_json::json!({"spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "busybox:1.36"}],
            "containers": [{"name": "emqx", "image": "emqx/emqx:5.8.6"}],
        }}}});
        let cron = serde_json::json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "backup", "image": "emqx/emqx:5.8.6"}],
        }}}}}});
        let cm = serde_json::json!({"data": {"containers": "image: not-a-container"}});
        let m = Manifest::new(vec![
            object("StatefulSet", "emqx-core", sts),
            object("CronJob", "backup", cron),
            object("ConfigMap", "c", cm),
        ]);
        let list = images(&m).unwrap();
        assert_eq!(text(&list), "busybox:1.36\nemqx/emqx:5.8.6\n");
        let users: Vec<String> = list[1]
            .used_by
            .iter()
            .map(|u| format!("{}/{}:{}", u.kind, u.name, u.container))
            .collect();
        assert_eq!(
            users,
            ["CronJob/backup:backup", "StatefulSet/emqx-core:emqx"]
        );
    }
}
