//! What the user wrote: YAML text → classified documents (EMQX clusters, renderer settings,
//! objects to pass through), with every unknown field, wrong type and wrong-version field
//! reported at its line and column.

pub mod fields;
pub mod schema;
pub mod settings;
pub mod v2;
pub mod v3;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Diagnostics, Loc, did_you_mean};
use crate::yaml::{self, Node, Pos, Seg, Value, path_string};
use settings::SettingsDoc;

/// An input: a display name for messages and the text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// The API group of the EMQX Operator.
pub const GROUP: &str = "apps.emqx.io";
/// The API version of our settings document.
pub const SETTINGS_API_VERSION: &str = "emqx-render/v1alpha1";

/// The operator generation a cluster spec was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApiVersion {
    V2alpha1,
    V2beta1,
    /// Operator 2.3: v2beta1's fields, config in `base.hocon`.
    V2,
    /// Operator 3.x.
    V3beta1,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2alpha1 => "apps.emqx.io/v2alpha1",
            ApiVersion::V2beta1 => "apps.emqx.io/v2beta1",
            ApiVersion::V2 => "apps.emqx.io/v2",
            ApiVersion::V3beta1 => "apps.emqx.io/v3beta1",
        }
    }
}

/// Finds positions in one document of one file.
#[derive(Debug, Clone)]
pub struct Locator {
    pub file: String,
    pub root: Node,
    pub text: Arc<str>,
}

impl Locator {
    fn loc(&self, p: Pos) -> Loc {
        Loc {
            file: self.file.clone(),
            line: p.line,
            col: p.col,
        }
    }

    /// The value at `path` (or the nearest existing ancestor).
    pub fn value(&self, path: &[Seg]) -> Option<Loc> {
        Some(self.loc(self.root.nearest_pos(path)))
    }

    /// The key at the end of `path` (or the nearest existing ancestor's value).
    pub fn key(&self, path: &[Seg]) -> Option<Loc> {
        Some(
            self.loc(
                self.root
                    .key_pos(path)
                    .unwrap_or_else(|| self.root.nearest_pos(path)),
            ),
        )
    }

    /// Where a position inside an embedded HOCON string sits in the YAML file.
    pub fn hocon(&self, path: &[Seg], p: crate::hocon::Pos) -> Option<Loc> {
        let node = self.root.find(path)?;
        let (line0, col0) = yaml::content_origin(&self.text, node.pos);
        Some(Loc {
            file: self.file.clone(),
            line: line0 + p.line.saturating_sub(1),
            col: col0 + p.col.saturating_sub(1),
        })
    }

    pub fn has(&self, path: &[Seg]) -> bool {
        self.root.find(path).is_some_and(|n| n.value != Value::Null)
    }
}

/// A `kind: EMQX` document, typed and located.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub version: ApiVersion,
    pub doc: v2::EmqxDoc,
    pub at: Locator,
}

/// A Kubernetes object from the input that is passed through unchanged.
#[derive(Debug, Clone)]
pub struct Passthrough {
    pub object: serde_json::Value,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub at: Locator,
}

/// An `apps.emqx.io/v3beta1` `kind: EMQX` document, typed and located.
#[derive(Debug, Clone)]
pub struct ClusterSpecV3 {
    pub doc: v3::EmqxDoc,
    pub at: Locator,
}

/// An `apps.emqx.io/v3beta1` `kind: EMQXAPIKey` document.
#[derive(Debug, Clone)]
pub struct ApiKeySpec {
    pub doc: v3::ApiKeyDoc,
    pub at: Locator,
}

#[derive(Debug, Clone)]
pub enum Document {
    Cluster(Box<ClusterSpec>),
    ClusterV3(Box<ClusterSpecV3>),
    ApiKey(Box<ApiKeySpec>),
    Settings(Box<SettingsDoc>, Locator),
    Passthrough(Passthrough),
}

