//! `plan` golden cases: `golden/plan/<case>/{old,new}.yaml` through the real binary;
//! `expected.txt` holds the text plan and the exit code (0 safe, 1 refused) on its last line,
//! `expected.json` the `--format json` plan. `UPDATE_GOLDEN=1` rewrites both.

use std::path::Path;

use super::golden::{bin, root};

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn compare(golden: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs (run `UPDATE_GOLDEN=1 cargo test --test it golden` if intended):\n{}",
            golden.display(),
            similar::TextDiff::from_lines(&expected, actual)
                .unified_diff()
                .context_radius(2)
        ));
    }
}

/// The case name and whether its plan must be refused.
const CASES: &[(&str, bool)] = &[
    ("autoscale", false),
    ("cluster-domain-change", true),
    ("config-only", false),
    ("core-count-change", false),
    ("downgrade", true),
    ("emqx-5.0", false),
    ("helm-adopted", false),
    ("helm-takeover", true),
    ("immutable-change", true),
    ("latest-tag", false),
    ("license-5.9", true),
    ("minor-upgrade", false),
    ("operator-2.2-adopted", false),
    ("operator-2.2-owned", true),
    ("operator-2.2-takeover", true),
    ("operator-2.3-adopted", false),
    ("operator-3-adopted", false),
    ("operator-3-owned", true),
    ("oss-replicants", true),
    ("patch-upgrade", false),
    ("replicants-before-cores", true),
    ("scale-down", false),
    ("scale-up", false),
    ("storage-growth", false),
    ("unsupported-path", true),
];

