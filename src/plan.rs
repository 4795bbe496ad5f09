//! `plan`: the phased upgrade from one render to the next. Phase 1 applies the shared objects
//! and the core StatefulSet, phase 2 the replicant Deployment (the same split as the phased
//! layout and the sync waves). For each phase: what changes, which pods restart and why; and
//! the refusals (fields Kubernetes will not change in place, downgrades, upgrade paths EMQX does
//! not support, replicants ahead of cores, topologies the image cannot run). Pure.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::diag::{Diagnostic, Severity};
use crate::diff::{self, ChangeKind, Note};
use crate::guards::{UpgradePath, upgrade_path};
use crate::manifest::{Manifest, Object};
use crate::objects::{LABEL_DB_ROLE, LABEL_INSTANCE};
use crate::output::phases;
use crate::version::{self, ROLE_ENV_SINCE, Version};

/// A refusal, a warning or a note of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// `file:line:column` in the new spec, when the finding comes from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Finding {
    fn new(code: &str, message: String, help: Option<String>) -> Self {
        Finding {
            code: code.into(),
            message,
            help,
            at: None,
        }
    }

    fn of(d: &Diagnostic) -> Self {
        Finding {
            code: d.code.to_string(),
            message: if d.path.is_empty() {
                d.message.clone()
            } else {
                format!("{}: {}", d.path, d.message)
            },
            help: d.help.clone(),
            at: d
                .loc
                .as_ref()
                .map(|l| format!("{}:{}:{}", l.file, l.line, l.col)),
        }
    }
}

/// One role's workload on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    pub image: String,
    /// The EMQX version read from the image tag (`None` for `latest`, digests, ...).
    pub version: Option<String>,
    pub replicas: i64,
    /// Under a HorizontalPodAutoscaler: its (min, max); `replicas` is then the live count or
    /// the minimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaled: Option<(i64, i64)>,
}

/// A role before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleChange {
    pub from: Option<Workload>,
    pub to: Option<Workload>,
}

/// One EMQX cluster in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterPlan {
    pub namespace: String,
    pub name: String,
    pub core: RoleChange,
    pub replicants: RoleChange,
}

/// An object the phase adds, removes or changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseChange {
    pub object: String,
    pub change: &'static str,
    pub notes: Vec<String>,
    /// Its claims grow before the apply (the phase's `resizes`).
    #[serde(skip)]
    pub grows: bool,
}

/// A workload the phase rolls out (its pods restart) or scales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollout {
    pub cluster: String,
    pub namespace: String,
    /// `statefulset` or `deployment`, as `kubectl rollout status` takes it.
    pub kind: String,
    pub name: String,
    /// `core` or `replicant`.
    pub role: &'static str,
    pub pods: i64,
    /// Whether the pods are replaced; the reasons say why.
    pub restart: bool,
    pub reasons: Vec<String>,
    /// `3 -> 5` when the replica count changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
    /// The version the role runs after the phase.
    pub version: Option<String>,
    /// Minutes to wait for the rollout (as the Flux timeouts).
    pub timeout_minutes: i64,
}

/// One phase: applied together, then waited for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub number: u32,
    /// `core` (shared objects and core StatefulSets) or `replicants`.
    pub name: &'static str,
    /// Its directory in the phased layout.
    pub directory: &'static str,
    pub changes: Vec<PhaseChange>,
    pub rollouts: Vec<Rollout>,
    /// Commands to run before the phase's apply: workloads whose `replicas` pass to an HPA.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handovers: Vec<String>,
    /// Commands to run before the phase's apply when disks grow: resize each claim, then
    /// delete the StatefulSet without its pods (its claim templates cannot change in place).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resizes: Vec<String>,
}

/// The plan: phases in order and whether it is safe to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub safe: bool,
    pub clusters: Vec<ClusterPlan>,
    pub phases: Vec<Phase>,
    pub refusals: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

