//! The pipeline: sources → documents → validated specs → models → one ordered manifest.
//! Pure: no files, no environment, no output. `compile` is the table of contents; each step
//! is a function of the module that owns it, or a short one here.

use std::collections::BTreeSet;

use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::input::{self, ApiKeySpec, Document, Locator, Source};
use crate::manifest::{Manifest, Object};
use crate::model::{self, front};
use crate::objects;
use crate::output::text::{ClusterNote, PortNote};
use crate::settings::{AutoscalerSource, Layered, Overrides, Settings};
use crate::validate;

/// A successful render: the objects and the warnings and notes to show.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub manifest: Manifest,
    pub settings: Settings,
    pub diagnostics: Diagnostics,
    /// What the post-render notes say about each cluster.
    pub notes: Vec<ClusterNote>,
    /// With `Overrides::guards_as_refusals`: the topology errors, which did not stop the render.
    pub refusals: Diagnostics,
}

fn note(c: &model::Cluster, adopted: Option<&crate::settings::Adopted>) -> ClusterNote {
    let mut api_key_secrets: Vec<String> = c
        .api_keys
        .refs
        .iter()
        .flat_map(|r| [r.key.secret_name.clone(), r.secret.secret_name.clone()])
        .collect();
    api_key_secrets.dedup();
    ClusterNote {
        name: c.name.clone(),
        namespace: c.namespace.clone(),
        image: c.image.clone(),
        version: c.version.map(|v| v.to_string()),
        core: c.core.replicas.unwrap_or(1),
        replicants: c.replicant.as_ref().and_then(|r| r.replicas).unwrap_or(0),
        autoscaled: c.autoscaler.as_ref().map(|a| {
            let name = match &a.source {
                AutoscalerSource::Input { name } => name.clone(),
                AutoscalerSource::Settings { .. } => format!("{}-replicant", c.name),
            };
            (a.min_replicas, a.max_replicas, name)
        }),
        cookie_in_config: c.facts.cookie.is_some() || c.cookie_ref.is_some(),
        api_key_secrets,
        dashboard_port: c
            .dashboard_service
            .as_ref()
            .and(c.facts.dashboard_http.or(c.facts.dashboard_https)),
        listeners: if c.listeners_service.is_some() {
            c.facts
                .listeners
                .iter()
                .map(|l| PortNote {
                    name: l.port_name.clone(),
                    port: l.port,
                    protocol: if l.udp { "UDP" } else { "TCP" },
                })
                .collect()
        } else {
            Vec::new()
        },
        listeners_service: adopted
            .and_then(|a| a.listeners_service.clone())
            .unwrap_or_else(|| format!("{}-listeners", c.name)),
        adopted: adopted.is_some(),
    }
}

/// Diagnostics made from the model, placed at their spec path (or its nearest existing parent).
fn located(at: &input::Locator, found: Vec<Diagnostic>) -> Diagnostics {
    Diagnostics(
        found
            .into_iter()
            .map(|d| {
                let loc = at.value(&input::p(&d.path));
                d.at(loc)
            })
            .collect(),
    )
}

/// Compiles every source into one manifest, or returns every problem found.
pub fn compile(sources: &[Source], over: &Overrides) -> Result<Compiled, Diagnostics> {
    match kept_variables(sources, over) {
        None => compile_sources(sources, over).map_err(|d| variables_help(sources, d)),
        Some(vars) => {
            // The render sees placeholders; what comes out has the variables back.
            let over = Overrides {
                yaml_text: false,
                ..over.clone()
            };
            compile_sources(&vars.mask(sources), &over)
                .map(|c| restore(c, &vars))
                .map_err(|d| restore_diagnostics(d, &vars))
        }
    }
}

/// Diagnostics with the variables back in their text.
fn restore_diagnostics(d: Diagnostics, vars: &crate::variables::Vars) -> Diagnostics {
    Diagnostics(
        d.0.into_iter()
            .map(|d| Diagnostic {
                message: vars.restore(&d.message),
                help: d.help.map(|h| vars.restore(&h)),
                path: vars.restore(&d.path),
                ..d
            })
            .collect(),
    )
}

