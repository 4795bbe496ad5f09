//! Object-by-object comparison of two manifests: which objects were added, removed or changed,
//! a unified diff per changed object, and notes on what a change does when applied (pods that
//! restart and why, fields Kubernetes will not change in place, scaling). Pure: values in,
//! values out.

use similar::TextDiff;

use crate::manifest::{Manifest, Object};
use crate::output;

/// Identifies an object across versions: API group (not version), kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn of(o: &Object) -> Key {
        Key {
            group: o
                .api_version
                .rsplit_once('/')
                .map_or("", |(g, _)| g)
                .to_string(),
            kind: o.kind.clone(),
            namespace: o.namespace.clone().unwrap_or_default(),
            name: o.name.clone(),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// What applying a change does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Pods of this workload are replaced; the reasons say why.
    Restart(Vec<String>),
    /// Kubernetes refuses to change this field in place; the text says what to do.
    Immutable { field: String, recipe: String },
    /// The replica count changes (no restart).
    Scale { from: String, to: String },
    /// The StatefulSet's claim templates differ only in larger storage requests: each claim is
    /// resized, then the StatefulSet is replaced without its pods (`sizes`: template, from, to).
    Grow {
        sizes: Vec<(String, String, String)>,
    },
    /// `replicas` leaves the workload: the named HorizontalPodAutoscaler sets it from now on.
    /// `ns` is ` -n NS` (or empty), `kind` lower case.
    Autoscaled {
        hpa: String,
        ns: String,
        kind: String,
        name: String,
    },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Restart(why) => write!(f, "pods restart: {}", why.join("; ")),
            Note::Immutable { field, recipe } => {
                write!(f, "{field} cannot change in place: {recipe}")
            }
            Note::Scale { from, to } => write!(f, "replicas {from} -> {to} (no restart)"),
            Note::Grow { sizes } => {
                let sizes: Vec<String> = sizes
                    .iter()
                    .map(|(t, from, to)| format!("{t} {from} -> {to}"))
                    .collect();
                write!(
                    f,
                    "the disks grow ({}): an apply alone is refused (claim templates cannot change in place); `plan` resizes each claim, then replaces the StatefulSet without its pods, which it adopts again (no restart)",
                    sizes.join(", ")
                )
            }
            Note::Autoscaled {
                hpa,
                ns,
                kind,
                name,
            } => write!(
                f,
                "replicas belong to the HorizontalPodAutoscaler {hpa} from now on. An apply that drops them resets them to 1 until the HPA scales up again, so hand the field over first: with client-side apply (kubectl apply, Argo CD's default) `{}`; with server-side apply (Flux, --server-side) `{}` (see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling)",
                handover_client(ns, kind, name),
                handover_server(ns, kind, name),
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: Key,
    pub kind: ChangeKind,
    /// Unified diff of the object's YAML (empty for added and removed objects).
    pub diff: String,
    pub notes: Vec<Note>,
}

/// The outcome of a comparison.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub changes: Vec<Change>,
    pub unchanged: usize,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn count(&self, k: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == k).count()
    }

    /// `N added, N removed, N changed, N unchanged`.
    pub fn summary(&self) -> String {
        format!(
            "{} added, {} removed, {} changed, {} unchanged",
            self.count(ChangeKind::Added),
            self.count(ChangeKind::Removed),
            self.count(ChangeKind::Changed),
            self.unchanged
        )
    }
}

fn yaml(o: &Object) -> String {
    output::object_yaml(&o.value, &o.kind, &o.name).unwrap_or_default()
}

