//! The config files of each generation's layout and the facts read from them, every problem
//! reported at its place in the YAML file (or, for `config.roots`, at the root's path).

use std::collections::BTreeMap;

use super::config;
use super::defaults as d;
use super::{ConfigFiles, Generation};
use crate::diag::{Diagnostic, Diagnostics};
use crate::hocon::{self, facts::ConfigFacts};
use crate::input::{Locator, p};

/// The config as a spec gives it.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// HOCON text at `path` in the spec (`spec.config.data`, v2alpha1 `spec.bootstrapConfig`).
    Data { path: &'static str, text: String },
    /// v3beta1 `spec.config.roots`.
    Roots(BTreeMap<String, serde_json::Value>),
}

/// A cluster's config read: its files, the v3beta1 startup revision, the facts, and whether
/// the HOCON parsed.
pub struct Read {
    pub files: ConfigFiles,
    pub startup_revision: Option<String>,
    pub facts: ConfigFacts,
    pub ok: bool,
}

/// Lays out and analyses the config of a cluster named `name`.
pub fn read(
    source: &ConfigSource,
    generation: Generation,
    name: &str,
    enterprise: bool,
    at: &Locator,
    diags: &mut Diagnostics,
) -> Read {
    match source {
        ConfigSource::Data { path, text } => {
            let (files, analysis, offset) = data_layout(generation, text);
            let (facts, ok) = analyze_hocon(&analysis, offset, path, name, at, diags);
            if generation == Generation::Legacy {
                dashboard_ipv6(&facts, offset, path, at, diags);
            }
            let data_segs = p(path);
            for (root, pos) in facts.roots.iter().filter(|(_, pos)| pos.line > offset) {
                let loc = hocon_loc(at, &data_segs, offset, *pos);
                unknown_root(root, enterprise, format!("{path}: {root}"), loc, diags);
            }
            Read {
                files,
                startup_revision: None,
                facts,
                ok,
            }
        }
        ConfigSource::Roots(roots) => {
            for root in roots.keys() {
                let path = format!("spec.config.roots.{root}");
                let loc = at.key(&p(&path));
                unknown_root(root, enterprise, path, loc, diags);
            }
            let (files, startup_revision, facts, ok) = roots_layout(roots, name, at, diags);
            Read {
                files,
                startup_revision,
                facts,
                ok,
            }
        }
    }
}

/// The config files for a HOCON `config.data`, the text to analyse (what EMQX merges: the
/// implicit default listeners, then the files) and the line of that text where `data` starts.
/// In the Operator 2.2 layout the dashboard's bind is also set in the environment as a bare
/// port (`EMQX_DASHBOARD__LISTENERS__HTTP__BIND=18083`), which overrides the config and binds
/// IPv4 only: an IPv6 bind in the config is lost.
fn dashboard_ipv6(
    facts: &ConfigFacts,
    offset: u32,
    data_path: &str,
    at: &Locator,
    diags: &mut Diagnostics,
) {
    let data_segs = p(data_path);
    for (path, pos) in &facts.dashboard_ipv6 {
        let loc = hocon_loc(at, &data_segs, offset, *pos);
        let var = if path.contains(".https.") {
            "EMQX_DASHBOARD__LISTENERS__HTTPS__BIND"
        } else {
            "EMQX_DASHBOARD__LISTENERS__HTTP__BIND"
        };
        diags.push(
            Diagnostic::warning(
                "dashboard-ipv4-only",
                format!("{data_path}: {path}"),
                format!("binds the dashboard to IPv6, but the operator's environment sets {var} to the bare port, which overrides it: EMQX listens on IPv4 (0.0.0.0) only"),
            )
            .at(loc)
            .help("render the cluster as apps.emqx.io/v2 (Operator 2.3: the bind comes from base.hocon only), or reach the dashboard over IPv4"),
        );
    }
}

/// A top-level root EMQX would drop (a typo, or an Enterprise root on the open-source edition).
fn unknown_root(
    root: &str,
    enterprise: bool,
    path: String,
    loc: Option<crate::diag::Loc>,
    diags: &mut Diagnostics,
) {
    if let Some((message, help)) = super::roots::check(root, enterprise) {
        diags.push(
            Diagnostic::warning("config-root-unknown", path, message)
                .at(loc)
                .help(help),
        );
    }
}

/// Where a position of the analysed text is in the YAML file: the user's part (`data` at
/// `data_segs`) starts at line `offset + 1`; a position before it is reported at `data` itself.
fn hocon_loc(
    at: &Locator,
    data_segs: &[crate::yaml::Seg],
    offset: u32,
    pos: hocon::Pos,
) -> Option<crate::diag::Loc> {
    if pos.line > offset {
        at.hocon(
            data_segs,
            hocon::Pos {
                line: pos.line - offset,
                col: pos.col,
            },
        )
    } else {
        at.value(data_segs)
    }
}