fn workload(o: &Object) -> Workload {
    let containers = o
        .value
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array);
    let emqx = containers.and_then(|cs| {
        cs.iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some("emqx"))
            .or_else(|| cs.first())
    });
    let image = emqx
        .and_then(|c| c.get("image"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // A version Settings stated (for a mirror's tag that is not one) wins over the tag.
    let stated = o
        .value
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(crate::objects::VERSION_ANNOTATION))
        .and_then(Value::as_str)
        .map(str::to_string);
    let version = stated.or_else(|| {
        version::image_tag(&image)
            .and_then(version::parse_tag)
            .map(|v| v.to_string())
    });
    Workload {
        kind: o.kind.clone(),
        name: o.name.clone(),
        image,
        version,
        replicas: o
            .value
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1),
        autoscaled: None,
    }
}

type ClusterKey = (String, String);

/// The EMQX workloads of a manifest by cluster: (core StatefulSet, replicant Deployment).
fn workloads(m: &Manifest) -> BTreeMap<ClusterKey, (Option<Workload>, Option<Workload>)> {
    let mut out: BTreeMap<ClusterKey, (Option<Workload>, Option<Workload>)> = BTreeMap::new();
    let scaled = diff::autoscalers(m);
    let workload = |o: &Object| {
        let mut w = workload(o);
        let key = (
            o.namespace.clone().unwrap_or_default(),
            o.kind.clone(),
            o.name.clone(),
        );
        if let Some(h) = scaled.get(&key) {
            w.autoscaled = Some((h.min, h.max));
            if o.value.pointer("/spec/replicas").is_none() {
                w.replicas = h.min;
            }
        }
        w
    };
    for o in m.objects() {
        let (Some(instance), Some(role)) = (
            phases::pod_label(o, LABEL_INSTANCE),
            phases::pod_label(o, LABEL_DB_ROLE),
        ) else {
            continue;
        };
        let key = (
            o.namespace.clone().unwrap_or_default(),
            instance.to_string(),
        );
        let entry = out.entry(key).or_default();
        match (o.kind.as_str(), role) {
            ("StatefulSet", "core") => entry.0 = Some(workload(o)),
            ("Deployment", "replicant") => entry.1 = Some(workload(o)),
            _ => {}
        }
    }
    out
}

fn parse(w: &Option<Workload>) -> Option<Version> {
    w.as_ref()
        .and_then(|w| w.version.as_deref())
        .and_then(version::parse_tag)
}

/// Running replicants only: a Deployment scaled to zero runs nothing.
fn running(w: &Option<Workload>) -> Option<Version> {
    w.as_ref().filter(|w| w.replicas > 0).and_then(|_| parse(w))
}

fn check_path(
    who: &str,
    from: &Option<Workload>,
    to: &Option<Workload>,
    refusals: &mut Vec<Finding>,
    warnings: &mut Vec<Finding>,
) {
    let (Some(f), Some(t)) = (from, to) else {
        return;
    };
    if f.image == t.image {
        return;
    }
    let (Some(fv), Some(tv)) = (parse(from), parse(to)) else {
        let unknown = if parse(from).is_none() {
            &f.image
        } else {
            &t.image
        };
        warnings.push(Finding::new(
            "version-unknown",
            format!(
                "{who}: cannot check the upgrade path from {} to {}: the tag of {unknown} is not a version; assuming a supported patch-level change",
                f.image, t.image
            ),
            Some("pin a version tag (emqx/emqx-enterprise:5.8.6) so the path can be checked".into()),
        ));
        return;
    };
    match upgrade_path(fv, tv) {
        UpgradePath::Supported => {}
        UpgradePath::Limited(why) => warnings.push(Finding::new(
            "upgrade-path",
            format!("{who}: EMQX supports the rolling upgrade {fv} -> {tv} with a limitation"),
            Some(why),
        )),
        UpgradePath::Unsupported(why) => refusals.push(Finding::new(
            "upgrade-path",
            format!("{who}: EMQX does not support a rolling upgrade from {fv} to {tv}"),
            Some(why),
        )),
        UpgradePath::Downgrade => refusals.push(Finding::new(
            "downgrade",
            format!("{who}: {fv} -> {tv} is a downgrade across minor versions; newer nodes may have written data the older version cannot read"),
            Some("stay on the newer version, or restore the cluster from a backup (`emqx ctl data export` taken before the upgrade) into a fresh cluster of the older version".into()),
        )),
        UpgradePath::PatchDowngrade => warnings.push(Finding::new(
            "patch-downgrade",
            format!("{who}: {fv} -> {tv} goes back a patch release within {}.{}", tv.major, tv.minor),
            Some("patch releases of one minor version share their data formats; check the release notes of the newer patch for exceptions".into()),
        )),
    }
}

