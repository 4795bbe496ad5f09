//! The command-line contract: inputs (files, stdin, discovery), outputs (YAML, JSON, directory),
//! exit codes, and stdout purity.

use std::path::Path;

use super::golden::{bin, render, root};

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("emqx-render-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SLIM: &str = "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx:5.8.6\n";

#[test]
fn sync_waves_are_on_by_default_and_switch_off_by_flag_or_settings() {
    let d = tmp("waves");
    std::fs::write(d.join("emqx.yaml"), SLIM).unwrap();
    let on = render(&d, &["render", "-q", "emqx.yaml"]);
    assert!(on.status.success(), "{}", text(&on.stderr));
    assert!(text(&on.stdout).contains("argocd.argoproj.io/sync-wave: \"1\""));
    let off = render(&d, &["render", "-q", "--no-sync-waves", "emqx.yaml"]);
    assert!(off.status.success());
    assert!(!text(&off.stdout).contains("sync-wave"));
    std::fs::write(
        d.join("settings.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nsyncWaves: false\n",
    )
    .unwrap();
    let by_settings = render(&d, &["render", "-q", "emqx.yaml", "settings.yaml"]);
    assert!(
        by_settings.status.success(),
        "{}",
        text(&by_settings.stderr)
    );
    assert!(!text(&by_settings.stdout).contains("sync-wave"));
}

#[test]
fn evacuation_is_refused_politely_where_it_cannot_run() {
    let d = tmp("evacuation");
    let spec = |image: &str, replicants: u32| {
        format!(
            "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: {image}\n  updateStrategy:\n    evacuationStrategy:\n      waitTakeover: 30\n  replicantTemplate:\n    spec:\n      replicas: {replicants}\n"
        )
    };
    std::fs::write(d.join("oss.yaml"), spec("emqx/emqx:5.7.2", 2)).unwrap();
    let out = render(&d, &["render", "oss.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning[evacuation-needs-enterprise]"));
    assert!(!text(&out.stdout).contains("rebalance"));
    std::fs::write(d.join("cores.yaml"), spec("emqx/emqx-enterprise:5.8.6", 0)).unwrap();
    let out = render(&d, &["render", "cores.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Without replicants there is nothing to evacuate, and nothing to warn about.
    assert!(
        !text(&out.stderr).contains("evacuation"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("rebalance"));
    std::fs::write(d.join("ee.yaml"), spec("emqx/emqx-enterprise:5.8.6", 2)).unwrap();
    let out = render(&d, &["render", "-q", "--format", "json", "ee.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    let pod = |kind: &str| {
        items
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap()
            .pointer("/spec/template/spec")
            .unwrap()
            .clone()
    };
    let rep = pod("Deployment");
    // waitHealthCheck 60 (default) + waitTakeover 30 + 120 s of eviction + 30 s to stop.
    assert_eq!(rep["terminationGracePeriodSeconds"], 240);
    let cmd = rep["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][2]
        .as_str()
        .unwrap();
    assert!(cmd.starts_with("emqx ctl rebalance start --evacuation --wait-health-check 60 --conn-evict-rate 1000 --sess-evict-rate 1000 --wait-takeover 30 "));
    let core = pod("StatefulSet");
    assert!(core.get("terminationGracePeriodSeconds").is_none());
    assert!(core["containers"][0].get("lifecycle").is_none());
}

#[test]
fn network_policy_is_opt_in() {
    let d = tmp("netpol");
    std::fs::write(d.join("emqx.yaml"), SLIM).unwrap();
    let off = render(&d, &["render", "-q", "emqx.yaml"]);
    assert!(!text(&off.stdout).contains("NetworkPolicy"));
    let on = render(
        &d,
        &[
            "render",
            "-q",
            "--network-policy",
            "--format",
            "json",
            "emqx.yaml",
        ],
    );
    assert!(on.status.success(), "{}", text(&on.stderr));
    let v: serde_json::Value = serde_json::from_slice(&on.stdout).unwrap();
    let np = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "NetworkPolicy")
        .unwrap();
    let rules = np["spec"]["ingress"].as_array().unwrap();
    // The cluster ports only from the cluster's pods.
    assert_eq!(
        rules[0]["from"][0]["podSelector"]["matchLabels"]["apps.emqx.io/instance"],
        "emqx"
    );
    let ports = super::golden::rule_ports;
    assert_eq!(ports(&rules[0]), [4370, 5369]);
    // Clients from anywhere, on the default listeners and the dashboard, never 4370/5369.
    assert!(rules[1].get("from").is_none());
    assert_eq!(ports(&rules[1]), [1883, 8083, 8084, 8883, 18083]);
}

#[test]
fn licence_and_cookie_from_settings_add_only_their_references() {
    let d = tmp("secrets-extra");
    let spec = "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx-enterprise:5.8.6\n  replicantTemplate:\n    spec:\n      replicas: 2\n";
    std::fs::write(d.join("emqx.yaml"), spec).unwrap();
    std::fs::write(
        d.join("settings.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nlicense:\n  secretName: lic\ncookie:\n  secretName: ck\n  key: c\n",
    )
    .unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut a = vec!["render", "-q", "--format", "json"];
        a.extend_from_slice(args);
        let out = render(&d, &a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let off = json(&["emqx.yaml"]);
    let mut on = json(&["emqx.yaml", "settings.yaml"]);
    assert_ne!(on, off);
    // Take out exactly what the extra adds; what is left is the render without it.
    for item in on["items"].as_array_mut().unwrap() {
        let Some(containers) = item.pointer_mut("/spec/template/spec/containers") else {
            continue;
        };
        let env = containers[0]["env"].as_array_mut().unwrap();
        let before = env.len();
        env.retain(|e| e["name"] != "EMQX_LICENSE__KEY");
        assert_eq!(
            before - env.len(),
            1,
            "one licence entry per EMQX container"
        );
        let cookie = env
            .iter_mut()
            .find(|e| e["name"] == "EMQX_NODE__COOKIE")
            .unwrap();
        let r = &mut cookie["valueFrom"]["secretKeyRef"];
        assert_eq!(
            (r["name"].as_str(), r["key"].as_str()),
            (Some("ck"), Some("c"))
        );
        r["name"] = "emqx-node-cookie".into();
        r["key"] = "node_cookie".into();
    }
    // The config checksum covers the names of the Secrets the pods read, so it differs too.
    let strip_checksum = |v: &mut serde_json::Value| {
        for item in v["items"].as_array_mut().unwrap() {
            if let Some(a) = item.pointer_mut("/spec/template/metadata/annotations") {
                a.as_object_mut()
                    .unwrap()
                    .remove("emqx-render/config-checksum");
            }
        }
    };
    let mut off = off;
    strip_checksum(&mut on);
    strip_checksum(&mut off);
    assert_eq!(on, off);
    let text_out = render(&d, &["render", "-q", "emqx.yaml", "settings.yaml"]);
    assert!(
        !text(&text_out.stdout).contains("kind: Secret"),
        "no Secret is generated"
    );
}

#[test]
fn service_account_is_opt_in_and_removed_whole() {
    let d = tmp("sa-extra");
    std::fs::write(d.join("emqx.yaml"), SLIM).unwrap();
    std::fs::write(
        d.join("settings.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nserviceAccount:\n  create: true\n  name: mqtt-broker\n",
    )
    .unwrap();
    let on = render(&d, &["render", "-q", "emqx.yaml", "settings.yaml"]);
    assert!(on.status.success(), "{}", text(&on.stderr));
    let on = text(&on.stdout);
    assert!(on.contains("kind: ServiceAccount"));
    assert!(on.contains("serviceAccountName: mqtt-broker"));
    let off = text(&render(&d, &["render", "-q", "emqx.yaml"]).stdout);
    assert!(!off.contains("kind: ServiceAccount"));
    assert!(!off.contains("serviceAccountName"));
    assert!(off.contains("automountServiceAccountToken: false"));
}

#[test]
fn reads_standard_input() {
    let out = super::golden::run_with_stdin(&["render", "-q", "-"], SLIM.as_bytes());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("name: emqx-core"));
}

#[test]
fn without_a_file_renders_the_specs_in_the_current_directory() {
    let d = tmp("discover");
    std::fs::write(d.join("emqx.yaml"), SLIM).unwrap();
    std::fs::write(d.join("other.yaml"), "unrelated: true\n").unwrap();
    let out = render(&d, &["-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("kind: StatefulSet"));
    let empty = tmp("discover-empty");
    let out = render(&empty, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file_is_an_io_error_with_exit_2() {
    let out = render(&root(), &["render", "does-not-exist.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("does-not-exist.yaml"));
}

#[test]
fn unknown_flag_is_a_usage_error_with_exit_2() {
    let out = render(&root(), &["render", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn json_is_a_v1_list_of_the_same_objects() {
    let out = render(
        &root(),
        &[
            "render",
            "-q",
            "--format",
            "json",
            "examples/production-v2beta1.yaml",
        ],
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "List");
    let kinds: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ConfigMap",
            "Service",
            "Service",
            "Service",
            "StatefulSet",
            "Deployment",
            "PodDisruptionBudget",
            "PodDisruptionBudget"
        ]
    );
}

#[test]
fn several_clusters_and_passthrough_objects_in_one_file() {
    let d = tmp("multi");
    let spec = format!(
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: fast\nprovisioner: ebs.csi.aws.com\nparameters:\n  encrypted: \"true\"\n---\n{SLIM}---\n{}",
        SLIM.replace("name: emqx\n", "name: emqx-b\n  namespace: other\n")
    );
    std::fs::write(d.join("two.yaml"), spec).unwrap();
    let out = render(&d, &["render", "-q", "two.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.starts_with("---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\n"),
        "{s}"
    );
    assert!(s.contains("encrypted: 'true'") || s.contains("encrypted: \"true\""));
    assert_eq!(s.matches("kind: StatefulSet").count(), 2);
    assert!(s.contains("namespace: other"));
}

#[test]
fn settings_document_and_flags_set_the_namespace() {
    let d = tmp("settings");
    let spec = format!(
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nnamespace: from-doc\nkubernetesVersion: \"1.35\"\n---\n{SLIM}"
    );
    std::fs::write(d.join("s.yaml"), spec).unwrap();
    let out = render(&d, &["render", "-q", "s.yaml"]);
    assert!(text(&out.stdout).contains("namespace: from-doc"));
    let out = render(&d, &["render", "-q", "-n", "from-flag", "s.yaml"]);
    assert!(text(&out.stdout).contains("namespace: from-flag"));
    let out = render(&d, &["render", "--kube-version", "1.20", "s.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains(
            "error[settings-kube-version]: --kube-version: Kubernetes 1.20 is not supported"
        ),
        "{}",
        text(&out.stderr)
    );
}

/// A target outside the tested versions renders, the same objects, with one warning that
/// names where the version came from; inside them there is no warning.
#[test]
fn untested_kubernetes_versions_render_with_a_warning() {
    let d = tmp("kube-untested");
    std::fs::write(d.join("s.yaml"), SLIM).unwrap();
    let base = render(&d, &["render", "--kube-version", "1.27", "s.yaml"]);
    assert!(base.status.success());
    assert!(!text(&base.stderr).contains("kube-version-untested"));
    for v in ["1.21", "1.26", "1.38"] {
        let out = render(&d, &["render", "--kube-version", v, "s.yaml"]);
        assert!(out.status.success(), "{v}: {}", text(&out.stderr));
        assert_eq!(out.stdout, base.stdout, "{v}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("warning[kube-version-untested]: --kube-version: Kubernetes {v} is outside the versions emqx-render is tested against (1.27 to 1.37); rendered all the same")),
            "{v}: {err}"
        );
    }
}

#[test]
fn output_dir_writes_one_file_per_object_and_refuses_foreign_files() {
    let d = tmp("outdir");
    let target = d.join("deploy");
    let spec = root().join("examples/production-v2beta1.yaml");
    let out = bin()
        .args(["render", "-q", "--output-dir"])
        .arg(&target)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let k = std::fs::read_to_string(target.join("kustomization.yaml")).unwrap();
    assert!(k.contains("- statefulset-emqx-core.yaml"));
    assert!(target.join("configmap-emqx-configs.yaml").exists());
    // A second render replaces the first.
    let out = bin()
        .args(["render", "-q", "--output-dir"])
        .arg(&target)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success());
    // A file we did not write is never replaced.
    std::fs::write(target.join("mine.txt"), "keep").unwrap();
    let out = bin()
        .args(["render", "-q", "--output-dir"])
        .arg(&target)
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("mine.txt"));
    assert_eq!(
        std::fs::read_to_string(target.join("mine.txt")).unwrap(),
        "keep"
    );
    // An invalid spec changes nothing.
    std::fs::remove_file(target.join("mine.txt")).unwrap();
    let before = std::fs::read_to_string(target.join("statefulset-emqx-core.yaml")).unwrap();
    let bad = d.join("bad.yaml");
    std::fs::write(&bad, SLIM.replace("image: emqx/emqx:5.8.6", "image: [")).unwrap();
    let out = bin()
        .args(["render", "--output-dir"])
        .arg(&target)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(target.join("statefulset-emqx-core.yaml")).unwrap(),
        before
    );
}

#[test]
fn yaml_1_1_traps_are_quoted_and_multiline_strings_are_block_literals() {
    let d = tmp("quoting");
    let spec = SLIM.to_string()
        + "  config:\n    data: |\n      log.console.level = debug\n  coreTemplate:\n    spec:\n      replicas: 1\n      env:\n        - {name: A, value: \"on\"}\n        - {name: B, value: \"yes\"}\n        - {name: C, value: \"12:30\"}\n        - {name: D, value: \"08\"}\n        - {name: E, value: \"0.0.0.0:1883\"}\n        - {name: F, value: \"y\"}\n";
    std::fs::write(d.join("q.yaml"), spec).unwrap();
    let out = render(&d, &["render", "-q", "q.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for v in ["on", "yes", "12:30", "08", "0.0.0.0:1883", "y"] {
        assert!(
            s.contains(&format!("value: '{v}'")) || s.contains(&format!("value: \"{v}\"")),
            "{v} is not quoted:\n{s}"
        );
    }
    assert!(s.contains("emqx.conf: |"), "config is not a block literal");
}

#[test]
fn config_map_holds_the_operator_default_lines_then_the_config_verbatim() {
    let out = render(
        &root(),
        &[
            "render",
            "-q",
            "--format",
            "json",
            "examples/operator-v2beta1-full.yaml",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cm = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "ConfigMap")
        .unwrap();
    assert_eq!(
        cm["data"]["emqx.conf"],
        "listeners.tcp.default.bind = 1883\nlisteners.ssl.default.bind = 8883\nlisteners.ws.default.bind  = 8083\nlisteners.wss.default.bind = 8084\n\ndashboard.listeners.http.bind = 18083\nsysmon.vm.long_schedule = disabled\n"
    );
}

#[test]
fn a_config_change_changes_the_pod_checksum_and_nothing_else_in_the_workloads() {
    let d = tmp("checksum");
    let a = SLIM.to_string() + "  config:\n    data: |\n      log.console.level = debug\n";
    let b = SLIM.to_string() + "  config:\n    data: |\n      log.console.level = info\n";
    std::fs::write(d.join("a.yaml"), a).unwrap();
    std::fs::write(d.join("b.yaml"), b).unwrap();
    let ra = text(&render(&d, &["render", "-q", "a.yaml"]).stdout);
    let rb = text(&render(&d, &["render", "-q", "b.yaml"]).stdout);
    let sts = |s: &str| {
        s.split("---\n")
            .find(|d| d.contains("kind: StatefulSet"))
            .unwrap()
            .to_string()
    };
    let (sa, sb) = (sts(&ra), sts(&rb));
    assert_ne!(sa, sb);
    let changed: Vec<_> = sa.lines().zip(sb.lines()).filter(|(x, y)| x != y).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].0.contains("emqx-render/config-checksum"));
}

#[test]
fn secrets_from_the_spec_never_reach_stderr() {
    let d = tmp("secrets");
    let spec = SLIM.to_string()
        + "  config:\n    data: |\n      node.cookie = \"super-secret-cookie\"\n  bootstrapAPIKeys:\n    - key: k1\n      secret: super-secret-value\n    - key: \"bad key\"\n      secret: other-secret-value\n";
    std::fs::write(d.join("s.yaml"), spec).unwrap();
    let out = render(&d, &["render", "s.yaml"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for secret in [
        "super-secret-cookie",
        "super-secret-value",
        "other-secret-value",
    ] {
        assert!(!err.contains(secret), "{secret} leaked: {err}");
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::process::Stdio;
    let mut child = bin()
        .current_dir(root())
        .args(["render", "-q", "examples/v2beta1-every-field.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _ = Path::new(".");
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish"] {
        let out = render(&root(), &["completions", shell]);
        assert!(out.status.success());
        let s = text(&out.stdout);
        for sub in ["render", "diff", "krm", "schema"] {
            assert!(s.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let out = render(&root(), &["man"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains(".TH emqx-render 1"));
    assert!(s.contains("krm"));
}

/// `--platform openshift`: no rendered pod or container of any example carries a fixed user,
/// group, fsGroup or supplemental group, while the rest of the restricted profile stays; a
/// value the spec itself writes is left out with a warning at its line; an unknown platform
/// is an error.
#[test]
fn openshift_platform_leaves_every_fixed_id_out() {
    let ids = [
        "runAsUser:",
        "runAsGroup:",
        "fsGroup:",
        "supplementalGroups:",
    ];
    let examples = super::golden::yaml_files(&root().join("examples"));
    for ex in &examples {
        let out = bin()
            .args(["render", "-q", "--platform", "openshift"])
            .arg(ex)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            ex.display(),
            text(&out.stderr)
        );
        let y = text(&out.stdout);
        for id in ids {
            assert!(!y.contains(id), "{}: {id} left in", ex.display());
        }
        if y.contains("kind: StatefulSet") {
            for kept in [
                "runAsNonRoot: true",
                "allowPrivilegeEscalation: false",
                "seccompProfile:",
            ] {
                assert!(y.contains(kept), "{}: {kept} missing", ex.display());
            }
        }
        // Without the platform the CRD default's 1000 is there: the check above can fail.
        let plain = bin().args(["render", "-q"]).arg(ex).output().unwrap();
        let own = std::fs::read_to_string(ex)
            .unwrap()
            .contains("platform: openshift");
        if !own && text(&plain.stdout).contains("kind: StatefulSet") {
            assert!(
                text(&plain.stdout).contains("runAsUser: 1000"),
                "{}",
                ex.display()
            );
        }
    }
    let d = tmp("openshift");
    std::fs::write(
        d.join("s.yaml"),
        format!("{SLIM}  coreTemplate:\n    spec:\n      podSecurityContext:\n        runAsUser: 1000680000\n        runAsNonRoot: true\n"),
    )
    .unwrap();
    let out = render(&d, &["render", "--platform", "openshift", "s.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("runAsUser"));
    assert!(
        text(&out.stderr).contains("warning[platform-openshift-id]: spec.coreTemplate.spec.podSecurityContext.runAsUser: left out")
            && text(&out.stderr).contains("s.yaml:10:"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(
        d.join("settings.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nplatform: openshfit\n",
    )
    .unwrap();
    let out = render(&d, &["render", "--settings", "settings.yaml", "s.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("error[settings-value]: platform: `openshfit` is not a platform"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("settings.yaml:3:"),
        "{}",
        text(&out.stderr)
    );
}

/// A `Rebalance` in the input (an Argo CD app that still holds one) is skipped with a warning at
/// its `kind`; the cluster beside it renders as it does alone.
#[test]
fn a_rebalance_is_skipped_with_a_warning() {
    let d = tmp("rebalance");
    std::fs::write(d.join("alone.yaml"), SLIM).unwrap();
    std::fs::write(
        d.join("with.yaml"),
        format!("apiVersion: apps.emqx.io/v2beta1\nkind: Rebalance\nmetadata:\n  name: rebalance\nspec:\n  instanceName: emqx\n---\n{SLIM}"),
    )
    .unwrap();
    let alone = render(&d, &["render", "-q", "alone.yaml"]);
    let with = render(&d, &["render", "with.yaml"]);
    assert!(with.status.success(), "{}", text(&with.stderr));
    assert_eq!(with.stdout, alone.stdout);
    assert!(
        text(&with.stderr).starts_with("warning[rebalance-skipped]: kind: skipped: `Rebalance` is a one-off runtime operation the operator runs against a live cluster, not a deployable object; nothing is rendered for it\n  --> with.yaml:2:7\n"),
        "{}",
        text(&with.stderr)
    );
    // Alone, there is no cluster to render: the usual error, the warning beside it.
    std::fs::write(
        d.join("only.yaml"),
        "apiVersion: apps.emqx.io/v2beta1\nkind: Rebalance\nmetadata:\n  name: r\n",
    )
    .unwrap();
    let only = render(&d, &["render", "only.yaml"]);
    assert_eq!(only.status.code(), Some(1));
    assert!(
        text(&only.stderr).contains("error[no-cluster]"),
        "{}",
        text(&only.stderr)
    );
    assert!(
        text(&only.stderr).contains("warning[rebalance-skipped]"),
        "{}",
        text(&only.stderr)
    );
}

/// A zero-value `volumeClaimTemplates` (`{}`, `{resources: {}}`) is no claim, as in the
/// operator: the core data is in an emptyDir, with a warning at the field; a claim that sets
/// something but not enough stays an error.
#[test]
fn an_empty_volume_claim_template_means_no_storage() {
    let d = tmp("empty-claim");
    std::fs::write(
        d.join("none.yaml"),
        format!("{SLIM}  coreTemplate:\n    spec:\n      replicas: 2\n"),
    )
    .unwrap();
    let none = render(&d, &["render", "-q", "none.yaml"]);
    assert!(none.status.success());
    for empty in ["{}", "{resources: {}}"] {
        std::fs::write(
            d.join("s.yaml"),
            format!("{SLIM}  coreTemplate:\n    spec:\n      replicas: 2\n      volumeClaimTemplates: {empty}\n"),
        )
        .unwrap();
        let out = render(&d, &["render", "s.yaml"]);
        assert!(out.status.success(), "{empty}: {}", text(&out.stderr));
        assert_eq!(out.stdout, none.stdout, "{empty}");
        assert!(!text(&out.stdout).contains("volumeClaimTemplates"));
        assert!(
            text(&out.stderr).contains("warning[volume-claim-empty]: spec.coreTemplate.spec.volumeClaimTemplates: is empty, so there is no claim")
                && text(&out.stderr).contains("s.yaml:10:7"),
            "{empty}: {}",
            text(&out.stderr)
        );
    }
    std::fs::write(
        d.join("s.yaml"),
        format!("{SLIM}  coreTemplate:\n    spec:\n      volumeClaimTemplates: {{resources: {{requests: {{}}}}}}\n"),
    )
    .unwrap();
    let out = render(&d, &["render", "s.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error[pvc-incomplete]"),
        "{}",
        text(&out.stderr)
    );
}

/// Warnings only where something differs from what the render does: `config.mode: Merge` (the
/// default) and template names equal to the generated ones are quiet; `Replace` and other names
/// are still said.
#[test]
fn defaults_and_generated_names_raise_no_warning() {
    let d = tmp("quiet");
    let spec = |mode: &str, core: &str, svc: &str| {
        format!(
            "{SLIM}  config:\n    mode: {mode}\n  coreTemplate:\n    metadata:\n      name: {core}\n    spec:\n      replicas: 1\n  dashboardServiceTemplate:\n    metadata:\n      name: {svc}\n"
        )
    };
    std::fs::write(
        d.join("s.yaml"),
        spec("Merge", "emqx-core", "emqx-dashboard"),
    )
    .unwrap();
    let out = render(&d, &["render", "s.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(d.join("s.yaml"), spec("Replace", "my-core", "my-dashboard")).unwrap();
    let err = text(&render(&d, &["render", "s.yaml"]).stderr);
    for w in [
        "warning[field-no-effect]: spec.config.mode",
        "warning[field-ignored]: spec.coreTemplate.metadata.name",
        "warning[field-ignored]: spec.dashboardServiceTemplate.metadata.name",
    ] {
        assert!(err.contains(w), "{w}: {err}");
    }
    let v3 = |mode: &str| {
        format!(
            "apiVersion: apps.emqx.io/v3beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx-enterprise:5.10.1\n  config:\n    mode: {mode}\n    data: |\n      log.console.level = info\n"
        )
    };
    std::fs::write(d.join("v3.yaml"), v3("Merge")).unwrap();
    assert!(!text(&render(&d, &["render", "v3.yaml"]).stderr).contains("field-no-effect"));
    std::fs::write(d.join("v3.yaml"), v3("Replace")).unwrap();
    assert!(
        text(&render(&d, &["render", "v3.yaml"]).stderr)
            .contains("warning[field-no-effect]: spec.config.mode")
    );
}

/// A topologySpreadConstraint without labelSelector gets the role's pod selector (it would
/// match no pods), with a warning at it; one with a selector is kept as written.
#[test]
fn spread_constraints_without_a_selector_get_the_roles() {
    let d = tmp("spread");
    std::fs::write(
        d.join("s.yaml"),
        format!("{}  replicantTemplate:\n    spec:\n      replicas: 2\n      topologySpreadConstraints:\n        - maxSkew: 1\n          topologyKey: topology.kubernetes.io/zone\n          whenUnsatisfiable: ScheduleAnyway\n        - maxSkew: 1\n          topologyKey: kubernetes.io/hostname\n          whenUnsatisfiable: DoNotSchedule\n          labelSelector:\n            matchLabels: {{team: mqtt}}\n", SLIM.replace("emqx/emqx:5.8.6", "emqx/emqx-enterprise:5.8.6")),
    )
    .unwrap();
    let out = render(&d, &["render", "--format", "json", "s.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dep = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    let tsc = &dep["spec"]["template"]["spec"]["topologySpreadConstraints"];
    assert_eq!(
        tsc[0]["labelSelector"]["matchLabels"],
        dep["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        tsc[1]["labelSelector"]["matchLabels"],
        serde_json::json!({"team": "mqtt"})
    );
    let err = text(&out.stderr);
    assert!(err.contains("warning[spread-selector-filled]: spec.replicantTemplate.spec.topologySpreadConstraints[0]: has no labelSelector"), "{err}");
    assert!(err.contains("s.yaml:11:11"), "{err}");
    assert!(!err.contains("topologySpreadConstraints[1]"), "{err}");
}

/// An IPv6 dashboard bind under Operator 2.2's layout, whose environment pins the dashboard to
/// IPv4: a warning at the bind's line; the apps.emqx.io/v2 layout has no such variable.
#[test]
fn an_ipv6_dashboard_bind_under_the_v2beta1_environment_is_warned_about() {
    let d = tmp("ipv6-dashboard");
    let spec = |api: &str| {
        format!(
            "apiVersion: apps.emqx.io/{api}\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx:5.8.6\n  config:\n    data: |\n      log.console.level = info\n      dashboard.listeners.http.bind = \"[::]:18083\"\n"
        )
    };
    std::fs::write(d.join("v2beta1.yaml"), spec("v2beta1")).unwrap();
    let out = render(&d, &["render", "v2beta1.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("warning[dashboard-ipv4-only]: spec.config.data: dashboard.listeners.http.bind: binds the dashboard to IPv6, but the operator's environment sets EMQX_DASHBOARD__LISTENERS__HTTP__BIND to the bare port"), "{err}");
    assert!(err.contains("v2beta1.yaml:10:"), "{err}");
    std::fs::write(d.join("v2.yaml"), spec("v2")).unwrap();
    let out = render(&d, &["render", "v2.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("dashboard-ipv4-only"),
        "{}",
        text(&out.stderr)
    );
}

/// Image references: a tag before a digest is the version; a mirror that renames the repository
/// and pins a digest states the edition and version, which the guards, the environment and
/// `plan` (through the workloads' annotation) use.
#[test]
fn image_edition_and_version_can_be_stated_for_mirrors() {
    let d = tmp("mirror");
    let digest = "sha256:4f1e0c7a2b9d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";
    let spec = |image: &str| {
        format!(
            "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: {image}\n  coreTemplate:\n    spec:\n      replicas: 2\n  replicantTemplate:\n    spec:\n      replicas: 2\n"
        )
    };
    std::fs::write(
        d.join("pinned.yaml"),
        spec(&format!("emqx/emqx-enterprise:5.8.6@{digest}")),
    )
    .unwrap();
    let out = render(&d, &["render", "pinned.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("image-version-unknown"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains("emqx-render/emqx-version"));

    std::fs::write(
        d.join("mirror.yaml"),
        spec(&format!("registry.corp/vendor/emqx-ee@{digest}")),
    )
    .unwrap();
    let out = render(&d, &["render", "mirror.yaml"]);
    assert!(
        text(&out.stderr).contains("warning[image-version-unknown]"),
        "{}",
        text(&out.stderr)
    );
    // The version alone: open source is assumed from the name, and 5.8 refuses replicants.
    let out = render(&d, &["render", "--emqx-version", "5.8.6", "mirror.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error[topology-oss-replicants]"),
        "{}",
        text(&out.stderr)
    );
    let out = render(
        &d,
        &[
            "render",
            "--emqx-edition",
            "enterprise",
            "--emqx-version",
            "5.8.6",
            "mirror.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("image-version"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout)
            .matches("emqx-render/emqx-version: \"5.8.6\"")
            .count(),
        2
    );
    // Stated in Settings, and a stated version that the tag contradicts is said.
    std::fs::write(
        d.join("s.yaml"),
        format!("apiVersion: emqx-render/v1alpha1\nkind: Settings\nemqx:\n  edition: enterprise\n  version: 5.8.7\n---\n{}", spec("emqx/emqx-enterprise:5.8.6")),
    )
    .unwrap();
    let out = render(&d, &["render", "s.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning[image-version-stated]: spec.image: the image's tag says EMQX 5.8.6, and Settings state 5.8.7: 5.8.7 is used"), "{}", text(&out.stderr));
    std::fs::write(
        d.join("bad.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nemqx:\n  version: latest\n",
    )
    .unwrap();
    let out = render(&d, &["render", "bad.yaml", "mirror.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("error[settings-value]: emqx.version: `latest` is not an EMQX version"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn images_lists_objects_passed_through_and_refuses_an_invalid_spec() {
    let d = tmp("images");
    let job = "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: backup\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: export\n        image: registry.corp/tools/emqx-export:1.2\n";
    std::fs::write(d.join("emqx.yaml"), format!("{SLIM}{job}")).unwrap();
    let out = render(&d, &["images", "emqx.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "emqx/emqx:5.8.6\nregistry.corp/tools/emqx-export:1.2\n"
    );
    let json = render(&d, &["images", "--format", "json", "emqx.yaml"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[1]["usedBy"][0]["kind"], "Job");
    assert_eq!(v[1]["usedBy"][0]["container"], "export");
    std::fs::write(d.join("bad.yaml"), SLIM.replace("image:", "imag:")).unwrap();
    let bad = render(&d, &["images", "bad.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    assert!(
        text(&bad.stderr).contains("bad.yaml:6:3"),
        "{}",
        text(&bad.stderr)
    );
}

/// The config checksum of each workload covers the ConfigMaps and Secrets of the same input that
/// its pods read (a volume, `env[].valueFrom`), by content: a change rolls those pods only.
#[test]
fn configmaps_and_secrets_passed_through_join_the_checksum_of_the_pods_reading_them() {
    let d = tmp("mounted");
    let spec = "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx-enterprise:5.8.6\n  coreTemplate:\n    spec:\n      extraVolumes:\n      - name: acl\n        configMap:\n          name: acl\n      extraVolumeMounts:\n      - name: acl\n        mountPath: /opt/acl\n  replicantTemplate:\n    spec:\n      replicas: 2\n      env:\n      - name: DB_PASSWORD\n        valueFrom:\n          secretKeyRef:\n            name: creds\n            key: password\n";
    let objs = |acl: &str, creds: &str, other: &str| {
        format!(
            "{spec}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: acl\ndata:\n{acl}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: {creds}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  x: \"{other}\"\n"
        )
    };
    let checksums = |input: String| -> (String, String) {
        std::fs::write(d.join("in.yaml"), input).unwrap();
        let out = render(&d, &["render", "-q", "in.yaml"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let s = text(&out.stdout);
        let of = |kind: &str| {
            let doc = s.split("---\n").find(|x| x.contains(kind)).unwrap();
            let line = doc
                .lines()
                .find(|l| l.contains("emqx-render/config-checksum"))
                .unwrap();
            line.trim().to_string()
        };
        (of("kind: StatefulSet"), of("kind: Deployment"))
    };
    let acl = "  a: \"1\"\n  b: \"2\"\n";
    let base = checksums(objs(acl, "s3cret", "1"));
    let alone = checksums(spec.to_string());
    assert_ne!(
        base.0, alone.0,
        "the mounted ConfigMap is not in the core checksum"
    );
    assert_ne!(
        base.1, alone.1,
        "the read Secret is not in the replicant checksum"
    );
    let acl_changed = checksums(objs("  a: \"1\"\n  b: \"3\"\n", "s3cret", "1"));
    assert_ne!(acl_changed.0, base.0);
    assert_eq!(
        acl_changed.1, base.1,
        "replicants do not read the ConfigMap"
    );
    let creds_changed = checksums(objs(acl, "other", "1"));
    assert_eq!(creds_changed.0, base.0, "cores do not read the Secret");
    assert_ne!(creds_changed.1, base.1);
    assert_eq!(
        checksums(objs(acl, "s3cret", "2")),
        base,
        "nobody reads `other`"
    );
    let reordered = checksums(objs("  b: \"2\"\n  a: \"1\"\n", "s3cret", "1"));
    assert_eq!(reordered, base, "key order is not content");
    let other_ns = objs(acl, "s3cret", "1").replace(
        "metadata:\n  name: acl\n",
        "metadata:\n  name: acl\n  namespace: elsewhere\n",
    );
    let moved = checksums(other_ns);
    assert_eq!(
        moved.0, alone.0,
        "a ConfigMap of another namespace is not the pods'"
    );
}

/// Flux variables: refused (with the way to keep them) by default; kept by the flag, the Argo CD
/// parameter and the KRM config alike, back in the output as written, with one note.
#[test]
fn flux_variables_are_kept_on_request_in_every_channel() {
    let d = tmp("fluxvars");
    let spec = "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx-${TENANT}\n  namespace: mqtt\nspec:\n  image: emqx/emqx-enterprise:${EMQX_VERSION}\n  clusterDomain: ${CLUSTER_DOMAIN}\n";
    std::fs::write(d.join("emqx.yaml"), spec).unwrap();
    let refused = render(&d, &["render", "emqx.yaml"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("keepVariables: true"));
    let kept = render(&d, &["render", "--keep-variables", "emqx.yaml"]);
    assert!(kept.status.success(), "{}", text(&kept.stderr));
    let out = text(&kept.stdout);
    assert!(out.contains("name: emqx-${TENANT}-core\n"), "{out}");
    assert!(out.contains("image: emqx/emqx-enterprise:${EMQX_VERSION}\n"));
    assert!(out.contains("emqx-${TENANT}-headless.mqtt.svc.${CLUSTER_DOMAIN}"));
    assert!(!out.contains("vzz") && !out.lines().any(|l| l.contains("name: emqx-v")));
    assert_eq!(
        text(&kept.stderr).matches("note[variables-kept]").count(),
        1
    );
    let json = render(
        &d,
        &[
            "render",
            "--keep-variables",
            "--format",
            "json",
            "emqx.yaml",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["metadata"]["name"] == "emqx-${TENANT}-core")
    );
    let argo = super::golden::bin()
        .current_dir(&d)
        .args(["render", "-q", "emqx.yaml"])
        .env("PARAM_KEEP_VARIABLES", "true")
        .output()
        .unwrap();
    assert_eq!(text(&argo.stdout), out);
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: emqx-render\n  data:\n    keepVariables: \"true\"\nitems:\n- {}\n",
        spec.replace('\n', "\n  ").trim_end()
    );
    let krm = super::golden::run_with_stdin(&["krm"], list.as_bytes());
    assert!(krm.status.success(), "{}", text(&krm.stdout));
    assert!(
        text(&krm.stdout).contains("emqx-${TENANT}-core"),
        "{}",
        text(&krm.stdout)
    );
}

/// Flux's escape `$${NAME}` in the config (EMQX's own substitution, which Flux writes out as
/// `${NAME}`): refused as HOCON when variables are not kept (EMQX would read `$$`), passed through
/// as written when they are, and said in the note.
#[test]
fn flux_escapes_in_the_config_pass_through_when_variables_are_kept() {
    let d = tmp("fluxescape");
    let spec = "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx:5.8.6\n  config:\n    data: |\n      node.max_ports = $${EMQX_MAX_PORTS}\n";
    std::fs::write(d.join("emqx.yaml"), spec).unwrap();
    let refused = render(&d, &["render", "emqx.yaml"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("error[config-syntax]"),
        "{}",
        text(&refused.stderr)
    );
    let kept = render(&d, &["render", "--keep-variables", "emqx.yaml"]);
    assert!(kept.status.success(), "{}", text(&kept.stderr));
    assert!(
        text(&kept.stdout).contains("    node.max_ports = $${EMQX_MAX_PORTS}\n"),
        "{}",
        text(&kept.stdout)
    );
    let err = text(&kept.stderr);
    assert!(
        err.contains("Flux's escapes kept as written") && err.contains("$${EMQX_MAX_PORTS}"),
        "{err}"
    );
    assert!(!err.contains("kept for Flux to fill in"), "{err}");
}

/// An export (`kubectl get emqx -o yaml`) renders: the fields the API server and the operator
/// write are ignored with one note (no warning for the last-applied annotation or the status),
/// and the filled-in empty `volumeClaimTemplates` means what it means to the operator: no claim.
#[test]
fn an_exported_resource_renders_with_one_note() {
    let out = render(
        &super::golden::root(),
        &["render", "tests/data/export-v2beta1.yaml"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.matches("note[export-ignored]").count(), 1, "{err}");
    for field in [
        "managedFields",
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "last-applied-configuration",
        "status",
    ] {
        assert!(err.contains(field), "{field} not named: {err}");
    }
    assert!(
        !err.contains("field-ignored") && !err.contains("status-ignored"),
        "{err}"
    );
    assert!(err.contains("warning[volume-claim-empty]"), "{err}");
    let yaml = text(&out.stdout);
    assert!(!yaml.contains("volumeClaimTemplates") && !yaml.contains("managedFields"));
    assert!(!yaml.contains("0d6e1f2a") && !yaml.contains("last-applied"));
}
