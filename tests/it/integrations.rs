//! The integrations with the real tools: kpt (`fn eval --exec`, `fn render --allow-exec`),
//! `kubectl kustomize` with the legacy exec generator, and the Argo CD plugin's generate and
//! discover commands run in an emulated sidecar environment (`env -i` plus Argo CD's variables).
//! kpt and kubectl come with the project's machines; when absent the tests fail in CI
//! (EMQX_RENDER_REQUIRE_VALIDATORS) and are skipped with a note elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::golden::root;

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_emqx-render"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// PATH with our binary first, then the system's.
fn path_with_bin() -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir().display())
}

fn tool(name: &str) -> Option<PathBuf> {
    let found = ["/usr/local/bin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("EMQX_RENDER_REQUIRE_VALIDATORS").is_none(),
            "{name} is not installed on this machine"
        );
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("note: {name} not installed; skipped\n").as_bytes(),
        );
    }
    found
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("emqx-render-int-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn kinds(out: &Output) -> Vec<String> {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// `kpt fn eval . --exec "emqx-render krm" --fn-config CONFIG -o unwrap` in `pkg`.
fn kpt_eval(kpt: &Path, pkg: &Path, config: &Path) -> Output {
    Command::new(kpt)
        .args([
            "fn",
            "eval",
            ".",
            "--exec",
            "emqx-render krm",
            "--fn-config",
        ])
        .arg(config)
        .args(["-o", "unwrap"])
        .current_dir(pkg)
        .env("PATH", path_with_bin())
        .output()
        .unwrap()
}

#[test]
fn kpt_fn_eval_runs_the_krm_function() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch("kpt-eval");
    copy_dir(&root().join("examples/kustomize/kpt"), &pkg);
    let out = kpt_eval(&kpt, &pkg, Path::new("emqx.yaml"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!out.stdout.is_empty(), "kpt printed nothing");
    let k = kinds(&out);
    for want in ["ConfigMap", "Deployment", "EMQX", "Service", "StatefulSet"] {
        assert!(k.iter().any(|x| x == want), "{want} missing in {k:?}");
    }
    assert_eq!(k.iter().filter(|x| *x == "Service").count(), 3);
    // A bad spec fails the function with its message as a result.
    let spec = std::fs::read_to_string(pkg.join("emqx.yaml")).unwrap();
    std::fs::write(
        pkg.join("emqx.yaml"),
        spec.replace("replicas: 2", "replicas: -2"),
    )
    .unwrap();
    let out = kpt_eval(&kpt, &pkg, Path::new("emqx.yaml"));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("spec.replicantTemplate.spec.replicas: must be at least 0, got -2"),
        "{}",
        text(&out.stderr)
    );
}

/// A Settings document as the functionConfig: the EMQX resources among the items render with
/// its extras (kpt needs `metadata.name` on it).
#[test]
fn kpt_fn_eval_takes_a_settings_function_config() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch("kpt-settings");
    copy_dir(&root().join("examples/kustomize/kpt"), &pkg);
    let config = pkg.with_extension("settings.yaml");
    std::fs::write(
        &config,
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nmetadata:\n  name: emqx-extras\nmonitoring:\n  interval: 15s\ningress:\n  dashboard:\n    hosts: [emqx.example.com]\n",
    )
    .unwrap();
    let out = kpt_eval(&kpt, &pkg, &config);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let k = kinds(&out);
    for want in ["EMQX", "StatefulSet", "PodMonitor", "Ingress"] {
        assert!(k.iter().any(|x| x == want), "{want} missing in {k:?}");
    }
}

#[test]
fn kpt_fn_render_runs_the_package_pipeline() {
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch("kpt-render");
    copy_dir(&root().join("examples/kustomize/kpt"), &pkg);
    let out = Command::new(&kpt)
        .args(["fn", "render", ".", "--allow-exec", "-o", "unwrap"])
        .current_dir(&pkg)
        .env("PATH", path_with_bin())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let k = kinds(&out);
    assert!(k.iter().any(|x| x == "StatefulSet"), "{k:?}");
    assert!(k.iter().any(|x| x == "Deployment"), "{k:?}");
}