fn ahead(
    step: &str,
    core: Option<Version>,
    rep: Option<Version>,
    cluster: &str,
    out: &mut Vec<Finding>,
) {
    if let (Some(c), Some(r)) = (core, rep)
        && r > c
    {
        out.push(Finding::new(
            "replicants-ahead",
            format!("{cluster}: {step} replicants run {r} while cores run {c}; replicants must never be newer than the cores"),
            Some("at every step replicants must run the cores' version or an older one: move the cores first, and never take them below the version the replicants run".into()),
        ));
    }
}

fn check_cluster(c: &ClusterPlan, refusals: &mut Vec<Finding>, warnings: &mut Vec<Finding>) {
    let id = format!("{}/{}", c.namespace, c.name);
    check_path(
        &format!("{id} cores"),
        &c.core.from,
        &c.core.to,
        refusals,
        warnings,
    );
    if c.core.from.as_ref().map(|w| &w.image) != c.replicants.from.as_ref().map(|w| &w.image)
        || c.core.to.as_ref().map(|w| &w.image) != c.replicants.to.as_ref().map(|w| &w.image)
    {
        check_path(
            &format!("{id} replicants"),
            &c.replicants.from,
            &c.replicants.to,
            refusals,
            warnings,
        );
    }
    let core_from = parse(&c.core.from);
    let core_to = parse(&c.core.to).or(core_from);
    let rep_from = running(&c.replicants.from);
    let rep_to = running(&c.replicants.to);
    // Already ahead before the plan: the plan repairs it when the cores catch up.
    let mut now = Vec::new();
    ahead("in what runs now,", core_from, rep_from, &id, &mut now);
    for mut f in now {
        f.help =
            Some("phase 1 brings the cores to the new version before the replicants move".into());
        warnings.push(f);
    }
    let mut found = Vec::new();
    ahead(
        "after phase 1 (cores rolled, replicants not yet),",
        core_to,
        rep_from,
        &id,
        &mut found,
    );
    if found.is_empty() {
        ahead("after phase 2,", core_to, rep_to, &id, &mut found);
    }
    refusals.extend(found);

    if let Some(v) = core_to.filter(|v| *v < ROLE_ENV_SINCE) {
        warnings.push(Finding::new(
            "env-contract-5.0",
            format!("{id}: EMQX {v} reads the node role from node.db_role: its pods get EMQX_NODE__DB_ROLE, not EMQX_NODE__ROLE"),
            Some("5.0.x is end of life; plan an upgrade to 5.8 or later (through 5.1 to 5.8 is a supported rolling path)".into()),
        ));
    }
    if let (Some(f), Some(t)) = (&c.core.from, &c.core.to)
        && t.replicas < f.replicas
    {
        let gone: Vec<String> = (t.replicas..f.replicas)
            .map(|i| format!("{}-{i}", t.name))
            .collect();
        warnings.push(Finding::new(
            "core-scale-down",
            format!(
                "{id}: cores {} -> {}: the pods {} stop but stay members of the cluster, and their volumes are kept",
                f.replicas,
                t.replicas,
                gone.join(", ")
            ),
            Some(format!(
                "after phase 1, on a remaining core run `emqx ctl cluster force-leave <node>` for each removed node (`emqx ctl cluster status` lists them), then delete their PersistentVolumeClaims when no longer needed ({})",
                gone.iter()
                    .map(|p| format!("*-{p}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ));
    }
}

/// The pods a rollout replaces: the workload's replicas, or under an autoscaler the count that
/// runs now (the old side's), else the autoscaler's minimum.
fn pods(obj: &Object, w: &Workload, scaled: &diff::Scaled, old: Option<&Object>) -> i64 {
    if obj.value.pointer("/spec/replicas").is_some() {
        return w.replicas;
    }
    let key = (
        obj.namespace.clone().unwrap_or_default(),
        obj.kind.clone(),
        obj.name.clone(),
    );
    match scaled.get(&key) {
        Some(h) => old
            .and_then(|o| o.value.pointer("/spec/replicas"))
            .and_then(Value::as_i64)
            .unwrap_or(h.min),
        None => w.replicas,
    }
}

/// The claims a StatefulSet's pods hold: `<template>-<statefulset>-<ordinal>`.
fn claims(sts: &Object) -> Vec<String> {
    let replicas = sts
        .value
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let templates: Vec<&str> = sts
        .value
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer("/metadata/name").and_then(Value::as_str))
        .collect();
    templates
        .iter()
        .flat_map(|t| (0..replicas.max(1)).map(move |i| format!("{t}-{}-{i}", sts.name)))
        .collect()
}

/// `plan --in-place`: what needs more than an apply (claims to resize before it) is refused.
pub fn require_in_place(p: &mut Plan) {
    for ph in &mut p.phases {
        if ph.resizes.is_empty() {
            continue;
        }
        for ch in ph.changes.iter().filter(|c| c.grows) {
            p.refusals.push(Finding::new(
                "immutable-field",
                format!("{}: its claim templates ask for larger disks, which an apply alone cannot give (--in-place)", ch.object),
                Some("keep the claim templates as they run (for a Helm release: convert with --live), take the cluster over, then grow the disks with a plan of its own".into()),
            ));
        }
        ph.resizes.clear();
    }
    p.safe = p.refusals.is_empty();
}

/// The commands that grow the disks of StatefulSet `sts` (as it runs) to `sizes` (template, from,
/// to): a patch of each claim its pods hold (the API server refuses one unless the claim's
/// StorageClass allows volume expansion, and the runbook stops there), then the StatefulSet's
/// deletion without its pods, which the applied one adopts again.
fn resizes(sts: &Object, sizes: &[(String, String, String)]) -> Vec<String> {
    let ns = sts
        .namespace
        .as_deref()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    let mut out = Vec::new();
    for claim in claims(sts) {
        let Some((_, _, to)) = sizes
            .iter()
            .find(|(t, _, _)| claim.starts_with(&format!("{t}-{}-", sts.name)))
        else {
            continue;
        };
        out.push(format!(
            "kubectl{ns} patch pvc {claim} --type merge -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{to}\"}}}}}}}}'"
        ));
    }
    out.push(format!(
        "kubectl{ns} delete statefulset {} --cascade=orphan",
        sts.name
    ));
    out
}

/// What the EMQX node names of a StatefulSet's pods are made of: the environment that names
/// them (`EMQX_NODE__NAME`, `EMQX_HOST`, the DNS name of the headless Service) and the pod names.
fn node_identity(sts: &Object) -> Vec<(String, String)> {
    let mut out = vec![(
        "serviceName".to_string(),
        sts.value
            .pointer("/spec/serviceName")
            .map(Value::to_string)
            .unwrap_or_default(),
    )];
    let env = sts
        .value
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some("emqx"))
                .or_else(|| cs.first())
        })
        .and_then(|c| c.get("env"))
        .and_then(Value::as_array);
    for e in env.into_iter().flatten() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        if matches!(
            name,
            "EMQX_NODE__NAME" | "EMQX_NAME" | "EMQX_HOST" | "EMQX_CLUSTER__DNS__NAME"
        ) {
            out.push((
                name.to_string(),
                e.get("value").map(Value::to_string).unwrap_or_default(),
            ));
        }
    }
    out
}

/// Refuses every plan that leaves a cluster's data behind: a StatefulSet with claims that the
/// new side removes or replaces under another name (new, empty claims and new Erlang node
/// names), or one whose node names change (EMQX keeps its database per node name).
fn check_data(old: &Manifest, new: &Manifest, refusals: &mut Vec<Finding>) {
    let news = diff::by_key(new);
    for o in old.objects().iter().filter(|o| o.kind == "StatefulSet") {
        let held = claims(o);
        if held.is_empty() {
            continue;
        }
        let key = diff::Key::of(o);
        let ns = o
            .namespace
            .as_deref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        let owner = o
            .value
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| r.get("kind").and_then(Value::as_str) == Some("EMQX"))
            .and_then(|r| r.get("name").and_then(Value::as_str));
        if let (Some(owner), true) = (owner, news.contains_key(&key)) {
            refusals.push(Finding::new(
                "owned-by-operator",
                format!("{key} is owned by the EMQX resource {owner}: the operator keeps reconciling it, and deleting that resource deletes the StatefulSet (and under Operator 3.x its claims)"),
                Some(format!("first stop the operator (scale its Deployment to 0), then remove the ownerReferences: `kubectl{ns} patch statefulset {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences\"}}]'`, and plan again with the live objects", o.name)),
            ));
        }
        match news.get(&key) {
            Some(n) => {
                let (a, b) = (node_identity(o), node_identity(n));
                let changed: Vec<String> = a
                    .iter()
                    .filter(|x| !b.contains(x))
                    .map(|(k, _)| k.clone())
                    .collect();
                if !changed.is_empty() {
                    refusals.push(Finding::new(
                        "data-loss",
                        format!(
                            "{key}: the EMQX node names change ({} differ): EMQX keeps its database per node name, so the pods would start with empty data although they keep their claims ({})",
                            changed.join(", "),
                            held.join(", ")
                        ),
                        Some("keep the namespace, clusterDomain and names the running nodes have; to move to new node names, export the data first (`emqx ctl data export`) and import it into the new nodes (`emqx ctl data import`)".into()),
                    ));
                }
            }
            None => {
                let replacement = news
                    .values()
                    .filter(|n| n.kind == "StatefulSet" && n.namespace == o.namespace)
                    .map(|n| n.name.clone())
                    .collect::<Vec<_>>();
                let instead = match replacement.as_slice() {
                    [] => "and nothing replaces it".to_string(),
                    names => format!(
                        "and the new StatefulSet {} starts with new, empty claims and new Erlang node names",
                        names.join(", ")
                    ),
                };
                refusals.push(Finding::new(
                    "data-loss",
                    format!(
                        "{key} is not in the new render {instead}: the cluster's data (retained messages, sessions, authentication and authorization tables, rules) stays behind in its claims {}",
                        held.join(", ")
                    ),
                    Some(format!(
                        "do not apply this: keep the running StatefulSet (`kubectl{ns} get statefulset {name} -o yaml`) and take it over in place instead (the same StatefulSet, claims and node names): for a Helm release `emqx-render convert --from helm VALUES --release NAME` writes the spec and Settings that do, for a cluster of the operator `emqx-render adopt LIVE SPEC`; or move the data (`emqx ctl data export` on the old cluster, `emqx ctl data import` on the new one), then the clients",
                        name = o.name
                    )),
                ));
            }
        }
    }
}