/// A render of masked sources with the variables back in every object, name, note and message,
/// and the one note on what could not be checked.
fn restore(mut c: Compiled, vars: &crate::variables::Vars) -> Compiled {
    c.diagnostics = restore_diagnostics(c.diagnostics, vars);
    c.refusals = restore_diagnostics(c.refusals, vars);
    c.manifest = Manifest::new(
        c.manifest
            .objects()
            .iter()
            .map(|o| {
                let mut o = o.clone();
                vars.restore_value(&mut o.value);
                o.name = vars.restore(&o.name);
                o.namespace = o.namespace.map(|n| vars.restore(&n));
                o
            })
            .collect(),
    );
    for n in &mut c.notes {
        for s in [
            &mut n.name,
            &mut n.namespace,
            &mut n.image,
            &mut n.listeners_service,
        ]
        .into_iter()
        .chain(n.api_key_secrets.iter_mut())
        {
            *s = vars.restore(s);
        }
    }
    c.diagnostics.push(variables_note(vars));
    c
}

/// Errors about a value holding a Flux variable, told how to keep it.
fn variables_help(sources: &[Source], d: Diagnostics) -> Diagnostics {
    let Some(vars) = crate::variables::Vars::of(sources) else {
        return d;
    };
    let names = vars.names();
    Diagnostics(
        d.0.into_iter()
            .map(|x| match names.iter().find(|n| x.is_error() && x.message.contains(**n)) {
                Some(n) => x.help(format!("`{n}` is a Flux variable: to keep it for Flux to fill in, set `keepVariables: true` in Settings (--keep-variables, the Argo CD parameter keep-variables, the KRM config keepVariables)")),
                None => x,
            })
            .collect(),
    )
}

/// The variables to keep, when the input holds some and Settings, a flag or the environment
/// ask to keep them (a first, cheap look at the Settings documents).
fn kept_variables(sources: &[Source], over: &Overrides) -> Option<crate::variables::Vars> {
    let vars = crate::variables::Vars::of(sources)?;
    let (docs, _) = load(sources);
    let (settings_docs, _, _) = split(docs);
    let mut ignored = Diagnostics::default();
    let layered = Layered::resolve(settings_docs, over, &mut ignored);
    layered.settings.keep_variables.then_some(vars)
}

/// The one note on kept variables: what could not be checked.
fn variables_note(vars: &crate::variables::Vars) -> Diagnostic {
    let mut kept = Vec::new();
    if !vars.names().is_empty() {
        kept.push(format!(
            "kept for Flux to fill in: {}",
            vars.names().join(", ")
        ));
    }
    if !vars.escapes().is_empty() {
        kept.push(format!(
            "Flux's escapes kept as written (Flux writes each as `${{...}}`, which EMQX fills in from its environment): {}",
            vars.escapes().join(", ")
        ));
    }
    Diagnostic::note(
        "variables-kept",
        "",
        format!(
            "{}. Names, domains and tags holding them were checked with a placeholder of the same length in their place; not checked: the lengths and characters of the values, the EMQX version of a tag that is a variable (the render assumed a current one unless Settings state it), and values inside the config, which the config checksum cannot see (a new value there does not roll the pods)",
            kept.join("; ")
        ),
    )
}

fn compile_sources(sources: &[Source], over: &Overrides) -> Result<Compiled, Diagnostics> {
    let (docs, mut diags) = load(sources);
    // Settings and API keys first; the clusters (and objects passed through) then go one by one.
    let (settings_docs, keys, mut docs) = split(docs);
    let mut layered = Layered::resolve(settings_docs, over, &mut diags);
    let (autoscaled, problems) = model::autoscaling::from_input(&mut docs, &layered.settings);
    diags.extend(problems);
    layered.settings.autoscaling.by_cluster = autoscaled;
    let keys = api_keys(&keys, &layered.settings, &mut diags);
    let mounted = objects::mounted::Mounted::new(
        docs.iter().filter_map(|d| match d {
            Document::Passthrough(p) => Some(p),
            _ => None,
        }),
        &layered.settings.namespace,
    );
    let ctx = Ctx {
        settings: &layered.settings,
        layered: &layered,
        keys: &keys,
        over,
        mounted: &mounted,
    };
    let v3_clusters = v3_clusters(&docs, &layered.settings);
    let parts = crate::par::map_owned(docs, 16, |d| ctx.document(&d));
    let hits: BTreeSet<usize> = parts
        .iter()
        .flat_map(|p| p.patch_hits.iter().copied())
        .collect();
    let (objects, notes, refusals) = gather(parts, &layered, &mut diags);
    if !diags.has_errors() {
        check_patches_hit(&layered, &hits, &objects, &mut diags);
    }
    check_key_clusters(&keys, &v3_clusters, &mut diags);
    let manifest = Manifest::new(objects);
    check_duplicate_objects(&manifest, &mut diags);
    let diags = diags.sorted();
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Compiled {
        manifest,
        settings: layered.settings,
        diagnostics: diags,
        notes,
        refusals: refusals.sorted(),
    })
}

