//! `emqx-render render`: specs in, manifests out (stdout, JSON, or a directory), or with
//! `--check` whether a committed render is still what the spec renders to.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{EXIT_INVALID, overrides, print_diagnostics, read_sources};
use crate::compile::compile;
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Spec files (`-` for standard input). Without any, the specs in the current directory.
    pub files: Vec<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write one file per object and a kustomization.yaml into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    pub output_dir: Option<PathBuf>,
    /// Do not write: exit 0 if PATH (a directory written by --output-dir, or a YAML file) holds
    /// exactly what the specs render to, 1 with a diff if not.
    #[arg(long, value_name = "PATH")]
    pub check: Option<PathBuf>,
    /// Target Kubernetes version (1.33 to 1.37).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Namespace for clusters whose spec names none.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Leave out the Argo CD sync-wave annotations (shared objects 0, core 1, replicants 2).
    #[arg(long)]
    pub no_sync_waves: bool,
    /// Do not print warnings and notes.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let sources = read_sources(&a.files)?;
    let (over, env_warnings) = overrides(
        a.kube_version.clone(),
        a.namespace.clone(),
        a.no_sync_waves.then_some(false),
    );
    let compiled = match compile(&sources, &over) {
        Ok(c) => c,
        Err(d) => {
            print_diagnostics(&d.0, false)?;
            let n = d.0.iter().filter(|x| x.is_error()).count();
            let _ = writeln!(
                io::stderr().lock(),
                "error: could not render: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    print_diagnostics(&env_warnings, a.quiet)?;
    if let Some(path) = &a.check {
        return super::diff::check(&compiled.manifest, path);
    }
    let notes = if a.quiet {
        String::new()
    } else {
        output::text::notes(&compiled.notes)?
    };
    if let Some(dir) = &a.output_dir {
        output::dir::write(&compiled.manifest, dir)?;
        print_diagnostics(&compiled.diagnostics.0, a.quiet)?;
        io::stderr().lock().write_all(notes.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = match a.format {
        Format::Yaml => output::to_yaml(&compiled.manifest)?,
        Format::Json => output::to_json(&compiled.manifest)?,
    };
    print_diagnostics(&compiled.diagnostics.0, a.quiet)?;
    io::stderr().lock().write_all(notes.as_bytes())?;
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