/// Builds the path `a.b.c` as segments.
pub fn p(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in s.split('.').filter(|x| !x.is_empty()) {
        let mut rest = part;
        // `env[0]`: a key, then indexes.
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(close) = rest.find(']') {
                match rest[1..close].parse::<usize>() {
                    Ok(n) => out.push(Seg::Index(n)),
                    Err(_) => out.push(Seg::Key(rest[1..close].to_string())),
                }
                rest = &rest[close + 1..];
                if !rest.starts_with('[') {
                    break;
                }
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// Reads every document of a source. Problems are returned all together. A fleet's documents
/// are parsed apart across the cores when the stream allows it (`yaml::document_starts`).
pub fn load(source: &Source) -> (Vec<Document>, Diagnostics) {
    let text: Arc<str> = Arc::from(source.text.as_str());
    let Some(starts) = yaml::document_starts(&source.text).filter(|s| s.len() >= 16) else {
        return load_part(source, &text, &source.text, 0, false);
    };
    let pieces: Vec<(&str, u32)> = starts
        .iter()
        .enumerate()
        .map(|(i, (offset, lines))| {
            let end = starts.get(i + 1).map_or(source.text.len(), |s| s.0);
            (&source.text[*offset..end], *lines)
        })
        .collect();
    let parts = crate::par::map(&pieces, 16, |(piece, lines)| {
        load_part(source, &text, piece, *lines, false)
    });
    let mut docs = Vec::new();
    let mut diags = Diagnostics::default();
    for (d, problems) in parts {
        docs.extend(d);
        diags.extend(problems);
    }
    (docs, diags)
}

/// A Settings layer (`--settings FILE`, the Argo CD parameter, a KRM functionConfig): a mapping
/// without `apiVersion` and `kind` is taken as a Settings document.
pub fn load_settings(source: &Source) -> (Vec<Document>, Diagnostics) {
    let text: Arc<str> = Arc::from(source.text.as_str());
    load_part(source, &text, &source.text, 0, true)
}

/// The documents of `part`, a piece of `source` that starts after `lines` lines; with
/// `bare_settings`, a mapping without `apiVersion` or `kind` (or with Settings' own) is a
/// Settings document.
fn load_part(
    source: &Source,
    text: &Arc<str>,
    part: &str,
    lines: u32,
    bare_settings: bool,
) -> (Vec<Document>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let nodes = match yaml::load(part) {
        Ok(n) => n,
        Err(e) => {
            let (code, help) = if e.message.starts_with(yaml::LIMIT_PREFIX) {
                (
                    "yaml-limit",
                    "no real spec comes near these limits: remove aliases that expand into aliases, and the deep nesting",
                )
            } else {
                (
                    "yaml-syntax",
                    "fix the YAML syntax; every EMQX document must be a mapping",
                )
            };
            diags.push(
                Diagnostic::error(code, "", e.message)
                    .at(e.pos.map(|p| Loc {
                        file: source.name.clone(),
                        line: p.line.saturating_add(lines),
                        col: p.col,
                    }))
                    .help(help),
            );
            return (Vec::new(), diags);
        }
    };
    let mut docs = Vec::new();
    for mut node in nodes {
        if lines > 0 {
            yaml::shift(&mut node, lines);
        }
        let at = Locator {
            file: source.name.clone(),
            root: node,
            text: text.clone(),
        };
        // A layer's header may be left out in part or whole (`kind: Settings` alone is fine).
        let header_is =
            |key: &str, want: &str| at.root.get(key).is_none_or(|v| v.as_str() == Some(want));
        let bare = bare_settings
            && matches!(at.root.value, Value::Map(_))
            && header_is("apiVersion", SETTINGS_API_VERSION)
            && header_is("kind", "Settings");
        let doc = if bare {
            deserialize_settings(&at, &mut diags).map(|s| Document::Settings(Box::new(s), at))
        } else {
            classify(at, &mut diags)
        };
        docs.extend(doc);
    }
    (docs, diags)
}

fn classify(at: Locator, diags: &mut Diagnostics) -> Option<Document> {
    if !matches!(at.root.value, Value::Map(_)) {
        diags.push(
            Diagnostic::error(
                "not-an-object",
                "",
                "a document must be a mapping with apiVersion and kind",
            )
            .at(at.value(&[]))
            .help("write each resource as a mapping that starts with apiVersion and kind; separate resources with ---"),
        );
        return None;
    }
    let api = at
        .root
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    let kind = at
        .root
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    if api.is_empty() || kind.is_empty() {
        diags.push(
            Diagnostic::error("missing-kind", "", "document has no apiVersion or kind")
                .at(at.value(&[]))
                .help(
                    "an EMQX spec starts with `apiVersion: apps.emqx.io/v2beta1` and `kind: EMQX`",
                ),
        );
        return None;
    }
    if api == SETTINGS_API_VERSION {
        if kind != "Settings" {
            diags.push(
                Diagnostic::error(
                    "unknown-kind",
                    "kind",
                    format!("{SETTINGS_API_VERSION} has no kind `{kind}`"),
                )
                .at(at.value(&p("kind")))
                .help("use `kind: Settings`"),
            );
            return None;
        }
        let s = deserialize_settings(&at, diags)?;
        return Some(Document::Settings(Box::new(s), at));
    }
    let (group, version) = api.split_once('/').unwrap_or(("", api.as_str()));
    if group == GROUP {
        let version = match (version, kind.as_str()) {
            ("v2beta1", "EMQX") => ApiVersion::V2beta1,
            ("v2alpha1", "EMQX") => ApiVersion::V2alpha1,
            ("v2", "EMQX") => ApiVersion::V2,
            ("v3beta1", "EMQX") => {
                let doc = deserialize_with_hints::<v3::EmqxDoc>(
                    &at,
                    fields::fields_at_v3,
                    MOVED_IN_V3,
                    diags,
                )?;
                return Some(Document::ClusterV3(Box::new(ClusterSpecV3 { doc, at })));
            }
            ("v3beta1", "EMQXAPIKey") => {
                let doc =
                    deserialize_located::<v3::ApiKeyDoc>(&at, fields::fields_at_api_key, diags)?;
                return Some(Document::ApiKey(Box::new(ApiKeySpec { doc, at })));
            }
            (_, "EMQX") => {
                diags.push(
                    Diagnostic::error(
                        "unsupported-version",
                        "apiVersion",
                        format!("`{api}` is not supported yet"),
                    )
                    .at(at.value(&p("apiVersion")))
                    .help("emqx-render reads apps.emqx.io/v3beta1, v2, v2beta1 and v2alpha1"),
                );
                return None;
            }
            _ => {
                other_kind(&api, &kind, &at, diags);
                return None;
            }
        };
        let doc = deserialize_located::<v2::EmqxDoc>(&at, fields::fields_at, diags)?;
        gate(&at, version, diags);
        return Some(Document::Cluster(Box::new(ClusterSpec {
            version,
            doc,
            at,
        })));
    }
    let name = at
        .root
        .find(&p("metadata.name"))
        .and_then(Node::as_str)
        .map(str::to_string);
    let Some(name) = name else {
        diags.push(
            Diagnostic::error(
                "missing-name",
                "metadata.name",
                format!("{kind} has no metadata.name"),
            )
            .at(at.value(&p("metadata")))
            .help("every object passed through needs a name"),
        );
        return None;
    };
    let namespace = at
        .root
        .find(&p("metadata.namespace"))
        .and_then(Node::as_str)
        .map(str::to_string);
    Some(Document::Passthrough(Passthrough {
        object: at.root.to_json(),
        api_version: api,
        kind,
        name,
        namespace,
        at,
    }))
}

/// A kind of `apps.emqx.io` that is not a cluster: a skipped `Rebalance` (a warning), or an
/// error that says what the kind is.
fn other_kind(api: &str, kind: &str, at: &Locator, diags: &mut Diagnostics) {
    match kind {
        "Rebalance" => {
            // An Argo CD application that still holds one must keep rendering.
            diags.push(
            Diagnostic::warning("rebalance-skipped", "kind", "skipped: `Rebalance` is a one-off runtime operation the operator runs against a live cluster, not a deployable object; nothing is rendered for it")
                .at(at.value(&p("kind")))
                .help("remove it from the repository, and run a rebalance through the EMQX dashboard or `emqx ctl rebalance` when the cluster is up"),
        );
        }
        "EmqxBroker" | "EmqxEnterprise" | "EmqxPlugin" => {
            diags.push(
            Diagnostic::error("unsupported-kind", "kind", format!("`{kind}` ({api}) is the EMQX 4.x operator API"))
                .at(at.value(&p("kind")))
                .help("write the cluster as `apiVersion: apps.emqx.io/v2beta1`, `kind: EMQX` (EMQX 5)"),
        );
        }
        _ => {
            diags.push(
                Diagnostic::error(
                    "unsupported-kind",
                    "kind",
                    format!("`{kind}` of {api} is not something emqx-render renders"),
                )
                .at(at.value(&p("kind")))
                .help("emqx-render renders `kind: EMQX`"),
            );
        }
    }
}

/// Fields that exist only in some versions: (path, versions that have it, hint).
const VERSIONED: &[(&str, &[ApiVersion], &str)] = &[
    (
        "spec.bootstrapConfig",
        &[ApiVersion::V2alpha1],
        "in v2beta1 the HOCON goes into spec.config.data",
    ),
    (
        "spec.emqxTemplate",
        &[ApiVersion::V2alpha1],
        "in v2beta1 the image is spec.image",
    ),
    (
        "spec.config",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "in v2alpha1 the HOCON goes into spec.bootstrapConfig",
    ),
    (
        "spec.clusterDomain",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "v2alpha1 always uses cluster.local",
    ),
    (
        "spec.revisionHistoryLimit",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.updateStrategy",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.serviceAccountName",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.coreTemplate.spec.tolerations",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "v2alpha1 spells it toleRations",
    ),
    (
        "spec.replicantTemplate.spec.tolerations",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "v2alpha1 spells it toleRations",
    ),
    (
        "spec.coreTemplate.spec.topologySpreadConstraints",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.replicantTemplate.spec.topologySpreadConstraints",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.coreTemplate.spec.minAvailable",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.coreTemplate.spec.maxUnavailable",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.replicantTemplate.spec.minAvailable",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.replicantTemplate.spec.maxUnavailable",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.dashboardServiceTemplate.enabled",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.listenersServiceTemplate.enabled",
        &[ApiVersion::V2beta1, ApiVersion::V2],
        "use apps.emqx.io/v2beta1",
    ),
    (
        "spec.dashboardServiceTemplate.status",
        &[ApiVersion::V2alpha1],
        "remove it: a template has no status",
    ),
    (
        "spec.listenersServiceTemplate.status",
        &[ApiVersion::V2alpha1],
        "remove it: a template has no status",
    ),
    (
        "spec.updateStrategy.evacuationStrategy.waitHealthCheck",
        &[ApiVersion::V2],
        "waitHealthCheck exists from apps.emqx.io/v2 on",
    ),
    (
        "spec.replicantTemplate.spec.volumeClaimTemplates",
        &[],
        "replicants keep no data; persistence belongs to spec.coreTemplate.spec.volumeClaimTemplates",
    ),
];

fn gate(at: &Locator, version: ApiVersion, diags: &mut Diagnostics) {
    for (path, versions, hint) in VERSIONED {
        let segs = p(path);
        if at.has(&segs) && !versions.contains(&version) {
            let (field, parent) = path.rsplit_once('.').map_or((*path, ""), |(a, b)| (b, a));
            let msg = if versions.is_empty() {
                format!("unknown field `{field}`")
            } else {
                format!("unknown field `{field}` in {}", version.as_str())
            };
            diags.push(
                Diagnostic::error("unknown-field", parent, msg)
                    .at(at.key(&segs))
                    .help(*hint),
            );
        }
    }
    if version == ApiVersion::V2alpha1 {
        let keys = at.root.find(&p("spec.bootstrapAPIKeys"));
        if let Some(Node {
            value: Value::Seq(items),
            ..
        }) = keys
        {
            for (i, item) in items.iter().enumerate() {
                if item.get("secretRef").is_some() {
                    let mut segs = p("spec.bootstrapAPIKeys");
                    segs.push(Seg::Index(i));
                    let parent = path_string(&segs);
                    segs.push(Seg::Key("secretRef".into()));
                    diags.push(
                        Diagnostic::error(
                            "unknown-field",
                            parent,
                            "unknown field `secretRef` in apps.emqx.io/v2alpha1",
                        )
                        .at(at.key(&segs))
                        .help("secretRef needs apps.emqx.io/v2beta1"),
                    );
                }
            }
        }
    }
}

/// Paths under which a value may be secret: messages about them never show the value.
fn is_sensitive(path: &[Seg]) -> bool {
    path.iter().any(|s| {
        matches!(s, Seg::Key(k) if k == "bootstrapAPIKeys" || k == "env" || k == "secret" || k == "stringData" || k == "data")
    })
}

/// Deserializes the document into `T`, reporting every unknown field (with a suggestion from
/// `fields_at`) and every value of the wrong type (each pruned, then the rest read again).
pub fn deserialize_located<T: DeserializeOwned>(
    at: &Locator,
    fields_at: fn(&[Seg]) -> &'static [&'static str],
    diags: &mut Diagnostics,
) -> Option<T> {
    deserialize_typed(at, fields_at, &[], CRD_TYPE_HELP, diags)
}

/// The help for a value of the wrong type in an operator resource.
const CRD_TYPE_HELP: &str =
    "check the value's type against the EMQX CRD (a number, a string, a list or a mapping)";

/// A Settings document (with or without its apiVersion/kind header).
fn deserialize_settings(at: &Locator, diags: &mut Diagnostics) -> Option<SettingsDoc> {
    deserialize_typed(
        at,
        settings::fields_at,
        &[],
        "check the value's type against the Settings schema (`emqx-render schema`)",
        diags,
    )
}

/// v2beta1 fields that v3beta1 renamed or replaced, with what to write instead.
pub const MOVED_IN_V3: &[(&str, &str)] = &[
    (
        "bootstrapAPIKeys",
        "v3beta1 has no bootstrapAPIKeys: declare EMQXAPIKey resources naming this cluster",
    ),
    (
        "volumeClaimTemplates",
        "v3beta1 calls it persistentVolumeClaimSpec",
    ),
    ("toleRations", "v3beta1 only has tolerations"),
    (
        "minAvailable",
        "v3beta1 has no PodDisruptionBudget fields; write the PDB yourself",
    ),
    (
        "maxUnavailable",
        "v3beta1 has no PodDisruptionBudget fields; write the PDB yourself (updateStrategy.replicants.maxUnavailable steers the replicant rollout)",
    ),
    (
        "initialDelaySeconds",
        "removed in v3beta1; coreTemplate/replicantTemplate.spec.minReadySeconds is the closest setting",
    ),
    ("connEvictRate", "v3beta1 calls it connectionEvictionRate"),
    ("sessEvictRate", "v3beta1 calls it sessionEvictionRate"),
];

/// As `deserialize_located`, with hints for known moved fields (checked before did-you-mean).
pub fn deserialize_with_hints<T: DeserializeOwned>(
    at: &Locator,
    fields_at: fn(&[Seg]) -> &'static [&'static str],
    hints: &[(&str, &str)],
    diags: &mut Diagnostics,
) -> Option<T> {
    deserialize_typed(at, fields_at, hints, CRD_TYPE_HELP, diags)
}

/// The reader behind the others; `type_help` is the help for a value of the wrong type.
fn deserialize_typed<T: DeserializeOwned>(
    at: &Locator,
    fields_at: fn(&[Seg]) -> &'static [&'static str],
    hints: &[(&str, &str)],
    type_help: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    let mut json = at.root.to_json();
    let mut unknown: BTreeSet<Vec<SegKey>> = BTreeSet::new();
    let mut failed = false;
    let mut pruned: Vec<Vec<Seg>> = Vec::new();
    for _ in 0..200 {
        let mut ignored: Vec<Vec<Seg>> = Vec::new();
        let result: Result<T, serde_path_to_error::Error<serde_json::Error>> = {
            let mut on_ignored = |path: serde_ignored::Path<'_>| ignored.push(ignored_path(&path));
            let de = serde_ignored::Deserializer::new(&json, &mut on_ignored);
            serde_path_to_error::deserialize(de)
        };
        for path in ignored {
            unknown.insert(path.iter().map(SegKey::from).collect());
        }
        match result {
            Ok(v) => {
                report_unknown(at, &unknown, fields_at, hints, diags);
                return if failed { None } else { Some(v) };
            }
            Err(e) => {
                failed = true;
                let path = error_path(e.path());
                let mut msg = e.inner().to_string();
                // A field we pruned for a bad value now shows up as missing: not a new problem.
                let missing = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                    .map(|f| {
                        let mut full = path.clone();
                        full.push(Seg::Key(f.to_string()));
                        full
                    });
                if missing.is_some_and(|m| pruned.contains(&m)) {
                    pruned.push(path.clone());
                    if !prune(&mut json, &path) {
                        report_unknown(at, &unknown, fields_at, hints, diags);
                        return None;
                    }
                    continue;
                }
                pruned.push(path.clone());
                if let Some(cut) = msg.find(" at line ") {
                    msg.truncate(cut);
                }
                for (rust, human) in [
                    ("expected i32", "expected an integer"),
                    ("expected i64", "expected an integer"),
                    ("expected u32", "expected a non-negative integer"),
                    ("expected u64", "expected a non-negative integer"),
                    ("expected f64", "expected a number"),
                ] {
                    msg = msg.replace(rust, human);
                }
                if is_sensitive(&path) {
                    msg = redact(&msg);
                }
                diags.push(
                    Diagnostic::error("invalid-value", path_string(&path), msg)
                        .at(at.value(&path))
                        .help(type_help),
                );
                if !prune(&mut json, &path) {
                    report_unknown(at, &unknown, fields_at, hints, diags);
                    return None;
                }
            }
        }
    }
    report_unknown(at, &unknown, fields_at, hints, diags);
    None
}

