//! Command line: parse arguments, read inputs, call the pure core, write the result. The
//! only place that touches files, the environment and the standard streams.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::compile::compile;
use crate::diag::Diagnostics;
use crate::output;
use crate::settings::Overrides;
use crate::spec::Source;

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
    render: RenderArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render specs to manifests (the default command).
    Render(RenderArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// Spec files (`-` for standard input). Without any, the specs in the current directory.
    files: Vec<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    format: Format,
    /// Write one file per object and a kustomization.yaml into this directory instead.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Target Kubernetes version (1.33 to 1.37).
    #[arg(long, value_name = "VERSION")]
    kube_version: Option<String>,
    /// Namespace for clusters whose spec names none.
    #[arg(long, short = 'n')]
    namespace: Option<String>,
    /// Do not print warnings and notes.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Exit codes: 0 rendered, 1 invalid spec, 2 usage or I/O error.
pub const EXIT_INVALID: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Runs the command line; returns the exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Render(a)) => a,
        None => cli.render,
    };
    match render(args) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr().lock(), "error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
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
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("reading standard input")?;
            out.push(Source {
                name: "<stdin>".into(),
                text,
            });
        } else {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not UTF-8 text (invalid byte at offset {})",
                    f.display(),
                    e.utf8_error().valid_up_to()
                )
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

fn print_diagnostics(d: &Diagnostics, quiet: bool) -> io::Result<()> {
    let mut err = io::stderr().lock();
    for diag in &d.0 {
        if quiet && !diag.is_error() {
            continue;
        }
        writeln!(err, "{diag}")?;
    }
    Ok(())
}

fn render(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let sources = read_sources(&a.files)?;
    let over = Overrides {
        kubernetes_version: a.kube_version.clone(),
        namespace: a.namespace.clone(),
    };
    let compiled = match compile(&sources, &over) {
        Ok(c) => c,
        Err(d) => {
            print_diagnostics(&d, false)?;
            let n = d.0.iter().filter(|x| x.is_error()).count();
            let _ = writeln!(
                io::stderr().lock(),
                "error: could not render: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    let notes = if a.quiet {
        String::new()
    } else {
        output::text::notes(&compiled.notes)?
    };
    if let Some(dir) = &a.output_dir {
        output::dir::write(&compiled.manifest, dir)?;
        print_diagnostics(&compiled.diagnostics, a.quiet)?;
        io::stderr().lock().write_all(notes.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = match a.format {
        Format::Yaml => output::to_yaml(&compiled.manifest)?,
        Format::Json => output::to_json(&compiled.manifest)?,
    };
    print_diagnostics(&compiled.diagnostics, a.quiet)?;
    io::stderr().lock().write_all(notes.as_bytes())?;
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
