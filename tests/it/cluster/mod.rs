//! Tests against a real Kubernetes control plane (`tests/cluster/up.sh DIR`): what the API server,
//! its admission and the controllers do with what emqx-render writes. They run when
//! EMQX_RENDER_CLUSTER names the DIR of a running control plane; `.ci/run` starts one and sets
//! EMQX_RENDER_REQUIRE_CLUSTER=1, so in CI a missing cluster is a failure, never a skip.
//! Each test works in namespaces of its own, named after the test and this process.

mod admission;
mod adopt;
mod autoscale;
mod drift;
mod flux;
mod helm;
mod plan_agrees;
mod rollout;
mod storage;
mod upgrade;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Cluster {
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    pub artifact_dir: PathBuf,
    pub artifact_url: String,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();

/// The running control plane, or `None` (with a note) when none is named and none is required.
pub fn require() -> Option<&'static Cluster> {
    CLUSTER
        .get_or_init(|| {
            let Some(dir) = std::env::var_os("EMQX_RENDER_CLUSTER") else {
                assert!(
                    std::env::var_os("EMQX_RENDER_REQUIRE_CLUSTER").is_none(),
                    "EMQX_RENDER_REQUIRE_CLUSTER is set but EMQX_RENDER_CLUSTER names no control plane: \
                     start one with `bash tests/cluster/up.sh DIR` and set EMQX_RENDER_CLUSTER=DIR"
                );
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    b"note: no control plane (EMQX_RENDER_CLUSTER unset); cluster tests skipped (bash .ci/run starts one)\n",
                );
                return None;
            };
            let dir = PathBuf::from(dir);
            let env = std::fs::read_to_string(dir.join("cluster.env")).unwrap_or_else(|e| {
                panic!("{}/cluster.env: {e} (is the control plane up?)", dir.display())
            });
            let vars: BTreeMap<&str, &str> =
                env.lines().filter_map(|l| l.split_once('=')).collect();
            Some(Cluster {
                kubeconfig: PathBuf::from(vars["KUBECONFIG"]),
                kubectl: PathBuf::from(vars["KUBECTL"]),
                artifact_dir: PathBuf::from(vars["ARTIFACT_DIR"]),
                artifact_url: vars["ARTIFACT_URL"].to_string(),
            })
        })
        .as_ref()
}

/// Pod Security Standard labels of a test namespace.
#[derive(Clone, Copy, PartialEq)]
pub enum Pss {
    /// `enforce=restricted`, `warn=restricted`.
    Restricted,
    /// No Pod Security labels (the cluster default, privileged).
    None,
}

/// A namespace that is deleted, with the PersistentVolumes made for it, when dropped.
pub struct Ns<'c> {
    pub name: String,
    cluster: &'c Cluster,
    volumes: std::cell::RefCell<Vec<String>>,
}

/// Held while objects with fixed node ports (the every-field example's `nodePort: 31883`) are
/// applied or dry-run: node ports are cluster-wide, so two namespaces cannot both hold one.
pub static FIXED_NODE_PORTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn fixed_node_ports() -> std::sync::MutexGuard<'static, ()> {
    FIXED_NODE_PORTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Ns<'_> {
    /// Deletes the namespace and waits until it is gone (its node ports are free again).
    pub fn delete_now(self) {
        self.cluster.ok(
            &[
                "delete",
                "namespace",
                &self.name,
                "--wait=true",
                "--timeout=180s",
            ],
            None,
        );
    }
}

impl Drop for Ns<'_> {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .run(&["delete", "namespace", &self.name, "--wait=false"], None);
        for pv in self.volumes.borrow().iter() {
            let _ = self
                .cluster
                .run(&["delete", "persistentvolume", pv, "--wait=false"], None);
        }
    }
}

