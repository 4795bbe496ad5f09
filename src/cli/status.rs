//! `emqx-render status`: asks a running cluster's REST API whether it is healthy and matches
//! its spec; a table and verdict for people, `--output json` for machines. Exit 0 healthy and
//! matching, 1 not, 2 for usage, network or authentication errors.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{EXIT_ERROR, overrides, print_diagnostics};
use crate::compile::compile;
use crate::input::Source;
use crate::settings::Layer;
use crate::status::client::{Client, ClientError, ClientOptions, Credentials};
use crate::status::{Expected, Observed, Report, RoleFilter, compare, parse_nodes};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The dashboard listener of a node or of the dashboard Service, e.g. http://localhost:18083.
    #[arg(long)]
    pub url: String,
    /// The cluster's spec: expected core and replicant counts, and the version from the image tag.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// A Settings document for the spec, as for `render` (an `autoscaling` there makes any
    /// replicant count in its range match).
    #[arg(long, value_name = "FILE", requires = "spec")]
    pub settings: Option<PathBuf>,
    /// Name of the cluster in the spec file, when it holds several.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The EMQX version nodes must run (overrides the spec's image tag).
    #[arg(long, value_name = "VERSION")]
    pub expect_version: Option<String>,
    /// Which nodes must match: `core` between upgrade phases, `all` for the whole cluster.
    #[arg(long, value_enum, default_value_t = RoleFilter::All)]
    pub role: RoleFilter,
    /// Poll until the cluster is healthy and matching, or the timeout passes.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Pause between polls of --wait.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// A file in the bootstrap API key format (`key:secret[:role]`); otherwise EMQX_API_KEY and EMQX_API_SECRET.
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// CA certificate(s) (PEM) to trust instead of the system's roots.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Do not verify the server's certificate (dangerous; said on stderr).
    #[arg(long)]
    pub insecure: bool,
    /// Connection timeout per request.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Overall timeout per request.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `500ms`, `15s`, `10m`, `1h`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s or 5m"))?;
    let ms = match unit {
        "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(format!("`{s}`: use ms, s, m or h")),
    };
    Ok(Duration::from_millis(ms))
}

fn credentials(a: &StatusArgs) -> anyhow::Result<Credentials> {
    if let Some(f) = &a.api_key_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or_else(|| anyhow::anyhow!("{}: no `key:secret` line", f.display()))?;
        let mut parts = line.splitn(3, ':');
        let (Some(key), Some(secret)) = (parts.next(), parts.next()) else {
            anyhow::bail!("{}: the first line is not `key:secret[:role]`", f.display());
        };
        if key.is_empty() || secret.is_empty() {
            anyhow::bail!("{}: the first line is not `key:secret[:role]`", f.display());
        }
        return Ok(Credentials {
            key: key.to_string(),
            secret: secret.to_string(),
        });
    }
    match (
        std::env::var("EMQX_API_KEY"),
        std::env::var("EMQX_API_SECRET"),
    ) {
        (Ok(key), Ok(secret)) if !key.is_empty() && !secret.is_empty() => {
            Ok(Credentials { key, secret })
        }
        _ => anyhow::bail!(
            "no API key: set EMQX_API_KEY and EMQX_API_SECRET, or pass --api-key-file (a `key:secret` line, as in the bootstrap API key file)"
        ),
    }
}

/// Core and replicant counts and the version the spec asks for.
fn expected(a: &StatusArgs) -> anyhow::Result<Result<Expected, ExitCode>> {
    let mut exp = Expected::default();
    if let Some(path) = &a.spec {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let over = overrides(Layer::default(), a.settings.as_deref())?;
        let source = Source {
            name: path.display().to_string(),
            text,
        };
        let compiled = match compile(&[source], &over) {
            Ok(c) => c,
            Err(d) => {
                print_diagnostics(&d.0, false)?;
                return Ok(Err(ExitCode::from(EXIT_ERROR)));
            }
        };
        let notes: Vec<_> = compiled
            .notes
            .iter()
            .filter(|n| a.cluster.as_ref().is_none_or(|c| &n.name == c))
            .collect();
        let note = match notes.as_slice() {
            [one] => *one,
            [] => anyhow::bail!(
                "{}: no cluster{}",
                path.display(),
                a.cluster
                    .as_ref()
                    .map(|c| format!(" named {c}"))
                    .unwrap_or_default()
            ),
            _ => anyhow::bail!(
                "{} holds several clusters: pick one with --cluster NAME",
                path.display()
            ),
        };
        exp.cores = u32::try_from(note.core).ok();
        exp.replicants = u32::try_from(note.replicants).ok();
        if let Some((min, max, _)) = &note.autoscaled {
            exp.replicants = u32::try_from(*min).ok();
            exp.replicants_max = u32::try_from(*max).ok();
        }
        exp.version = note.version.clone();
    }
    if let Some(v) = &a.expect_version {
        exp.version = Some(v.trim_start_matches(['v', 'e']).to_string());
    }
    Ok(Ok(exp))
}

fn observe(client: &Client) -> Result<Observed, ClientError> {
    let (status_code, status_text) = client.get("/status", false)?;
    let body = client.get_api("/api/v5/nodes")?;
    let nodes = parse_nodes(&body).map_err(|e| ClientError::Garbage {
        url: "/api/v5/nodes".into(),
        reason: e.0,
    })?;
    Ok(Observed {
        status_code,
        status_text,
        nodes,
    })
}

