//! `emqx-render plan OLD NEW`: reads both sides, prints the phased upgrade plan (text with a
//! kubectl runbook, or JSON) and exits 0 for a safe plan, 1 for a refused one.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::{EXIT_ERROR, EXIT_INVALID};
use crate::manifest::Manifest;
use crate::output::text::RunbookCluster;
use crate::plan::{Finding, Plan, RoleChange, plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What runs now: a spec, a rendered YAML file, or an --output-dir directory (flat or phases).
    pub old: PathBuf,
    /// The spec to upgrade to.
    pub new: PathBuf,
    /// Output: text with a kubectl runbook, or JSON.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// The directory the runbook renders the phases into.
    #[arg(long, value_name = "DIR", default_value = "emqx-phases")]
    pub phases_dir: String,
    /// A Settings document laid over each spec's, as `render --settings` does.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Refuse what an apply alone cannot do (claims to resize, a StatefulSet to replace): the
    /// check of the takeover runbooks, which apply the render directly.
    #[arg(long)]
    pub in_place: bool,
}

/// A word safe to paste into a shell.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn role_line(label: &str, r: &RoleChange) -> Option<String> {
    let desc = |w: &crate::plan::Workload| match w.autoscaled {
        Some((min, max)) => format!("{} ({min} to {max} pods, autoscaled)", w.image),
        None => format!("{} ({} pods)", w.image, w.replicas),
    };
    let text = match (&r.from, &r.to) {
        (None, None) => return None,
        (Some(f), Some(t)) if f == t => format!("{} unchanged", desc(t)),
        (Some(f), Some(t)) => format!("{} -> {}", desc(f), desc(t)),
        (None, Some(t)) => format!("none -> {}", desc(t)),
        (Some(f), None) => format!("{} -> none", desc(f)),
    };
    Some(format!("  {label:<11} {text}\n"))
}

fn finding(out: &mut String, word: &str, f: &Finding) {
    let _ = writeln!(out, "{word}[{}]: {}", f.code, f.message);
    if let Some(at) = &f.at {
        let _ = writeln!(out, "  --> {at}");
    }
    if let Some(h) = &f.help {
        let _ = writeln!(out, "  = help: {h}");
    }
}

/// The plan for people.
pub fn text(p: &Plan, runbook: &str) -> String {
    let mut out = String::new();
    for c in &p.clusters {
        let _ = writeln!(out, "cluster {}/{}", c.namespace, c.name);
        out.extend(role_line("cores:", &c.core));
        out.extend(role_line("replicants:", &c.replicants));
    }
    if p.phases.is_empty() {
        out.push_str("\nnothing to apply: the new spec renders what already runs\n");
    }
    for ph in &p.phases {
        let _ = writeln!(
            out,
            "\nphase {}: {} ({}/)",
            ph.number, ph.name, ph.directory
        );
        for ch in &ph.changes {
            let _ = writeln!(out, "  {}: {}", ch.change, ch.object);
            for n in &ch.notes {
                let _ = writeln!(out, "    note: {n}");
            }
        }
        for r in &ph.rollouts {
            let how = if let (false, Some(s)) = (r.restart, &r.scale) {
                format!("scales {s}, no pod restarts")
            } else if !r.restart {
                format!("adopts its {} running pods, no pod restarts", r.pods)
            } else if r.kind == "statefulset" {
                format!("{} pods restart one at a time", r.pods)
            } else {
                format!("{} pods are replaced by the rolling update", r.pods)
            };
            let how = match (&r.scale, r.restart) {
                (Some(s), true) => format!("{how} (replicas {s})"),
                _ => how,
            };
            let why = if r.reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", r.reasons.join("; "))
            };
            let _ = writeln!(out, "  rollout: {}/{} {how}{why}", r.kind, r.name);
        }
    }
    if !p.warnings.is_empty() || !p.refusals.is_empty() {
        out.push('\n');
    }
    for w in &p.warnings {
        finding(&mut out, "warning", w);
    }
    for r in &p.refusals {
        finding(&mut out, "refused", r);
    }
    if p.safe && !p.phases.is_empty() {
        out.push('\n');
        out.push_str(runbook);
    }
    let n = p.refusals.len();
    let _ = writeln!(
        out,
        "\nresult: {}",
        if p.safe {
            format!(
                "safe, {} phase{}",
                p.phases.len(),
                if p.phases.len() == 1 { "" } else { "s" }
            )
        } else {
            format!("refused, {n} problem{}", if n == 1 { "" } else { "s" })
        }
    );
    out
}

fn dashboard_port(m: &Manifest, ns: &str, name: &str) -> Option<i64> {
    m.get("Service", Some(ns), &format!("{name}-dashboard"))
        .and_then(|s| s.value.pointer("/spec/ports/0/port"))
        .and_then(Value::as_i64)
}

pub fn run(a: PlanArgs) -> anyhow::Result<ExitCode> {
    // NEW must be a spec; read once.
    let new_text = a
        .new
        .is_file()
        .then(|| std::fs::read_to_string(&a.new).ok())
        .flatten()
        .filter(|t| super::diff::holds_spec(t));
    let Some(new_text) = new_text else {
        let _ = writeln!(
            io::stderr().lock(),
            "error: {} is not an EMQX spec\n  = help: NEW is the spec to upgrade to; OLD may be a spec or an earlier render",
            a.new.display()
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    };
    // OLD: a spec, a rendered file or a directory, as `diff` reads it.
    let old = match super::diff::load_side(&a.old, a.settings.as_deref())? {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    let new = match super::diff::compile_file(&a.new, new_text, a.settings.as_deref())? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut p = plan(&old, &new.manifest, &new.refusals.0, &new.diagnostics.0);
    if a.in_place {
        crate::plan::require_in_place(&mut p);
    }
    let body = match a.format {
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&p)?;
            s.push('\n');
            s
        }
        PlanFormat::Text => {
            let clusters: Vec<RunbookCluster> = p
                .clusters
                .iter()
                .filter(|c| c.core.to.is_some())
                .map(|c| RunbookCluster {
                    namespace: c.namespace.clone(),
                    name: c.name.clone(),
                    port: dashboard_port(&new.manifest, &c.namespace, &c.name),
                })
                .collect();
            let settings = a.settings.as_ref().map(|f| sh(&f.display().to_string()));
            let runbook = crate::output::text::runbook(
                &sh(&a.new.display().to_string()),
                settings.as_deref(),
                &sh(&a.phases_dir),
                &clusters,
                &p.phases,
            )?;
            text(&p, &runbook)
        }
    };
    let mut stdout = io::stdout().lock();
    stdout.write_all(body.as_bytes())?;
    stdout.flush()?;
    Ok(if p.safe {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
