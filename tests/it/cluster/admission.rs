//! Every example's render and every golden render is accepted by the API server
//! (`apply --server-side --dry-run=server --validate=strict`, warnings as errors) in a namespace
//! that enforces and warns on the restricted Pod Security Standard. The renders that are not
//! restricted on purpose are listed with their reason, and must really be refused there. The
//! Helm imports of golden/helm are among them.

use std::path::Path;

use serde_json::Value;

use super::super::golden::{bin, root, yaml_files};
use super::{Pss, docs, in_namespace, require, substitute, text};

/// Renders that deliberately do not meet the restricted profile, and why.
const NOT_RESTRICTED: &[(&str, &str)] = &[(
    "golden/examples/v2beta1-every-field.yaml",
    "the spec's own init container `wait-for-dns` and sidecar `log-shipper` (busybox) set no \
     security context, and emqx-render keeps user containers as written",
)];

/// Every render to check: the example goldens, the committed phased render, and the renders of
/// the diff and plan cases' specs (those that render: some are refusals on purpose).
fn renders() -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    let rel = |p: &Path| p.strip_prefix(root()).unwrap().display().to_string();
    for f in yaml_files(&root().join("golden/examples")) {
        let text = substitute(&std::fs::read_to_string(&f).unwrap());
        out.push((rel(&f), docs(&text)));
    }
    let phases = root().join("golden/phases/production-v2beta1");
    for dir in [
        phases.join("1-core"),
        phases.join("2-replicants"),
        phases.clone(),
    ] {
        for f in yaml_files(&dir) {
            if f.file_name().unwrap() == "kustomization.yaml" {
                continue;
            }
            out.push((rel(&f), docs(&std::fs::read_to_string(&f).unwrap())));
        }
    }
    // The Helm imports (golden/helm: each chart's defaults, a production release).
    for f in yaml_files(&root().join("golden/helm")) {
        let r = bin().args(["render", "-q"]).arg(&f).output().unwrap();
        assert!(r.status.success(), "{}: {}", rel(&f), text(&r.stderr));
        out.push((format!("render of {}", rel(&f)), docs(&text(&r.stdout))));
    }
    for group in ["golden/diff", "golden/plan"] {
        let mut cases: Vec<_> = std::fs::read_dir(root().join(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        cases.sort();
        for case in cases {
            for side in ["old.yaml", "new.yaml"] {
                let f = case.join(side);
                // Renders among the cases are hand-edited inputs (a selector edited on purpose),
                // not emqx-render's output: only the specs are rendered and checked.
                if !std::fs::read_to_string(&f)
                    .unwrap()
                    .contains("apiVersion: apps.emqx.io/")
                {
                    continue;
                }
                let r = bin().args(["render", "-q"]).arg(&f).output().unwrap();
                if r.status.success() {
                    out.push((format!("render of {}", rel(&f)), docs(&text(&r.stdout))));
                }
            }
        }
    }
    out
}

#[test]
fn every_render_is_admitted_in_a_restricted_namespace() {
    let Some(c) = require() else { return };
    let restricted = c.namespace("admit", Pss::Restricted);
    let plain = c.namespace("admit-plain", Pss::None);
    let all = renders();
    assert!(all.len() >= 40, "only {} renders found", all.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, objects) in &all {
        let exception = NOT_RESTRICTED.iter().find(|(f, _)| f == name);
        let _ports = exception.is_some().then(super::fixed_node_ports);
        let out = c.apply(
            &restricted.name,
            &in_namespace(objects.clone(), &restricted.name),
            true,
        );
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        match exception {
            None if !out.status.success() => failures.push(format!("{name}:\n{said}")),
            None => checked += 1,
            Some((_, why)) => {
                // Listed as not restricted: it must really trip the restricted profile, and
                // be accepted otherwise.
                if out.status.success() || !said.contains("violate PodSecurity \"restricted") {
                    failures.push(format!(
                        "{name} is listed as not restricted ({why}) but the restricted namespace \
                         did not refuse it for that:\n{said}"
                    ));
                }
                let out = c.apply(
                    &plain.name,
                    &in_namespace(objects.clone(), &plain.name),
                    true,
                );
                if !out.status.success() {
                    failures.push(format!(
                        "{name} (not restricted on purpose) is refused even without Pod Security:\n{}",
                        text(&out.stderr)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (f, _) in NOT_RESTRICTED {
        assert!(
            all.iter().any(|(n, _)| n == f),
            "{f} is listed in NOT_RESTRICTED but is not rendered any more"
        );
    }
    assert!(checked >= 40, "only {checked} renders were admitted");
}
