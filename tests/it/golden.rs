//! Golden files: every example in `examples/` renders to `golden/examples/<name>.yaml` (stdout)
//! and `golden/examples/<name>.stderr` (warnings); every invalid spec in `golden/errors/`
//! fails with exit 1, nothing on stdout and the message in `golden/errors/<name>.err`.
//! `UPDATE_GOLDEN=1 cargo test --test it golden` rewrites them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_emqx-render"));
    c.env_remove("RUST_BACKTRACE");
    c
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some()
}

pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

/// Compares `actual` with the golden file, or rewrites it under UPDATE_GOLDEN.
fn check(golden: &Path, actual: &str, failures: &mut Vec<String>) {
    if updating() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(golden, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .context_radius(2)
            .header(&golden.display().to_string(), "actual")
            .to_string();
        failures.push(format!(
            "{} differs (run `UPDATE_GOLDEN=1 cargo test --test it golden` if intended):\n{diff}",
            golden.display()
        ));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// Runs the binary with `input` on standard input.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A Service's ports as sorted `name:port/protocol` entries.
pub fn service_ports(svc: &serde_json::Value) -> Vec<String> {
    let mut p: Vec<String> = svc["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}:{}/{}",
                p["name"].as_str().unwrap(),
                p["port"],
                p["protocol"].as_str().unwrap()
            )
        })
        .collect();
    p.sort();
    p
}

