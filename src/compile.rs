//! The pipeline: sources → documents → validated specs → models → one ordered manifest.
//! Pure: no files, no environment, no output.

use crate::diag::{Diagnostic, Diagnostics};
use crate::input::settings::SettingsDoc;
use crate::input::{self, Document, Source};
use crate::manifest::{Manifest, Object};
use crate::model;
use crate::objects;
use crate::output::text::{ClusterNote, PortNote};
use crate::settings::{Overrides, Settings};
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

fn note(c: &model::Cluster) -> ClusterNote {
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
        core: c.core.replicas.unwrap_or(1),
        replicants: c.replicant.as_ref().and_then(|r| r.replicas).unwrap_or(0),
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

/// The licence and cookie Secrets that Settings names, applied to one cluster.
fn secrets_from_settings(c: &mut model::Cluster, settings: &Settings) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(l) = &settings.license {
        for (path, r) in [
            ("spec.coreTemplate.spec.env", Some(&mut c.core)),
            ("spec.replicantTemplate.spec.env", c.replicant.as_mut()),
        ] {
            let Some(r) = r else { continue };
            let env = r.spec.env.get_or_insert_with(Vec::new);
            if env.iter().any(|e| e.name == "EMQX_LICENSE__KEY") {
                out.push(
                    Diagnostic::error(
                        "license-twice",
                        path,
                        "sets EMQX_LICENSE__KEY, and Settings names a licence Secret too",
                    )
                    .help("keep one: the env entry, or `license` in Settings"),
                );
                continue;
            }
            env.push(k8s_openapi::api::core::v1::EnvVar {
                name: "EMQX_LICENSE__KEY".into(),
                value_from: Some(k8s_openapi::api::core::v1::EnvVarSource {
                    secret_key_ref: Some(k8s_openapi::api::core::v1::SecretKeySelector {
                        name: l.name.clone(),
                        key: l.key.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    if let Some(k) = &settings.cookie {
        if c.facts.cookie.is_some() {
            out.push(
                Diagnostic::error("cookie-twice", "spec.config", "node.cookie is in the config, and Settings names a cookie Secret too")
                    .help("remove node.cookie from the config; the cookie then comes from the Secret alone"),
            );
        } else {
            c.cookie_ref = Some(k.clone());
        }
    }
    out
}

/// An EMQXAPIKey, for the v3beta1 cluster it names: (namespace, cluster, key, where).
type KeyFor<'a> = (String, String, model::KeyRef, &'a input::Locator);

/// What every cluster is compiled with.
struct Ctx<'a> {
    settings: &'a Settings,
    keys: &'a [KeyFor<'a>],
    over: &'a Overrides,
    at_settings: &'a (dyn Fn(Vec<Diagnostic>) -> Diagnostics + Sync),
}

/// A compiled cluster, before the checks across clusters.
struct ClusterPart {
    key: (String, String),
    name_at: Option<crate::diag::Loc>,
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

impl Ctx<'_> {
    fn document(&self, d: &Document) -> Part {
        let mut part = Part::default();
        let settings = self.settings;
        let (cluster, at) = match d {
            Document::Cluster(c) => {
                let problems = validate::check(c);
                let invalid = problems.has_errors();
                part.diags.extend(problems);
                if invalid {
                    return part;
                }
                let (cluster, problems) = model::front::v2::normalize(c, settings);
                part.diags.extend(problems);
                (cluster, &c.at)
            }
            Document::ClusterV3(c) => {
                let problems = validate::check_v3(c);
                let invalid = problems.has_errors();
                part.diags.extend(problems);
                if invalid {
                    return part;
                }
                let meta = c.doc.metadata.as_ref();
                let name = meta.and_then(|m| m.name.clone()).unwrap_or_default();
                let ns = meta
                    .and_then(|m| m.namespace.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| settings.namespace.clone());
                let mine: Vec<model::KeyRef> = self
                    .keys
                    .iter()
                    .filter(|(kns, kname, _, _)| *kns == ns && *kname == name)
                    .map(|(_, _, k, _)| k.clone())
                    .collect();
                let (cluster, problems) = model::front::v3::normalize(c, &mine, settings);
                part.diags.extend(problems);
                (cluster, &c.at)
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
        let Some(mut cluster) = cluster else {
            return part;
        };
        let extras = located(at, secrets_from_settings(&mut cluster, settings));
        let failed = extras.has_errors();
        part.diags.extend(extras);
        if failed {
            return part;
        }
        let mut tls_secret = None;
        if let Some(t) = &settings.extras.tls {
            let problems = (self.at_settings)(crate::extras::tls::apply(&mut cluster, t));
            let failed = problems.has_errors();
            part.diags.extend(problems);
            if failed {
                return part;
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
        } else {
            let refused = problems.has_errors();
            part.diags.extend(problems);
            if refused {
                return part;
            }
        }
        let mut account = None;
        if let Some(name) = &settings.service_account {
            // The pods run under the created account; the spec's name, if any, names it.
            let sa = cluster
                .service_account_name
                .clone()
                .or_else(|| name.clone())
                .unwrap_or_else(|| cluster.name.clone());
            cluster.service_account_name = Some(sa.clone());
            account = Some(objects::service_account(&cluster, &sa));
        }
        let mut built = objects::build(&cluster, settings.extras.network_policy.as_ref());
        let (extra_objects, problems) = crate::extras::objects(&settings.extras, &cluster, &built);
        if !problems.is_empty() {
            part.diags.extend((self.at_settings)(problems));
            return part;
        }
        built.extend(extra_objects);
        built.extend(account);
        if settings.sync_waves {
            objects::add_sync_waves(&mut built);
        }
        if self.over.yaml_text {
            to_text(&mut built, &mut part.diags);
        }
        part.objects = built;
        part.cluster = Some(ClusterPart {
            key: (cluster.namespace.clone(), cluster.name.clone()),
            name_at: at.value(&input::p("metadata.name")),
            note: note(&cluster),
            tls_secret,
        });
        part
    }
}

/// Compiles every source into one manifest, or returns every problem found.
pub fn compile(sources: &[Source], over: &Overrides) -> Result<Compiled, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut docs = Vec::new();
    for (d, problems) in crate::par::map(sources, 16, input::load) {
        docs.extend(d);
        diags.extend(problems);
    }
    // Settings and API keys first; the clusters (and objects passed through) then go one by one.
    let (meta, docs): (Vec<Document>, Vec<Document>) = docs
        .into_iter()
        .partition(|d| matches!(d, Document::Settings(..) | Document::ApiKey(..)));
    let mut settings_docs = meta.iter().filter_map(|d| match d {
        Document::Settings(s, at) => Some((&**s, at)),
        _ => None,
    });
    let first = settings_docs.next();
    if let Some((_, at)) = settings_docs.next() {
        diags.push(
            Diagnostic::error("settings-twice", "", "more than one Settings document")
                .at(at.value(&[]))
                .help("keep one `kind: Settings` document for the whole render"),
        );
    }
    // Settings given from outside the input, laid over the input's own.
    let mut layer_docs: Vec<Document> = Vec::new();
    for src in &over.settings_layers {
        let (d, problems) = input::load_settings(src);
        diags.extend(problems);
        let before = layer_docs.len();
        for doc in d {
            if matches!(doc, Document::Settings(..)) {
                layer_docs.push(doc);
            } else {
                diags.push(
                    Diagnostic::error("settings-layer", "kind", "is not a Settings document")
                        .at(Some(crate::diag::Loc { file: src.name.clone(), line: 1, col: 1 }))
                        .help("give only an `apiVersion: emqx-render/v1alpha1`, `kind: Settings` document here"),
                );
            }
        }
        if layer_docs.len() > before + 1 {
            diags.push(
                Diagnostic::error("settings-twice", "", "more than one Settings document")
                    .at(Some(crate::diag::Loc {
                        file: src.name.clone(),
                        line: 1,
                        col: 1,
                    }))
                    .help("give one Settings document"),
            );
        }
    }
    let mut layers: Vec<(&SettingsDoc, &input::Locator)> = first.into_iter().collect();
    layers.extend(layer_docs.iter().filter_map(|d| match d {
        Document::Settings(s, at) => Some((&**s, at)),
        _ => None,
    }));
    let merged = (!layers.is_empty()).then(|| {
        let mut m = SettingsDoc::default();
        for (doc, _) in &layers {
            m.overlay(doc);
        }
        m
    });
    // A settings path is located in the highest layer that gives its top-level field.
    let settings_at = |path: &str| -> Option<crate::diag::Loc> {
        let segs = input::p(path);
        let top = &segs[..segs.len().min(1)];
        layers
            .iter()
            .rev()
            .find(|(_, at)| top.is_empty() || at.has(top))
            .and_then(|(_, at)| at.value(&segs))
    };
    let settings = match Settings::resolve(merged.as_ref(), over) {
        Ok(s) => s,
        Err(d) => {
            let loc = settings_at(&d.path);
            diags.push((*d).at(loc));
            Settings::default()
        }
    };
    let at_settings = |found: Vec<Diagnostic>| -> Diagnostics {
        Diagnostics(
            found
                .into_iter()
                .map(|d| {
                    let loc = settings_at(&d.path);
                    d.at(loc)
                })
                .collect(),
        )
    };

    // EMQXAPIKey documents: keys for the cluster they name, read from their Secret in the pod.
    let mut keys: Vec<KeyFor<'_>> = Vec::new();
    for d in &meta {
        if let Document::ApiKey(k) = d {
            let problems = validate::check_api_key(k);
            let invalid = problems.has_errors();
            diags.extend(problems);
            if invalid {
                continue;
            }
            let ks = k.doc.spec.clone().unwrap_or_default();
            let ns = k
                .doc
                .metadata
                .as_ref()
                .and_then(|m| m.namespace.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| settings.namespace.clone());
            let cluster = ks.emqx_ref.and_then(|r| r.name).unwrap_or_default();
            let secret = ks.secret_ref.and_then(|r| r.name).unwrap_or_default();
            let sel = |key: &str| model::KeySel {
                secret_name: secret.clone(),
                secret_key: key.to_string(),
            };
            let key_ref = model::KeyRef {
                key: sel("apiKey"),
                secret: sel("apiSecret"),
                role: Some(
                    ks.role
                        .unwrap_or_else(|| "Administrator".into())
                        .to_ascii_lowercase(),
                ),
            };
            keys.push((ns, cluster, key_ref, &k.at));
        }
    }

    let ctx = Ctx {
        settings: &settings,
        keys: &keys,
        over,
        at_settings: &at_settings,
    };
    let v3_clusters: Vec<(String, String)> = docs
        .iter()
        .filter_map(|d| match d {
            Document::ClusterV3(c) => {
                let m = c.doc.metadata.clone().unwrap_or_default();
                Some((
                    m.namespace
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| settings.namespace.clone()),
                    m.name.unwrap_or_default(),
                ))
            }
            _ => None,
        })
        .collect();
    let parts = crate::par::map_owned(docs, 16, |d| ctx.document(&d));
    let mut objects: Vec<Object> = Vec::new();
    let mut notes: Vec<ClusterNote> = Vec::new();
    let mut seen_clusters: std::collections::BTreeSet<(String, String)> = Default::default();
    let mut tls_secrets: std::collections::BTreeSet<(String, String)> = Default::default();
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
                diags.extend(at_settings(vec![Diagnostic::error(
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
    for (ns, name, _, at) in &keys {
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
                .at(at.value(&input::p("spec.emqxRef.name")))
                .help("render the EMQXAPIKey together with its cluster, in the same namespace"),
            );
        }
    }
    let manifest = Manifest::new(objects);
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
    let diags = diags.sorted();
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Compiled {
        manifest,
        settings,
        diagnostics: diags,
        notes,
        refusals: refusals.sorted(),
    })
}