#[test]
fn kubectl_kustomize_runs_the_legacy_exec_generator() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let dir = scratch("legacy");
    copy_dir(&root().join("examples/kustomize/legacy"), &dir);
    let out = Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins", "."])
        .current_dir(&dir)
        .env("PATH", path_with_bin())
        .env("KUSTOMIZE_PLUGIN_HOME", dir.join("plugins"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // kubectl exits 0 with empty output when a flag is missing: insist on objects.
    assert!(!out.stdout.is_empty(), "kubectl kustomize printed nothing");
    let k = kinds(&out);
    assert_eq!(
        k,
        [
            "ConfigMap",
            "Deployment",
            "Service",
            "Service",
            "Service",
            "StatefulSet"
        ]
    );
    if let Some(v) = super::validators::require() {
        let f = dir.join("out.yaml");
        std::fs::write(&f, &out.stdout).unwrap();
        super::validators::validate(&v, &[f]);
    }
}

/// The generate (or discover) command of examples/argocd/plugin.yaml, run in a copy of the app
/// directory with only the variables Argo CD sets.
fn argocd(section: &str, app: &Path, extra: &[(&str, &str)]) -> Output {
    let plugin = std::fs::read_to_string(root().join("examples/argocd/plugin.yaml")).unwrap();
    let doc = emqx_render::yaml::load(&plugin)
        .unwrap()
        .remove(0)
        .to_json();
    let spec = &doc["spec"][section];
    let spec = if section == "discover" {
        &spec["find"]
    } else {
        spec
    };
    let mut argv: Vec<String> = spec["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    argv.extend(
        spec["args"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap().to_string()),
    );
    let home = scratch("argocd-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new("/usr/bin/env");
    cmd.arg("-i")
        .arg(format!("PATH={}", path_with_bin()))
        .arg(format!("HOME={}", home.display()))
        .args([
            "ARGOCD_APP_NAME=emqx",
            "ARGOCD_APP_NAMESPACE=mqtt",
            "ARGOCD_APP_PROJECT_NAME=default",
            "ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567",
            "ARGOCD_APP_REVISION_SHORT=0123456",
            "ARGOCD_APP_REVISION_SHORT_8=01234567",
            "ARGOCD_APP_SOURCE_PATH=emqx",
            "ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/platform/deploy.git",
            "ARGOCD_APP_SOURCE_TARGET_REVISION=main",
            "KUBE_VERSION=1.34.2",
            "KUBE_API_VERSIONS=apps/v1,apps/v1/Deployment,apps/v1/StatefulSet,policy/v1,v1,v1/ConfigMap,v1/Service",
        ])
        .args(extra.iter().map(|(k, v)| format!("{k}={v}")))
        .args(&argv)
        .current_dir(app);
    cmd.output().unwrap()
}

/// Argo CD sets KUBE_VERSION to the destination cluster's version: the plugin renders for
/// every tested minor version, old and new, the same objects (none of the fields emqx-render
/// writes differs between 1.27 and 1.37; `validators` checks them against each version's
/// schema), and for a cluster newer than the tested ones too (the plugin runs `--quiet`: its
/// warning is `cli::untested_kubernetes_versions_render_with_a_warning`'s).
#[test]
fn argocd_plugin_renders_for_the_clusters_kubernetes_version() {
    let app = scratch("argocd-app-kube");
    copy_dir(&root().join("examples/argocd/app"), &app);
    let mut first: Option<Vec<u8>> = None;
    for v in ["v1.27.16", "1.30.4", "v1.32.1-eks-5e0fdde", "1.37.0"] {
        let out = argocd("generate", &app, &[("KUBE_VERSION", v)]);
        assert!(out.status.success(), "{v}: {}", text(&out.stderr));
        assert!(!out.stdout.is_empty(), "{v}");
        match &first {
            None => first = Some(out.stdout),
            Some(f) => assert_eq!(&out.stdout, f, "{v}"),
        }
    }
    let out = argocd("generate", &app, &[("KUBE_VERSION", "1.38.0")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(Some(out.stdout), first);
    // A version too old for the objects' APIs fails the generate, with nothing on stdout.
    let out = argocd("generate", &app, &[("KUBE_VERSION", "v1.20.15")]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("KUBE_VERSION: Kubernetes 1.20 is not supported"),
        "{}",
        text(&out.stderr)
    );
}

/// The plugin parameter `platform`: openshift leaves the fixed ids out.
#[test]
fn argocd_plugin_takes_the_platform_parameter() {
    let app = scratch("argocd-app-platform");
    copy_dir(&root().join("examples/argocd/app"), &app);
    let plain = argocd("generate", &app, &[]);
    assert!(text(&plain.stdout).contains("runAsUser: 1000"));
    let out = argocd("generate", &app, &[("PARAM_PLATFORM", "openshift")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("runAsUser"));
    assert!(text(&out.stdout).contains("runAsNonRoot: true"));
}

#[test]
fn argocd_plugin_generates_manifests_in_the_sidecar_environment() {
    let app = scratch("argocd-app");
    copy_dir(&root().join("examples/argocd/app"), &app);
    let found = argocd("discover", &app, &[]);
    assert!(found.status.success());
    assert_eq!(text(&found.stdout).trim(), "emqx.yaml");
    let out = argocd(
        "generate",
        &app,
        &[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"kubernetes-version","string":"1.34"}]"#,
            ),
            ("PARAM_KUBERNETES_VERSION", "1.34"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let docs = emqx_render::yaml::load(&text(&out.stdout)).unwrap();
    assert_eq!(docs.len(), 6);
    for d in &docs {
        let v = d.to_json();
        assert!(
            v["apiVersion"].is_string()
                && v["kind"].is_string()
                && v["metadata"]["name"].is_string()
        );
        // The spec names no namespace: the Application's destination is used.
        assert_eq!(v["metadata"]["namespace"], "mqtt");
    }
    assert!(text(&out.stdout).contains("value: emqx-headless.mqtt.svc.cluster.local"));
    // Waves: shared objects first, then the cores, then the replicants.
    let waves: Vec<(String, String)> = docs
        .iter()
        .map(|d| {
            let v = d.to_json();
            (
                v["kind"].as_str().unwrap().to_string(),
                v["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    for (kind, wave) in &waves {
        let want = match kind.as_str() {
            "StatefulSet" => "1",
            "Deployment" => "2",
            _ => "0",
        };
        assert_eq!(wave, want, "{kind}");
    }
    assert!(waves.iter().any(|(k, _)| k == "Deployment"));

    // The plugin parameter switches them off.
    let off = argocd("generate", &app, &[("PARAM_SYNC_WAVES", "false")]);
    assert!(off.status.success(), "{}", text(&off.stderr));
    assert!(!text(&off.stdout).contains("sync-wave"));
    let bad = argocd("generate", &app, &[("PARAM_SYNC_WAVES", "maybe")]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(bad.stdout.is_empty());
    assert!(text(&bad.stderr).contains("`maybe` is not true or false"));

    // The `settings` parameter carries a whole Settings document: here a PodMonitor.
    let extras = argocd(
        "generate",
        &app,
        &[(
            "PARAM_SETTINGS",
            "apiVersion: emqx-render/v1alpha1\nkind: Settings\nmonitoring:\n  interval: 15s\n",
        )],
    );
    assert!(extras.status.success(), "{}", text(&extras.stderr));
    assert!(text(&extras.stdout).contains("kind: PodMonitor"));
}

#[test]
fn argocd_plugin_prints_nothing_on_stdout_when_the_render_fails() {
    let app = scratch("argocd-bad");
    copy_dir(&root().join("examples/argocd/app"), &app);
    let spec = std::fs::read_to_string(app.join("emqx.yaml")).unwrap();
    std::fs::write(
        app.join("emqx.yaml"),
        spec.replace(
            "replicas: 3\n  replicantTemplate",
            "replicas: 0\n  replicantTemplate",
        ),
    )
    .unwrap();
    let out = argocd("generate", &app, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty, Argo CD would prune everything"
    );
    assert!(
        text(&out.stderr).contains("spec.coreTemplate.spec.replicas: must be at least 1, got 0"),
        "{}",
        text(&out.stderr)
    );
    // An unsupported cluster version is an error too, never an empty success.
    let app2 = scratch("argocd-old");
    copy_dir(&root().join("examples/argocd/app"), &app2);
    let out = argocd("generate", &app2, &[("PARAM_KUBERNETES_VERSION", "1.20")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

/// Every example in the phased layout: each phase directory builds with `kubectl kustomize`,
/// its objects pass `kubernetes-validate --strict`, and `flux.yaml` holds a Flux v1
/// Kustomization per phase, the replicant one depending on the core one, both waiting.
#[test]
fn flux_phases_build_with_kubectl_kustomize_and_validate() {
    let kubectl = tool("kubectl");
    let validator = super::validators::require();
    let examples = super::golden::yaml_files(&root().join("examples"));
    assert!(examples.len() >= 7);
    let mut built_files = Vec::new();
    for ex in &examples {
        let stem = ex.file_stem().unwrap().to_string_lossy().to_string();
        let out_dir = scratch(&format!("phases-{stem}"));
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = super::golden::bin()
            .args([
                "render",
                "-q",
                "--layout",
                "phases",
                "--flux-path",
                "./emqx",
                "--output-dir",
            ])
            .arg(&out_dir)
            .arg(ex)
            .output()
            .unwrap();
        assert!(out.status.success(), "{stem}: {}", text(&out.stderr));

        let flux = std::fs::read_to_string(out_dir.join("flux.yaml")).unwrap();
        let ks: Vec<serde_json::Value> = emqx_render::yaml::load(&flux)
            .unwrap()
            .iter()
            .map(|d| d.to_json())
            .collect();
        let has_replicants = out_dir.join("2-replicants").exists();
        assert_eq!(ks.len(), if has_replicants { 2 } else { 1 }, "{stem}");
        for k in &ks {
            assert_eq!(k["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
            assert_eq!(k["kind"], "Kustomization");
            assert_eq!(k["spec"]["wait"], true);
            assert_eq!(k["spec"]["prune"], true);
            assert_eq!(k["spec"]["sourceRef"]["kind"], "GitRepository");
            let minutes: u32 = k["spec"]["timeout"]
                .as_str()
                .unwrap()
                .strip_suffix('m')
                .unwrap()
                .parse()
                .unwrap();
            assert!(minutes >= 5, "{stem}: {minutes}");
            let path = k["spec"]["path"].as_str().unwrap();
            let phase = path.strip_prefix("./emqx/").unwrap();
            assert!(out_dir.join(phase).join("kustomization.yaml").exists());
        }
        assert!(ks[0]["spec"].get("dependsOn").is_none());
        if has_replicants {
            assert_eq!(
                ks[1]["spec"]["dependsOn"][0]["name"],
                ks[0]["metadata"]["name"]
            );
        }

        for phase in ["1-core", "2-replicants"] {
            let dir = out_dir.join(phase);
            if !dir.exists() {
                continue;
            }
            let Some(kubectl) = &kubectl else { continue };
            let built = Command::new(kubectl)
                .args(["kustomize"])
                .arg(&dir)
                .output()
                .unwrap();
            assert!(
                built.status.success(),
                "{stem}/{phase}: {}",
                text(&built.stderr)
            );
            let k = kinds(&built);
            assert!(
                !k.is_empty(),
                "{stem}/{phase}: kubectl kustomize printed nothing"
            );
            if phase == "2-replicants" {
                assert!(
                    k.iter().all(|k| matches!(
                        k.as_str(),
                        "Deployment" | "PodDisruptionBudget" | "HorizontalPodAutoscaler"
                    )),
                    "{k:?}"
                );
            } else {
                assert!(k.contains(&"StatefulSet".to_string()));
                assert!(!k.contains(&"Deployment".to_string()), "{stem}: {k:?}");
            }
            let f = out_dir.join(format!("{phase}.built.yaml"));
            std::fs::write(&f, &built.stdout).unwrap();
            built_files.push(f);
        }
    }
    // Once over every phase of every example: the validator runs per Kubernetes version.
    if let Some(v) = &validator {
        super::validators::validate(v, &built_files);
    }
}

/// Settings `patches` in each channel: the Argo CD plugin parameter `settings`, a kpt KRM
/// functionConfig, and `render --settings` (the CLI); the same patch gives the same field.
#[test]
fn patches_apply_in_every_channel() {
    let settings = "patches:\n  - target: {kind: StatefulSet, name: emqx-core}\n    patch:\n      spec:\n        template:\n          spec:\n            priorityClassName: mqtt-critical\n";
    let app = scratch("argocd-app-patches");
    copy_dir(&root().join("examples/argocd/app"), &app);
    let out = argocd("generate", &app, &[("PARAM_SETTINGS", settings)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("priorityClassName: mqtt-critical"));
    // A misspelt field fails the generate, with nothing on stdout.
    let typo = settings.replace("priorityClassName", "priorityClasName");
    let out = argocd("generate", &app, &[("PARAM_SETTINGS", &typo)]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("did you mean `priorityClassName`?"),
        "{}",
        text(&out.stderr)
    );
    let dir = scratch("patches-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("settings.yaml");
    std::fs::write(&file, settings).unwrap();
    let out = super::golden::bin()
        .args([
            "render",
            "-q",
            "examples/production-v2beta1.yaml",
            "--settings",
        ])
        .arg(&file)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("priorityClassName: mqtt-critical"));
    let Some(kpt) = tool("kpt") else { return };
    let pkg = scratch("kpt-patches");
    copy_dir(&root().join("examples/kustomize/kpt"), &pkg);
    let config = pkg.with_extension("patches.yaml");
    std::fs::write(
        &config,
        format!("apiVersion: emqx-render/v1alpha1\nkind: Settings\nmetadata:\n  name: emqx-patches\n{settings}"),
    )
    .unwrap();
    let out = kpt_eval(&kpt, &pkg, &config);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("priorityClassName: mqtt-critical"));
}