/// Two sides of a changed Secret with every value of `data` and `stringData` replaced: `<hidden>`,
/// and `<hidden, changed>` on the new side where the value differs, so a diff tells which keys
/// changed and never what they hold.
fn hide_secret_values(old: &Object, new: &Object) -> (Object, Object) {
    let (mut a, mut b) = (old.clone(), new.clone());
    for field in ["data", "stringData"] {
        let before = old.value.get(field).cloned().unwrap_or_default();
        if let Some(m) = a
            .value
            .get_mut(field)
            .and_then(serde_json::Value::as_object_mut)
        {
            for v in m.values_mut() {
                *v = "<hidden>".into();
            }
        }
        if let Some(m) = b
            .value
            .get_mut(field)
            .and_then(serde_json::Value::as_object_mut)
        {
            for (key, v) in m.iter_mut() {
                let same = before.get(key) == Some(&*v);
                *v = if same {
                    "<hidden>"
                } else {
                    "<hidden, changed>"
                }
                .into();
            }
        }
    }
    (a, b)
}

/// Objects by key, the first of a key winning: fleets have thousands of objects to pair.
fn index<'a>(side: &[(Key, &'a Object)]) -> std::collections::BTreeMap<Key, &'a Object> {
    let mut m = std::collections::BTreeMap::new();
    for (k, o) in side {
        m.entry(k.clone()).or_insert(*o);
    }
    m
}

/// A manifest's objects by key (the first of a key wins).
pub fn by_key(m: &Manifest) -> std::collections::BTreeMap<Key, &Object> {
    let keyed: Vec<(Key, &Object)> = m.objects().iter().map(|o| (Key::of(o), o)).collect();
    index(&keyed)
}

/// The workloads a HorizontalPodAutoscaler of `m` scales. An HPA without a namespace scales in the namespace it is applied to,
/// which is taken to be its workload's.
pub fn autoscalers(m: &Manifest) -> Scaled {
    let mut out = std::collections::BTreeMap::new();
    let workloads: Vec<&Object> = m
        .objects()
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "Deployment" | "StatefulSet"))
        .collect();
    for h in m
        .objects()
        .iter()
        .filter(|o| o.kind == "HorizontalPodAutoscaler")
    {
        let field = |f: &str| at(&h.value, &format!("/spec/scaleTargetRef/{f}")).as_str();
        let (Some(kind), Some(name)) = (field("kind"), field("name")) else {
            continue;
        };
        let min = at(&h.value, "/spec/minReplicas").as_i64().unwrap_or(1);
        let max = at(&h.value, "/spec/maxReplicas").as_i64().unwrap_or(min);
        for w in &workloads {
            let same_ns = h.namespace.is_none() || h.namespace == w.namespace;
            if w.kind == kind && w.name == name && same_ns {
                out.insert(
                    (
                        w.namespace.clone().unwrap_or_default(),
                        w.kind.clone(),
                        w.name.clone(),
                    ),
                    Hpa {
                        name: h.name.clone(),
                        min,
                        max,
                    },
                );
            }
        }
    }
    out
}

/// `o` without `spec.replicas`, for a workload both sides autoscale (the live count is the HPA's).
fn without_replicas(o: &Object) -> Object {
    let mut o = o.clone();
    if let Some(spec) = o.value.get_mut("spec").and_then(|s| s.as_object_mut()) {
        spec.remove("replicas");
    }
    o
}

/// A HorizontalPodAutoscaler: its name and replica bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hpa {
    pub name: String,
    pub min: i64,
    pub max: i64,
}

/// (namespace, kind, name) of a workload → the HPA that scales it.
pub type Scaled = std::collections::BTreeMap<(String, String, String), Hpa>;

/// The objects of `m`, those autoscaled on both sides without `spec.replicas`: the live count
/// is the HPA's, not a difference.
fn unscaled(m: &Manifest, old: &Scaled, new: &Scaled) -> Vec<Object> {
    m.objects()
        .iter()
        .map(|o| {
            let k = Key::of(o);
            let k = (k.namespace, k.kind, k.name);
            if old.contains_key(&k) && new.contains_key(&k) {
                without_replicas(o)
            } else {
                o.clone()
            }
        })
        .collect()
}

