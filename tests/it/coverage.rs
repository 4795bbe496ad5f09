//! `examples/v2beta1-every-field.yaml` sets every field of `apps.emqx.io/v2beta1` `EMQX`: the
//! field lists come from the same types the parser uses, so a field added there and not to the
//! example fails here.

use emqx_render::input::fields::fields_at;
use emqx_render::input::p;
use emqx_render::yaml::{self, Node, Seg, Value};

use super::golden::root;

/// Keys written at `path`, across every element of any list on the way.
fn keys_at(node: &Node, path: &[Seg]) -> Vec<String> {
    let Some((first, rest)) = path.split_first() else {
        return match &node.value {
            Value::Map(m) => m.iter().map(|(k, _)| k.name.clone()).collect(),
            Value::Seq(items) => items.iter().flat_map(|i| keys_at(i, &[])).collect(),
            _ => Vec::new(),
        };
    };
    match (&node.value, first) {
        (Value::Seq(items), _) => items.iter().flat_map(|i| keys_at(i, path)).collect(),
        (Value::Map(_), Seg::Key(k)) => node.get(k).map(|n| keys_at(n, rest)).unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[test]
fn the_every_field_example_sets_every_v2beta1_field() {
    let text = std::fs::read_to_string(root().join("examples/v2beta1-every-field.yaml")).unwrap();
    let doc = yaml::load(&text).unwrap().remove(0);
    // Fields that v2beta1 does not have, or that only v2alpha1 or the operator writes.
    let not_v2beta1 = [
        "bootstrapConfig",
        "emqxTemplate",
        "status",
        "waitHealthCheck",
    ];
    let objects = [
        "spec",
        "spec.config",
        "spec.updateStrategy",
        "spec.updateStrategy.evacuationStrategy",
        "spec.bootstrapAPIKeys",
        "spec.bootstrapAPIKeys.secretRef",
        "spec.coreTemplate",
        "spec.coreTemplate.spec",
        "spec.replicantTemplate",
        "spec.dashboardServiceTemplate",
        "spec.listenersServiceTemplate",
    ];
    let mut missing = Vec::new();
    for obj in objects {
        let path = p(obj);
        let mut written = keys_at(&doc, &path);
        // minAvailable and maxUnavailable cannot share a role: the two templates together count.
        if obj == "spec.coreTemplate.spec" {
            written.extend(keys_at(&doc, &p("spec.replicantTemplate.spec")));
        }
        for field in fields_at(&path) {
            if not_v2beta1.contains(field) {
                continue;
            }
            if !written.iter().any(|w| w == field) {
                missing.push(format!("{obj}.{field}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not set in the every-field example: {missing:?}"
    );
}
