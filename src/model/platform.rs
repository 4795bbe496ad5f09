//! The platform the pods run on, applied to a cluster's model after normalizing. OpenShift's
//! `restricted-v2` SCC admits only a UID, GID and fsGroup from the namespace's range, which it
//! assigns itself: there the pods carry none (the CRD defaults' 1000 included, and so
//! emqx-render's own init container, which takes the EMQX container's context). The rest of the
//! restricted profile (non-root, no privilege escalation, no capabilities, the seccomp profile)
//! stays.

use super::{Cluster, Role};
use crate::diag::Diagnostic;
use crate::input::{Locator, p};
use crate::settings::Platform;

/// Takes the fixed ids out of every pod and container security context under OpenShift; a value
/// the spec wrote itself is a warning (it would be refused there), a CRD default goes quietly.
pub fn apply(c: &mut Cluster, platform: Platform, at: &Locator) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if platform != Platform::OpenShift {
        return out;
    }
    for r in std::iter::once(&mut c.core).chain(c.replicant.as_mut()) {
        role(r, at, &mut out);
    }
    out
}

fn role(r: &mut Role, at: &Locator, out: &mut Vec<Diagnostic>) {
    let base = format!("spec.{}Template.spec", r.kind.as_str());
    let mut written = |path: String, present: bool| {
        if present && at.has(&p(&path)) {
            out.push(
                Diagnostic::warning(
                    "platform-openshift-id",
                    path,
                    "left out: OpenShift's restricted-v2 SCC assigns the user, group and fsGroup from the namespace's range and refuses other values",
                )
                .help("remove it, or render without `platform: openshift` for a namespace whose SCC allows it"),
            );
        }
    };
    if let Some(s) = r.spec.pod_security_context.as_mut() {
        let f = format!("{base}.podSecurityContext");
        written(format!("{f}.runAsUser"), s.run_as_user.take().is_some());
        written(format!("{f}.runAsGroup"), s.run_as_group.take().is_some());
        written(format!("{f}.fsGroup"), s.fs_group.take().is_some());
        written(
            format!("{f}.supplementalGroups"),
            s.supplemental_groups.take().is_some(),
        );
    }
    if let Some(s) = r.spec.container_security_context.as_mut() {
        let f = format!("{base}.containerSecurityContext");
        written(format!("{f}.runAsUser"), s.run_as_user.take().is_some());
        written(format!("{f}.runAsGroup"), s.run_as_group.take().is_some());
    }
    for (field, list) in [
        ("initContainers", r.spec.init_containers.as_mut()),
        ("extraContainers", r.spec.extra_containers.as_mut()),
    ] {
        for (i, c) in list.into_iter().flatten().enumerate() {
            if let Some(s) = c.security_context.as_mut() {
                let f = format!("{base}.{field}[{i}].securityContext");
                written(format!("{f}.runAsUser"), s.run_as_user.take().is_some());
                written(format!("{f}.runAsGroup"), s.run_as_group.take().is_some());
            }
        }
    }
}