/// Compares two manifests.
pub fn diff(old: &Manifest, new: &Manifest) -> Report {
    let mut report = Report::default();
    let (old_scaled, new_scaled) = (autoscalers(old), autoscalers(new));
    let scaled_key = |k: &Key| (k.namespace.clone(), k.kind.clone(), k.name.clone());
    let (both, new_both) = (
        unscaled(old, &old_scaled, &new_scaled),
        unscaled(new, &old_scaled, &new_scaled),
    );
    let olds: Vec<(Key, &Object)> = both.iter().map(|o| (Key::of(o), o)).collect();
    let news: Vec<(Key, &Object)> = new_both.iter().map(|o| (Key::of(o), o)).collect();
    let (old_index, new_index) = (index(&olds), index(&news));
    for (k, o) in &olds {
        match new_index.get(k).copied() {
            None => report.changes.push(Change {
                key: k.clone(),
                kind: ChangeKind::Removed,
                diff: String::new(),
                notes: Vec::new(),
            }),
            Some(n) if o.value == n.value => report.unchanged += 1,
            Some(n) => {
                let (a, b) = if k.kind == "Secret" {
                    let (a, b) = hide_secret_values(o, n);
                    (yaml(&a), yaml(&b))
                } else {
                    (yaml(o), yaml(n))
                };
                let label = format!(
                    "{}/{}",
                    k.kind,
                    if k.namespace.is_empty() {
                        k.name.clone()
                    } else {
                        format!("{}/{}", k.namespace, k.name)
                    }
                );
                let diff = TextDiff::from_lines(&a, &b)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("old/{label}"), &format!("new/{label}"))
                    .to_string();
                report.changes.push(Change {
                    key: k.clone(),
                    kind: ChangeKind::Changed,
                    diff,
                    notes: notes(
                        &k.kind,
                        &o.value,
                        &n.value,
                        new_scaled.get(&scaled_key(k)).map(|h| h.name.as_str()),
                    ),
                });
            }
        }
    }
    for (k, _) in &news {
        if !old_index.contains_key(k) {
            report.changes.push(Change {
                key: k.clone(),
                kind: ChangeKind::Added,
                diff: String::new(),
                notes: Vec::new(),
            });
        }
    }
    report.changes.sort_by(|a, b| a.key.cmp(&b.key));
    report
}

fn at<'a>(v: &'a serde_json::Value, pointer: &str) -> &'a serde_json::Value {
    v.pointer(pointer).unwrap_or(&serde_json::Value::Null)
}

/// Forgets the last applied configuration, so that the next client-side apply does not delete
/// the `replicas` it no longer holds (the live count stays the HPA's); the apply writes a new one.
pub fn handover_client(ns: &str, kind: &str, name: &str) -> String {
    format!("kubectl{ns} annotate {kind} {name} kubectl.kubernetes.io/last-applied-configuration-")
}

/// Makes a second field manager own `replicas` at its live value, so that the applier dropping
/// it does not remove it.
fn handover_server(ns: &str, kind: &str, name: &str) -> String {
    let namespace = ns.trim_start_matches(" -n ");
    let kind_title = if kind == "statefulset" {
        "StatefulSet"
    } else {
        "Deployment"
    };
    format!(
        "printf '{{\"apiVersion\":\"apps/v1\",\"kind\":\"{kind_title}\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{namespace}\"}},\"spec\":{{\"replicas\":%s}}}}' \"$(kubectl{ns} get {kind} {name} -o jsonpath='{{.spec.replicas}}')\" | kubectl apply --server-side --field-manager=handover-to-hpa -f -"
    )
}

