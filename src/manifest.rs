//! The ordered collection of objects a render produces: a list in a fixed kind order that can
//! also be looked up by kind, namespace and name.

/// One object ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The object (`Null` once `text` holds it).
    pub value: serde_json::Value,
    /// The object as one YAML document (no `---`), when the render asked for text early
    /// (`Overrides::yaml_text`) so that a fleet's JSON trees are never all held at once.
    pub text: Option<String>,
}

/// Kinds in the order they are written: what others depend on comes first (namespaces and
/// storage classes, then config and Secrets, Services, the core StatefulSet before the
/// replicant Deployment, disruption budgets last). Kinds not listed follow, in input order.
pub const KIND_ORDER: &[&str] = &[
    "Namespace",
    "StorageClass",
    "ServiceAccount",
    "Secret",
    "Certificate",
    "ConfigMap",
    "Service",
    "NetworkPolicy",
    "Ingress",
    "StatefulSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "PodMonitor",
    "ServiceMonitor",
];

fn rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// Objects in write order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    objects: Vec<Object>,
}

impl Manifest {
    /// Orders `objects` by kind (stable: the given order within a kind).
    pub fn new(mut objects: Vec<Object>) -> Self {
        objects.sort_by_key(|o| rank(&o.kind));
        Manifest { objects }
    }

    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Object> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.namespace.as_deref() == namespace && o.name == name)
    }

    /// Pairs of objects with the same group, kind, namespace and name.
    pub fn duplicates(&self) -> Vec<&Object> {
        let mut seen = std::collections::HashSet::with_capacity(self.objects.len());
        let mut dups = Vec::new();
        for o in &self.objects {
            let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            if !seen.insert((
                group,
                o.kind.as_str(),
                o.namespace.as_deref(),
                o.name.as_str(),
            )) {
                dups.push(o);
            }
        }
        dups
    }
}