/// A comparable form of a path segment (for de-duplicating unknown fields across retries).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SegKey {
    K(String),
    I(usize),
}

impl From<&Seg> for SegKey {
    fn from(s: &Seg) -> Self {
        match s {
            Seg::Key(k) => SegKey::K(k.clone()),
            Seg::Index(i) => SegKey::I(*i),
        }
    }
}

fn report_unknown(
    at: &Locator,
    unknown: &BTreeSet<Vec<SegKey>>,
    fields_at: fn(&[Seg]) -> &'static [&'static str],
    hints: &[(&str, &str)],
    diags: &mut Diagnostics,
) {
    for keyed in unknown {
        let path: Vec<Seg> = keyed
            .iter()
            .map(|s| match s {
                SegKey::K(k) => Seg::Key(k.clone()),
                SegKey::I(i) => Seg::Index(*i),
            })
            .collect();
        let Some((Seg::Key(name), parent)) = path.split_last() else {
            continue;
        };
        let candidates = fields_at(parent);
        let mut d = Diagnostic::error(
            "unknown-field",
            path_string(parent),
            format!("unknown field `{name}`"),
        )
        .at(at.key(&path));
        // A field of a sibling's type one level up usually means a mis-indented block.
        let misplaced = at
            .root
            .find(parent)
            .into_iter()
            .flat_map(|n| n.keys())
            .find(|k| {
                let mut sib = parent.to_vec();
                sib.push(Seg::Key(k.name.clone()));
                k.name != *name && fields_at(&sib).contains(&name.as_str())
            });
        if let Some((_, hint)) = hints.iter().find(|(f, _)| f == name) {
            d = d.help(*hint);
        } else if PATCH_FIELDS.contains(&name.as_str()) {
            d = d.help(format!(
                "the operator's CRD has no `{name}`; emqx-render sets it with a Settings patch on the rendered object: `patches: [{{target: {{kind: StatefulSet, name: <cluster>-core}}, patch: {{spec: {{template: {{spec: {{{name}: ...}}}}}}}}}}]` (README \"Patches\")"
            ));
        } else if let Some(sib) = misplaced {
            d = d.help(format!(
                "`{name}` is a field of `{}`: indent it under `{}`",
                sib.name, sib.name
            ));
        } else if let Some(s) = did_you_mean(name, candidates.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        } else if !candidates.is_empty() && candidates.len() <= 16 {
            d = d.help(format!("fields allowed here: {}", candidates.join(", ")));
        } else {
            d = d.help("remove the field; it has no effect");
        }
        diags.push(d);
    }
}