/// A patch that matches no rendered object is a mistake (a misspelt name, a cluster renamed).
fn check_patches_hit(
    layered: &Layered,
    hits: &BTreeSet<usize>,
    objects: &[Object],
    diags: &mut Diagnostics,
) {
    for p in &layered.settings.patches {
        if hits.contains(&p.index) {
            continue;
        }
        let t = &p.target;
        let what = [
            t.kind.as_deref(),
            t.name.as_deref(),
            t.namespace.as_deref().map(|n| n.trim()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let path = format!("patches[{}].target", p.index);
        let of_kind = objects
            .iter()
            .filter(|o| t.kind.as_deref().is_none_or(|k| k == o.kind))
            .map(|o| o.name.as_str());
        let help = match t.name.as_deref().and_then(|n| crate::diag::did_you_mean(n, of_kind)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "name an object the render writes: `emqx-render render` lists them (kinds and names such as StatefulSet <cluster>-core, Deployment <cluster>-replicant, Service <cluster>-listeners)".into(),
        };
        let d = Diagnostic::error(
            "patch-no-target",
            path.clone(),
            format!("matches no rendered object ({what})"),
        )
        .help(help);
        diags.extend(layered.located(vec![d]));
    }
}

/// Every document of every source, read in parallel.
fn load(sources: &[Source]) -> (Vec<Document>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut docs = Vec::new();
    for (d, problems) in crate::par::map(sources, 16, input::load) {
        docs.extend(d);
        diags.extend(problems);
    }
    (docs, diags)
}

/// The Settings documents, the EMQXAPIKeys, and the rest (clusters and objects passed through).
type Split = (
    Vec<(input::settings::SettingsDoc, Locator)>,
    Vec<ApiKeySpec>,
    Vec<Document>,
);

fn split(docs: Vec<Document>) -> Split {
    let mut settings = Vec::new();
    let mut keys = Vec::new();
    let mut rest = Vec::new();
    for d in docs {
        match d {
            Document::Settings(s, at) => settings.push((*s, at)),
            Document::ApiKey(k) => keys.push(*k),
            other => rest.push(other),
        }
    }
    (settings, keys, rest)
}

/// An EMQXAPIKey, for the v3beta1 cluster it names.
struct KeyFor {
    namespace: String,
    cluster: String,
    key: model::KeyRef,
    name_at: Option<Loc>,
}

/// The EMQXAPIKey documents that pass their checks: keys for the cluster they name.
fn api_keys(docs: &[ApiKeySpec], settings: &Settings, diags: &mut Diagnostics) -> Vec<KeyFor> {
    let mut keys = Vec::new();
    for k in docs {
        let problems = validate::check_api_key(k);
        let invalid = problems.has_errors();
        diags.extend(problems);
        if invalid {
            continue;
        }
        let (namespace, cluster, key) = front::v3::api_key(k, settings);
        keys.push(KeyFor {
            namespace,
            cluster,
            key,
            name_at: k.at.value(&input::p("spec.emqxRef.name")),
        });
    }
    keys
}

/// The (namespace, name) of every v3beta1 cluster in the input.
fn v3_clusters(docs: &[Document], settings: &Settings) -> Vec<(String, String)> {
    docs.iter()
        .filter_map(|d| match d {
            Document::ClusterV3(c) => Some(v3_key(c, settings)),
            _ => None,
        })
        .collect()
}

/// A v3beta1 cluster's (namespace, name), as its EMQXAPIKeys name it.
fn v3_key(c: &input::ClusterSpecV3, settings: &Settings) -> (String, String) {
    let mut slot = None;
    let m = front::or_default(c.doc.metadata.as_ref(), &mut slot);
    (
        front::namespace(m, settings),
        m.name.clone().unwrap_or_default(),
    )
}

/// What every cluster is compiled with.
struct Ctx<'a> {
    settings: &'a Settings,
    layered: &'a Layered,
    keys: &'a [KeyFor],
    over: &'a Overrides,
    /// The input's ConfigMaps and Secrets, for the checksums of the pods that read them.
    mounted: &'a objects::mounted::Mounted,
}

/// A compiled cluster, before the checks across clusters.
struct ClusterPart {
    key: (String, String),
    name_at: Option<Loc>,
    note: ClusterNote,
    /// The Secret cert-manager writes for it.
    tls_secret: Option<(String, String)>,
}

/// What one document gives the render.
#[derive(Default)]
struct Part {
    diags: Diagnostics,
    refusals: Diagnostics,
    objects: Vec<Object>,
    cluster: Option<ClusterPart>,
    /// The Settings patches that matched one of its objects.
    patch_hits: Vec<usize>,
}

impl Part {
    /// Takes `problems`; whether they stop this document.
    fn stopped_by(&mut self, problems: Diagnostics) -> bool {
        let stop = problems.has_errors();
        self.diags.extend(problems);
        stop
    }
}

impl Ctx<'_> {
    fn document(&self, d: &Document) -> Part {
        let mut part = Part::default();
        let (cluster, at) = match d {
            Document::Cluster(c) => {
                if part.stopped_by(validate::check(c)) {
                    return part;
                }
                (front::v2::normalize(c, self.settings), &c.at)
            }
            Document::ClusterV3(c) => {
                if part.stopped_by(validate::check_v3(c)) {
                    return part;
                }
                (
                    front::v3::normalize(c, &self.keys_of(c), self.settings),
                    &c.at,
                )
            }
            Document::Passthrough(p) => {
                part.objects.push(Object {
                    api_version: p.api_version.clone(),
                    kind: p.kind.clone(),
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    value: p.object.clone(),
                    text: None,
                });
                if self.over.yaml_text {
                    to_text(&mut part.objects, &mut part.diags);
                }
                return part;
            }
            Document::Settings(..) | Document::ApiKey(..) => return part,
        };
        let (cluster, problems) = cluster;
        part.diags.extend(problems);
        if let Some(cluster) = cluster {
            self.cluster(cluster, at, &mut part);
        }
        part
    }

    /// The keys of the EMQXAPIKeys that name this v3beta1 cluster.
    fn keys_of(&self, c: &input::ClusterSpecV3) -> Vec<model::KeyRef> {
        let (ns, name) = v3_key(c, self.settings);
        self.keys
            .iter()
            .filter(|k| k.namespace == ns && k.cluster == name)
            .map(|k| k.key.clone())
            .collect()
    }

    /// A normalized cluster: the Settings' Secrets, platform and TLS applied, the topology guarded, the
    /// objects built with the extras.
    fn cluster(&self, mut cluster: model::Cluster, at: &Locator, part: &mut Part) {
        let settings = self.settings;
        if part.stopped_by(located(at, model::secrets::apply(&mut cluster, settings))) {
            return;
        }
        let problems = model::platform::apply(&mut cluster, settings.platform, at);
        part.diags.extend(located(at, problems));
        let mut tls_secret = None;
        if let Some(t) = &settings.extras.tls {
            let problems = crate::extras::tls::apply(&mut cluster, t);
            if part.stopped_by(self.layered.located(problems)) {
                return;
            }
            if t.cert_manager.is_some() {
                tls_secret = Some((
                    cluster.namespace.clone(),
                    crate::extras::tls::secret_name(&cluster, t),
                ));
            }
        }
        let problems = located(at, crate::guards::topology(&cluster));
        if self.over.guards_as_refusals {
            part.refusals.extend(problems);
        } else if part.stopped_by(problems) {
            return;
        }
        let Some(objects) = self.objects(&mut cluster, part) else {
            return;
        };
        part.objects = objects;
        part.cluster = Some(ClusterPart {
            key: (cluster.namespace.clone(), cluster.name.clone()),
            name_at: at.value(&input::p("metadata.name")),
            note: note(
                &cluster,
                self.settings
                    .adopt
                    .get(&(cluster.namespace.clone(), cluster.name.clone())),
            ),
            tls_secret,
        });
    }

    /// The cluster's objects, the extras' and the ServiceAccount's; `None` when an extra fails.
    fn objects(&self, cluster: &mut model::Cluster, part: &mut Part) -> Option<Vec<Object>> {
        let settings = self.settings;
        let mut account = None;
        if let Some(name) = &settings.service_account {
            // The pods run under the created account; the spec's name, if any, names it.
            let sa = cluster
                .service_account_name
                .clone()
                .or_else(|| name.clone())
                .unwrap_or_else(|| cluster.name.clone());
            cluster.service_account_name = Some(sa.clone());
            account = Some(objects::service_account(cluster, &sa));
        }
        let mut built = objects::build(cluster, settings.extras.network_policy.as_ref());
        let (extra_objects, problems) = crate::extras::objects(&settings.extras, cluster, &built);
        if !problems.is_empty() {
            part.diags.extend(self.layered.located(problems));
            return None;
        }
        built.extend(extra_objects);
        built.extend(account);
        if let Some(a) = settings
            .adopt
            .get(&(cluster.namespace.clone(), cluster.name.clone()))
        {
            objects::adopt::apply(&mut built, cluster, a);
        }
        if settings.sync_waves {
            objects::add_sync_waves(&mut built);
        }
        // Patches last (a sync wave can be patched too), before the checksum reads the mounts.
        let (hits, problems) = crate::patch::apply(&settings.patches, &mut built);
        part.patch_hits.extend(hits);
        if part.stopped_by(self.layered.located(problems)) {
            return None;
        }
        objects::mounted::fold(&mut built, self.mounted);
        if self.over.yaml_text {
            to_text(&mut built, &mut part.diags);
        }
        Some(built)
    }
}

