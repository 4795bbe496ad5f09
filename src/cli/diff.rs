//! `emqx-render diff OLD NEW` and `render --check`: read two sides (a spec, a rendered YAML
//! stream, or a directory written by `--output-dir`), compare, print for people.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{EXIT_ERROR, overrides, print_diagnostics};
use crate::compile::compile;
use crate::diff::{ChangeKind, diff};
use crate::input::Source;
use crate::manifest::{Manifest, Object};
use crate::output;
use crate::settings::Layer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side: a spec, a rendered YAML file, or an --output-dir directory.
    pub old: PathBuf,
    /// The new side, in any of the same forms.
    pub new: PathBuf,
    /// Colour the diff (auto: when stdout is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// A Settings document laid over each spec's, as `render --settings` does.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}

/// Objects of one side. A file holding an `apps.emqx.io` resource is rendered first; a
/// directory (flat or phased `--output-dir`) is read with its subdirectories, leaving out the
/// kustomizations and the Flux objects.
pub(crate) fn load_side(
    path: &Path,
    settings: Option<&Path>,
) -> anyhow::Result<Result<Manifest, ExitCode>> {
    if path.is_dir() {
        let files: Vec<String> = output::dir::existing_files(path)
            .with_context(|| format!("reading directory {}", path.display()))?
            .into_iter()
            .filter(|p| p.ends_with(".yaml") || p.ends_with(".yml"))
            .filter(|p| !p.ends_with("kustomization.yaml") && p != output::phases::FLUX_FILE)
            .collect();
        let mut objects = Vec::new();
        for rel in files {
            let f = path.join(&rel);
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            objects.extend(parse_rendered(&text, &f)?);
        }
        return Ok(Ok(Manifest::new(objects)));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // `kubectl get ... -o yaml` gives a List of live objects: what runs, even with the EMQX
    // resource among them.
    let live_list = text.lines().any(|l| l == "kind: List");
    if holds_spec(&text) && !live_list {
        return Ok(compile_file(path, text, settings)?.map(|c| c.manifest));
    }
    Ok(Ok(Manifest::new(parse_rendered(&text, path)?)))
}

/// Whether a file's text holds an EMQX Operator resource: an `apiVersion` of the group (a
/// render mentions the group only in label and annotation keys, never with a version).
pub(crate) fn holds_spec(text: &str) -> bool {
    text.lines()
        .any(|l| l.contains("apiVersion") && l.contains("apps.emqx.io/v"))
}

/// Renders one spec file for a comparison. Topologies the image cannot run do not stop it
/// (`plan` reports them as refusals); any other problem is printed and gives exit 2.
pub(crate) fn compile_file(
    path: &Path,
    text: String,
    settings: Option<&Path>,
) -> anyhow::Result<Result<crate::compile::Compiled, ExitCode>> {
    let mut over = overrides(Layer::default(), settings)?;
    over.guards_as_refusals = true;
    let source = Source {
        name: path.display().to_string(),
        text,
    };
    Ok(match compile(&[source], &over) {
        Ok(c) => Ok(c),
        Err(d) => {
            print_diagnostics(&d.0, false)?;
            let _ = writeln!(
                io::stderr().lock(),
                "error: {} is not a valid spec",
                path.display()
            );
            Err(ExitCode::from(EXIT_ERROR))
        }
    })
}

/// One object of a List (`kubectl get -o yaml`).
fn live_object(item: &serde_json::Value, path: &Path) -> anyhow::Result<Object> {
    let s = |p: &str| item.pointer(p).and_then(|v| v.as_str()).map(str::to_string);
    let (Some(api_version), Some(kind), Some(name)) =
        (s("/apiVersion"), s("/kind"), s("/metadata/name"))
    else {
        anyhow::bail!(
            "{}: an item of the List is not a Kubernetes object (apiVersion, kind and metadata.name are needed)",
            path.display()
        );
    };
    Ok(Object {
        api_version,
        kind,
        namespace: s("/metadata/namespace"),
        name,
        value: item.clone(),
        text: None,
    })
}

/// Kubernetes objects from a YAML stream (a List's items among them), kept in their order.
fn parse_rendered(text: &str, path: &Path) -> anyhow::Result<Vec<Object>> {
    let docs = super::yaml_documents(text, path)?;
    let mut out = Vec::new();
    for d in docs {
        let value = d.to_json();
        if value.get("kind").and_then(|k| k.as_str()) == Some("List") {
            for item in value["items"].as_array().into_iter().flatten() {
                out.push(live_object(item, path)?);
            }
            continue;
        }
        let s = |p: &str| {
            value
                .pointer(p)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let (Some(api_version), Some(kind), Some(name)) =
            (s("/apiVersion"), s("/kind"), s("/metadata/name"))
        else {
            anyhow::bail!(
                "{}:{}:{}: not a Kubernetes object (apiVersion, kind and metadata.name are needed)",
                path.display(),
                d.pos.line,
                d.pos.col
            );
        };
        out.push(Object {
            api_version,
            kind,
            namespace: s("/metadata/namespace"),
            name,
            value,
            text: None,
        });
    }
    Ok(out)
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn paint(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.lines()
        .map(|l| {
            let code = if l.starts_with("+++") || l.starts_with("---") {
                "1"
            } else if l.starts_with('+') {
                "32"
            } else if l.starts_with('-') {
                "31"
            } else if l.starts_with("@@") {
                "36"
            } else {
                return format!("{l}\n");
            };
            format!("\x1b[{code}m{l}\x1b[0m\n")
        })
        .collect()
}

pub fn run(a: DiffArgs) -> anyhow::Result<ExitCode> {
    let old = match load_side(&a.old, a.settings.as_deref())? {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    let new = match load_side(&a.new, a.settings.as_deref())? {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    let report = diff(&old, &new);
    let color = use_color(a.color);
    let mut out = String::new();
    for c in &report.changes {
        let word = match c.kind {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        };
        out.push_str(&format!("{word}: {}\n", c.key));
        for n in &c.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        out.push_str(&paint(&c.diff, color));
    }
    out.push_str(&format!("summary: {}\n", report.summary()));
    let mut stdout = io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(if report.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `render --check PATH`: is PATH exactly what `--output-dir PATH` (for a directory) or the
/// YAML stream (for a file) would hold?
pub fn check(m: &Manifest, path: &Path, layout: &output::dir::Layout) -> anyhow::Result<ExitCode> {
    let mut problems = String::new();
    let unified = |name: &str, old: &str, new: &str| {
        similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("committed/{name}"), &format!("rendered/{name}"))
            .to_string()
    };
    if path.is_dir() {
        let expected = output::dir::files(m, layout)?;
        for (name, text) in &expected {
            match std::fs::read_to_string(path.join(name)) {
                Ok(have) if &have == text => {}
                Ok(have) => problems.push_str(&unified(name, &have, text)),
                Err(_) => problems.push_str(&format!("missing: {name}\n")),
            }
        }
        let existing = output::dir::existing_files(path)
            .with_context(|| format!("reading directory {}", path.display()))?;
        for name in existing {
            if !expected.iter().any(|(n, _)| *n == name) {
                problems.push_str(&format!("extra: {name}\n"));
            }
        }
    } else {
        let have =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let want = output::to_yaml(m)?;
        if have != want {
            problems.push_str(&unified(&path.display().to_string(), &have, &want));
        }
    }
    if problems.is_empty() {
        let _ = writeln!(io::stderr().lock(), "{} is up to date", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut stdout = io::stdout().lock();
    stdout.write_all(problems.as_bytes())?;
    stdout.flush()?;
    let _ = writeln!(
        io::stderr().lock(),
        "error: {} is out of date with its spec; render it again",
        path.display()
    );
    Ok(ExitCode::from(1))
}
