//! `emqx-render convert --to VERSION FILE` and `convert --from helm VALUES --release NAME`: the
//! converted resources on stdout, what has no equivalent (and, for Helm, the runbook) on stderr.
//! Exit 0 converted, 1 nothing to convert, 2 usage, I/O or invalid input.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_ERROR, print_diagnostics, read_sources};
use crate::convert::{ConvertError, Target, convert};
use crate::output;

/// Where the input comes from, when it is not an `EMQX` resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// The values of a release of the EMQX Helm chart.
    Helm,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The operator generation to write (with --from helm: v2beta1, the default).
    #[arg(long, value_enum, required_unless_present = "from")]
    pub to: Option<Target>,
    /// Read a Helm release's values (`helm get values RELEASE --all -o yaml`) instead of a spec.
    #[arg(long, value_enum, requires = "release")]
    pub from: Option<From>,
    /// The Helm release's name (with --from helm).
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// The chart the release was installed from (with --from helm).
    #[arg(long, value_enum, default_value = "emqx")]
    pub chart: crate::helm::Chart,
    /// The release's namespace (with --from helm).
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,
    /// The release's StatefulSet as it runs (`kubectl -n NS get statefulset FULLNAME -o yaml`; with
    /// --from helm): its selector, headless Service and claim templates are kept as they are,
    /// whatever chart version installed it.
    #[arg(long, value_name = "LIVE", requires = "from")]
    pub live: Option<PathBuf>,
    /// The file the runbook names for the output (what you commit it as; with --from helm).
    #[arg(long, value_name = "FILE", default_value = "emqx.yaml")]
    pub output_name: String,
    /// The spec file, or the values file with --from helm (`-` for standard input).
    pub file: PathBuf,
}

pub fn run(a: ConvertArgs) -> anyhow::Result<ExitCode> {
    let sources = read_sources(std::slice::from_ref(&a.file))?;
    let Some(source) = sources.first() else {
        anyhow::bail!("no input");
    };
    if a.from == Some(From::Helm) {
        return helm(&a, source);
    }
    let Some(to) = a.to else {
        anyhow::bail!("--to is required");
    };
    let converted = match convert(source, to) {
        Ok(c) => c,
        Err(ConvertError::Invalid(d)) => {
            print_diagnostics(&d.0, false)?;
            let _ = writeln!(
                io::stderr().lock(),
                "error: {} is not a valid spec; nothing converted",
                a.file.display()
            );
            return Ok(ExitCode::from(EXIT_ERROR));
        }
        Err(ConvertError::Nothing) => {
            let _ = writeln!(
                io::stderr().lock(),
                "error: {} holds no EMQX resource to convert",
                a.file.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let mut text = String::new();
    for d in &converted.documents {
        text.push_str("---\n");
        text.push_str(&output::object_yaml(d, "", "")?);
    }
    {
        let mut err = io::stderr().lock();
        for n in &converted.notes {
            writeln!(err, "note: {n}")?;
        }
        writeln!(err, "note: comments of the input are not carried over")?;
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn helm(a: &ConvertArgs, source: &crate::input::Source) -> anyhow::Result<ExitCode> {
    if a.to.is_some_and(|t| t != Target::V2beta1) {
        let _ = writeln!(
            io::stderr().lock(),
            "error: --from helm writes apps.emqx.io/v2beta1 (convert its output further with --to)"
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let release = crate::helm::Release {
        name: a.release.clone().unwrap_or_default(),
        namespace: a.namespace.clone(),
        chart: a.chart,
    };
    let docs = super::yaml_documents(&source.text, &a.file)?;
    let [values] = docs.as_slice() else {
        let _ = writeln!(
            io::stderr().lock(),
            "error: {}: expected one YAML document of values, found {}",
            a.file.display(),
            docs.len()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    };
    let live = match &a.live {
        Some(path) => super::adopt::load(path)?,
        None => Vec::new(),
    };
    let full = crate::helm::fullname(values, &release);
    let sts = match &a.live {
        Some(path) => match crate::adopt::statefulset(&live, &release.namespace, &full) {
            Some(sts) => Some(sts),
            None => {
                let _ = writeln!(
                    io::stderr().lock(),
                    "error: {}: no StatefulSet {}/{full} (the release's); give `kubectl -n {} get statefulset {full} -o yaml`",
                    path.display(),
                    release.namespace,
                    release.namespace
                );
                return Ok(ExitCode::from(EXIT_ERROR));
            }
        },
        None => None,
    };
    let imported = match crate::helm::import(values, &source.name, &release, sts) {
        Ok(i) => i,
        Err(d) => {
            print_diagnostics(&d.sorted().0, false)?;
            let _ = writeln!(
                io::stderr().lock(),
                "error: {} cannot be imported; nothing written",
                a.file.display()
            );
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    let mut text = String::new();
    for d in &imported.documents {
        text.push_str("---\n");
        text.push_str(&output::object_yaml(d, "", "")?);
    }
    let runbook = output::text::helm_runbook(&output::text::HelmRunbook {
        release: release.name.clone(),
        namespace: release.namespace.clone(),
        fullname: imported.fullname.clone(),
        spec: a.output_name.clone(),
        cookie_in_env: imported.cookie_in_env,
        take_over: imported.take_over.clone(),
    })?;
    {
        let mut err = io::stderr().lock();
        for n in &imported.notes {
            writeln!(err, "note: {n}")?;
        }
        writeln!(err)?;
        err.write_all(runbook.as_bytes())?;
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
