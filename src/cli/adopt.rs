//! `emqx-render adopt LIVE [SPEC]`: the Settings document that takes over a running cluster in
//! place, on stdout (to commit beside the spec); what to know on stderr.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::EXIT_INVALID;
use crate::output;

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The live objects (`kubectl get emqx,statefulset -o yaml`: a YAML stream or a List).
    pub live: PathBuf,
    /// The spec to move to, when LIVE holds no `EMQX` resource (its clusters are looked up).
    pub spec: Option<PathBuf>,
}

fn load(path: &PathBuf) -> anyhow::Result<Vec<serde_json::Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let docs = super::yaml_documents(&text, path)?;
    Ok(crate::adopt::objects(
        docs.iter().map(crate::yaml::Node::to_json).collect(),
    ))
}

pub fn run(a: AdoptArgs) -> anyhow::Result<ExitCode> {
    let live = load(&a.live)?;
    let mut clusters = crate::adopt::clusters(&live);
    if let Some(spec) = &a.spec {
        clusters = crate::adopt::clusters(&load(spec)?);
    }
    let adoption = match crate::adopt::adopt(&live, &clusters) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(io::stderr().lock(), "error: {e}");
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    {
        let mut err = io::stderr().lock();
        for n in &adoption.notes {
            writeln!(err, "note: {n}")?;
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(b"---\n")?;
    out.write_all(output::object_yaml(&adoption.settings, "Settings", "adopt")?.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
