//! The EMQX Operator's own code as the oracle (tests/oracle/): every apps.emqx.io/v2beta1 example
//! and operator documentation case renders to what the operator generates, except for the
//! differences listed in tests/oracle/differences.yaml; every listed difference is hit by some
//! case; generated specs (32 per run of each generation: replicas, listeners, env, volumes,
//! probes, security contexts, affinity, PDB fields, Service templates, labels; for v2alpha1 also
//! EMQX 5.0 to 5.8 images, `toleRations` and the pull policy) match the same way; a broken
//! generator (env order, a probe, a port name) is caught with the object and path; the README's
//! table is made from the list. The oracle is built from the pinned operator
//! module by tests/oracle/compare.sh; `.ci/run` sets EMQX_RENDER_REQUIRE_ORACLE=1, so in CI a
//! missing Go toolchain is a failure, never a skip.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::golden::{root, yaml_files};

fn go_available() -> bool {
    let found = Command::new("go").arg("version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("EMQX_RENDER_REQUIRE_ORACLE").is_none(),
            "EMQX_RENDER_REQUIRE_ORACLE is set but `go` is not on PATH: the oracle is built from Go modules"
        );
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"note: no Go toolchain; oracle tests skipped (bash .ci/run runs them)\n",
        );
    }
    found
}

fn compare(file: &Path, extra: &[&str]) -> Output {
    Command::new("bash")
        .arg(root().join("tests/oracle/compare.sh"))
        .arg(file)
        .args(extra)
        .env("EMQX_RENDER", env!("CARGO_BIN_EXE_emqx-render"))
        .output()
        .unwrap()
}

/// The validators' Python (it has PyYAML), else the machine's.
fn python() -> PathBuf {
    let venv = root().join(".venv-val/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn listed_ids() -> BTreeSet<String> {
    std::fs::read_to_string(root().join("tests/oracle/differences.yaml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- id: ").map(str::to_string))
        .collect()
}

/// Every v2beta1 and v2alpha1 spec the project holds: the examples (the operator's own samples
/// among them), the operator documentation corpus, and cases made for one difference or
/// agreement each. A v2alpha1 one goes through the operator's own conversion to v2beta1.
fn cases() -> Vec<PathBuf> {
    let mut files = yaml_files(&root().join("examples"));
    files.extend(yaml_files(&root().join("tests/data/operator-docs")));
    files.extend(yaml_files(&root().join("tests/data/oracle")));
    files
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(f).unwrap().lines().any(|l| {
                l == "apiVersion: apps.emqx.io/v2beta1" || l == "apiVersion: apps.emqx.io/v2alpha1"
            })
        })
        .collect()
}

