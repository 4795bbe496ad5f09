//! Hostile input: arbitrary and mutated text through the YAML reader, the HOCON reader and the
//! whole render never panics and ends with a result (bounded by the case count, not a timer);
//! huge, deep and odd inputs get an error or a render, never a crash.

use proptest::prelude::*;

use emqx_render::compile::compile;
use emqx_render::input::Source;
use emqx_render::settings::Overrides;

use super::golden::{root, yaml_files};

fn examples() -> Vec<String> {
    yaml_files(&root().join("examples"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn run(text: String) -> Result<String, usize> {
    let src = Source {
        name: "hostile.yaml".into(),
        text,
    };
    match compile(&[src], &Overrides::default()) {
        Ok(c) => Ok(emqx_render::output::to_yaml(&c.manifest).unwrap()),
        Err(d) => {
            assert!(d.has_errors(), "a failed render reports an error");
            Err(d.0.len())
        }
    }
}

/// One edit: 0 delete a span, 1 insert text, 2 duplicate a line, 3 swap two lines.
fn mutate(text: &str, edits: &[(u8, usize, usize, String)]) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for (op, a, b, ins) in edits {
        if s.is_empty() {
            break;
        }
        let i = a % s.len();
        match op % 4 {
            0 => {
                let end = (i + b % 16).min(s.len());
                s.drain(i..end);
            }
            1 => {
                for (k, c) in ins.chars().enumerate() {
                    s.insert(i + k, c);
                }
            }
            _ => {
                let text: String = s.iter().collect();
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                if lines.len() > 1 {
                    let x = a % lines.len();
                    let y = b % lines.len();
                    if op % 4 == 2 {
                        let l = lines[x].clone();
                        lines.insert(y, l);
                    } else {
                        lines.swap(x, y);
                    }
                }
                s = (lines.join("\n") + "\n").chars().collect();
            }
        }
    }
    s.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn yaml_reader_takes_any_text(s in any::<String>()) {
        let _ = emqx_render::yaml::load(&s);
    }

    #[test]
    fn yaml_reader_takes_yaml_like_text(s in "[ a-z0-9:\\-\\[\\]{}&*!|>'\"#%@`,?\n\t]{0,300}") {
        let _ = emqx_render::yaml::load(&s);
    }

    #[test]
    fn hocon_reader_takes_any_text(s in any::<String>()) {
        let _ = emqx_render::hocon::parse(&s);
    }

    #[test]
    fn hocon_reader_takes_hocon_like_text(s in "[ a-z0-9._=:{}\\[\\]\"$,#/+\\-\n]{0,300}") {
        let _ = emqx_render::hocon::parse(&s);
    }

    #[test]
    fn mutated_examples_render_or_fail_with_errors(
        pick in any::<usize>(),
        edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), "[ -~\n]{0,6}"), 1..5),
    ) {
        let all = examples();
        let text = mutate(&all[pick % all.len()], &edits);
        if let Ok(yaml) = run(text) {
            // What renders is YAML we can read back.
            prop_assert!(emqx_render::yaml::load(&yaml).is_ok());
        }
    }
}

#[test]
fn a_ten_megabyte_file_renders() {
    let base = std::fs::read_to_string(root().join("examples/production-v2beta1.yaml")).unwrap();
    let mut text = String::with_capacity(11 << 20);
    while text.len() < 10 << 20 {
        text.push_str(
            "# padding: a long comment line that a generator might leave behind in a file\n",
        );
    }
    text.push_str(&base);
    assert!(run(text).is_ok_and(|y| y.contains("kind: StatefulSet")));
}

#[test]
fn a_megabyte_string_in_the_config_renders_byte_for_byte() {
    let long = "x".repeat(1 << 20);
    let text = format!(
        "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx-enterprise:5.8.6\n  config:\n    data: |\n      node.comment = \"{long}\"\n"
    );
    let out = run(text).unwrap();
    assert!(out.contains(&long));
}

#[test]
fn long_names_and_deep_hocon_are_errors_not_crashes() {
    let name = "a".repeat(100_000);
    let text = format!(
        "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: {name}\nspec:\n  image: emqx/emqx:5.8.6\n"
    );
    assert!(run(text).is_err());
    let deep = format!("{}{}", "a {".repeat(10_000), "}".repeat(10_000));
    assert!(emqx_render::hocon::parse(&deep).is_err());
    let text = format!(
        "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx:5.8.6\n  config:\n    data: |\n      {deep}\n"
    );
    assert!(run(text).is_err());
}

#[test]
fn many_documents_and_nul_bytes() {
    let base = std::fs::read_to_string(root().join("examples/production-v2beta1.yaml")).unwrap();
    let many: String = (0..200)
        .map(|i| base.replace("name: emqx\n", &format!("name: emqx{i}\n")))
        .collect::<Vec<_>>()
        .join("\n---\n");
    assert!(run(many).is_ok());
    assert!(run(base.replace("mqtt", "mq\0tt")).is_err());
}

#[test]
fn a_fleet_render_reads_back_for_diff() {
    // 300 clusters render to thousands of documents: more than serde-saphyr's default of 1024.
    let base = std::fs::read_to_string(root().join("examples/production-v2beta1.yaml")).unwrap();
    let fleet: String = (0..300)
        .map(|i| base.replacen("name: emqx\n", &format!("name: emqx-{i:03}\n"), 1))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let one = emqx_render::yaml::load(&run(base).unwrap()).unwrap().len();
    let yaml = run(fleet).unwrap();
    let docs = emqx_render::yaml::load(&yaml).unwrap();
    assert!(one > 4);
    assert_eq!(docs.len(), 300 * one);
}

/// A fleet is parsed apart and compiled across the cores; what comes out is what its clusters
/// render one by one, gathered kind by kind in the clusters' order.
#[test]
fn a_fleet_renders_as_its_clusters_one_by_one() {
    let spec = std::fs::read_to_string(root().join("examples/production-v2beta1.yaml")).unwrap();
    let clusters: Vec<String> = (0..40)
        .map(|i| spec.replacen("name: emqx\n", &format!("name: emqx-{i:02}\n"), 1))
        .collect();
    let yaml = |text: &str| -> String {
        let over = Overrides {
            yaml_text: true,
            ..Default::default()
        };
        let c = compile(
            &[Source {
                name: "fleet.yaml".into(),
                text: text.to_string(),
            }],
            &over,
        )
        .unwrap();
        emqx_render::output::to_yaml(&c.manifest).unwrap()
    };
    let docs = |s: String| -> Vec<String> {
        s.split("---\n")
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect()
    };
    let kind = |d: &str| {
        d.lines()
            .find_map(|l| l.strip_prefix("kind: "))
            .unwrap()
            .to_string()
    };
    let singles: Vec<Vec<String>> = clusters.iter().map(|c| docs(yaml(c))).collect();
    let mut kinds: Vec<String> = Vec::new();
    for d in &singles[0] {
        if !kinds.contains(&kind(d)) {
            kinds.push(kind(d));
        }
    }
    let expected: Vec<String> = kinds
        .iter()
        .flat_map(|k| {
            singles
                .iter()
                .flatten()
                .filter(move |d| kind(d) == *k)
                .cloned()
        })
        .collect();
    let fleet = docs(yaml(&clusters.join("---\n")));
    assert_eq!(fleet.len(), 40 * singles[0].len());
    assert!(
        fleet == expected,
        "the fleet render differs from its clusters one by one"
    );
}
