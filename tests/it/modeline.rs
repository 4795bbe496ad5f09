//! Every example spec starts with the `yaml-language-server` modeline that points editors at the
//! committed schema (by a path that exists).

use super::golden::root;

#[test]
fn examples_start_with_a_schema_modeline() {
    let mut specs: Vec<std::path::PathBuf> = super::golden::yaml_files(&root().join("examples"));
    for extra in [
        "examples/kustomize/kpt/emqx.yaml",
        "examples/kustomize/legacy/emqx.yaml",
        "examples/argocd/app/emqx.yaml",
    ] {
        specs.push(root().join(extra));
    }
    for f in specs {
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap_or("");
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} does not start with the schema modeline", f.display()));
        let schema = f.parent().unwrap().join(target);
        assert!(
            schema.exists(),
            "{}: {} does not exist",
            f.display(),
            schema.display()
        );
    }
}
