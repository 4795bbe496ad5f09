//! The pipeline: sources → documents → validated specs → models → one ordered manifest.
//! Pure: no files, no environment, no output.

use crate::build;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::manifest::{Manifest, Object};
use crate::model;
use crate::settings::{Overrides, Settings};
use crate::spec::{self, Document, Source};
use crate::validate;

/// A successful render: the objects and the warnings and notes to show.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub manifest: Manifest,
    pub settings: Settings,
    pub diagnostics: Diagnostics,
}

/// Compiles every source into one manifest, or returns every problem found.
pub fn compile(sources: &[Source], over: &Overrides) -> Result<Compiled, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut docs = Vec::new();
    for s in sources {
        let (d, problems) = spec::load(s);
        docs.extend(d);
        diags.extend(problems);
    }
    let mut settings_docs = docs.iter().filter_map(|d| match d {
        Document::Settings(s, at) => Some((s, at)),
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
    let settings = match Settings::resolve(first.map(|(s, _)| s), over) {
        Ok(s) => s,
        Err(d) => {
            let loc = first.and_then(|(_, at)| at.value(&spec::p(&d.path)));
            diags.push((*d).at(loc));
            Settings::default()
        }
    };

    let mut objects: Vec<Object> = Vec::new();
    let mut seen_clusters: Vec<(String, String)> = Vec::new();
    for d in &docs {
        match d {
            Document::Cluster(c) => {
                let problems = validate::check(c);
                let invalid = problems.has_errors();
                diags.extend(problems);
                if invalid {
                    continue;
                }
                let (cluster, problems) = model::normalize(c, &settings);
                diags.extend(problems);
                let Some(cluster) = cluster else { continue };
                let key = (cluster.namespace.clone(), cluster.name.clone());
                if seen_clusters.contains(&key) {
                    diags.push(
                        Diagnostic::error(
                            "duplicate-cluster",
                            "metadata.name",
                            format!("cluster {}/{} is defined twice", key.0, key.1),
                        )
                        .at(c.at.value(&spec::p("metadata.name")))
                        .help("give each cluster its own name or namespace"),
                    );
                    continue;
                }
                seen_clusters.push(key);
                if cluster.facts.cookie.is_none() {
                    diags.push(Diagnostic {
                        severity: Severity::Note,
                        code: "create-cookie-secret",
                        path: String::new(),
                        message: format!(
                            "cluster {}/{} reads its Erlang cookie from the Secret {}-node-cookie, which you create once",
                            cluster.namespace, cluster.name, cluster.name
                        ),
                        loc: None,
                        help: Some(format!(
                            "kubectl -n {} create secret generic {}-node-cookie --from-literal=node_cookie=\"$(openssl rand -hex 32)\"",
                            cluster.namespace, cluster.name
                        )),
                    });
                }
                for (k, s) in &cluster.api_keys.refs {
                    diags.push(Diagnostic {
                        severity: Severity::Note,
                        code: "api-key-secret-ref",
                        path: String::new(),
                        message: format!(
                            "cluster {}/{} reads a bootstrap API key from Secrets {} (key {}) and {} (key {}) at pod start",
                            cluster.namespace, cluster.name, k.secret_name, k.secret_key, s.secret_name, s.secret_key
                        ),
                        loc: None,
                        help: None,
                    });
                }
                objects.extend(build::build(&cluster));
            }
            Document::Passthrough(p) => objects.push(Object {
                api_version: p.api_version.clone(),
                kind: p.kind.clone(),
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                value: p.object.clone(),
            }),
            Document::Settings(..) => {}
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
    })
}
