//! `plan` agrees with the API server: for each change of the table, the old render is applied to
//! a live cluster and the new render is sent as a server-side dry run. `plan --in-place OLD NEW`
//! (what an apply alone can do) refuses (`immutable-field`) exactly the changes the API server
//! rejects as immutable, and calls the others safe; a larger disk, which the API server rejects
//! too, is one of them, and plain `plan` plans it (claims resized first, `cluster::storage`). Some old sides are renders tweaked the way another tool or an older render would
//! have written them (a serviceName, a selector, claim template labels emqx-render never writes).

use serde_json::{Value, json};

use super::{Cluster, Pss, docs, render, require, run, scratch, text, write};

fn base(ns: &str) -> Value {
    json!({
        "apiVersion": "apps.emqx.io/v2beta1",
        "kind": "EMQX",
        "metadata": {"name": "emqx", "namespace": ns},
        "spec": {
            "image": "emqx/emqx-enterprise:5.8.5",
            "config": {"data": "log.console.level = warning\n"},
            "coreTemplate": {"spec": {
                "replicas": 3,
                "volumeClaimTemplates": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                },
            }},
            "replicantTemplate": {"spec": {"replicas": 2}},
        },
    })
}

type Tweak = fn(&mut Value);

/// A change: what the running side looks like (a tweak of the base render's object of that
/// kind, or none) and the spec change to move to.
struct Case {
    name: &'static str,
    old: Option<(&'static str, Tweak)>,
    new: Tweak,
}

fn core(s: &mut Value) -> &mut Value {
    &mut s["spec"]["coreTemplate"]["spec"]
}

const CASES: &[Case] = &[
    Case {
        name: "storage size",
        old: None,
        new: |s| {
            core(s)["volumeClaimTemplates"]["resources"]["requests"]["storage"] = json!("20Gi")
        },
    },
    Case {
        name: "storage class",
        old: None,
        new: |s| core(s)["volumeClaimTemplates"]["storageClassName"] = json!("fast-ssd"),
    },
    Case {
        name: "claim access modes",
        old: None,
        new: |s| core(s)["volumeClaimTemplates"]["accessModes"] = json!(["ReadWriteOncePod"]),
    },
    Case {
        name: "claim template labels (running render has another label)",
        old: Some(("StatefulSet", |o| {
            o["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"]["tier"] = json!("gold")
        })),
        new: |_| {},
    },
    Case {
        name: "StatefulSet selector (running render selects on a user label)",
        old: Some(("StatefulSet", |o| {
            o["spec"]["selector"]["matchLabels"]["team"] = json!("mqtt");
            o["spec"]["template"]["metadata"]["labels"]["team"] = json!("mqtt");
        })),
        new: |_| {},
    },
    Case {
        name: "Deployment selector (running render selects on a user label)",
        old: Some(("Deployment", |o| {
            o["spec"]["selector"]["matchLabels"]["team"] = json!("mqtt");
            o["spec"]["template"]["metadata"]["labels"]["team"] = json!("mqtt");
        })),
        new: |_| {},
    },
    Case {
        name: "user labels (never in a selector)",
        old: None,
        new: |s| s["spec"]["coreTemplate"]["metadata"] = json!({"labels": {"team": "mqtt"}}),
    },
    Case {
        name: "service name (running render names another headless Service)",
        old: Some(("StatefulSet", |o| {
            o["spec"]["serviceName"] = json!("emqx-old-headless")
        })),
        new: |_| {},
    },
    Case {
        name: "pod management policy (running render is OrderedReady)",
        old: Some(("StatefulSet", |o| {
            o["spec"]["podManagementPolicy"] = json!("OrderedReady")
        })),
        new: |_| {},
    },
    Case {
        name: "core replicas",
        old: None,
        new: |s| core(s)["replicas"] = json!(5),
    },
    Case {
        name: "replicant replicas",
        old: None,
        new: |s| s["spec"]["replicantTemplate"]["spec"]["replicas"] = json!(4),
    },
    Case {
        name: "image",
        old: None,
        new: |s| s["spec"]["image"] = json!("emqx/emqx-enterprise:5.8.6"),
    },
    Case {
        name: "config",
        old: None,
        new: |s| s["spec"]["config"]["data"] = json!("log.console.level = info\n"),
    },
    Case {
        name: "env",
        old: None,
        new: |s| {
            core(s)["env"] = json!([{"name": "EMQX_LOG__CONSOLE__FORMATTER", "value": "json"}])
        },
    },
    Case {
        name: "resources",
        old: None,
        new: |s| core(s)["resources"] = json!({"requests": {"cpu": "500m", "memory": "1Gi"}}),
    },
    Case {
        name: "a new listener",
        old: None,
        new: |s| {
            s["spec"]["config"]["data"] =
                json!("log.console.level = warning\nlisteners.tcp.extra.bind = \"0.0.0.0:1884\"\n")
        },
    },
    Case {
        name: "revisionHistoryLimit",
        old: None,
        new: |s| s["spec"]["revisionHistoryLimit"] = json!(7),
    },
    Case {
        name: "minReadySeconds (updateStrategy.initialDelaySeconds)",
        old: None,
        new: |s| s["spec"]["updateStrategy"] = json!({"initialDelaySeconds": 15}),
    },
    Case {
        name: "listeners Service type",
        old: None,
        new: |s| s["spec"]["listenersServiceTemplate"] = json!({"spec": {"type": "NodePort"}}),
    },
];

/// The API server's verdict on moving from `old` to `new`: Ok(()) or the rejection.
fn api_verdict(c: &Cluster, ns: &str, old: &[Value], new: &[Value]) -> Result<(), String> {
    let out = c.apply(ns, old, false);
    assert!(out.status.success(), "old side: {}", text(&out.stderr));
    let out = c.apply(ns, new, true);
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out.stderr))
    }
}

