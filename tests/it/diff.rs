//! `diff` golden cases: `golden/diff/<case>/{old,new}.yaml` compared through the real binary;
//! `expected.out` holds stdout and the exit code (0 same, 1 different) on its last line.

use super::golden::{bin, root};

#[test]
fn golden_diffs() {
    let dir = root().join("golden/diff");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 7);
    let mut failures = Vec::new();
    for case in cases {
        let out = bin()
            .current_dir(&case)
            .args(["diff", "--color", "never", "old.yaml", "new.yaml"])
            .output()
            .unwrap();
        let actual = format!(
            "{}exit: {}\n",
            String::from_utf8(out.stdout).unwrap(),
            out.status.code().unwrap()
        );
        let golden = case.join("expected.out");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{} differs:\n{}",
                golden.display(),
                similar::TextDiff::from_lines(&expected, &actual)
                    .unified_diff()
                    .context_radius(2)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn check_tells_whether_a_committed_render_is_current() {
    let d = std::env::temp_dir().join(format!("emqx-render-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let spec = root().join("golden/diff/identical/old.yaml");
    let out = bin()
        .args(["render", "-q", "--output-dir"])
        .arg(&d)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success());
    let check = |spec: &std::path::Path| {
        bin()
            .args(["render", "-q", "--check"])
            .arg(&d)
            .arg(spec)
            .output()
            .unwrap()
    };
    let ok = check(&spec);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stale = check(&root().join("golden/diff/image-upgrade/new.yaml"));
    assert_eq!(stale.status.code(), Some(1));
    let text = String::from_utf8(stale.stdout).unwrap();
    assert!(
        text.contains("+        image: emqx/emqx-enterprise:5.8.6"),
        "{text}"
    );
    std::fs::write(d.join("stray.yaml"), "x: 1\n").unwrap();
    let extra = check(&spec);
    assert_eq!(extra.status.code(), Some(1));
    assert!(
        String::from_utf8(extra.stdout)
            .unwrap()
            .contains("extra: stray.yaml")
    );
}