/// Pod fields people ask for that no generation of the CRD carries: a Settings patch sets them.
pub const PATCH_FIELDS: &[&str] = &[
    "priorityClassName",
    "terminationGracePeriodSeconds",
    "dnsPolicy",
    "hostAliases",
    "runtimeClassName",
    "hostNetwork",
    "schedulerName",
    "shareProcessNamespace",
    "enableServiceLinks",
    "preemptionPolicy",
    "setHostnameAsFQDN",
    "os",
    "hostUsers",
    "schedulingGates",
];

/// The path of a field serde_ignored reports, as segments.
pub fn ignored_path(p: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path as P;
    match p {
        P::Root => Vec::new(),
        P::Seq { parent, index } => {
            let mut v = ignored_path(parent);
            v.push(Seg::Index(*index));
            v
        }
        P::Map { parent, key } => {
            let mut v = ignored_path(parent);
            v.push(Seg::Key(key.clone()));
            v
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            ignored_path(parent)
        }
    }
}

fn error_path(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment as S;
    p.iter()
        .filter_map(|s| match s {
            S::Seq { index } => Some(Seg::Index(*index)),
            S::Map { key } => Some(Seg::Key(key.clone())),
            S::Enum { variant } => Some(Seg::Key(variant.clone())),
            S::Unknown => None,
        })
        .collect()
}

/// Removes the value at `path` so the rest of the document can be checked.
fn prune(json: &mut serde_json::Value, path: &[Seg]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    if matches!(last, Seg::Index(_)) {
        // A list of objects cannot hold a hole; drop the whole list.
        return prune(json, parent);
    }
    let mut cur = json;
    for seg in parent {
        cur = match (seg, cur) {
            (Seg::Key(k), serde_json::Value::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Seg::Index(i), serde_json::Value::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, cur) {
        (Seg::Key(k), serde_json::Value::Object(m)) => m.shift_remove(k).is_some(),
        _ => false,
    }
}

/// serde messages quote the offending value (`invalid type: string "x"`); keep only its kind.
fn redact(msg: &str) -> String {
    match msg.strip_prefix("invalid type: ") {
        Some(rest) => {
            let kind = rest
                .split_whitespace()
                .next()
                .unwrap_or("value")
                .trim_end_matches(',');
            let expected = rest.split(", expected ").nth(1).unwrap_or("another type");
            format!("invalid type: {kind}, expected {expected}")
        }
        None => msg.to_string(),
    }
}
