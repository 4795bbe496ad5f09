//! `emqx-render status` (the real binary) against the fake EMQX server: verdicts, exit codes and
//! key lines for healthy clusters (5.8 open source, 5.8 Enterprise, 6.2), upgrades half done, a
//! stopped core, a missing replicant, an unreachable node, 401/403/404, garbage, a server that
//! never answers, TLS with a CA made in the test, and `--wait`.

use std::process::Output;
use std::time::{Duration, Instant};

use super::fake_emqx::{KEY, Mode, SECRET, Scenario, Server, fixture, start, start_tls};
use super::golden::{bin, root};

fn status(server: &Server, args: &[&str]) -> Output {
    bin()
        .arg("status")
        .args(["--url", &server.url])
        .args(args)
        .env("EMQX_API_KEY", KEY)
        .env("EMQX_API_SECRET", SECRET)
        .output()
        .unwrap()
}

fn spec() -> String {
    root()
        .join("tests/data/status/emqx-ee-5.8.6.yaml")
        .display()
        .to_string()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn healthy_open_source_5_8() {
    let s = start(
        Scenario::nodes("nodes-healthy-3core-3repl.json"),
        Mode::Http,
    );
    let o = status(&s, &["--expect-version", "5.8.6"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let t = out(&o);
    assert!(
        t.starts_with(&format!("EMQX cluster at {}: healthy\n", s.url)),
        "{t}"
    );
    assert!(t.contains("cores: 3 running, 3/3 on the expected version"));
    assert!(t.contains("replicants: 3 running, 3/3 on the expected version"));
    assert!(t.contains("verdict: healthy and matching"));
    assert!(t.contains("/status 200: Node emqx@emqx-core-0"));
}

#[test]
fn healthy_enterprise_5_8_matches_its_spec() {
    let s = start(Scenario::nodes("nodes-ee-5.8.6-healthy.json"), Mode::Http);
    let o = status(&s, &["--spec", &spec()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("cores: 3/3 running, 3/3 on the expected version"));
    assert!(out(&o).contains("Enterprise"));
}

#[test]
fn healthy_6_2_and_a_version_mismatch_against_the_spec() {
    let s = start(Scenario::nodes("nodes-6.2.2-enterprise.json"), Mode::Http);
    let o = status(&s, &["--expect-version", "6.2.2"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = status(&s, &["--spec", &spec()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("problem: cores: 0/3 on 5.8.6 (others: 6.2.2)"),
        "{}",
        out(&o)
    );
}

#[test]
fn upgrade_with_cores_done_passes_the_core_phase_only() {
    let s = start(
        Scenario::nodes("nodes-upgrade-in-progress.json"),
        Mode::Http,
    );
    let o = status(&s, &["--spec", &spec()]);
    assert_eq!(o.status.code(), Some(1));
    let t = out(&o);
    assert!(
        t.contains(": upgrading to 5.8.6: cores done, replicants pending\n"),
        "{t}"
    );
    assert!(t.contains("problem: replicants: 0/3 on 5.8.6 (others: 5.8.3)"));
    let o = status(&s, &["--spec", &spec(), "--role", "core"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

#[test]
fn upgrade_in_the_core_phase() {
    let s = start(
        Scenario::nodes("nodes-upgrade-cores-partial.json"),
        Mode::Http,
    );
    let o = status(&s, &["--spec", &spec(), "--role", "core"]);
    assert_eq!(o.status.code(), Some(1));
    let t = out(&o);
    assert!(
        t.contains(": upgrading to 5.8.6: core phase in progress\n"),
        "{t}"
    );
    assert!(t.contains("problem: cores: 1/3 on 5.8.6 (others: 5.8.3)"));
}

#[test]
fn a_stopped_core_is_named() {
    let s = start(Scenario::nodes("nodes-one-stopped.json"), Mode::Http);
    let o = status(&s, &["--spec", &spec()]);
    assert_eq!(o.status.code(), Some(1));
    let t = out(&o);
    assert!(t.contains("problem: cores: 2/3 running"), "{t}");
    assert!(
        t.contains("problem: emqx@emqx-core-2.emqx-headless.default.svc.cluster.local is stopped")
    );
    assert!(t.contains("verdict: not healthy"));
}

#[test]
fn a_missing_replicant_is_counted() {
    let s = start(Scenario::nodes("nodes-replicant-missing.json"), Mode::Http);
    let o = status(&s, &["--spec", &spec()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("problem: replicants: 2/3 running"),
        "{}",
        out(&o)
    );
}

#[test]
fn an_unreachable_node_is_reported() {
    // The shape EMQX gives a node whose RPC fails (PR #18656): no role, node_status unreachable.
    let mut nodes: serde_json::Value =
        serde_json::from_slice(&fixture("nodes-ee-5.8.6-healthy.json")).unwrap();
    let list = nodes.as_array_mut().unwrap();
    let gone = list
        .iter()
        .position(|n| n["node"] == "emqx@10.0.0.13")
        .unwrap();
    list[gone] = serde_json::json!({"node": "emqx@10.0.0.13", "node_status": "unreachable"});
    let mut sc = Scenario::nodes("nodes-ee-5.8.6-healthy.json");
    sc.nodes = vec![serde_json::to_vec(&nodes).unwrap()];
    let s = start(sc, Mode::Http);
    let o = status(&s, &["--spec", &spec()]);
    assert_eq!(o.status.code(), Some(1));
    let t = out(&o);
    assert!(t.contains("problem: emqx@10.0.0.13 is unreachable"), "{t}");
    assert!(t.contains("problem: replicants: 2/3 running"));
}

#[test]
fn status_503_of_the_answering_node_is_a_problem() {
    let mut sc = Scenario::nodes("nodes-healthy-3core-3repl.json");
    sc.status = (503, fixture("status-503.txt"));
    let s = start(sc, Mode::Http);
    let o = status(&s, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("problem: the node that answered reports /status 503: Node emqx@"),
        "{}",
        out(&o)
    );
}

#[test]
fn bad_credentials_are_exit_2_with_the_emqx_code_and_no_secret() {
    let s = start(
        Scenario::nodes("nodes-healthy-3core-3repl.json"),
        Mode::Http,
    );
    let o = bin()
        .args(["status", "--url", &s.url])
        .env("EMQX_API_KEY", KEY)
        .env("EMQX_API_SECRET", "wrong-secret-value")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let e = err(&o);
    assert!(
        e.contains("401 BAD_API_KEY_OR_SECRET: Check api_key/api_secret"),
        "{e}"
    );
    assert!(e.contains("= help: check EMQX_API_KEY/EMQX_API_SECRET"));
    assert!(!e.contains("wrong-secret-value") && !e.contains(SECRET));
    let o = bin()
        .args(["status", "--url", &s.url])
        .env_remove("EMQX_API_KEY")
        .env_remove("EMQX_API_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no API key"));
}

#[test]
fn a_key_file_in_the_bootstrap_format_works() {
    let s = start(
        Scenario::nodes("nodes-healthy-3core-3repl.json"),
        Mode::Http,
    );
    let f = std::env::temp_dir().join(format!("emqx-render-key-{}", std::process::id()));
    std::fs::write(&f, format!("\n{KEY}:{SECRET}:viewer\n")).unwrap();
    let o = bin()
        .args(["status", "--url", &s.url, "--api-key-file"])
        .arg(&f)
        .env_remove("EMQX_API_KEY")
        .env_remove("EMQX_API_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

#[test]
fn forbidden_role_and_wrong_path() {
    let mut sc = Scenario::nodes("nodes-healthy-3core-3repl.json");
    sc.forbid = true;
    let s = start(sc, Mode::Http);
    let o = status(&s, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("403 UNAUTHORIZED_ROLE"), "{}", err(&o));
    let s = start(
        Scenario::nodes("nodes-healthy-3core-3repl.json"),
        Mode::Http,
    );
    let wrong = Server {
        url: format!("{}/dashboard", s.url),
        ca_pem: None,
    };
    let o = status(&wrong, &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(e.contains("404 NOT_FOUND: Request Path Not Found"), "{e}");
    assert!(e.contains("--url must be the dashboard listener"));
}

#[test]
fn a_server_that_sends_garbage_is_an_error_not_a_crash() {
    let s = start(
        Scenario::nodes("nodes-healthy-3core-3repl.json"),
        Mode::Garbage,
    );
    let o = status(&s, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).starts_with("error: "), "{}", err(&o));
    assert!(!err(&o).contains("panicked"));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let s = start(
        Scenario::nodes("nodes-healthy-3core-3repl.json"),
        Mode::Silent,
    );
    let t = Instant::now();
    let o = status(&s, &["--request-timeout", "1s", "--connect-timeout", "1s"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    assert!(err(&o).contains("cannot reach"), "{}", err(&o));
}

#[test]
fn tls_with_a_private_ca_is_trusted_with_cacert_and_refused_without() {
    let s = start_tls(Scenario::nodes("nodes-healthy-3core-3repl.json"));
    let ca = std::env::temp_dir().join(format!("emqx-render-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, s.ca_pem.as_ref().unwrap()).unwrap();
    let o = status(&s, &["--cacert", &ca.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = status(&s, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("cannot reach"), "{}", err(&o));
    let o = status(&s, &["--insecure"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(err(&o).contains("NOT verified"));
    // A file that is not a certificate is a usage error, never a panic.
    let junk = std::env::temp_dir().join(format!("emqx-render-junk-{}.pem", std::process::id()));
    std::fs::write(&junk, "not a certificate").unwrap();
    let o = status(&s, &["--cacert", &junk.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--cacert"), "{}", err(&o));
}

#[test]
fn wait_polls_until_the_upgrade_is_done() {
    let mut sc = Scenario::nodes("nodes-upgrade-cores-partial.json");
    sc.nodes = vec![
        fixture("nodes-upgrade-cores-partial.json"),
        fixture("nodes-upgrade-in-progress.json"),
        fixture("nodes-ee-5.8.6-healthy.json"),
    ];
    let s = start(sc, Mode::Http);
    let o = status(
        &s,
        &[
            "--spec",
            &spec(),
            "--wait",
            "--interval",
            "100ms",
            "--timeout",
            "30s",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let e = err(&o);
    assert!(
        e.contains("waiting: upgrading to 5.8.6: core phase in progress"),
        "{e}"
    );
    assert!(
        e.contains("waiting: upgrading to 5.8.6: cores done, replicants pending"),
        "{e}"
    );
    assert!(out(&o).contains("verdict: healthy and matching"));
}

#[test]
fn wait_gives_up_at_the_timeout() {
    let s = start(Scenario::nodes("nodes-one-stopped.json"), Mode::Http);
    let o = status(
        &s,
        &[
            "--spec",
            &spec(),
            "--wait",
            "--interval",
            "100ms",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("not healthy and matching after"));
}

#[test]
fn json_output_has_a_stable_shape() {
    let s = start(
        Scenario::nodes("nodes-upgrade-in-progress.json"),
        Mode::Http,
    );
    let o = status(&s, &["--spec", &spec(), "--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["healthy"], false);
    assert_eq!(
        v["state"],
        "upgrading to 5.8.6: cores done, replicants pending"
    );
    assert_eq!(v["cores"]["expected"], 3);
    assert_eq!(v["cores"]["running"], 3);
    assert_eq!(v["cores"]["on_expected_version"], 3);
    assert_eq!(v["replicants"]["on_expected_version"], 0);
    assert_eq!(v["nodes"].as_array().unwrap().len(), 6);
    assert_eq!(v["url"], s.url.as_str());
    for k in [
        "status_code",
        "status_text",
        "problems",
        "unreachable",
        "role",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
}

/// Under an autoscaler any replicant count in its range matches (the spec's own count does not
/// count); below or above it is a problem. The autoscaler from Settings (`--settings`) and from
/// an HPA in the spec file alike.
#[test]
fn an_autoscaled_cluster_matches_any_count_in_the_range() {
    let s = start(Scenario::nodes("nodes-ee-5.8.6-healthy.json"), Mode::Http);
    let dir = std::env::temp_dir().join(format!("emqx-render-status-hpa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = std::fs::read_to_string(spec()).unwrap();
    let settings = |min: u32, max: u32| {
        let p = dir.join(format!("settings-{min}-{max}.yaml"));
        std::fs::write(
            &p,
            format!("kind: Settings\nautoscaling:\n  minReplicas: {min}\n  maxReplicas: {max}\n"),
        )
        .unwrap();
        p.display().to_string()
    };
    let o = status(&s, &["--spec", &spec(), "--settings", &settings(2, 4)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("replicants: 3 running (the autoscaler's range: 2 to 4)"),
        "{}",
        out(&o)
    );
    let o = status(&s, &["--spec", &spec(), "--settings", &settings(4, 6)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("problem: replicants: 3 running, the autoscaler keeps at least 4"),
        "{}",
        out(&o)
    );
    let o = status(&s, &["--spec", &spec(), "--settings", &settings(1, 2)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("problem: replicants: 3 running, the autoscaler allows at most 2"),
        "{}",
        out(&o)
    );
    let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: emqx\nspec:\n  scaleTargetRef:\n    apiVersion: apps.emqx.io/v2beta1\n    kind: EMQX\n    name: emqx\n  minReplicas: 2\n  maxReplicas: 5\n";
    let with_hpa = dir.join("with-hpa.yaml");
    std::fs::write(&with_hpa, format!("{base}{hpa}")).unwrap();
    let o = status(&s, &["--spec", &with_hpa.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let json = status(
        &s,
        &[
            "--spec",
            &with_hpa.display().to_string(),
            "--output",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["replicants"]["expected"], 2, "{v}");
    assert_eq!(v["replicants"]["expected_max"], 5, "{v}");
}
