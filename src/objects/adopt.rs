//! Taking over a running cluster in place: the core StatefulSet keeps the name, selector, Service
//! name and claim templates it has (Settings `adopt`), so its pods keep their claims and their
//! Erlang node names, instead of a new StatefulSet starting empty beside it.

use serde_json::{Value, json};

use crate::manifest::Object;
use crate::model::{Cluster, RoleKind};
use crate::settings::Adopted;

/// Renders the listeners Service under the name clients use, with every reference to it (an
/// Ingress backend, a certificate's DNS names) following.
fn rename_listeners(objects: &mut [Object], c: &Cluster, to: &str) {
    let from = format!("{}-listeners", c.name);
    for o in objects.iter_mut() {
        if o.kind == "Service" && o.name == from.as_str() {
            o.name = to.to_string();
            o.value["metadata"]["name"] = json!(to);
        }
        if o.kind == "Ingress" {
            for rule in o
                .value
                .pointer_mut("/spec/rules")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                for path in rule
                    .pointer_mut("/http/paths")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = path.pointer_mut("/backend/service/name")
                        && n.as_str() == Some(from.as_str())
                    {
                        *n = json!(to);
                    }
                }
            }
        }
        if o.kind == "Certificate" {
            for n in o
                .value
                .pointer_mut("/spec/dnsNames")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(rest) = n.as_str().and_then(|d| d.strip_prefix(from.as_str()))
                    && (rest.is_empty() || rest.starts_with('.'))
                {
                    *n = json!(format!("{to}{rest}"));
                }
            }
        }
    }
}

/// Rewrites the core StatefulSet of `c` among `objects` to be the running one.
pub fn apply(objects: &mut [Object], c: &Cluster, a: &Adopted) {
    if let Some(to) = &a.listeners_service {
        rename_listeners(objects, c, to);
    }
    let ours = format!("{}-core", c.name);
    let data = super::pod::data_volume_name(c, RoleKind::Core);
    let Some(o) = objects
        .iter_mut()
        .find(|o| o.kind == "StatefulSet" && o.name == ours.as_str())
    else {
        return;
    };
    o.name = a.name.clone();
    let v = &mut o.value;
    v["metadata"]["name"] = json!(a.name);
    v["spec"]["selector"] = json!({"matchLabels": a.selector});
    if let Some(labels) = v
        .pointer_mut("/spec/template/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        for (k, val) in &a.selector {
            labels.insert(k.clone(), json!(val));
        }
    }
    if let Some(s) = &a.service_name {
        v["spec"]["serviceName"] = json!(s);
    }
    if a.claim_templates.is_empty() {
        return;
    }
    // The pods mount the data from the running claim template (by its name), never from an
    // emptyDir of ours.
    let theirs = a.claim_templates[0]
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_string);
    v["spec"]["volumeClaimTemplates"] = json!(a.claim_templates);
    if let Some(vols) = v
        .pointer_mut("/spec/template/spec/volumes")
        .and_then(Value::as_array_mut)
    {
        vols.retain(|vol| vol.get("name").and_then(Value::as_str) != Some(data.as_str()));
    }
    if let Some(to) = theirs.filter(|t| *t != data) {
        let from = data;
        for list in ["containers", "initContainers"] {
            let Some(cs) = v
                .pointer_mut(&format!("/spec/template/spec/{list}"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for m in cs
                .iter_mut()
                .filter_map(|c| c.get_mut("volumeMounts").and_then(Value::as_array_mut))
                .flatten()
            {
                if m.get("name").and_then(Value::as_str) == Some(from.as_str()) {
                    m["name"] = json!(to);
                }
            }
        }
    }
}
