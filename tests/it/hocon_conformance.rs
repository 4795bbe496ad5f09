//! Walks every case in `tests/data/hocon-conformance/cases/` and compares our reader with the
//! answer EMQX's own parser gave for it.

use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hocon-conformance/cases")
}

#[test]
fn every_conformance_case_matches_emqx() {
    let dir = cases_dir();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "expected"))
        .filter(|p| PathBuf::from(format!("{}.expected", p.display())).exists())
        // The include targets of snippet-24 (`included.conf`, `snippet-included.conf`) are not
        // cases of their own: the reference run recorded no answer for them.
        .filter(|p| !p.ends_with("snippet-included.conf"))
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 140,
        "expected the full corpus, found {}",
        inputs.len()
    );
    let mut failures = Vec::new();
    for input in &inputs {
        let expected_path = PathBuf::from(format!("{}.expected", input.display()));
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        let text = std::fs::read_to_string(input).unwrap();
        let resolver = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
        let got = emqx_render::hocon::parse_with_includes(&text, Some(&resolver));
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        if let Some(err_line) = expected.strip_prefix("ERROR: ") {
            let want_line = err_line
                .split("line => ")
                .nth(1)
                .or_else(|| err_line.split("at_line ").nth(1))
                .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap();
            match got {
                Ok(_) => failures.push(format!(
                    "{name}: accepted, EMQX rejects at line {want_line}"
                )),
                Err(e) if e.pos.line != want_line => failures.push(format!(
                    "{name}: rejected at line {} ({}), EMQX at line {want_line}",
                    e.pos.line, e.message
                )),
                Err(_) => {}
            }
            continue;
        }
        match got {
            Err(e) => failures.push(format!("{name}: rejected: {e}")),
            Ok(obj) => {
                let mut mine = emqx_render::hocon::flatten(&obj);
                mine.sort();
                let mut want: Vec<String> = expected.lines().map(str::to_string).collect();
                want.sort();
                if mine != want {
                    let missing: Vec<_> =
                        want.iter().filter(|l| !mine.contains(l)).take(3).collect();
                    let extra: Vec<_> = mine.iter().filter(|l| !want.contains(l)).take(3).collect();
                    failures.push(format!(
                        "{name}: differs; missing {missing:?}; extra {extra:?}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

/// HOCON → `config.roots` → rendered roots (what Operator 3.x writes) → HOCON gives the same
/// values back for every case EMQX accepts.
#[test]
fn every_accepted_case_survives_the_roots_round_trip() {
    use emqx_render::model::config::{render_roots, roots_from_hocon};
    let dir = cases_dir();
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let input = entry.unwrap().path();
        let expected = PathBuf::from(format!("{}.expected", input.display()));
        let Ok(expected) = std::fs::read_to_string(&expected) else {
            continue;
        };
        if expected.starts_with("ERROR") || input.ends_with("snippet-included.conf") {
            continue;
        }
        let text = std::fs::read_to_string(&input).unwrap();
        let resolver = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
        let original = emqx_render::hocon::parse_with_includes(&text, Some(&resolver)).unwrap();
        let rendered = render_roots(&roots_from_hocon(&original));
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        match emqx_render::hocon::parse(&rendered) {
            Ok(back) => {
                let mut a = emqx_render::hocon::flatten(&original);
                let mut b = emqx_render::hocon::flatten(&back);
                a.sort();
                b.sort();
                if a != b {
                    let diff: Vec<_> = a.iter().filter(|l| !b.contains(l)).take(3).collect();
                    failures.push(format!("{name}: {diff:?}"));
                }
            }
            Err(e) => failures.push(format!("{name}: rendered roots do not parse: {e}")),
        }
        checked += 1;
    }
    assert!(checked >= 130, "only {checked} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