/// The port numbers of a NetworkPolicy rule.
pub fn rule_ports(rule: &serde_json::Value) -> Vec<i64> {
    rule["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_i64().unwrap())
        .collect()
}

pub fn render(cwd: &Path, args: &[&str]) -> Output {
    bin().current_dir(cwd).args(args).output().unwrap()
}

#[test]
fn golden_examples_render_as_recorded() {
    let root = root();
    let examples = yaml_files(&root.join("examples"));
    assert!(examples.len() >= 7, "examples/ is missing cases");
    let mut failures = Vec::new();
    for ex in &examples {
        let stem = ex.file_stem().unwrap().to_string_lossy().to_string();
        let rel = format!("examples/{stem}.yaml");
        let out = render(&root, &["render", &rel]);
        assert!(out.status.success(), "{rel} failed:\n{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("---\n"), "{rel}: no manifests on stdout");
        check(
            &root.join(format!("golden/examples/{stem}.yaml")),
            &stdout,
            &mut failures,
        );
        check(
            &root.join(format!("golden/examples/{stem}.stderr")),
            &text(&out.stderr),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `images` of every example, recorded as JSON under golden/images; the plain listing is
/// exactly the set of `image:` values in the example's recorded render (every container, each once).
#[test]
fn golden_images_list_every_image_of_the_render() {
    let root = root();
    let mut failures = Vec::new();
    for ex in &yaml_files(&root.join("examples")) {
        let stem = ex.file_stem().unwrap().to_string_lossy().to_string();
        let rel = format!("examples/{stem}.yaml");
        let json = render(&root, &["images", "--format", "json", &rel]);
        assert!(json.status.success(), "{rel}: {}", text(&json.stderr));
        check(
            &root.join(format!("golden/images/{stem}.json")),
            &text(&json.stdout),
            &mut failures,
        );
        let plain = render(&root, &["images", &rel]);
        assert!(plain.status.success(), "{rel}: {}", text(&plain.stderr));
        let rendered = std::fs::read_to_string(root.join(format!("golden/examples/{stem}.yaml")))
            .unwrap_or_default();
        let mut used: Vec<&str> = rendered
            .lines()
            .filter_map(|l| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .strip_prefix("image: ")
            })
            .collect();
        used.sort_unstable();
        used.dedup();
        let listed = text(&plain.stdout);
        assert_eq!(listed.lines().collect::<Vec<_>>(), used, "{rel}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The phased (Flux) layout of the production example, committed under golden/phases and
/// compared with `render --check --layout phases` (rewritten with `--output-dir` under UPDATE_GOLDEN).
#[test]
fn golden_phases_layout_is_recorded() {
    let root = root();
    let args = |mode: &str| {
        vec![
            "render".to_string(),
            "-q".into(),
            "--layout".into(),
            "phases".into(),
            "--flux-path".into(),
            "./clusters/prod/emqx".into(),
            mode.into(),
            "golden/phases/production-v2beta1".into(),
            "examples/production-v2beta1.yaml".into(),
        ]
    };
    let mode = if updating() {
        "--output-dir"
    } else {
        "--check"
    };
    let a = args(mode);
    let out = bin().current_dir(&root).args(&a).output().unwrap();
    assert!(
        out.status.success(),
        "golden/phases/production-v2beta1 differs (run `UPDATE_GOLDEN=1 cargo test --test it golden` if intended):\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let flux =
        std::fs::read_to_string(root.join("golden/phases/production-v2beta1/flux.yaml")).unwrap();
    assert!(flux.contains("dependsOn:\n  - name: emqx-core"), "{flux}");
}

#[test]
fn golden_errors_fail_with_recorded_messages() {
    let dir = root().join("golden/errors");
    let cases = yaml_files(&dir);
    assert!(
        cases.len() >= 25,
        "expected at least 25 error cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let out = render(&dir, &["render", &name]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: exit code\n{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{name}: wrote to stdout on error");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("--> {name}:")),
            "{name}: no file:line:column in\n{stderr}"
        );
        let golden = case.with_extension("err");
        check(&golden, &stderr, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every spec in golden/warnings renders (exit 0) with the warnings recorded in its .stderr, each
/// naming file, line and column.
#[test]
fn golden_warnings_are_recorded() {
    let dir = root().join("golden/warnings");
    let cases = yaml_files(&dir);
    assert!(cases.len() >= 2, "{cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let out = render(&dir, &["render", &name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("warning["), "{name}: no warning:\n{stderr}");
        assert!(
            stderr.contains(&format!("--> {name}:")),
            "{name}: no file:line:column in\n{stderr}"
        );
        check(&case.with_extension("stderr"), &stderr, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `convert --from helm` of every values file in tests/data/helm (the chart by the file's name)
/// writes golden/helm/<name>.yaml and .stderr, whose render succeeds; no value set as secret in
/// the values appears anywhere; every values file of golden/helm/errors fails with exit 2 and
/// the message in its .err, naming file, line and column.
#[test]
fn golden_helm_imports_as_recorded() {
    let data = root().join("tests/data/helm");
    let dir = root().join("golden/helm");
    let mut failures = Vec::new();
    let cases: Vec<PathBuf> = yaml_files(&data)
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("release-")
        })
        .collect();
    assert!(cases.len() >= 3, "{cases:?}");
    for case in &cases {
        let stem = case.file_stem().unwrap().to_string_lossy().to_string();
        let chart = if stem.starts_with("emqx-enterprise") {
            "emqx-enterprise"
        } else {
            "emqx"
        };
        let out = render(
            &data,
            &[
                "convert",
                "--from",
                "helm",
                &format!("{stem}.yaml"),
                "--release",
                "broker",
                "--chart",
                chart,
                "--namespace",
                "mqtt",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{stem}: {}", text(&out.stderr));
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        check(&dir.join(format!("{stem}.yaml")), &stdout, &mut failures);
        check(&dir.join(format!("{stem}.stderr")), &stderr, &mut failures);
        let rendered = run_with_stdin(&["render", "-"], stdout.as_bytes());
        assert_eq!(
            rendered.status.code(),
            Some(0),
            "{stem}: {}",
            text(&rendered.stderr)
        );
        for t in [
            &stdout,
            &stderr,
            &text(&rendered.stdout),
            &text(&rendered.stderr),
        ] {
            assert!(
                !t.contains("not-in-the-output"),
                "{stem}: a secret value of the values is in the output"
            );
        }
    }
    let errors = dir.join("errors");
    let bad = yaml_files(&errors);
    assert!(bad.len() >= 5, "{bad:?}");
    for case in &bad {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let out = render(
            &errors,
            &[
                "convert",
                "--from",
                "helm",
                &name,
                "--release",
                "broker",
                "--namespace",
                "mqtt",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{name}: wrote to stdout on error");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("--> {name}:")),
            "{name}: no file:line:column in\n{stderr}"
        );
        assert!(
            !stderr.contains("secret-licence-text"),
            "{name}: the licence key is in the message"
        );
        check(&case.with_extension("err"), &stderr, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
/// Same bytes on every run, whatever the environment: time zone, locale (Turkish folds `i`
/// differently), working directory, an empty environment. Across machines, the committed
/// goldens are the proof: CI renders them again on a clean clone elsewhere.
fn same_input_gives_same_bytes() {
    let root = root();
    let elsewhere = std::env::temp_dir().join(format!("emqx-render-det-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&elsewhere);
    std::fs::create_dir_all(&elsewhere).unwrap();
    for ex in yaml_files(&root.join("examples")) {
        let rel = ex
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let a = render(&root, &["render", "-q", &rel]);
        assert!(a.status.success());
        let again = render(&root, &["render", "-q", &rel]);
        assert_eq!(a.stdout, again.stdout, "{rel}: two runs differ");
        let b = bin()
            .current_dir(&root)
            .args(["render", "-q", &rel])
            .env("TZ", "Pacific/Chatham")
            .env("LC_ALL", "tr_TR.UTF-8")
            .env("LANG", "tr_TR.UTF-8")
            .output()
            .unwrap();
        assert_eq!(
            a.stdout, b.stdout,
            "{rel} rendered differently with TZ/LC_ALL"
        );
        // A copy of the spec in another directory, with nothing in the environment.
        let copy = elsewhere.join(ex.file_name().unwrap());
        std::fs::copy(&ex, &copy).unwrap();
        let c = bin()
            .current_dir(&elsewhere)
            .env_clear()
            .args(["render", "-q"])
            .arg(copy.file_name().unwrap())
            .output()
            .unwrap();
        assert_eq!(a.stdout, c.stdout, "{rel} rendered differently elsewhere");
        // The whole manifest is covered: the golden file holds exactly these bytes.
        let golden =
            std::fs::read(root.join("golden/examples").join(ex.file_name().unwrap())).unwrap();
        assert_eq!(a.stdout, golden, "{rel}: differs from its golden");
    }
}