fn data_layout(generation: Generation, data: &str) -> (ConfigFiles, String, u32) {
    match generation {
        Generation::Legacy => {
            let conf = config::legacy_emqx_conf(data);
            let files = ConfigFiles {
                emqx_conf: conf.clone(),
                base_hocon: None,
            };
            (files, conf, d::DEFAULT_LINES_COUNT)
        }
        Generation::Modern => {
            let prefix = format!(
                "{}{}",
                config::IMPLICIT_DEFAULT_LISTENERS,
                config::BASE_HOCON_DEFAULTS_V2
            );
            let files = ConfigFiles {
                emqx_conf: String::new(),
                base_hocon: Some(config::base_hocon_from_data(data)),
            };
            let offset = u32::try_from(prefix.matches('\n').count()).unwrap_or(0);
            (files, format!("{prefix}{data}"), offset)
        }
    }
}

/// Parses and analyses a config whose user part (`data_path` in the spec) starts at line
/// `offset + 1` of `text`; every problem is reported at its line in the YAML file.
fn analyze_hocon(
    text: &str,
    offset: u32,
    data_path: &str,
    name: &str,
    at: &Locator,
    diags: &mut Diagnostics,
) -> (ConfigFacts, bool) {
    let data_segs = p(data_path);
    let hocon_loc = |pos: hocon::Pos| hocon_loc(at, &data_segs, offset, pos);
    let mut config_ok = true;
    let facts = match hocon::parse(text) {
        Ok(root) => {
            let (facts, problems) = hocon::facts::analyze(&root);
            for pr in problems {
                diags.push(
                    Diagnostic::error(
                        "config-value",
                        format!("{data_path}: {}", pr.path),
                        pr.message,
                    )
                    .at(hocon_loc(pr.pos))
                    .help(pr.help),
                );
            }
            facts
        }
        Err(e) => {
            config_ok = false;
            let mut message = format!("invalid HOCON: {}", e.message);
            if let Some(l) = e.opened_at.and_then(hocon_loc) {
                message.push_str(&format!(" (opened at {}:{}:{})", l.file, l.line, l.col));
            }
            diags.push(
                Diagnostic::error("config-syntax", data_path, message)
                    .at(hocon_loc(e.pos))
                    .help(e.help),
            );
            ConfigFacts::default()
        }
    };
    check_listener_names(&facts, data_path, &hocon_loc, diags);
    if let (Some(pos), Some(_)) = (facts.cookie_pos, &facts.cookie) {
        diags.push(
            Diagnostic::warning(
                "cookie-in-config",
                format!("{data_path}: node.cookie"),
                "the Erlang cookie is written in the spec, so it sits in Git and in the rendered Secret",
            )
            .at(hocon_loc(pos))
            .help(format!(
                "remove node.cookie and create the Secret {name}-node-cookie (key node_cookie) in the cluster instead"
            )),
        );
    }
    (facts, config_ok)
}

/// The config files and facts of `config.roots`.
fn roots_layout(
    roots: &BTreeMap<String, serde_json::Value>,
    name: &str,
    at: &Locator,
    diags: &mut Diagnostics,
) -> (ConfigFiles, Option<String>, ConfigFacts, bool) {
    let (runtime, startup) = config::split_roots(roots);
    let base = format!(
        "{}{}",
        config::BASE_HOCON_DEFAULTS_V3,
        config::render_roots(&runtime)
    );
    let conf = config::render_roots(&startup);
    let files = ConfigFiles {
        emqx_conf: conf.clone(),
        base_hocon: Some(base.clone()),
    };
    // emqx.conf overrides base.hocon; the implicit default listeners come first.
    let analysis = format!("{}{base}\n{conf}", config::IMPLICIT_DEFAULT_LISTENERS);
    let mut local = Diagnostics::default();
    let (facts, ok) = analyze_hocon(
        &analysis,
        u32::MAX,
        "spec.config.roots",
        name,
        at,
        &mut local,
    );
    // Positions in generated text mean nothing to the user: point at the roots path instead.
    for mut dg in local.0 {
        let hocon_path = dg
            .path
            .split_once(": ")
            .map(|(_, h)| h.to_string())
            .unwrap_or_default();
        let mut yaml_path = p("spec.config.roots");
        yaml_path.extend(p(&hocon_path));
        dg.loc = at.value(&yaml_path);
        if !hocon_path.is_empty() {
            dg.path = format!("spec.config.roots.{hocon_path}");
        }
        diags.push(dg);
    }
    (files, config::startup_revision(&startup), facts, ok)
}

/// Service port names must be DNS labels; two listeners cannot share a port and protocol.
fn check_listener_names(
    facts: &ConfigFacts,
    data_path: &str,
    loc: &dyn Fn(hocon::Pos) -> Option<crate::diag::Loc>,
    diags: &mut Diagnostics,
) {
    let mut seen: BTreeMap<(u16, bool), &str> = BTreeMap::new();
    for l in &facts.listeners {
        if let Err(why) = crate::names::dns_label(&l.port_name) {
            diags.push(
                Diagnostic::error("listener-name", format!("{data_path}: {}", l.path), format!("listener gives the Service port name `{}`, which {why}", l.port_name))
                    .at(loc(l.pos))
                    .help("rename the listener with lowercase letters, digits and `-` (e.g. `my-listener`)"),
            );
        }
        if let Some(other) = seen.insert((l.port, l.udp), &l.path) {
            diags.push(
                Diagnostic::error(
                    "duplicate-port",
                    format!("{data_path}: {}", l.path),
                    format!("port {} is also used by {other}", l.port),
                )
                .at(loc(l.pos))
                .help("give each listener its own port, or disable one with `enable = false`"),
            );
        }
    }
}
