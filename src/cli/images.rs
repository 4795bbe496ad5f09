//! `emqx-render images`: every container image the specs render to, one per line (or as JSON
//! with the containers that use each), for mirroring into an air-gapped registry.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{EXIT_INVALID, overrides, print_diagnostics, read_sources};
use crate::compile::compile;
use crate::output;
use crate::settings::Layer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImagesFormat {
    /// One image per line, sorted, each once.
    Text,
    /// Each image with the objects and containers that use it.
    Json,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Spec files (`-` for standard input). Without any, the specs in the current directory.
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ImagesFormat::Text)]
    pub format: ImagesFormat,
    /// A Settings document laid over the input's, as for `render`.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Namespace for clusters whose spec names none.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
}

pub fn run(a: ImagesArgs) -> anyhow::Result<ExitCode> {
    let sources = read_sources(&a.files)?;
    let flags = Layer {
        namespace: a.namespace.clone(),
        ..Layer::default()
    };
    let over = overrides(flags, a.settings.as_deref())?;
    let compiled = match compile(&sources, &over) {
        Ok(c) => c,
        Err(d) => {
            print_diagnostics(&d.0, false)?;
            let _ = writeln!(
                io::stderr().lock(),
                "error: could not list the images: the specs do not render"
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    // The listing is about images: the render's warnings are `render`'s to print.
    let list = output::images::images(&compiled.manifest)?;
    let text = match a.format {
        ImagesFormat::Text => output::images::text(&list),
        ImagesFormat::Json => {
            let mut s = serde_json::to_string_pretty(&list)?;
            s.push('\n');
            s
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