/// The parts in input order, checked across clusters: a cluster defined twice, two clusters
/// sharing a cert-manager Secret.
fn gather(
    parts: Vec<Part>,
    layered: &Layered,
    diags: &mut Diagnostics,
) -> (Vec<Object>, Vec<ClusterNote>, Diagnostics) {
    let mut objects: Vec<Object> = Vec::new();
    let mut notes: Vec<ClusterNote> = Vec::new();
    let mut seen_clusters: BTreeSet<(String, String)> = Default::default();
    let mut tls_secrets: BTreeSet<(String, String)> = Default::default();
    let mut refusals = Diagnostics::default();
    for part in parts {
        diags.extend(part.diags);
        refusals.extend(part.refusals);
        if let Some(c) = part.cluster {
            if !seen_clusters.insert(c.key.clone()) {
                diags.push(
                    Diagnostic::error(
                        "duplicate-cluster",
                        "metadata.name",
                        format!("cluster {}/{} is defined twice", c.key.0, c.key.1),
                    )
                    .at(c.name_at)
                    .help("give each cluster its own name or namespace"),
                );
                continue;
            }
            if let Some(secret) = c.tls_secret
                && !tls_secrets.insert(secret.clone())
            {
                diags.extend(layered.located(vec![Diagnostic::error(
                    "tls-secret-shared",
                    "tls.secretName",
                    format!("two clusters in namespace {} would have cert-manager write the same Secret {}", secret.0, secret.1),
                )
                .help("leave secretName out (each cluster gets <cluster>-tls), or render the clusters with separate Settings")]));
                continue;
            }
            notes.push(c.note);
        }
        objects.extend(part.objects);
    }
    (objects, notes, refusals)
}

