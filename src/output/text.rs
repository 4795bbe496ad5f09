//! Prose outputs that are not Kubernetes objects, rendered from the minijinja templates in
//! `templates/` (compiled into the binary). The only minijinja user.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

const NOTES: &str = include_str!("../../templates/notes.txt");
const RUNBOOK: &str = include_str!("../../templates/runbook.txt");
const ADOPT: &str = include_str!("../../templates/adopt.txt");
const HELM: &str = include_str!("../../templates/helm.txt");

/// A listener port as the notes show it.
#[derive(Debug, Clone, Serialize)]
pub struct PortNote {
    pub name: String,
    pub port: u16,
    pub protocol: &'static str,
}

/// What the notes say about one rendered cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterNote {
    pub name: String,
    pub namespace: String,
    pub image: String,
    /// The EMQX version the render assumed (stated or from the tag), if any.
    pub version: Option<String>,
    pub core: i32,
    pub replicants: i32,
    /// Under an autoscaler: its (min, max, name).
    pub autoscaled: Option<(i32, i32, String)>,
    pub cookie_in_config: bool,
    pub api_key_secrets: Vec<String>,
    pub dashboard_port: Option<u16>,
    pub listeners: Vec<PortNote>,
    /// The listeners Service's name.
    pub listeners_service: String,
    /// Taken over from a running cluster (Settings `adopt`): its cookie is the running one.
    pub adopted: bool,
}

fn env() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("notes.txt", NOTES)?;
    env.add_template("runbook.txt", RUNBOOK)?;
    env.add_template("adopt.txt", ADOPT)?;
    env.add_template("helm.txt", HELM)?;
    Ok(env)
}

/// How the runbook reaches one cluster's API.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookCluster {
    pub namespace: String,
    pub name: String,
    /// The dashboard Service's port, if the cluster has that Service.
    pub port: Option<i64>,
}

/// The `plan` runbook for kubectl users: phases applied one by one, each followed by
/// `kubectl rollout status` and `emqx-render status`.
/// `phases` are the plan's phases, given as data so that this module knows nothing of `plan`.
pub fn runbook<P: Serialize>(
    spec: &str,
    settings: Option<&str>,
    dir: &str,
    clusters: &[RunbookCluster],
    phases: &[P],
) -> Result<String, minijinja::Error> {
    let mut s = env()?
        .get_template("runbook.txt")?
        .render(minijinja::context! {
            spec => spec,
            settings => settings,
            dir => dir,
            clusters => minijinja::value::Serde(clusters),
            phases => minijinja::value::Serde(phases),
        })?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// One cluster of the adoption runbook.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptCluster {
    pub namespace: String,
    pub name: String,
    pub statefulset: String,
    /// `kind/name` of every object owned by the `EMQX` resource.
    pub owned: Vec<String>,
    /// The StatefulSet deletes its claims with it (Operator 3.x).
    pub delete_claims: bool,
    /// `kind/name` of the objects whose fields go to emqx-render's field manager.
    pub take_over: Vec<String>,
}

/// The `adopt` runbook: stop the operator, release and orphan its objects, apply the adopted
/// render, check; each step with what undoes it.
pub fn adopt_runbook(
    spec: &str,
    settings: &str,
    operator: (&str, &str),
    clusters: &[AdoptCluster],
) -> Result<String, minijinja::Error> {
    let mut s = env()?
        .get_template("adopt.txt")?
        .render(minijinja::context! {
            spec => spec,
            settings => settings,
            operator_namespace => operator.0,
            operator_deployment => operator.1,
            clusters => minijinja::value::Serde(clusters),
        })?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// What the Helm runbook names.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HelmRunbook {
    pub release: String,
    pub namespace: String,
    pub fullname: String,
    /// The file the converted output is committed as.
    pub spec: String,
    pub cookie_in_env: bool,
    pub take_over: Vec<String>,
}

/// The runbook of `convert --from helm`: check the plan, take the release record out of Helm,
/// the cookie Secret, the field ownership, apply, check, clean up; each step with its undo.
pub fn helm_runbook(r: &HelmRunbook) -> Result<String, minijinja::Error> {
    let mut s = env()?
        .get_template("helm.txt")?
        .render(minijinja::value::Serde(r))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// The notes printed on stderr after a successful render.
pub fn notes(clusters: &[ClusterNote]) -> Result<String, minijinja::Error> {
    let env = env()?;
    let mut s = env
        .get_template("notes.txt")?
        .render(minijinja::context! { clusters => minijinja::value::Serde(clusters) })?;
    let trimmed = s.trim_start_matches('\n').to_string();
    s = trimmed;
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_tell_how_to_create_the_cookie_and_reach_the_cluster() {
        let n = notes(&[ClusterNote {
            name: "emqx".into(),
            namespace: "mqtt".into(),
            image: "emqx/emqx:5.8.6".into(),
            version: Some("5.8.6".into()),
            core: 3,
            replicants: 1,
            autoscaled: None,
            cookie_in_config: false,
            api_key_secrets: vec!["emqx-api".into()],
            dashboard_port: Some(18083),
            listeners: vec![PortNote {
                name: "tcp-default".into(),
                port: 1883,
                protocol: "TCP",
            }],
            listeners_service: "emqx-listeners".into(),
            adopted: false,
        }])
        .unwrap();
        assert!(
            n.starts_with("Rendered EMQX cluster mqtt/emqx: 3 core nodes, 1 replicant node.\n"),
            "{n}"
        );
        assert!(n.contains("create secret generic emqx-node-cookie"));
        assert!(n.contains("Secret emqx-api"));
        assert!(n.contains("port-forward svc/emqx-dashboard 18083:18083"));
        assert!(n.contains("tcp-default 1883/TCP"));
    }
}
