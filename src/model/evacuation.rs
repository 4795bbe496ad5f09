//! Opt-in node evacuation before a replicant pod stops: a `preStop` hook that runs EMQX
//! Enterprise's `emqx ctl rebalance start --evacuation` and waits until the node has handed its
//! clients and sessions over (state `prohibiting`), with a termination grace period that leaves
//! it the time. Written `updateStrategy.evacuationStrategy` is the opt-in.
//!
//! Only replicants: a core pod comes back with the same node name and data directory, and EMQX
//! resumes an interrupted evacuation after a restart, so an evacuated core would keep refusing
//! clients.

use k8s_openapi::api::core::v1 as core;

use super::Cluster;
use super::defaults as d;
use crate::diag::{Diagnostic, Diagnostics};
use crate::input::{Locator, p};

/// What the spec asks of the evacuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evacuation {
    pub wait_health_check: i32,
    pub conn_evict_rate: i32,
    pub sess_evict_rate: i32,
    pub wait_takeover: i32,
}

/// What Operator 3.x replicants run on stop; it stays last in the hook.
const LEAVE: &str = "emqx ctl cluster leave";

/// Seconds left for evicting connections and sessions after the two waits.
pub const EVICTION_BUDGET: i64 = 120;
/// Seconds left for EMQX to stop after the evacuation.
pub const SHUTDOWN_BUDGET: i64 = 30;

impl Evacuation {
    /// The spec's values with the operator's defaults for the ones left out (`wait_takeover`
    /// has generation-specific defaults and is decided by the caller).
    pub fn from_spec(
        wait_health_check: Option<i32>,
        conn_evict_rate: Option<i32>,
        sess_evict_rate: Option<i32>,
        wait_takeover: i32,
    ) -> Evacuation {
        Evacuation {
            wait_health_check: wait_health_check.unwrap_or(d::WAIT_HEALTH_CHECK),
            conn_evict_rate: conn_evict_rate.unwrap_or(d::EVICT_RATE),
            sess_evict_rate: sess_evict_rate.unwrap_or(d::EVICT_RATE),
            wait_takeover,
        }
    }

    /// The `preStop` shell script. A start that fails (a single node, nowhere to evacuate to)
    /// lets the pod stop at once; otherwise it waits for `prohibiting`, and Kubernetes ends the
    /// wait at the grace period in any case.
    pub fn script(&self, then: Option<&str>) -> String {
        let mut s = format!(
            "emqx ctl rebalance start --evacuation --wait-health-check {} --conn-evict-rate {} --sess-evict-rate {} --wait-takeover {} && while s=\"$(emqx ctl rebalance node-status)\" && echo \"$s\" | grep -q 'Rebalance type: evacuation' && ! echo \"$s\" | grep -q 'Rebalance state: prohibiting'; do sleep 1; done",
            self.wait_health_check, self.conn_evict_rate, self.sess_evict_rate, self.wait_takeover
        );
        if let Some(t) = then {
            s = format!("{{ {s}; }}; {t}");
        }
        s
    }

    /// `terminationGracePeriodSeconds`: both waits, the eviction budget and the shutdown.
    pub fn grace_seconds(&self) -> i64 {
        i64::from(self.wait_health_check)
            + i64::from(self.wait_takeover)
            + EVICTION_BUDGET
            + SHUTDOWN_BUDGET
    }
}

/// Adds the evacuation hook to the replicants, or says why it cannot.
pub fn apply(c: &mut Cluster, e: Evacuation, at: &Locator, diags: &mut Diagnostics) {
    let path = "spec.updateStrategy.evacuationStrategy";
    let loc = at.key(&p(path));
    // Without replicants there is nothing to evacuate (a core comes back with the same node
    // name and data, and would resume an evacuation and refuse clients): quietly nothing.
    if c.replicant.is_none() {
        return;
    }
    if !c.enterprise() {
        diags.push(
            Diagnostic::warning(
                "evacuation-needs-enterprise",
                path,
                format!("node evacuation is an EMQX Enterprise feature; `{}` has no `emqx ctl rebalance`, so pods stop without evacuating", c.image),
            )
            .at(loc)
            .help("use emqx/emqx-enterprise (or EMQX 5.9 or later), or remove evacuationStrategy"),
        );
        return;
    }
    let Some(r) = c.replicant.as_mut() else {
        return;
    };
    let lifecycle = r.spec.lifecycle.get_or_insert_with(Default::default);
    let command = lifecycle
        .pre_stop
        .as_ref()
        .and_then(|h| h.exec.as_ref())
        .and_then(|x| x.command.clone());
    // Operator 3.x replicants leave the cluster on stop; keep that after the evacuation.
    let forced = command.is_some_and(|cmd| cmd == super::rules::REPLICANT_PRE_STOP);
    let then = forced.then_some(LEAVE);
    if !forced && lifecycle.pre_stop.is_some() {
        diags.push(
            Diagnostic::error(
                "evacuation-prestop-conflict",
                "spec.replicantTemplate.spec.lifecycle.preStop",
                "the replicants have a preStop hook of their own, and evacuationStrategy needs that hook for the evacuation",
            )
            .at(at.key(&p("spec.replicantTemplate.spec.lifecycle.preStop")))
            .help("remove one of the two: the preStop hook, or evacuationStrategy"),
        );
        return;
    }
    lifecycle.pre_stop = Some(core::LifecycleHandler {
        exec: Some(core::ExecAction {
            command: Some(vec!["/bin/sh".into(), "-c".into(), e.script(then)]),
        }),
        ..Default::default()
    });
    r.termination_grace_period_seconds = Some(e.grace_seconds());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_period_covers_both_waits() {
        let e = Evacuation {
            wait_health_check: 60,
            conn_evict_rate: 1000,
            sess_evict_rate: 1000,
            wait_takeover: 10,
        };
        assert_eq!(e.grace_seconds(), 60 + 10 + 120 + 30);
        let s = e.script(Some("emqx ctl cluster leave"));
        assert!(s.starts_with("{ emqx ctl rebalance start --evacuation --wait-health-check 60 --conn-evict-rate 1000 --sess-evict-rate 1000 --wait-takeover 10 && while"));
        assert!(s.ends_with("; }; emqx ctl cluster leave"));
    }
}