/// Every EMQXAPIKey names a v3beta1 cluster of the input.
fn check_key_clusters(keys: &[KeyFor], v3_clusters: &[(String, String)], diags: &mut Diagnostics) {
    for k in keys {
        let (ns, name) = (&k.namespace, &k.cluster);
        if !v3_clusters
            .iter()
            .any(|(cns, cname)| cns == ns && cname == name)
        {
            diags.push(
                Diagnostic::error(
                    "api-key-cluster",
                    "spec.emqxRef.name",
                    format!("names the EMQX cluster {ns}/{name}, which is not an apps.emqx.io/v3beta1 EMQX in the input"),
                )
                .at(k.name_at.clone())
                .help("render the EMQXAPIKey together with its cluster, in the same namespace"),
            );
        }
    }
}

/// No object is produced twice (an input object named like a generated one, or given twice).
fn check_duplicate_objects(manifest: &Manifest, diags: &mut Diagnostics) {
    for dup in manifest.duplicates() {
        diags.push(
            Diagnostic::error(
                "duplicate-object",
                "",
                format!("{} {}/{} is produced twice", dup.kind, dup.namespace.as_deref().unwrap_or(""), dup.name),
            )
            .help("an object in the input has the name of one emqx-render generates, or is given twice"),
        );
    }
}

/// With `Overrides::yaml_text`: each object's YAML text, its JSON tree dropped.
fn to_text(objects: &mut [Object], diags: &mut Diagnostics) {
    for o in objects {
        match crate::output::object_yaml(&o.value, &o.kind, &o.name) {
            Ok(t) => {
                o.text = Some(t);
                o.value = serde_json::Value::Null;
            }
            Err(e) => diags.push(Diagnostic::error("internal", "", e.to_string())),
        }
    }
}
