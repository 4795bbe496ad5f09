//! The top-level configuration roots EMQX 5 and 6 read, by edition, and the warning for a root
//! EMQX would drop without a word (`listners { ... }` runs on the default listeners).
//!
//! Source: the `roots()` of the schema modules in emqx/emqx, over the 5.0 to 6.x sources:
//! `emqx_conf_schema` (node, cluster, log, rpc, then its `MERGED_CONFIGS` modules),
//! `emqx_schema:roots(high | medium | low)` (their 5.0 and current versions),
//! `emqx_modules_schema`, `emqx_psk_schema`, `emqx_mgmt_api_key_schema`, `emqx_otel_schema`,
//! and for Enterprise `emqx_enterprise_schema`'s `EE_SCHEMA_MODULES` (`emqx_license_schema`,
//! `emqx_schema_registry_schema`, `emqx_schema_validation_schema`,
//! `emqx_message_transformation_schema`, `emqx_ft_schema`, `emqx_ds_shared_sub_schema`,
//! `emqx_mt_schema`). A root of an older version stays in the table (a config may still carry
//! it). README "HOCON" has the table.

/// Which editions read a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editions {
    Both,
    Enterprise,
}

/// Every root, with the editions that read it.
pub const ROOTS: &[(&str, Editions)] = &[
    // emqx_conf_schema
    ("node", Editions::Both),
    ("cluster", Editions::Both),
    ("log", Editions::Both),
    ("rpc", Editions::Both),
    // emqx_schema, high
    ("listeners", Editions::Both),
    ("zones", Editions::Both),
    ("mqtt", Editions::Both),
    ("authentication", Editions::Both),
    ("authorization", Editions::Both),
    // emqx_schema, medium (rate_limit: 5.0)
    ("broker", Editions::Both),
    ("sys_topics", Editions::Both),
    ("rate_limit", Editions::Both),
    ("force_shutdown", Editions::Both),
    ("overload_protection", Editions::Both),
    ("durable_storage", Editions::Both),
    // emqx_schema, low (quota, persistent_session_store, plugins there: 5.0)
    ("force_gc", Editions::Both),
    ("conn_congestion", Editions::Both),
    ("quota", Editions::Both),
    ("stats", Editions::Both),
    ("sysmon", Editions::Both),
    ("alarm", Editions::Both),
    ("flapping_detect", Editions::Both),
    ("persistent_session_store", Editions::Both),
    ("durable_sessions", Editions::Both),
    ("trace", Editions::Both),
    ("crl_cache", Editions::Both),
    ("banned", Editions::Both),
    // the MERGED_CONFIGS modules
    ("bridges", Editions::Both),
    ("connectors", Editions::Both),
    ("actions", Editions::Both),
    ("sources", Editions::Both),
    ("retainer", Editions::Both),
    ("auto_subscribe", Editions::Both),
    ("telemetry", Editions::Both),
    ("delayed", Editions::Both),
    ("event_message", Editions::Both),
    ("rewrite", Editions::Both),
    ("topic_metrics", Editions::Both),
    ("plugins", Editions::Both),
    ("dashboard", Editions::Both),
    ("gateway", Editions::Both),
    ("prometheus", Editions::Both),
    ("rule_engine", Editions::Both),
    ("exhook", Editions::Both),
    ("psk_authentication", Editions::Both),
    ("limiter", Editions::Both),
    ("slow_subs", Editions::Both),
    ("statsd", Editions::Both),
    ("api_key", Editions::Both),
    ("opentelemetry", Editions::Both),
    // emqx_enterprise_schema: EE_SCHEMA_MODULES
    ("license", Editions::Enterprise),
    ("schema_registry", Editions::Enterprise),
    ("schema_validation", Editions::Enterprise),
    ("message_transformation", Editions::Enterprise),
    ("file_transfer", Editions::Enterprise),
    ("durable_queues", Editions::Enterprise),
    ("multi_tenancy", Editions::Enterprise),
];

/// What is wrong with the top-level key `name` for an image of that edition, as (message, help):
/// a root only Enterprise reads in an open-source config, or a name no EMQX reads that is close
/// to one it does (a typo). A name far from every root is left alone: the table may lag a new
/// release, and a warning must not be wrong.
pub fn check(name: &str, enterprise: bool) -> Option<(String, String)> {
    match ROOTS.iter().find(|(n, _)| *n == name) {
        Some((_, Editions::Enterprise)) if !enterprise => Some((
            format!("`{name}` is a configuration root of EMQX Enterprise only: the open-source edition drops it without a word"),
            "use an emqx/emqx-enterprise image (or state `emqx: {edition: enterprise}` in Settings for a mirror), or remove it".into(),
        )),
        Some(_) => None,
        None => {
            let known = ROOTS
                .iter()
                .filter(|(_, e)| enterprise || *e == Editions::Both)
                .map(|(n, _)| *n);
            let close = crate::diag::did_you_mean(name, known)?;
            Some((
                format!("`{name}` is not a configuration root of EMQX: it drops the whole `{name}` block without a word, and runs on the defaults"),
                format!("did you mean `{close}`?"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_named_with_the_root_meant() {
        let (m, h) = check("listners", false).unwrap();
        assert!(m.contains("`listners` is not a configuration root"), "{m}");
        assert_eq!(h, "did you mean `listeners`?");
    }

    #[test]
    fn roots_of_either_edition_pass_and_enterprise_ones_only_there() {
        for (n, e) in ROOTS {
            assert_eq!(check(n, true), None, "{n}");
            assert_eq!(check(n, false).is_none(), *e == Editions::Both, "{n}");
        }
    }

    #[test]
    fn a_name_close_to_no_root_is_left_alone() {
        assert_eq!(check("session_persistence", false), None);
        assert_eq!(check("my_plugin_settings", true), None);
    }
}
