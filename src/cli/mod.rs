//! Command line: parse arguments, read inputs, call the pure core, write the result. The only
//! place that touches files, the environment and the standard streams; one file per subcommand.

pub mod adopt;
pub mod convert;
pub mod diff;
pub mod env;
pub mod images;
pub mod plan;
pub mod render;
pub mod status;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};

use crate::diag::Diagnostic;
use crate::input::Source;
use crate::settings::{Layer, Overrides};

/// Renders the EMQX Operator's `EMQX` resources into plain Kubernetes manifests.
#[derive(Debug, Parser)]
#[command(
    name = "emqx-render",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    render: render::RenderArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render specs to manifests (the default command).
    Render(Box<render::RenderArgs>),
    /// Compare two specs or renders object by object; exit 1 when they differ.
    Diff(diff::DiffArgs),
    /// Plan an upgrade from OLD (spec or render) to NEW (spec): phases, restarts, refusals and a
    /// kubectl runbook; exit 1 when the plan is refused.
    Plan(plan::PlanArgs),
    /// Run as a KRM function (kustomize, kpt): a ResourceList on stdin, the same list with the
    /// rendered objects appended on stdout.
    Krm,
    /// Take over a running cluster in place: from its live objects (LIVE), the Settings document
    /// that keeps its core StatefulSet, claims and node names (commit it beside the spec).
    Adopt(adopt::AdoptArgs),
    /// Rewrite EMQX resources for another operator generation (v2beta1, v2, v3beta1).
    Convert(convert::ConvertArgs),
    /// List every container image the specs render to (for mirroring into a private registry).
    Images(images::ImagesArgs),
    /// Check a running cluster through the EMQX REST API: healthy, and matching its spec?
    Status(Box<status::StatusArgs>),
    /// Print the JSON Schema of the input (EMQX resources and Settings), for editors and CI.
    Schema,
    /// Print shell completions.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// Exit codes: 0 success, 1 invalid spec / differences, 2 usage or I/O error.
pub const EXIT_INVALID: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Runs the command line; returns the exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Render(a)) => render::run(*a),
        None => render::run(cli.render),
        Some(Command::Diff(a)) => diff::run(a),
        Some(Command::Plan(a)) => plan::run(a),
        Some(Command::Krm) => krm(),
        Some(Command::Status(a)) => status::run(*a),
        Some(Command::Images(a)) => images::run(a),
        Some(Command::Convert(a)) => convert::run(a),
        Some(Command::Adopt(a)) => adopt::run(a),
        Some(Command::Schema) => write_stdout(crate::input::schema::json_schema().as_bytes()),
        Some(Command::Completions { shell }) => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "emqx-render", &mut buf);
            write_stdout(&buf)
        }
        Some(Command::Man) => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut buf) {
                Ok(()) => write_stdout(&buf),
                Err(e) => Err(e.into()),
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            if let Some(d) = e.downcast_ref::<InvalidInput>() {
                let _ = print_diagnostics(std::slice::from_ref(&d.0), false);
                let _ = writeln!(io::stderr().lock(), "error: could not render: 1 error");
                return ExitCode::from(EXIT_INVALID);
            }
            let _ = writeln!(io::stderr().lock(), "error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// Settings from outside the input: the environment (Argo CD) and the flags, with the Settings
/// documents of the environment (`PARAM_SETTINGS`) and of `--settings FILE`.
pub fn overrides(flags: Layer, settings_file: Option<&Path>) -> anyhow::Result<Overrides> {
    let get = |k: &str| std::env::var(k).ok();
    let (env, fallback_namespace) = env::from_env(&get);
    let mut settings_layers: Vec<Source> = env::settings_source(&get).into_iter().collect();
    if let Some(f) = settings_file {
        settings_layers.extend(read_sources(&[f.to_path_buf()])?);
    }
    let over = Overrides {
        env,
        flags,
        fallback_namespace,
        guards_as_refusals: false,
        yaml_text: false,
        settings_layers,
    };
    Ok(over)
}

/// Input that cannot be read as a spec at all (exit 1, like any invalid spec).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub struct InvalidInput(pub Diagnostic);

/// The error for bytes that are not UTF-8, at the line and column of the first bad byte.
fn not_utf8(name: &str, bytes: &[u8], valid_up_to: usize) -> InvalidInput {
    let before = &bytes[..valid_up_to.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    InvalidInput(
        Diagnostic::error(
            "not-utf8",
            "",
            format!(
                "not UTF-8 text: byte 0x{:02x} cannot start or continue a character",
                bytes.get(valid_up_to).copied().unwrap_or(0)
            ),
        )
        .at(Some(crate::diag::Loc {
            file: name.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }))
        .help("save the file as UTF-8 (YAML has no other encoding Kubernetes reads)"),
    )
}

fn read_sources(files: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    let files = if files.is_empty() {
        discover(Path::new("."))?
    } else {
        files.to_vec()
    };
    let mut out = Vec::new();
    for f in &files {
        if f.as_os_str() == "-" {
            let mut bytes = Vec::new();
            io::stdin()
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                not_utf8("<stdin>", e.as_bytes(), at)
            })?;
            out.push(Source {
                name: "<stdin>".into(),
                text,
            });
        } else {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                not_utf8(&f.display().to_string(), e.as_bytes(), at)
            })?;
            out.push(Source {
                name: f.display().to_string(),
                text,
            });
        }
    }
    Ok(out)
}

/// With no file argument (how Argo CD runs it): every `*.yaml`/`*.yml` in `dir` that holds an
/// `apps.emqx.io` resource, in name order.
fn discover(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for e in
        std::fs::read_dir(dir).with_context(|| format!("reading directory {}", dir.display()))?
    {
        let path = e?.path();
        let is_yaml = path.extension().is_some_and(|x| x == "yaml" || x == "yml");
        if is_yaml && std::fs::read_to_string(&path).is_ok_and(|t| t.contains("apps.emqx.io/")) {
            found.push(
                path.strip_prefix(dir)
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
            );
        }
    }
    found.sort();
    if found.is_empty() {
        anyhow::bail!(
            "no spec given and no *.yaml file with an apps.emqx.io resource in {}",
            dir.display()
        );
    }
    Ok(found)
}

/// The YAML documents of `text` (the file `path`), or an error at its line and column.
fn yaml_documents(text: &str, path: &Path) -> anyhow::Result<Vec<crate::yaml::Node>> {
    crate::yaml::load(text).map_err(|e| {
        let at = e
            .pos
            .map(|p| format!(":{}:{}", p.line, p.col))
            .unwrap_or_default();
        anyhow::anyhow!("{}{at}: {}", path.display(), e.message)
    })
}

fn print_diagnostics(d: &[Diagnostic], quiet: bool) -> io::Result<()> {
    let mut err = io::stderr().lock();
    for diag in d {
        if quiet && !diag.is_error() {
            continue;
        }
        writeln!(err, "{diag}")?;
    }
    Ok(())
}

/// `emqx-render krm`: the KRM function protocol on stdin/stdout; exit 1 when a result is an error.
fn krm() -> anyhow::Result<ExitCode> {
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .context("reading the ResourceList from standard input")?;
    let over = overrides(Layer::default(), None)?;
    let out = crate::krm::run(&input, &over);
    let mut stdout = io::stdout().lock();
    stdout.write_all(out.text.as_bytes())?;
    stdout.flush()?;
    Ok(if out.failed {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}