fn change_word(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    }
}

/// The plan from `old` to `new`. `refused` are the new spec's topology refusals and `warnings`
/// its render warnings (both from `compile`).
pub fn plan(old: &Manifest, new: &Manifest, refused: &[Diagnostic], warned: &[Diagnostic]) -> Plan {
    let report = diff::diff(old, new);
    let mut refusals: Vec<Finding> = refused
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(Finding::of)
        .collect();
    let mut warnings: Vec<Finding> = refused
        .iter()
        .chain(warned)
        .filter(|d| d.severity == Severity::Warning)
        .map(Finding::of)
        .collect();

    let before = workloads(old);
    let after = workloads(new);
    let mut keys: Vec<&ClusterKey> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let clusters: Vec<ClusterPlan> = keys
        .into_iter()
        .map(|k| {
            let b = before.get(k).cloned().unwrap_or_default();
            let a = after.get(k).cloned().unwrap_or_default();
            ClusterPlan {
                namespace: k.0.clone(),
                name: k.1.clone(),
                core: RoleChange { from: b.0, to: a.0 },
                replicants: RoleChange { from: b.1, to: a.1 },
            }
        })
        .collect();
    for c in &clusters {
        check_cluster(c, &mut refusals, &mut warnings);
    }
    check_data(old, new, &mut refusals);

    let (old_objects, new_objects) = (diff::by_key(old), diff::by_key(new));
    let new_scaled = diff::autoscalers(new);
    let mut phases = vec![
        Phase {
            number: 1,
            name: "core",
            directory: phases::CORE_DIR,
            changes: Vec::new(),
            rollouts: Vec::new(),
            handovers: Vec::new(),
            resizes: Vec::new(),
        },
        Phase {
            number: 2,
            name: "replicants",
            directory: phases::REPLICANT_DIR,
            changes: Vec::new(),
            rollouts: Vec::new(),
            handovers: Vec::new(),
            resizes: Vec::new(),
        },
    ];
    for ch in &report.changes {
        let Some(obj) = new_objects
            .get(&ch.key)
            .or_else(|| old_objects.get(&ch.key))
            .copied()
        else {
            continue;
        };
        let replicant = phases::is_replicant(obj);
        let phase = &mut phases[usize::from(replicant)];
        for n in &ch.notes {
            if let Note::Autoscaled { ns, kind, name, .. } = n {
                // The runbook applies client-side (`kubectl apply -k`).
                phase.handovers.push(diff::handover_client(ns, kind, name));
            }
            if let (Note::Grow { sizes }, Some(before)) = (n, old_objects.get(&ch.key)) {
                phase.resizes.extend(resizes(before, sizes));
            }
            if let Note::Immutable { field, recipe } = n {
                refusals.push(Finding::new(
                    "immutable-field",
                    format!("{}: {field} cannot change in place", ch.key),
                    Some(recipe.clone()),
                ));
            }
        }
        // Restarts and scaling are told by the rollout lines; the other notes stay here.
        phase.changes.push(PhaseChange {
            object: ch.key.to_string(),
            change: change_word(ch.kind),
            grows: ch.notes.iter().any(|n| matches!(n, Note::Grow { .. })),
            notes: ch
                .notes
                .iter()
                .filter(|n| {
                    matches!(
                        n,
                        Note::Immutable { .. } | Note::Autoscaled { .. } | Note::Grow { .. }
                    )
                })
                .map(ToString::to_string)
                .collect(),
        });
        let workload_kind = matches!(obj.kind.as_str(), "StatefulSet" | "Deployment");
        if workload_kind && ch.kind != ChangeKind::Removed {
            let old = old_objects.get(&ch.key).copied();
            phase
                .rollouts
                .extend(rollout(ch, obj, replicant, old, &new_scaled));
        }
    }
    phases.retain(|p| !p.changes.is_empty());
    refusals.dedup();
    warnings.dedup();
    Plan {
        safe: refusals.is_empty(),
        clusters,
        phases,
        refusals,
        warnings,
    }
}

