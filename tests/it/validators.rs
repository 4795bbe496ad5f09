//! Every rendered object of every example passes `kubernetes-validate --strict` for every
//! Kubernetes minor version emqx-render is tested against (1.27 to 1.37). `.ci/run` installs the validator into `.venv-val` and
//! sets EMQX_RENDER_REQUIRE_VALIDATORS=1, so in CI a missing validator is a failure.

use std::path::PathBuf;
use std::process::Command;

use super::golden::{root, yaml_files};

fn validator() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KUBERNETES_VALIDATE") {
        return Some(PathBuf::from(p));
    }
    let venv = root().join(".venv-val/bin/kubernetes-validate");
    venv.exists().then_some(venv)
}

/// The validator, or `None` (with a note) when it is not installed and not required.
pub fn require() -> Option<PathBuf> {
    match validator() {
        Some(v) => Some(v),
        None if std::env::var_os("EMQX_RENDER_REQUIRE_VALIDATORS").is_some() => {
            panic!(
                "kubernetes-validate is not installed: run `bash .ci/run`, or set KUBERNETES_VALIDATE"
            )
        }
        None => {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"note: kubernetes-validate not installed; skipped (bash .ci/run installs it)\n",
            );
            None
        }
    }
}

/// The minor versions the render is validated for: `settings::OLDEST_KUBE` to `NEWEST_KUBE`.
pub fn tested_versions() -> Vec<String> {
    use emqx_render::settings::{NEWEST_KUBE, OLDEST_KUBE};
    (OLDEST_KUBE.minor..=NEWEST_KUBE.minor)
        .map(|m| format!("{}.{m}", OLDEST_KUBE.major))
        .collect()
}

pub fn validate(v: &PathBuf, files: &[PathBuf]) {
    let versions = tested_versions();
    assert_eq!(versions.first().map(String::as_str), Some("1.27"));
    for k in &versions {
        let out = Command::new(v)
            .args(["--strict", "--quiet", "-k", k])
            .args(files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubernetes-validate --strict -k {k} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn rendered_examples_pass_kubernetes_validate_strict() {
    let Some(v) = require() else { return };
    let files = yaml_files(&root().join("golden/examples"));
    assert!(files.len() >= 7);
    validate(&v, &files);
}

/// Runs tests/crd-validate.py (the validator virtualenv's Python) over `files`.
fn crd_validate(files: &[PathBuf]) -> Option<std::process::Output> {
    let v = require()?;
    let python = v.with_file_name("python");
    Some(
        Command::new(python)
            .arg(root().join("tests/crd-validate.py"))
            .args(files)
            .output()
            .unwrap(),
    )
}

#[test]
fn rendered_custom_resources_pass_their_published_schemas() {
    let files = yaml_files(&root().join("golden/examples"));
    let Some(out) = crd_validate(&files) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every custom kind the extras write was among them.
    for kind in ["Certificate", "PodMonitor", "ServiceMonitor"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("ok ") && l.contains(&format!(": {kind} "))),
            "no {kind} was checked:\n{stdout}"
        );
    }
}

#[test]
fn the_custom_resource_check_rejects_an_unknown_field() {
    let dir = std::env::temp_dir().join(format!("emqx-render-crd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: x\nspec:\n  selector: {}\n  podMetricsEndpoints:\n  - port: dashboard\n    basicAuth:\n      username: {name: s, key: k, kee: apiKey}\n",
    )
    .unwrap();
    let Some(out) = crd_validate(&[bad]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("basicAuth.username.kee"), "{stdout}");
}
