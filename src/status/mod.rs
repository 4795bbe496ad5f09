//! `emqx-render status`: is a running EMQX cluster healthy, and does it match its spec? The only
//! code that knows the EMQX REST API. `compare` is pure (observed JSON in, report out);
//! `client` is the thin HTTP edge.
//!
//! Tolerates every version difference of `/api/v5/nodes` (EMQX 5.0 to 6.x): upper-case
//! `node_status` (≤5.0.4), stopped cores with only `node`/`node_status`/`role`, replicants that
//! vanish when stopped, `unreachable` entries without a role, string loads, unknown keys.

pub mod client;

use serde::Serialize;

/// Which nodes a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RoleFilter {
    Core,
    Replicant,
    All,
}

/// One entry of `GET /api/v5/nodes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub node: String,
    /// `core`, `replicant`, or `None` (unreachable entries carry no role).
    pub role: Option<String>,
    /// Lower-cased `node_status`: `running`, `stopped`, `unreachable`, or what the server said.
    pub status: String,
    pub version: Option<String>,
    pub edition: Option<String>,
    pub uptime_ms: Option<u64>,
    pub connections: Option<u64>,
}

impl Node {
    fn running(&self) -> bool {
        self.status == "running"
    }

    fn is(&self, role: &str) -> bool {
        self.role.as_deref() == Some(role)
    }
}

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Reads the body of `GET /api/v5/nodes` (a bare JSON array).
pub fn parse_nodes(body: &str) -> Result<Vec<Node>, ParseError> {
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| ParseError(format!("the node list is not JSON ({e})")))?;
    let items = v
        .as_array()
        .ok_or_else(|| ParseError("the node list is not a JSON array".into()))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let s = |k: &str| item.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let n = |k: &str| item.get(k).and_then(serde_json::Value::as_u64);
        let node = s("node")
            .ok_or_else(|| ParseError(format!("entry {i} of the node list has no `node` name")))?;
        out.push(Node {
            node,
            role: s("role").map(|r| r.to_ascii_lowercase()),
            status: s("node_status")
                .map_or_else(|| "unknown".to_string(), |x| x.to_ascii_lowercase()),
            version: s("version"),
            edition: s("edition"),
            uptime_ms: n("uptime"),
            connections: n("connections"),
        });
    }
    Ok(out)
}

/// What the cluster should look like.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Expected {
    pub cores: Option<u32>,
    /// The replicant count, or under an autoscaler its minimum.
    pub replicants: Option<u32>,
    /// Under an autoscaler: its maximum (any count from `replicants` to this one matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicants_max: Option<u32>,
    /// EMQX version every checked node should run (`5.8.6`).
    pub version: Option<String>,
}

/// What was seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    /// HTTP status and text of `GET /status` from the node that answered.
    pub status_code: u16,
    pub status_text: String,
    pub nodes: Vec<Node>,
}

/// Counts for one role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleReport {
    pub expected: Option<u32>,
    /// Under an autoscaler: the most it may run (`expected` is then the fewest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_max: Option<u32>,
    pub running: u32,
    /// Running nodes on the expected version (when one is expected).
    pub on_expected_version: Option<u32>,
    /// Names of stopped members (only cores can be listed: stopped replicants vanish).
    pub stopped: Vec<String>,
    pub versions: Vec<String>,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub healthy: bool,
    /// A short state: `healthy`, `upgrading: core phase`, `upgrading: cores done, replicants pending`, ...
    pub state: String,
    pub role: RoleFilter,
    pub status_code: u16,
    pub status_text: String,
    pub cores: RoleReport,
    pub replicants: RoleReport,
    pub unreachable: Vec<String>,
    /// Every reason the cluster is not healthy and matching, one sentence each.
    pub problems: Vec<String>,
    pub nodes: Vec<Node>,
}

fn role_report(
    nodes: &[Node],
    role: &str,
    expected: (Option<u32>, Option<u32>),
    version: Option<&str>,
) -> RoleReport {
    let (expected, expected_max) = expected;
    let running: Vec<&Node> = nodes.iter().filter(|n| n.is(role) && n.running()).collect();
    let mut versions: Vec<String> = running.iter().filter_map(|n| n.version.clone()).collect();
    versions.sort();
    versions.dedup();
    RoleReport {
        expected,
        expected_max,
        running: u32::try_from(running.len()).unwrap_or(u32::MAX),
        on_expected_version: version.map(|v| {
            u32::try_from(
                running
                    .iter()
                    .filter(|n| n.version.as_deref() == Some(v))
                    .count(),
            )
            .unwrap_or(u32::MAX)
        }),
        stopped: nodes
            .iter()
            .filter(|n| n.is(role) && n.status == "stopped")
            .map(|n| n.node.clone())
            .collect(),
        versions,
    }
}