/// The manual recipe for a field a StatefulSet will not change in place; `ns` is ` -n NS`.
fn sts_recipe(ns: &str, name: &str, field: &str) -> String {
    let orphan = format!(
        "delete the StatefulSet but keep its pods and volumes (`kubectl{ns} delete statefulset {name} --cascade=orphan`), then apply; the pods are adopted and rolled"
    );
    if field == "spec.volumeClaimTemplates" {
        format!(
            "{orphan}. The claims that exist keep what they were made with; only new pods get the new template (a larger disk alone is planned for you: `plan` resizes the claims)"
        )
    } else {
        orphan
    }
}

fn notes(
    kind: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
    autoscaler: Option<&str>,
) -> Vec<Note> {
    let mut out = Vec::new();
    let name = at(new, "/metadata/name").as_str().unwrap_or("");
    // The printed commands name the object's namespace (`-n NS`), none for a cluster-wide one.
    let ns = at(new, "/metadata/namespace")
        .as_str()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    match kind {
        "StatefulSet" | "Deployment" => {
            let immutable: &[&str] = if kind == "StatefulSet" {
                &[
                    "selector",
                    "serviceName",
                    "podManagementPolicy",
                    "volumeClaimTemplates",
                ]
            } else {
                &["selector"]
            };
            for f in immutable {
                let p = format!("/spec/{f}");
                let differs = if *f == "volumeClaimTemplates" {
                    claim_templates(at(old, &p)) != claim_templates(at(new, &p))
                } else {
                    at(old, &p) != at(new, &p)
                };
                let grows = (*f == "volumeClaimTemplates" && differs)
                    .then(|| storage_growth(at(old, &p), at(new, &p)))
                    .flatten();
                if let Some(sizes) = grows {
                    out.push(Note::Grow { sizes });
                } else if differs {
                    let field = format!("spec.{f}");
                    let recipe = if kind == "StatefulSet" {
                        sts_recipe(&ns, name, &field)
                    } else {
                        format!(
                            "delete the Deployment (`kubectl{ns} delete deployment {name}`) and apply; its pods are replaced"
                        )
                    };
                    out.push(Note::Immutable { field, recipe });
                }
            }
            let (ot, nt) = (at(old, "/spec/template"), at(new, "/spec/template"));
            if ot != nt {
                out.push(Note::Restart(restart_reasons(ot, nt)));
            }
            let (or, nr) = (at(old, "/spec/replicas"), at(new, "/spec/replicas"));
            if let (Some(hpa), true, false) = (autoscaler, nr.is_null(), or.is_null()) {
                out.push(Note::Autoscaled {
                    hpa: hpa.to_string(),
                    ns: ns.clone(),
                    kind: kind.to_ascii_lowercase(),
                    name: name.to_string(),
                });
            } else if or != nr {
                out.push(Note::Scale {
                    from: or.to_string(),
                    to: nr.to_string(),
                });
            }
        }
        "PodDisruptionBudget" => {}
        "Service" => {
            for f in ["clusterIP", "clusterIPs"] {
                let p = format!("/spec/{f}");
                // Left out on the new side, the live value stays (an apply never clears it).
                if !at(old, &p).is_null() && !at(new, &p).is_null() && at(old, &p) != at(new, &p) {
                    out.push(Note::Immutable {
                        field: format!("spec.{f}"),
                        recipe: format!("delete the Service (`kubectl{ns} delete service {name}`) and apply; clients see it briefly gone"),
                    });
                }
            }
        }
        _ => {}
    }
    out
}