#[test]
fn golden_plans() {
    let dir = root().join("golden/plan");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    on_disk.sort();
    let listed: Vec<String> = CASES.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(on_disk, listed, "every golden/plan case is listed in CASES");
    let mut failures = Vec::new();
    for (case, refused) in CASES {
        let cwd = dir.join(case);
        let out = bin()
            .current_dir(&cwd)
            .args(["plan", "old.yaml", "new.yaml"])
            .output()
            .unwrap();
        let code = out.status.code().unwrap();
        assert_eq!(code, i32::from(*refused), "{case}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(if *refused { "refused[" } else { "result: safe" }),
            "{case}"
        );
        // A refused plan gives no runbook; a safe plan with work to do gives one.
        assert_eq!(stdout.contains("kubectl apply -k"), !*refused, "{case}");
        compare(
            &cwd.join("expected.txt"),
            &format!("{stdout}exit: {code}\n"),
            &mut failures,
        );

        let json = bin()
            .current_dir(&cwd)
            .args(["plan", "--format", "json", "old.yaml", "new.yaml"])
            .output()
            .unwrap();
        assert_eq!(json.status.code(), Some(code));
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(v["safe"], !*refused, "{case}");
        assert_eq!(v["refusals"].as_array().unwrap().is_empty(), !*refused);
        compare(
            &cwd.join("expected.json"),
            &text(&json.stdout),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn phases_come_in_order_with_the_right_checks() {
    let cwd = root().join("golden/plan/patch-upgrade");
    let out = bin()
        .current_dir(&cwd)
        .args(["plan", "--format", "json", "old.yaml", "new.yaml"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phases = v["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2);
    assert_eq!(phases[0]["name"], "core");
    assert_eq!(phases[0]["rollouts"][0]["kind"], "statefulset");
    assert_eq!(phases[0]["rollouts"][0]["version"], "5.8.6");
    assert_eq!(phases[1]["name"], "replicants");
    assert_eq!(phases[1]["rollouts"][0]["kind"], "deployment");
    let t = text(
        &bin()
            .current_dir(&cwd)
            .args(["plan", "old.yaml", "new.yaml"])
            .output()
            .unwrap()
            .stdout,
    );
    // The core check comes before the replicant apply.
    let core_check = t.find("--role core --expect-version 5.8.6").unwrap();
    let replicant_apply = t.find("kubectl apply -k emqx-phases/2-replicants").unwrap();
    let all_check = t.find("--role all --expect-version 5.8.6").unwrap();
    assert!(core_check < replicant_apply && replicant_apply < all_check);
}

#[test]
fn old_may_be_a_phased_render_directory() {
    let d = std::env::temp_dir().join(format!("emqx-render-plan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let case = root().join("golden/plan/patch-upgrade");
    let out = bin()
        .args(["render", "-q", "--layout", "phases", "--output-dir"])
        .arg(&d)
        .arg(case.join("old.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Nothing changed: nothing to apply.
    let same = bin()
        .arg("plan")
        .arg(&d)
        .arg(case.join("old.yaml"))
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert!(text(&same.stdout).contains("nothing to apply"));
    // The upgrade from the committed render.
    let up = bin()
        .arg("plan")
        .arg(&d)
        .arg(case.join("new.yaml"))
        .output()
        .unwrap();
    assert_eq!(up.status.code(), Some(0));
    assert!(
        text(&up.stdout)
            .contains("emqx/emqx-enterprise:5.8.5 (3 pods) -> emqx/emqx-enterprise:5.8.6 (3 pods)")
    );
}

#[test]
fn new_must_be_a_valid_spec() {
    let case = root().join("golden/plan/patch-upgrade");
    let rendered = bin()
        .args(["render", "-q"])
        .arg(case.join("new.yaml"))
        .output()
        .unwrap();
    let f = std::env::temp_dir().join(format!("emqx-render-plan-{}.yaml", std::process::id()));
    std::fs::write(&f, &rendered.stdout).unwrap();
    let out = bin()
        .arg("plan")
        .arg(case.join("old.yaml"))
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("is not an EMQX spec"));
    let bad = root().join("golden/errors/core-replicas-zero.yaml");
    let out = bin()
        .arg("plan")
        .arg(case.join("old.yaml"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("must be at least 1"));
}

/// `adopt` prints the Settings of golden/plan/operator-2.2-adopted (with which that plan is safe
/// and in place, where the same spec without them is refused for data loss), and refuses live
/// objects without a core StatefulSet.
#[test]
fn adopt_writes_the_settings_that_take_over_in_place() {
    let dir = root().join("golden/plan");
    let out = bin()
        .current_dir(&dir)
        .args([
            "adopt",
            "operator-2.2-adopted/old.yaml",
            "scale-up/old.yaml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let settings = text(&out.stdout);
    let committed = std::fs::read_to_string(dir.join("operator-2.2-adopted/new.yaml")).unwrap();
    assert!(
        committed.ends_with(&settings),
        "adopt output changed:\n{settings}"
    );
    assert!(settings.contains("name: emqx-core-779b9f6465"));
    let err = text(&out.stderr);
    assert!(err.contains("takes over StatefulSet emqx-core-779b9f6465 in place"));
    // The runbook, on stderr: each step with its undo.
    for step in [
        "--replicas=0",
        "delete emqx emqx --cascade=orphan",
        "--show-managed-fields | emqx-render adopt --own - | kubectl replace -f -",
        "--force-conflicts",
    ] {
        assert!(err.contains(step), "{step} missing:\n{err}");
    }
    assert_eq!(err.matches("#    Undo:").count(), 5, "{err}");
    let none = bin()
        .current_dir(&dir)
        .args(["adopt", "scale-up/old.yaml"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(
        text(&none.stderr).contains("no core StatefulSet"),
        "{}",
        text(&none.stderr)
    );
}

/// golden/plan/helm-adopted/new.yaml is what `convert --from helm` writes for the release's values
/// (golden/helm/emqx-enterprise-full.yaml), so the safe plan is the import's own.
#[test]
fn the_helm_adopted_plan_takes_the_import_as_it_is() {
    let new = std::fs::read_to_string(root().join("golden/plan/helm-adopted/new.yaml")).unwrap();
    let import =
        std::fs::read_to_string(root().join("golden/helm/emqx-enterprise-full.yaml")).unwrap();
    assert!(
        new.ends_with(&import),
        "regenerate helm-adopted/new.yaml from the import"
    );
}

/// `convert --from helm --live`: a release whose StatefulSet was created with another claim
/// template than its values now give (here 8Gi while the values say 10Gi; a StatefulSet never
/// takes a new claim template) is refused by `plan` when imported from the values alone, and
/// taken over in place when the import reads the StatefulSet as it runs, with a note. With the
/// chart's own objects as LIVE, the import is the values-only one.
#[test]
fn a_helm_import_keeps_the_claim_templates_the_statefulset_runs_with() {
    let dir = std::env::temp_dir().join(format!("emqx-render-helm-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let values = root().join("tests/data/helm/emqx-enterprise-full.yaml");
    let old = std::fs::read_to_string(root().join("golden/plan/helm-adopted/old.yaml")).unwrap();
    assert_eq!(old.matches("storage: \"10Gi\"").count(), 1);
    std::fs::write(
        dir.join("old.yaml"),
        old.replace("storage: \"10Gi\"", "storage: \"8Gi\""),
    )
    .unwrap();
    let import = |live: Option<&Path>| {
        let mut cmd = bin();
        cmd.args([
            "convert",
            "--from",
            "helm",
            "--release",
            "broker",
            "--chart",
        ])
        .args(["emqx-enterprise", "--namespace", "mqtt"])
        .arg(&values);
        if let Some(l) = live {
            cmd.arg("--live").arg(l);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    // As the Helm runbook checks it: in place, with nothing but the apply to run.
    let plan = |spec: &str| {
        std::fs::write(dir.join("new.yaml"), spec).unwrap();
        bin()
            .current_dir(&dir)
            .args(["plan", "--in-place", "old.yaml", "new.yaml"])
            .output()
            .unwrap()
    };
    let (values_only, _) = import(None);
    let refused = plan(&values_only);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stdout).contains("refused[immutable-field]")
            && text(&refused.stdout).contains("ask for larger disks")
            && !text(&refused.stdout).contains("patch pvc"),
        "{}",
        text(&refused.stdout)
    );
    // Planned on its own, the larger disk of the values is a resize, not a takeover.
    let grow = bin()
        .current_dir(&dir)
        .args(["plan", "old.yaml", "new.yaml"])
        .output()
        .unwrap();
    assert_eq!(grow.status.code(), Some(0), "{}", text(&grow.stdout));
    assert!(text(&grow.stdout).contains("patch pvc"));

    let (from_live, notes) = import(Some(&dir.join("old.yaml")));
    assert!(
        notes.contains("runs with other claim templates than these values give")
            && notes.contains("emqx-data 8Gi"),
        "{notes}"
    );
    assert_eq!(from_live.matches("storage: 8Gi").count(), 2, "{from_live}");
    let safe = plan(&from_live);
    assert_eq!(safe.status.code(), Some(0), "{}", text(&safe.stdout));
    assert!(text(&safe.stdout).contains("result: safe"));

    let docs = |s: &str| -> Vec<serde_json::Value> { serde_saphyr::from_multiple(s).unwrap() };
    let (same, notes) = import(Some(&root().join("golden/plan/helm-adopted/old.yaml")));
    assert_eq!(docs(&same), docs(&values_only));
    assert!(!notes.contains("other claim templates"), "{notes}");
    let _ = std::fs::remove_dir_all(&dir);
}