#[test]
fn every_v2beta1_spec_matches_the_operator_but_for_the_listed_differences() {
    if !go_available() {
        return;
    }
    let used = std::env::temp_dir().join(format!("emqx-render-oracle-used-{}", std::process::id()));
    let _ = std::fs::remove_file(&used);
    let files = cases();
    assert!(files.len() >= 15, "only {} v2beta1 cases", files.len());
    let mut failures = Vec::new();
    let dir = std::env::temp_dir().join(format!("emqx-render-oracle-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in &files {
        // The EMQX resource alone: Settings extras (Ingress, monitors, TLS, ...) are
        // emqx-render's own additions, outside the operator. Only a resource that cannot render
        // without its Settings (a 5.9 licence from a Secret) is compared with them.
        let alone = dir.join(f.file_name().unwrap());
        let cut = Command::new(python())
            .args(["-c", EMQX_ONLY])
            .arg(f)
            .arg(&alone)
            .output()
            .unwrap();
        assert!(cut.status.success(), "{}", text(&cut.stderr));
        let mut out = compare(&alone, &["--used", used.to_str().unwrap()]);
        if out.status.code() == Some(2) && text(&out.stderr).contains("could not render") {
            out = compare(f, &["--used", used.to_str().unwrap()]);
        }
        if !out.status.success() {
            failures.push(format!(
                "{} (exit {:?}):\n{}{}",
                f.display(),
                out.status.code(),
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let hit: BTreeSet<String> = std::fs::read_to_string(&used)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let unused: Vec<_> = listed_ids().difference(&hit).cloned().collect();
    assert!(
        unused.is_empty(),
        "listed differences no case shows (remove them or add a case): {unused:?}"
    );
    let _ = std::fs::remove_file(&used);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the EMQX resource of file argv[1] alone to argv[2].
const EMQX_ONLY: &str = "import sys, yaml; d = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x.get('kind') == 'EMQX'][0]; yaml.safe_dump(d, open(sys.argv[2], 'w'))";

#[test]
fn a_generation_without_an_oracle_exits_2() {
    if !go_available() {
        return;
    }
    let out = compare(&root().join("examples/v3beta1-api-key.yaml"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no oracle for apps.emqx.io/v3beta1"));
}

/// The comparison of a render broken on purpose (as a generator bug would break it) with the
/// oracle's objects for the same spec.
fn broken(what: &str, break_it: fn(&mut serde_json::Value)) -> String {
    let spec = root().join("examples/production-v2beta1.yaml");
    let render = super::golden::bin()
        .args(["render", "-q", "--format", "json"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(render.status.success());
    let mut list: serde_json::Value = serde_json::from_slice(&render.stdout).unwrap();
    let items = list["items"].as_array_mut().unwrap();
    let sts = items
        .iter_mut()
        .find(|o| o["kind"] == "StatefulSet")
        .unwrap();
    break_it(sts);
    let dir =
        std::env::temp_dir().join(format!("emqx-render-oracle-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stream: String = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| format!("---\n{o}\n"))
        .collect();
    std::fs::write(dir.join("render.yaml"), stream).unwrap();
    let render = dir.join("render.yaml");
    let out = compare(&spec, &["--render", render.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: the broken render passed"
    );
    text(&out.stdout)
}

fn container(sts: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut sts["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn a_broken_generator_fails_with_the_object_and_path() {
    if !go_available() {
        return;
    }
    let said = broken("env-order", |s| {
        container(s)["env"].as_array_mut().unwrap().reverse();
    });
    assert!(
        said.contains(
            "NOT LISTED StatefulSet/emqx-core: spec.template.spec.containers[emqx].env: order"
        ),
        "{said}"
    );
    let said = broken("probe", |s| {
        container(s)["readinessProbe"]["httpGet"]["path"] = "/api/v5/status".into();
    });
    assert!(
        said.contains("StatefulSet/emqx-core: spec.template.spec.containers[emqx].readinessProbe.httpGet.path: changed"),
        "{said}"
    );
    let said = broken("port-name", |s| {
        container(s)["ports"][0]["name"] = "dash".into();
    });
    assert!(
        said.contains("spec.template.spec.containers[emqx].ports[dash]: only-ours")
            && said.contains("spec.template.spec.containers[emqx].ports[dashboard]: only-operator"),
        "{said}"
    );
}

/// The README's "Differences from the operator" section, made from tests/oracle/differences.yaml.
fn readme_section() -> String {
    let list: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("tests/oracle/differences.yaml")).unwrap(),
    )
    .unwrap();
    let mut out = String::from(README_INTRO);
    for e in list["differences"].as_array().unwrap() {
        let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
        let change = match e["change"].as_str() {
            Some("only-ours") => "adds",
            Some("only-operator") => "leaves out",
            Some(_) => "changes",
            None => "adds or changes",
        };
        let where_: Vec<String> = e["where"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| format!("`{}`", w.as_str().unwrap()))
            .collect();
        let readme = s("readme");
        let list = |k: &str| -> Vec<String> {
            e[k].as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect()
        };
        let mut only = list("generations");
        let versions = list("emqx-versions");
        if !versions.is_empty() {
            only.push(format!("EMQX {}", versions.join(", ")));
        }
        let id = if only.is_empty() {
            format!("`{}`", s("id"))
        } else {
            format!("`{}` ({})", s("id"), only.join(", "))
        };
        out.push_str(&format!(
            "| {id} | {change} {} | {} | [{}]({readme}) |\n",
            where_.join(", "),
            s("reason").replace('|', "/"),
            readme.trim_start_matches('#'),
        ));
    }
    out.push('\n');
    out
}

const README_INTRO: &str = "## Differences from the operator

What emqx-render writes for an `apps.emqx.io/v2beta1` or `v2alpha1` resource is compared, object
by object and field by field, with what the EMQX Operator's own code (Operator 2.2, commit
2ca6a10d, built from its Go module) generates for the same resource (a v2alpha1 one after the
operator's own conversion to v2beta1, as its conversion webhook runs it):
`bash tests/oracle/compare.sh FILE.yaml` (exit 0: only the differences below; 1: another one,
printed with object and path; 2: no oracle for that generation). Every example, operator
documentation case and generated spec passes, and each difference below is shown by at least one
of them; an entry marked with a generation or EMQX versions applies to those only. The list is
`tests/oracle/differences.yaml`, and this table is made from it (`UPDATE_GOLDEN=1 cargo test
--test it -- oracle` rewrites it). How the objects are normalized first (hash names, the
ReplicaSet as a Deployment, empty values) is written at the top of `tests/oracle/compare.py`; how
the oracle is built is in `tests/oracle/README.md`. The operator's random Secrets (cookie, its own
API key) are not compared. Operator 2.3 (`apps.emqx.io/v2`) and 3.x (`v3beta1`) have no oracle
yet: the module proxy this project builds from serves no commit of those lines.

| difference | emqx-render | why | more |
|---|---|---|---|
";

#[test]
fn the_readme_table_is_the_list_of_differences() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find("## Differences from the operator")
        .expect("README has a \"Differences from the operator\" section");
    let end = start
        + 3
        + readme[start + 3..]
            .find("\n## ")
            .map_or(readme.len() - start - 3, |e| e + 1);
    let want = readme_section();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(
            &path,
            format!("{}{want}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    let got = &readme[start..end];
    assert!(
        got == want,
        "README's differences table is not tests/oracle/differences.yaml (UPDATE_GOLDEN=1 cargo test --test it -- oracle):\n{}",
        similar::TextDiff::from_lines(got, &want).unified_diff()
    );
    let ids: BTreeSet<String> = got
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(id, _)| id.to_string()))
        .collect();
    assert_eq!(ids, listed_ids());
}

/// What a generated role template varies besides its replicas: env names, extra volumes, a
/// readiness probe's initial delay, the pod's user id and an anti-affinity weight.
type RoleParts = (
    BTreeSet<String>,
    usize,
    Option<i32>,
    Option<i64>,
    Option<i32>,
);

fn role_parts() -> impl proptest::strategy::Strategy<Value = RoleParts> {
    (
        proptest::collection::btree_set("[A-Z]{3,6}", 0..3),
        0..3usize,
        proptest::option::of(0..30i32),
        proptest::option::of(1000..2000i64),
        proptest::option::of(1..100i32),
    )
}

/// A role template's `spec` (both generations share these fields).
fn role_spec(replicas: i32, (env, volumes, delay, uid, weight): &RoleParts) -> serde_json::Value {
    use serde_json::json;
    let mut s = json!({"replicas": replicas});
    if !env.is_empty() {
        s["env"] = env
            .iter()
            .map(|n| json!({"name": format!("EMQX_T_{n}"), "value": "v"}))
            .collect();
    }
    if *volumes > 0 {
        s["extraVolumes"] = (0..*volumes)
            .map(|i| json!({"name": format!("scratch-{i}"), "emptyDir": {}}))
            .collect();
        s["extraVolumeMounts"] = (0..*volumes)
            .map(|i| json!({"name": format!("scratch-{i}"), "mountPath": format!("/scratch/{i}")}))
            .collect();
    }
    if let Some(d) = delay {
        s["readinessProbe"] = json!({"httpGet": {"path": "/status", "port": "dashboard"},
            "initialDelaySeconds": d, "periodSeconds": 5});
    }
    if let Some(u) = uid {
        s["podSecurityContext"] = json!({"runAsUser": u, "runAsGroup": u, "fsGroup": u});
    }
    if let Some(w) = weight {
        s["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": w, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": {"apps.emqx.io/instance": "emqx"}}}}]}});
    }
    s
}

/// Config text with extra TCP listeners on `ports` and, when given, the dashboard's port.
fn listeners_config(ports: &BTreeSet<u16>, dashboard: Option<u16>) -> String {
    let mut config = String::from("log.console.level = warning\n");
    for (i, p) in ports.iter().enumerate() {
        config.push_str(&format!("listeners.tcp.extra{i}.bind = \"0.0.0.0:{p}\"\n"));
    }
    if let Some(d) = dashboard {
        config.push_str(&format!("dashboard.listeners.http.bind = {d}\n"));
    }
    config
}

fn listener_ports() -> impl proptest::strategy::Strategy<Value = BTreeSet<u16>> {
    use proptest::prelude::*;
    proptest::collection::btree_set(2000u16..7999, 0..3).prop_filter("EMQX's own ports", |s| {
        !s.contains(&4370) && !s.contains(&5369)
    })
}

/// A generated v2beta1 spec: replicas of both roles, extra TCP listeners and the dashboard port,
/// env, volumes, a readiness probe, the pod security context, affinity, PDB fields, the
/// listeners Service template and user labels.
fn generated_spec() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    (
        (1..=5i32, 0..=4i32, listener_ports(), proptest::option::of(18100u16..18999)),
        role_parts(),
        (
            (0..3u8, 0..3u8),
            prop::sample::select(vec!["ClusterIP", "NodePort", "LoadBalancer"]),
            proptest::option::of("[a-z]{3,8}"),
        ),
    )
        .prop_map(
            |((cores, replicants, ports, dashboard), parts, (pdb, svc, label))| {
                use serde_json::json;
                let role = |replicas: i32, pdb: u8| {
                    let mut s = role_spec(replicas, &parts);
                    match pdb {
                        1 => s["minAvailable"] = json!(1),
                        2 => s["maxUnavailable"] = json!(1),
                        _ => {}
                    }
                    let mut t = json!({"spec": s});
                    if let Some(l) = &label {
                        t["metadata"] = json!({"labels": {"team": l}});
                    }
                    t
                };
                let mut spec = json!({
                    "image": "emqx/emqx-enterprise:5.8.6",
                    "config": {"data": listeners_config(&ports, dashboard)},
                    "coreTemplate": role(cores, pdb.0),
                    "listenersServiceTemplate": {"metadata": {"labels": {"exposed": "yes"}}, "spec": {"type": svc}},
                });
                if replicants > 0 {
                    spec["replicantTemplate"] = role(replicants, pdb.1);
                }
                json!({"apiVersion": "apps.emqx.io/v2beta1", "kind": "EMQX",
                    "metadata": {"name": "emqx", "namespace": "mqtt"}, "spec": spec})
            },
        )
}

/// A generated v2alpha1 spec (which the operator converts to v2beta1): an EMQX 5.0 or later
/// image, `bootstrapConfig` with extra listeners and the dashboard port, both templates with
/// their replicas, the role fields of v2beta1's generator, the misspelt `toleRations`, the
/// image pull policy, and the listeners Service template's type and labels.
fn generated_v2alpha1_spec() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    (
        (1..=5i32, 1..=4i32, listener_ports(), proptest::option::of(18100u16..18999)),
        role_parts(),
        (
            prop::sample::select(vec!["emqx:5.0.26", "emqx/emqx:5.1.6", "emqx/emqx-enterprise:5.8.6"]),
            prop::sample::select(vec!["ClusterIP", "NodePort", "LoadBalancer"]),
            proptest::option::of(prop::sample::select(vec!["Always", "IfNotPresent"])),
            any::<bool>(),
        ),
    )
        .prop_map(
            |((cores, replicants, ports, dashboard), parts, (image, svc, pull, tolerate))| {
                use serde_json::json;
                let role = |replicas: i32| {
                    let mut s = role_spec(replicas, &parts);
                    if tolerate {
                        s["toleRations"] = json!([{"key": "dedicated", "operator": "Equal",
                            "value": "mqtt", "effect": "NoSchedule"}]);
                    }
                    json!({"spec": s})
                };
                let mut spec = json!({
                    "image": image,
                    "bootstrapConfig": listeners_config(&ports, dashboard),
                    "coreTemplate": role(cores),
                    "replicantTemplate": role(replicants),
                    "listenersServiceTemplate": {"metadata": {"labels": {"exposed": "yes"}}, "spec": {"type": svc}},
                });
                if let Some(p) = pull {
                    spec["imagePullPolicy"] = json!(p);
                }
                json!({"apiVersion": "apps.emqx.io/v2alpha1", "kind": "EMQX",
                    "metadata": {"name": "emqx", "namespace": "mqtt"}, "spec": spec})
            },
        )
}

/// Compares one generated spec with the oracle: Ok when only listed differences remain.
fn generated_matches(spec: &serde_json::Value) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "emqx-render-oracle-gen-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("emqx.yaml");
    std::fs::write(&file, spec.to_string()).unwrap();
    let out = compare(&file, &[]);
    let _ = std::fs::remove_dir_all(&dir);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{spec}\n(exit {:?}):\n{}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        ))
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, failure_persistence: None, ..Default::default() })]
    #[test]
    fn generated_specs_match_the_operator_but_for_the_listed_differences(spec in generated_spec()) {
        if !go_available() {
            return Ok(());
        }
        let result = generated_matches(&spec);
        proptest::prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }

    #[test]
    fn generated_v2alpha1_specs_match_the_operator_but_for_the_listed_differences(spec in generated_v2alpha1_spec()) {
        if !go_available() {
            return Ok(());
        }
        let result = generated_matches(&spec);
        proptest::prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}
