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
    /// The live objects (`kubectl get emqx,statefulset -o yaml`: a YAML stream or a List; `-`
    /// for standard input).
    pub live: PathBuf,
    /// The spec to move to, when LIVE holds no `EMQX` resource (its clusters are looked up).
    pub spec: Option<PathBuf>,
    /// The file the runbook names for this output (what you commit it as).
    #[arg(long, value_name = "FILE", default_value = "adopt.yaml")]
    pub output_name: String,
    /// Namespace and name of the operator's Deployment, for the runbook's first step.
    #[arg(
        long,
        value_name = "NS/NAME",
        default_value = "emqx-operator-system/emqx-operator-controller-manager"
    )]
    pub operator: String,
    /// Print LIVE (exported with `--show-managed-fields`) with all its fields handed to
    /// emqx-render's field manager, for `kubectl replace -f -`, so the adopted render's
    /// server-side apply removes what it no longer sets.
    #[arg(long, conflicts_with = "spec")]
    pub own: bool,
}

/// The objects of a file of live objects (a YAML stream or a List; `-` for standard input).
pub(super) fn load(path: &PathBuf) -> anyhow::Result<Vec<serde_json::Value>> {
    let text = if path.as_os_str() == "-" {
        io::read_to_string(io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let docs = super::yaml_documents(&text, path)?;
    Ok(crate::adopt::objects(
        docs.iter().map(crate::yaml::Node::to_json).collect(),
    ))
}

pub fn run(a: AdoptArgs) -> anyhow::Result<ExitCode> {
    let live = load(&a.live)?;
    if a.own {
        return own(&live);
    }
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
    let clusters: Vec<output::text::AdoptCluster> = adoption
        .clusters
        .iter()
        .map(|c| output::text::AdoptCluster {
            namespace: c.namespace.clone(),
            name: c.name.clone(),
            statefulset: c.statefulset.clone(),
            owned: c.owned.clone(),
            delete_claims: c.delete_claims,
            take_over: c.take_over.clone(),
        })
        .collect();
    let (op_ns, op_name) = a
        .operator
        .split_once('/')
        .unwrap_or(("emqx-operator-system", a.operator.as_str()));
    let spec = a
        .spec
        .as_ref()
        .map_or("emqx.yaml".to_string(), |p| p.display().to_string());
    let runbook = output::text::adopt_runbook(&spec, &a.output_name, (op_ns, op_name), &clusters)?;
    {
        let mut err = io::stderr().lock();
        for n in &adoption.notes {
            writeln!(err, "note: {n}")?;
        }
        writeln!(err)?;
        err.write_all(runbook.as_bytes())?;
    }
    let mut out = io::stdout().lock();
    out.write_all(b"---\n")?;
    out.write_all(output::object_yaml(&adoption.settings, "Settings", "adopt")?.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn own(live: &[serde_json::Value]) -> anyhow::Result<ExitCode> {
    match crate::adopt::own(live) {
        Ok(items) => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &list)?;
            out.write_all(b"\n")?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = writeln!(io::stderr().lock(), "error: {e}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}