impl Cluster {
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.kubectl);
        c.arg("--kubeconfig").arg(&self.kubeconfig);
        c
    }

    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run(self.cmd().args(args), stdin)
    }

    /// Runs kubectl and returns its stdout; fails the test with stderr if it fails.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "kubectl {} failed:\n{}{}",
            args.join(" "),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a, None)).unwrap()
    }

    /// The objects of `kind` in `ns` that carry the role label `apps.emqx.io/db-role=<role>`.
    /// name → uid of every object of `kind` in `ns` (the same objects, or new ones?).
    pub fn uids(&self, ns: &str, kind: &str) -> std::collections::BTreeMap<String, String> {
        self.json(&["-n", ns, "get", kind])["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                    p["metadata"]["uid"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Runs a runbook's lines as printed, in `dir`, with this cluster's kubectl and our binary
    /// first on PATH as `kubectl` and `emqx-render`; each must succeed.
    /// The command lines of a printed runbook (`kubectl ...`, `emqx-render ...`), in order,
    /// but those `skip` says a test cannot run.
    pub fn command_lines(runbook: &str, skip: impl Fn(&str) -> bool) -> Vec<&str> {
        runbook
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("kubectl ") || l.starts_with("emqx-render "))
            .filter(|l| !skip(l))
            .collect()
    }

    /// The runbook `emqx-render plan running.yaml emqx.yaml` prints in `dir` (asserted safe).
    pub fn safe_plan(dir: &Path) -> String {
        let plan = run(
            super::golden::bin().current_dir(dir).args([
                "plan",
                "running.yaml",
                "emqx.yaml",
                "--phases-dir",
                "phases",
            ]),
            None,
        );
        let runbook = text(&plan.stdout);
        assert!(plan.status.success(), "{runbook}{}", text(&plan.stderr));
        runbook
    }

    /// Runs a plan's runbook (its command lines, in order, in `dir`) with the fake EMQX API at
    /// `emqx_url` standing in for the port-forward and the API key a person sets up; gives the
    /// lines it ran.
    pub fn run_plan_runbook(&self, runbook: &str, dir: &Path, emqx_url: &str) -> Vec<String> {
        let steps = Self::command_lines(runbook, |l| l.contains(" port-forward "));
        self.run_steps_with(
            dir,
            &steps,
            &[
                ("EMQX_URL", emqx_url),
                ("EMQX_API_KEY", super::fake_emqx::KEY),
                ("EMQX_API_SECRET", super::fake_emqx::SECRET),
            ],
        );
        steps.into_iter().map(str::to_string).collect()
    }

    pub fn run_steps(&self, dir: &Path, steps: &[&str]) {
        self.run_steps_with(dir, steps, &[]);
    }

    /// [`Cluster::run_steps`] with more environment variables for every step.
    pub fn run_steps_with(&self, dir: &Path, steps: &[&str], env: &[(&str, &str)]) {
        for step in steps {
            let out = self.step(dir, step, env);
            assert!(
                out.status.success(),
                "{step}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
    }

    /// Runs one runbook line with bash in `dir`, as a person would: this cluster's kubeconfig,
    /// and `kubectl` and `emqx-render` on PATH.
    pub fn step(&self, dir: &Path, step: &str, env: &[(&str, &str)]) -> Output {
        let bin_dir = dir.join("bin");
        std::fs::create_dir_all(&bin_dir).unwrap();
        let ours = bin_dir.join("emqx-render");
        let _ = std::fs::remove_file(&ours);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_emqx-render"), &ours).unwrap();
        run(
            Command::new("bash")
                .args(["-c", step])
                .current_dir(dir)
                .env("KUBECONFIG", &self.kubeconfig)
                .env(
                    "PATH",
                    format!(
                        "{}:{}:{}",
                        bin_dir.display(),
                        self.kubectl.parent().unwrap().display(),
                        std::env::var("PATH").unwrap_or_default()
                    ),
                )
                .envs(env.iter().copied()),
            None,
        )
    }

    /// Waits until `pods` of the pods `which` lists are Ready and `pods` claims in `ns` Bound.
    pub fn wait_ready_and_bound(&self, ns: &str, pods: usize, which: impl Fn() -> Vec<Value>) {
        wait_until("the pods Ready and their claims Bound", 240, || {
            let ready = which().iter().filter(|p| is_ready(p)).count();
            let bound = self.json(&["-n", ns, "get", "pvc"])["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["status"]["phase"] == "Bound")
                .count();
            (ready == pods && bound == pods)
                .then_some(())
                .ok_or(format!("{ready} ready, {bound} bound"))
        });
    }

    /// Waits until the StatefulSet `name` has rolled out: `replicas` pods updated and Ready.
    pub fn wait_rolled_out(&self, ns: &str, name: &str, replicas: i64) {
        wait_until("the StatefulSet rolled out", 300, || {
            let s = self.json(&["-n", ns, "get", "statefulset", name]);
            let st = &s["status"];
            let done = st["updatedReplicas"] == replicas
                && st["readyReplicas"] == replicas
                && st["currentRevision"] == st["updateRevision"];
            done.then_some(()).ok_or(format!("{st}"))
        });
    }

    pub fn of_role(&self, ns: &str, kind: &str, role: &str) -> Vec<Value> {
        let label = format!("apps.emqx.io/db-role={role}");
        match self.json(&["-n", ns, "get", kind, "-l", &label]) {
            Value::Object(mut m) => match m.remove("items") {
                Some(Value::Array(items)) => items,
                other => panic!("{kind} list without items: {other:?}"),
            },
            other => panic!("{kind} list: {other}"),
        }
    }

    /// A fresh namespace `<prefix>-<pid>-<n>`.
    pub fn namespace(&self, prefix: &str, pss: Pss) -> Ns<'_> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut labels = json!({});
        if pss == Pss::Restricted {
            labels = json!({
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            });
        }
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}});
        self.ok(&["create", "-f", "-"], Some(&ns.to_string()));
        // Pods need the namespace's default ServiceAccount, which the controller manager makes.
        wait_until(&format!("ServiceAccount {name}/default"), 60, || {
            self.run(&["-n", &name, "get", "serviceaccount", "default"], None)
                .status
                .success()
                .then_some(())
                .ok_or("not yet created")
        });
        Ns {
            name,
            cluster: self,
            volumes: Default::default(),
        }
    }

    /// Server-side apply of `docs` (as one v1 List) in `ns`, for real or as a server dry run.
    pub fn apply(&self, ns: &str, docs: &[Value], dry_run: bool) -> Output {
        let mut args = vec![
            "--warnings-as-errors",
            "-n",
            ns,
            "apply",
            "--server-side",
            "--field-manager=emqx-render",
            "--validate=strict",
            "-f",
            "-",
        ];
        if dry_run {
            args.push("--dry-run=server");
        }
        self.run(&args, Some(&list(docs)))
    }

    /// PersistentVolumes of StorageClass `class`, each bound ahead to claim
    /// `<claim>-<statefulset>-<i>` of `ns` (so no other test's claim takes it).
    pub fn volumes_for(&self, ns: &Ns, statefulset: &str, claim: &str, count: usize, class: &str) {
        self.storage_class(class);
        for i in 0..count {
            let pvc = format!("{claim}-{statefulset}-{i}");
            let name = format!("{}-{pvc}", ns.name);
            let pv = json!({"apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name},
                "spec": {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteOnce"],
                    "storageClassName": class, "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": format!("/tmp/emqx-render-pv/{name}")},
                    "claimRef": {"namespace": ns.name, "name": pvc}}});
            self.ok(&["create", "-f", "-"], Some(&pv.to_string()));
            ns.volumes.borrow_mut().push(name);
        }
    }

    pub fn storage_class(&self, class: &str) {
        let sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": class}, "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "Immediate"});
        self.ok(
            &[
                "apply",
                "--server-side",
                "--field-manager=emqx-render-test",
                "-f",
                "-",
            ],
            Some(&sc.to_string()),
        );
    }
}

pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Whether a pod's Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|x| x["type"] == "Ready" && x["status"] == "True")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Polls `f` every half second until it gives a value; fails after `secs` with the last state.
pub fn wait_until<T, E: std::fmt::Display>(
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> Result<T, E>,
) -> T {
    let start = Instant::now();
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if start.elapsed() > Duration::from_secs(secs) => {
                panic!("{what}: not reached within {secs} s; last state: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// The documents of a YAML stream.
pub fn docs(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "StorageClass",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
];

/// The objects moved into namespace `ns` (cluster-scoped kinds stay as they are).
pub fn in_namespace(mut docs: Vec<Value>, ns: &str) -> Vec<Value> {
    for d in &mut docs {
        let kind = d["kind"].as_str().unwrap_or("");
        if !CLUSTER_SCOPED.contains(&kind) {
            d["metadata"]["namespace"] = json!(ns);
        }
    }
    docs
}

pub fn list(docs: &[Value]) -> String {
    json!({"apiVersion": "v1", "kind": "List", "items": docs}).to_string()
}

/// `kind.group` as kubectl names the resource of an object.
pub fn resource(obj: &Value) -> String {
    let kind = obj["kind"].as_str().unwrap();
    match obj["apiVersion"].as_str().unwrap().split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind.to_string(),
    }
}

/// Every field of `rendered` that does not read back with the same value from `live`, as
/// `path: rendered ..., live ...` (lists must match item for item). Under a Secret's `data` or
/// `stringData` only the path is told, never a value.
pub fn not_in_live(rendered: &Value, live: &Value, path: &str, out: &mut Vec<String>) {
    let secret = rendered["kind"] == "Secret";
    compare(rendered, live, path, secret, out);
}

fn compare(rendered: &Value, live: &Value, path: &str, secret: bool, out: &mut Vec<String>) {
    let shown = |v: &Value, hide: bool| {
        if hide {
            "<hidden>".to_string()
        } else {
            v.to_string()
        }
    };
    let hide = secret && (path.contains(".data") || path.contains(".stringData"));
    match (rendered, live) {
        (Value::Object(r), Value::Object(l)) => {
            for (k, v) in r {
                let at = format!("{path}.{k}");
                let hide = secret && (k == "data" || k == "stringData") || hide;
                match l.get(k) {
                    Some(lv) => compare(v, lv, &at, secret, out),
                    None => out.push(format!("{at}: rendered {}, live has none", shown(v, hide))),
                }
            }
        }
        (Value::Array(r), Value::Array(l)) if r.len() == l.len() => {
            for (i, (a, b)) in r.iter().zip(l).enumerate() {
                compare(a, b, &format!("{path}[{i}]"), secret, out);
            }
        }
        (r, l) if r != l => out.push(format!(
            "{path}: rendered {}, live {}",
            shown(r, hide),
            shown(l, hide)
        )),
        _ => {}
    }
}

/// Flux's post-build substitution, as the renders that keep variables need before an apply:
/// `${NAME:=default}` is its default, `${NAME}` the name in lower case.
pub fn substitute(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        let expr = &rest[at + 2..at + end];
        out.push_str(&rest[..at]);
        match expr.split_once(":=") {
            Some((_, default)) => out.push_str(default),
            None => out.push_str(&expr.to_ascii_lowercase()),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// emqx-render with `args`, the spec given as JSON on standard input (`-`); its stdout.
pub fn render(spec: &Value, args: &[&str]) -> String {
    let mut cmd = super::golden::bin();
    cmd.arg("render").args(args).arg("-");
    let out = run(&mut cmd, Some(&spec.to_string()));
    assert!(
        out.status.success(),
        "render failed:\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// An example spec as JSON, moved into namespace `ns`.
pub fn example(name: &str, ns: &str) -> Value {
    let path = super::golden::root().join("examples").join(name);
    let mut spec = docs(&std::fs::read_to_string(path).unwrap()).remove(0);
    spec["metadata"]["namespace"] = json!(ns);
    spec
}

/// The objects of a YAML render with `kind`.
pub fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("emqx-render-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}