/// The rollout a changed workload goes through: its pods restarted, scaled, or adopted by a
/// StatefulSet replaced for larger disks; `None` when its pods are left as they are.
fn rollout(
    ch: &diff::Change,
    obj: &Object,
    replicant: bool,
    old: Option<&Object>,
    new_scaled: &diff::Scaled,
) -> Option<Rollout> {
    let reasons: Vec<String> = ch
        .notes
        .iter()
        .flat_map(|n| match n {
            Note::Restart(why) => why.clone(),
            _ => Vec::new(),
        })
        .collect();
    let w = workload(obj);
    let restart = ch.kind == ChangeKind::Added || !reasons.is_empty();
    let scale = ch.notes.iter().find_map(|n| match n {
        Note::Scale { from, to } => Some(format!("{from} -> {to}")),
        _ => None,
    });
    // A StatefulSet replaced for larger disks adopts its pods: waited for and checked.
    let replaced = ch.notes.iter().any(|n| matches!(n, Note::Grow { .. }));
    if !(restart || scale.is_some() || replaced) {
        return None;
    }
    let kind = if obj.kind == "StatefulSet" {
        "StatefulSet"
    } else {
        "Deployment"
    };
    Some(Rollout {
        cluster: phases::pod_label(obj, LABEL_INSTANCE)
            .unwrap_or_default()
            .to_string(),
        namespace: obj.namespace.clone().unwrap_or_default(),
        kind: kind.to_ascii_lowercase(),
        name: obj.name.clone(),
        role: if replicant { "replicant" } else { "core" },
        pods: pods(obj, &w, new_scaled, old),
        restart,
        reasons: if ch.kind == ChangeKind::Added {
            vec!["new workload".into()]
        } else {
            reasons
        },
        scale,
        version: w.version.clone(),
        timeout_minutes: phases::timeout_minutes(&[obj], kind),
    })
}