/// Compares what was seen with what is expected.
pub fn compare(obs: &Observed, exp: &Expected, role: RoleFilter) -> Report {
    let version = exp.version.as_deref();
    let cores = role_report(&obs.nodes, "core", (exp.cores, None), version);
    let replicants = role_report(
        &obs.nodes,
        "replicant",
        (exp.replicants, exp.replicants_max),
        version,
    );
    let unreachable: Vec<String> = obs
        .nodes
        .iter()
        .filter(|n| n.status != "running" && n.status != "stopped")
        .map(|n| n.node.clone())
        .collect();
    let mut problems = Vec::new();
    if obs.status_code != 200 {
        problems.push(format!(
            "the node that answered reports /status {}: {}",
            obs.status_code,
            obs.status_text.replace('\n', "; ")
        ));
    }
    for n in &unreachable {
        problems.push(format!("{n} is unreachable"));
    }
    let check_cores = role != RoleFilter::Replicant;
    let check_replicants = role != RoleFilter::Core;
    let mut role_problems = |name: &str, r: &RoleReport| {
        if let (Some(e), Some(max)) = (r.expected, r.expected_max) {
            if r.running < e {
                problems.push(format!(
                    "{name}: {} running, the autoscaler keeps at least {e}",
                    r.running
                ));
            } else if r.running > max {
                problems.push(format!(
                    "{name}: {} running, the autoscaler allows at most {max}",
                    r.running
                ));
            }
        } else if let Some(e) = r.expected {
            if r.running < e {
                problems.push(format!("{name}: {}/{e} running", r.running));
            } else if r.running > e {
                problems.push(format!(
                    "{name}: {} running, the spec asks for {e}",
                    r.running
                ));
            }
        }
        for s in &r.stopped {
            problems.push(format!("{s} is stopped"));
        }
        if let (Some(v), Some(on)) = (version, r.on_expected_version) {
            if on < r.running {
                problems.push(format!(
                    "{name}: {on}/{} on {v} (others: {})",
                    r.running,
                    r.versions
                        .iter()
                        .filter(|x| x.as_str() != v)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        } else if r.versions.len() > 1 {
            problems.push(format!(
                "{name} run different versions: {}",
                r.versions.join(", ")
            ));
        }
    };
    if check_cores {
        role_problems("cores", &cores);
    }
    if check_replicants {
        role_problems("replicants", &replicants);
    }
    // Replicants must never run a newer version than a core: upgrade cores first.
    let newest_core = obs
        .nodes
        .iter()
        .filter(|n| n.is("core") && n.running())
        .filter_map(|n| n.version.as_deref())
        .map(version_key)
        .min();
    let ahead: Vec<&Node> = obs
        .nodes
        .iter()
        .filter(|n| n.is("replicant") && n.running())
        .filter(
            |n| match (n.version.as_deref().map(version_key), &newest_core) {
                (Some(r), Some(c)) => r > *c,
                _ => false,
            },
        )
        .collect();
    if !ahead.is_empty() {
        problems.push(format!(
            "replicants run a newer version than the oldest core ({}): upgrade every core first",
            ahead
                .iter()
                .map(|n| n.node.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let state = state(
        &cores,
        &replicants,
        version,
        !ahead.is_empty(),
        problems.is_empty(),
    );
    Report {
        healthy: problems.is_empty(),
        state,
        role,
        status_code: obs.status_code,
        status_text: obs.status_text.clone(),
        cores,
        replicants,
        unreachable,
        problems,
        nodes: obs.nodes.clone(),
    }
}

/// Orders versions numerically (`5.8.10` after `5.8.9`); unparsable parts sort as 0.
fn version_key(v: &str) -> Vec<u64> {
    v.split(['.', '-'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

fn state(
    cores: &RoleReport,
    replicants: &RoleReport,
    version: Option<&str>,
    ahead: bool,
    healthy: bool,
) -> String {
    if ahead {
        return "unsafe: replicants ahead of cores".into();
    }
    if let Some(v) = version {
        let on = |r: &RoleReport| r.on_expected_version.unwrap_or(0);
        let all_new = |r: &RoleReport| on(r) == r.running;
        // An upgrade is under way when some running nodes run the new version and some do not.
        let upgrading = on(cores) + on(replicants) > 0 && !(all_new(cores) && all_new(replicants));
        if upgrading && all_new(cores) && cores.expected.is_none_or(|e| cores.running >= e) {
            return format!("upgrading to {v}: cores done, replicants pending");
        }
        if upgrading {
            return format!("upgrading to {v}: core phase in progress");
        }
    }
    if healthy {
        "healthy".into()
    } else {
        "unhealthy".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, role: &str, status: &str, version: &str) -> Node {
        Node {
            node: name.into(),
            role: Some(role.into()),
            status: status.into(),
            version: (!version.is_empty()).then(|| version.to_string()),
            edition: None,
            uptime_ms: None,
            connections: None,
        }
    }

    fn obs(nodes: Vec<Node>) -> Observed {
        Observed {
            status_code: 200,
            status_text: "Node x is started\nemqx is running".into(),
            nodes,
        }
    }

    #[test]
    fn tolerant_parsing() {
        let n = parse_nodes(r#"[{"node":"a","node_status":"Running","role":"core","load1":"0.5","version":"5.0.3"},{"node":"b","node_status":"unreachable"}]"#).unwrap();
        assert_eq!(n[0].status, "running");
        assert_eq!(n[1].role, None);
        assert!(parse_nodes("<html>").is_err());
        assert!(parse_nodes("{}").is_err());
    }

    #[test]
    fn replicant_ahead_of_cores_is_unsafe() {
        let r = compare(
            &obs(vec![
                node("c0", "core", "running", "5.8.3"),
                node("r0", "replicant", "running", "5.8.6"),
            ]),
            &Expected::default(),
            RoleFilter::All,
        );
        assert!(!r.healthy);
        assert_eq!(r.state, "unsafe: replicants ahead of cores");
    }

    #[test]
    fn version_order_is_numeric() {
        assert!(version_key("5.8.10") > version_key("5.8.9"));
    }
}