fn uptime(ms: Option<u64>) -> String {
    let Some(ms) = ms else { return "-".into() };
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

/// The report for people.
pub fn text(url: &str, r: &Report) -> String {
    let mut out = format!("EMQX cluster at {url}: {}\n", r.state);
    out.push_str(&format!(
        "  /status {}: {}\n",
        r.status_code,
        r.status_text.replace('\n', "; ")
    ));
    let w = r
        .nodes
        .iter()
        .map(|n| n.node.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out.push_str(&format!(
        "\n{:<w$}  {:<9}  {:<11}  {:<8}  {:<10}  {:>8}  {:>11}\n",
        "NODE", "ROLE", "STATUS", "VERSION", "EDITION", "UPTIME", "CONNECTIONS"
    ));
    for n in &r.nodes {
        out.push_str(&format!(
            "{:<w$}  {:<9}  {:<11}  {:<8}  {:<10}  {:>8}  {:>11}\n",
            n.node,
            n.role.as_deref().unwrap_or("-"),
            n.status,
            n.version.as_deref().unwrap_or("-"),
            n.edition.as_deref().unwrap_or("-"),
            uptime(n.uptime_ms),
            n.connections.map_or("-".to_string(), |c| c.to_string()),
        ));
    }
    out.push('\n');
    for (name, rr) in [("cores", &r.cores), ("replicants", &r.replicants)] {
        let (expected, range) = match (rr.expected, rr.expected_max) {
            (Some(min), Some(max)) => (
                String::new(),
                format!(" (the autoscaler's range: {min} to {max})"),
            ),
            (Some(e), None) => (format!("/{e}"), String::new()),
            _ => (String::new(), String::new()),
        };
        let version = match (rr.on_expected_version, rr.versions.as_slice()) {
            (Some(on), _) => format!(", {on}/{} on the expected version", rr.running),
            (None, []) => String::new(),
            (None, v) => format!(", version {}", v.join(", ")),
        };
        out.push_str(&format!(
            "{name}: {}{expected} running{range}{version}\n",
            rr.running
        ));
    }
    if r.problems.is_empty() {
        out.push_str("verdict: healthy and matching\n");
    } else {
        for p in &r.problems {
            out.push_str(&format!("problem: {p}\n"));
        }
        out.push_str(&format!(
            "verdict: {}\n",
            if r.state == "unhealthy" {
                "not healthy"
            } else {
                &r.state
            }
        ));
    }
    out
}

fn print(a: &StatusArgs, r: &Report) -> anyhow::Result<()> {
    let body = match a.output {
        OutputFormat::Text => text(&a.url, r),
        OutputFormat::Json => {
            let mut v = serde_json::to_value(r)?;
            v["url"] = serde_json::Value::String(a.url.clone());
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(body.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn fail(e: &ClientError) -> ExitCode {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    if let Some(h) = e.hint() {
        let _ = writeln!(err, "  = help: {h}");
    }
    ExitCode::from(EXIT_ERROR)
}

pub fn run(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let creds = credentials(&a)?;
    let exp = match expected(&a)? {
        Ok(e) => e,
        Err(code) => return Ok(code),
    };
    let read = |p: &Option<PathBuf>| -> anyhow::Result<Option<Vec<u8>>> {
        p.as_ref()
            .map(|p| std::fs::read(p).with_context(|| format!("reading {}", p.display())))
            .transpose()
    };
    let opts = ClientOptions {
        ca_pem: read(&a.cacert)?,
        client_cert_pem: read(&a.client_cert)?,
        client_key_pem: read(&a.client_key)?,
        insecure: a.insecure,
        connect_timeout: Some(a.connect_timeout),
        timeout: Some(a.request_timeout),
    };
    if a.insecure {
        let _ = writeln!(
            io::stderr().lock(),
            "warning: --insecure: the server's TLS certificate is NOT verified; anyone in the path can read the API key"
        );
    }
    let client = match Client::new(&a.url, Some(&creds), &opts) {
        Ok(c) => c,
        Err(e) => return Ok(fail(&e)),
    };
    let start = Instant::now();
    loop {
        let report = match observe(&client) {
            Ok(obs) => Some(compare(&obs, &exp, a.role)),
            Err(e) if a.wait && e.is_network() && start.elapsed() < a.timeout => {
                let _ = writeln!(
                    io::stderr().lock(),
                    "waiting: {e} ({}s)",
                    start.elapsed().as_secs()
                );
                None
            }
            Err(e) => return Ok(fail(&e)),
        };
        if let Some(r) = report {
            let done = r.healthy || !a.wait || start.elapsed() >= a.timeout;
            if done {
                print(&a, &r)?;
                if !r.healthy && a.wait {
                    let _ = writeln!(
                        io::stderr().lock(),
                        "error: not healthy and matching after {}s",
                        start.elapsed().as_secs()
                    );
                }
                return Ok(if r.healthy {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                });
            }
            let _ = writeln!(
                io::stderr().lock(),
                "waiting: {} ({}s; {})",
                r.state,
                start.elapsed().as_secs(),
                r.problems.first().map_or("", String::as_str)
            );
        }
        let left = a.timeout.saturating_sub(start.elapsed());
        std::thread::sleep(a.interval.min(left.max(Duration::from_millis(1))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
