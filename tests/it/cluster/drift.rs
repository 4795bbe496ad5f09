//! No drift: each example's render, applied for real (server-side) and applied again, shows no
//! difference in `kubectl diff --server-side` (Argo CD's server-side diff), and every field
//! emqx-render writes reads back from the live object with the same value (Argo CD's legacy
//! diff). A field the API server rewrites or drops is a render bug, never a test exception.

use super::super::golden::{root, yaml_files};
use super::{Pss, docs, in_namespace, list, not_in_live, require, resource, substitute, text};

#[test]
fn applied_renders_read_back_unchanged_and_show_no_diff() {
    let Some(c) = require() else { return };
    let files = yaml_files(&root().join("golden/examples"));
    assert!(files.len() >= 19);
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        // Not restricted on purpose (see admission.rs): applied without Pod Security labels.
        // It also holds a fixed node port while it exists.
        let every_field = name == "v2beta1-every-field.yaml";
        let _ports = every_field.then(super::fixed_node_ports);
        let pss = if every_field {
            Pss::None
        } else {
            Pss::Restricted
        };
        let ns = c.namespace("drift", pss);
        // Renders that keep Flux variables are applied as Flux would apply them.
        let text_of = substitute(&std::fs::read_to_string(f).unwrap());
        let objects = in_namespace(docs(&text_of), &ns.name);
        let applied = ["first", "second"].iter().all(|round| {
            let out = c.apply(&ns.name, &objects, false);
            if !out.status.success() {
                failures.push(format!(
                    "{name}: {round} apply failed:\n{}",
                    text(&out.stderr)
                ));
            }
            out.status.success()
        });
        if !applied {
            continue;
        }
        // kubectl reads the live object, then asks for the dry-run result: a controller that
        // writes status in between shows as a diff of status and resourceVersion only. That does
        // not repeat; drift does, so the diff must come back empty within a few tries.
        let mut last = None;
        for _ in 0..8 {
            let out = c.run(
                &[
                    "-n",
                    &ns.name,
                    "diff",
                    "--server-side",
                    "--field-manager=emqx-render",
                    "-f",
                    "-",
                ],
                Some(&list(&objects)),
            );
            if out.status.success() && out.stdout.is_empty() {
                last = None;
                break;
            }
            last = Some(out);
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        if let Some(out) = last {
            failures.push(format!(
                "{name}: kubectl diff --server-side after apply, 8 times in 16 s (exit {:?}):\n{}{}",
                out.status.code(),
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
        for obj in &objects {
            let live = c.json(&[
                "-n",
                &ns.name,
                "get",
                &resource(obj),
                obj["metadata"]["name"].as_str().unwrap(),
            ]);
            let mut diffs = Vec::new();
            let at = format!(
                "{}/{}",
                obj["kind"].as_str().unwrap(),
                obj["metadata"]["name"]
            );
            not_in_live(obj, &live, &at, &mut diffs);
            for d in diffs {
                failures.push(format!("{name}: {d}"));
            }
        }
        if every_field {
            ns.delete_now();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_read_back_check_sees_a_field_the_server_drops() {
    // The comparison itself: a rendered zero that the live object leaves out is reported.
    let rendered = serde_json::json!({"spec": {"minReadySeconds": 0, "replicas": 3}});
    let live = serde_json::json!({"spec": {"replicas": 3}});
    let mut out = Vec::new();
    not_in_live(&rendered, &live, "StatefulSet/x", &mut out);
    assert_eq!(
        out,
        ["StatefulSet/x.spec.minReadySeconds: rendered 0, live has none"]
    );
    // A Secret's values never reach the message.
    let rendered = serde_json::json!({"kind": "Secret", "stringData": {"k": "s3cr3t"}, "data": {"j": "czNjcjN0"}});
    let live = serde_json::json!({"kind": "Secret", "data": {"j": "b3RoZXI=", "k": "czNjcjN0"}});
    let mut out = Vec::new();
    not_in_live(&rendered, &live, "Secret/x", &mut out);
    assert_eq!(
        out,
        [
            "Secret/x.stringData: rendered <hidden>, live has none",
            "Secret/x.data.j: rendered <hidden>, live <hidden>",
        ]
    );
}