/// Bytes of a Kubernetes quantity (`10Gi`, `500M`, `1.5Ti`); `None` when it is not one.
fn quantity(q: &str) -> Option<f64> {
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let factor = match suffix {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// When claim templates differ only in storage requests, each at least as large as before (one
/// larger): each template's name, old and new request. Anything else (another class, access
/// mode, label, template, a smaller disk) is `None`: the StatefulSet must be replaced by hand.
fn storage_growth(
    old: &serde_json::Value,
    new: &serde_json::Value,
) -> Option<Vec<(String, String, String)>> {
    const STORAGE: &str = "/spec/resources/requests/storage";
    let (old_list, new_list) = (old.as_array()?, new.as_array()?);
    if old_list.len() != new_list.len() {
        return None;
    }
    let mut sizes = Vec::new();
    let mut resized = old.clone();
    for ((o, n), r) in old_list
        .iter()
        .zip(new_list)
        .zip(resized.as_array_mut()?.iter_mut())
    {
        let (from, to) = (at(o, STORAGE).as_str()?, at(n, STORAGE).as_str()?);
        if quantity(to)? < quantity(from)? {
            return None;
        }
        if quantity(to)? > quantity(from)? {
            let name = at(n, "/metadata/name").as_str().unwrap_or("?");
            sizes.push((name.to_string(), from.to_string(), to.to_string()));
        }
        *r.pointer_mut(STORAGE)? = serde_json::Value::String(to.to_string());
    }
    let grows = !sizes.is_empty() && claim_templates(&resized) == claim_templates(new);
    grows.then_some(sizes)
}

/// Claim templates as the API server compares them on an apply: without the status it writes,
/// the type fields it fills in and an empty creation time.
pub fn claim_templates(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    for t in v.as_array_mut().into_iter().flatten() {
        if let Some(m) = t.as_object_mut() {
            m.remove("status");
            m.remove("apiVersion");
            m.remove("kind");
            // The API server defaults the claim's volume mode before it compares.
            if let Some(spec) = m.get_mut("spec").and_then(|x| x.as_object_mut()) {
                spec.entry("volumeMode")
                    .or_insert_with(|| serde_json::Value::String("Filesystem".into()));
            }
            if let Some(meta) = m.get_mut("metadata").and_then(|x| x.as_object_mut())
                && meta
                    .get("creationTimestamp")
                    .is_some_and(serde_json::Value::is_null)
            {
                meta.remove("creationTimestamp");
            }
        }
    }
    v
}

/// Why a pod template change restarts pods, in words.
fn restart_reasons(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let mut why = Vec::new();
    for (list, what) in [
        ("containers", "container"),
        ("initContainers", "init container"),
    ] {
        let images = |t: &serde_json::Value| -> Vec<(String, String)> {
            at(t, &format!("/spec/{list}"))
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            let s = |p: &str| at(c, p).as_str().unwrap_or("").to_string();
                            (s("/name"), s("/image"))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for ((name, a), (_, b)) in images(old).iter().zip(images(new).iter()) {
            if a != b {
                why.push(format!("image of {what} {name} {a} -> {b}"));
            }
        }
    }
    let checksum = "/metadata/annotations/emqx-render~1config-checksum";
    if at(old, checksum) != at(new, checksum) {
        why.push("config changed, or a ConfigMap or Secret of the input that the pods read (emqx-render/config-checksum)".into());
    }
    // Anything else in the template: name the top-level fields that differ.
    let mut o = old.clone();
    let mut n = new.clone();
    for v in [&mut o, &mut n] {
        for list in ["containers", "initContainers"] {
            if let Some(cs) = v
                .pointer_mut(&format!("/spec/{list}"))
                .and_then(|c| c.as_array_mut())
            {
                for c in cs {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("image");
                    }
                }
            }
        }
        if let Some(a) = v
            .pointer_mut("/metadata/annotations")
            .and_then(|a| a.as_object_mut())
        {
            a.remove("emqx-render/config-checksum");
        }
    }
    let mut other = Vec::new();
    for section in ["metadata", "spec"] {
        let (om, nm) = (
            at(&o, &format!("/{section}")),
            at(&n, &format!("/{section}")),
        );
        let keys: std::collections::BTreeSet<&String> = om
            .as_object()
            .into_iter()
            .chain(nm.as_object())
            .flat_map(|m| m.keys())
            .collect();
        for k in keys {
            if om.get(k) != nm.get(k) {
                other.push(format!("template.{section}.{k}"));
            }
        }
    }
    if !other.is_empty() {
        why.push(format!("pod template changed ({})", other.join(", ")));
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str, value: serde_json::Value) -> Object {
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
    fn image_change_restarts_and_storage_growth_resizes_the_claims() {
        let old = json!({"metadata": {"name": "emqx-core"}, "spec": {"replicas": 3, "volumeClaimTemplates": [{"metadata": {"name": "emqx-data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}}}], "template": {"spec": {"containers": [{"name": "emqx", "image": "emqx/emqx:5.8.5"}]}}}});
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("emqx/emqx:5.8.6");
        new["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
            json!("20Gi");
        let notes_of = |new: &serde_json::Value| {
            let r = diff(
                &Manifest::new(vec![obj("StatefulSet", "emqx-core", old.clone())]),
                &Manifest::new(vec![obj("StatefulSet", "emqx-core", new.clone())]),
            );
            assert_eq!(r.changes.len(), 1);
            assert!(
                r.changes[0]
                    .diff
                    .lines()
                    .any(|l| l.starts_with('+') && l.contains("storage: ")),
                "{}",
                r.changes[0].diff
            );
            r.changes[0]
                .notes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let notes = notes_of(&new);
        assert!(
            notes[0].starts_with("the disks grow (emqx-data 10Gi -> 20Gi)"),
            "{notes:?}"
        );
        assert_eq!(
            notes[1],
            "pods restart: image of container emqx emqx/emqx:5.8.5 -> emqx/emqx:5.8.6"
        );
        // A smaller disk, or another change of the template, cannot be done in place.
        for (path, value) in [
            ("/spec/resources/requests/storage", json!("5Gi")),
            ("/spec/resources/requests/storage", json!("lots")),
            ("/spec/storageClassName", json!("fast")),
        ] {
            let mut other = new.clone();
            let t = &mut other["spec"]["volumeClaimTemplates"][0];
            match t.pointer_mut(path) {
                Some(v) => *v = value,
                None => t["spec"]["storageClassName"] = value,
            }
            let notes = notes_of(&other);
            assert!(
                notes[0].starts_with("spec.volumeClaimTemplates cannot change in place"),
                "{path}: {notes:?}"
            );
        }
    }

    #[test]
    fn secret_values_never_reach_the_diff() {
        let secret = |cookie: &str| {
            obj(
                "Secret",
                "emqx-node-cookie",
                json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "emqx-node-cookie", "namespace": "mqtt"},
                    "data": {"node_cookie": cookie, "same": "c2FtZQ=="},
                    "stringData": {"plain": cookie}}),
            )
        };
        let r = diff(
            &Manifest::new(vec![secret("b2xkLWNvb2tpZQ==")]),
            &Manifest::new(vec![secret("bmV3LWNvb2tpZQ==")]),
        );
        let d = &r.changes[0].diff;
        for value in ["b2xkLWNvb2tpZQ==", "bmV3LWNvb2tpZQ==", "c2FtZQ=="] {
            assert!(!d.contains(value), "{d}");
        }
        assert!(d.contains("+  node_cookie: <hidden, changed>"), "{d}");
        assert!(d.contains("-  node_cookie: <hidden>"), "{d}");
        assert!(!d.contains("same: <hidden, changed>"), "{d}");
    }

    #[test]
    fn scaling_is_not_a_restart() {
        let old = json!({"metadata": {"name": "emqx-replicant"}, "spec": {"replicas": 3, "template": {}}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(5);
        let r = diff(
            &Manifest::new(vec![obj("Deployment", "emqx-replicant", old)]),
            &Manifest::new(vec![obj("Deployment", "emqx-replicant", new)]),
        );
        assert_eq!(
            r.changes[0].notes,
            vec![Note::Scale {
                from: "3".into(),
                to: "5".into()
            }]
        );
        assert_eq!(r.summary(), "0 added, 0 removed, 1 changed, 0 unchanged");
    }
}