/// `plan`'s verdict: (exit code, refusal codes).
fn plan_verdict(old: &[Value], new: &Value, case: &str) -> (i32, Vec<String>) {
    let dir = scratch(&format!(
        "plan-{}",
        case.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    ));
    let stream: String = old.iter().map(|d| format!("---\n{d}\n")).collect();
    let old_file = write(&dir, "running.yaml", &stream);
    let new_file = write(&dir, "emqx.yaml", &new.to_string());
    let out = run(
        super::super::golden::bin()
            .args(["plan", "--in-place", "--format", "json"])
            .args([&old_file, &new_file]),
        None,
    );
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{case}: plan gave no JSON ({e}): {}", text(&out.stderr)));
    let codes = plan["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.code().unwrap_or(-1), codes)
}

#[test]
fn plan_refuses_exactly_what_the_api_server_rejects() {
    let Some(c) = require() else { return };
    assert!(CASES.len() >= 12);
    let mut table = Vec::new();
    let mut disagree = 0;
    let (mut rejected, mut accepted) = (0, 0);
    for case in CASES {
        let ns = c.namespace("plan", Pss::Restricted);
        let spec = base(&ns.name);
        let mut old = docs(&render(&spec, &["-q"]));
        if let Some((kind, tweak)) = case.old {
            let obj = old.iter_mut().find(|d| d["kind"] == kind).unwrap();
            tweak(obj);
        }
        let mut new_spec = spec.clone();
        (case.new)(&mut new_spec);
        let new = docs(&render(&new_spec, &["-q"]));
        let api = api_verdict(c, &ns.name, &old, &new);
        if let Err(e) = &api {
            assert!(
                e.contains("Forbidden") || e.contains("immutable"),
                "{}: the API server rejected the change for another reason than immutability:\n{e}",
                case.name
            );
            rejected += 1;
        } else {
            accepted += 1;
        }
        let (code, refusals) = plan_verdict(&old, &new_spec, case.name);
        let plan_refuses = refusals.iter().any(|r| r == "immutable-field");
        let agree = match &api {
            Err(_) => plan_refuses && code == 1,
            Ok(()) => !plan_refuses && code == 0 && refusals.is_empty(),
        };
        if !agree {
            disagree += 1;
        }
        table.push(format!(
            "{} {:<60} api: {:<8} plan: exit {code} {refusals:?}{}",
            if agree { "ok  " } else { "DIFF" },
            case.name,
            if api.is_ok() { "accepts" } else { "rejects" },
            match &api {
                Err(e) if !agree => format!("\n      api said: {}", e.trim()),
                _ => String::new(),
            }
        ));
    }
    // Printed past the test harness's capture, so CI's log shows the table.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("plan vs the API server:\n{}\n", table.join("\n")).as_bytes(),
    );
    assert_eq!(
        disagree,
        0,
        "plan and the API server disagree:\n{}",
        table.join("\n")
    );
    // The table holds both kinds of change.
    assert!(
        rejected >= 6 && accepted >= 6,
        "{rejected} rejected, {accepted} accepted"
    );
}
