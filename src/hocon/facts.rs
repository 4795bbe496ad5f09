//! What the renderer reads from an EMQX config: dashboard ports, every enabled listener and
//! gateway listener with its protocol, the node cookie and whether a licence is set.
//!
//! The rules follow the operator (`GetDashboardPortMap`, `GetListenersServicePorts`) with EMQX's
//! own schema defaults for listeners the config leaves out (feature-map §1.6).

use super::{Object, Pos, Value};

/// Default binds of EMQX's MQTT listener types (emqx `emqx_schema.erl`).
pub const LISTENER_TYPES: &[(&str, u16)] = &[
    ("tcp", 1883),
    ("ssl", 8883),
    ("ws", 8083),
    ("wss", 8084),
    ("quic", 14567),
];
/// Listener types a gateway may have; `udp` and `dtls` are UDP.
pub const GATEWAY_LISTENER_TYPES: &[&str] = &["tcp", "ssl", "udp", "dtls", "ws", "wss"];
/// The dashboard's HTTP port when the config does not set one.
pub const DEFAULT_DASHBOARD_PORT: u16 = 18083;

/// A listener the Service must expose.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    /// Service port name: `<type>-<name>` or `<gateway>-<type>-<name>`.
    pub port_name: String,
    pub port: u16,
    pub udp: bool,
    /// HOCON path of the listener, for messages.
    pub path: String,
    /// Where the bind (or the listener) is written.
    pub pos: Pos,
    /// The listener type: `tcp`, `ssl`, `ws`, `wss`, `quic` (gateways: `udp`, `dtls` too).
    pub kind: String,
    /// The gateway it belongs to, if any.
    pub gateway: Option<String>,
    /// Whether the config sets `ssl_options.certfile` or `keyfile`.
    pub sets_cert: bool,
    /// `websocket.mqtt_path` (ws and wss listeners), if the config sets it.
    pub mqtt_path: Option<String>,
}

fn sets_cert(o: &Object) -> bool {
    ["certfile", "keyfile"]
        .iter()
        .any(|k| get(o, &["ssl_options", k]).is_some())
}

fn mqtt_path(o: &Object) -> Option<String> {
    get(o, &["websocket", "mqtt_path"]).and_then(|n| n.value.as_text())
}

/// Facts the renderer needs from the config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigFacts {
    /// `None` when the HTTP dashboard is disabled (`bind = 0`).
    pub dashboard_http: Option<u16>,
    pub dashboard_https: Option<u16>,
    /// Sorted by port name, as the operator sorts them.
    pub listeners: Vec<Listener>,
    /// `node.cookie`, if the config sets it. Secret: never print it.
    pub cookie: Option<String>,
    pub cookie_pos: Option<Pos>,
    /// Whether `license.key` is set.
    pub has_license: bool,
    /// Dashboard binds to an IPv6 address (`"[::]:18083"`): (path, position).
    pub dashboard_ipv6: Vec<(&'static str, Pos)>,
    /// The top-level keys, where each is written.
    pub roots: Vec<(String, Pos)>,
}

/// A problem in the config's meaning (the syntax was fine).
#[derive(Debug, Clone, PartialEq)]
pub struct FactProblem {
    pub pos: Pos,
    pub path: String,
    pub message: String,
    pub help: String,
}

fn get<'a>(o: &'a Object, path: &[&str]) -> Option<&'a super::Node> {
    let (first, rest) = path.split_first()?;
    let node = &o.get(first)?.node;
    if rest.is_empty() {
        Some(node)
    } else {
        get(node.value.as_object()?, rest)
    }
}

fn is_disabled(o: &Object) -> bool {
    ["enable", "enabled"].iter().any(|k| {
        o.get(k)
            .and_then(|e| e.node.value.as_text())
            .is_some_and(|t| t == "false")
    })
}

/// Parses a bind (`1883`, `"0.0.0.0:1883"`, `":1883"`, `"[::]:1883"`) into a port number.
pub fn bind_port(v: &Value) -> Result<u32, String> {
    let text = match v {
        Value::Int(i) => return u32::try_from(*i).map_err(|_| format!("port {i} is out of range")),
        Value::Str(s) => s.trim_matches('"').to_string(),
        _ => return Err("a bind must be a port or \"ip:port\"".into()),
    };
    let port = text.rsplit_once(':').map_or(text.as_str(), |(_, p)| p);
    port.parse::<u32>()
        .map_err(|_| format!("cannot read a port from bind {text:?}"))
}

fn checked_port(v: &Value, allow_zero: bool) -> Result<u16, String> {
    let p = bind_port(v)?;
    if p > 65535 || (p == 0 && !allow_zero) {
        return Err(format!("port {p} is out of range 1-65535"));
    }
    u16::try_from(p).map_err(|_| format!("port {p} is out of range 1-65535"))
}

/// Reads the facts from a merged config.
pub fn analyze(root: &Object) -> (ConfigFacts, Vec<FactProblem>) {
    let mut facts = ConfigFacts::default();
    let mut problems = Vec::new();
    dashboard(root, &mut facts, &mut problems);
    listeners(root, &mut facts.listeners, &mut problems);
    gateways(root, &mut facts.listeners, &mut problems);
    facts
        .listeners
        .sort_by(|a, b| a.port_name.cmp(&b.port_name));

    if let Some(n) = get(root, &["node", "cookie"]) {
        facts.cookie = n.value.as_text();
        facts.cookie_pos = Some(n.pos);
    }
    facts.has_license = get(root, &["license", "key"]).is_some();
    facts.roots = root
        .entries()
        .iter()
        .map(|e| (e.key.clone(), e.key_pos))
        .collect();
    (facts, problems)
}

fn problem(problems: &mut Vec<FactProblem>, pos: Pos, path: &str, message: String, help: &str) {
    problems.push(FactProblem {
        pos,
        path: path.to_string(),
        message,
        help: help.to_string(),
    });
}

/// The dashboard's HTTP and HTTPS ports (`bind = 0` turns one off).
fn dashboard(root: &Object, facts: &mut ConfigFacts, problems: &mut Vec<FactProblem>) {
    facts.dashboard_http = Some(DEFAULT_DASHBOARD_PORT);
    for (proto, path) in [
        ("http", "dashboard.listeners.http.bind"),
        ("https", "dashboard.listeners.https.bind"),
    ] {
        let segs: Vec<&str> = path.split('.').collect();
        if let Some(n) = get(root, &segs) {
            if let Value::Str(s) = &n.value
                && s.trim_matches('"').starts_with('[')
            {
                facts.dashboard_ipv6.push((path, n.pos));
            }
            match checked_port(&n.value, true) {
                Ok(0) if proto == "http" => facts.dashboard_http = None,
                Ok(0) => {}
                Ok(p) if proto == "http" => facts.dashboard_http = Some(p),
                Ok(p) => facts.dashboard_https = Some(p),
                Err(e) => problem(
                    problems,
                    n.pos,
                    path,
                    e,
                    "write the bind as a port (18083) or \"ip:port\"",
                ),
            }
        }
    }
}

/// The enabled listeners under `listeners`, each with its port (the type's default when no bind).
fn listeners(root: &Object, out: &mut Vec<Listener>, problems: &mut Vec<FactProblem>) {
    if let Some(listeners) = get(root, &["listeners"]).and_then(|n| n.value.as_object()) {
        for t in listeners.entries() {
            let Some(default_port) = LISTENER_TYPES
                .iter()
                .find(|(n, _)| *n == t.key)
                .map(|(_, p)| *p)
            else {
                problem(
                    problems,
                    t.key_pos,
                    &format!("listeners.{}", t.key),
                    format!("unknown listener type `{}`", t.key),
                    "EMQX listener types are tcp, ssl, ws, wss and quic; gateways go under `gateway`",
                );
                continue;
            };
            let Some(named) = t.node.value.as_object() else {
                continue;
            };
            for l in named.entries() {
                let path = format!("listeners.{}.{}", t.key, l.key);
                let Some(obj) = l.node.value.as_object() else {
                    problem(
                        problems,
                        l.node.pos,
                        &path,
                        "a listener must be an object".into(),
                        "write `listeners.tcp.NAME { bind = 1883 }`",
                    );
                    continue;
                };
                if is_disabled(obj) {
                    continue;
                }
                let (port, pos) = match obj.get("bind") {
                    Some(b) => match checked_port(&b.node.value, false) {
                        Ok(p) => (p, b.node.pos),
                        Err(e) => {
                            problem(
                                problems,
                                b.node.pos,
                                &format!("{path}.bind"),
                                e,
                                "write the bind as a port (1883) or \"ip:port\"",
                            );
                            continue;
                        }
                    },
                    None => (default_port, l.key_pos),
                };
                out.push(Listener {
                    port_name: format!("{}-{}", t.key, l.key),
                    port,
                    udp: t.key == "quic",
                    path,
                    pos,
                    kind: t.key.clone(),
                    gateway: None,
                    sets_cert: sets_cert(obj),
                    mqtt_path: mqtt_path(obj),
                });
            }
        }
    }
}

/// The enabled listeners of the enabled gateways (no default ports there).
fn gateways(root: &Object, out: &mut Vec<Listener>, problems: &mut Vec<FactProblem>) {
    if let Some(gateways) = get(root, &["gateway"]).and_then(|n| n.value.as_object()) {
        for g in gateways.entries() {
            let Some(gw) = g.node.value.as_object() else {
                continue;
            };
            if is_disabled(gw) {
                continue;
            }
            let Some(types) = gw.get("listeners").and_then(|e| e.node.value.as_object()) else {
                continue;
            };
            for t in types.entries() {
                if !GATEWAY_LISTENER_TYPES.contains(&t.key.as_str()) {
                    problem(
                        problems,
                        t.key_pos,
                        &format!("gateway.{}.listeners.{}", g.key, t.key),
                        format!("unknown gateway listener type `{}`", t.key),
                        "gateway listener types are tcp, ssl, udp, dtls, ws and wss",
                    );
                    continue;
                }
                let Some(named) = t.node.value.as_object() else {
                    continue;
                };
                for l in named.entries() {
                    let path = format!("gateway.{}.listeners.{}.{}", g.key, t.key, l.key);
                    let Some(obj) = l.node.value.as_object() else {
                        continue;
                    };
                    if is_disabled(obj) {
                        continue;
                    }
                    let Some(b) = obj.get("bind") else {
                        problem(
                            problems,
                            l.key_pos,
                            &path,
                            "gateway listener has no bind".into(),
                            "gateway listeners have no default port: add `bind = PORT`",
                        );
                        continue;
                    };
                    match checked_port(&b.node.value, false) {
                        Ok(port) => out.push(Listener {
                            port_name: format!("{}-{}-{}", g.key, t.key, l.key),
                            port,
                            udp: matches!(t.key.as_str(), "udp" | "dtls"),
                            path,
                            pos: b.node.pos,
                            kind: t.key.clone(),
                            gateway: Some(g.key.clone()),
                            sets_cert: sets_cert(obj),
                            mqtt_path: mqtt_path(obj),
                        }),
                        Err(e) => problem(
                            problems,
                            b.node.pos,
                            &format!("{path}.bind"),
                            e,
                            "write the bind as a port or \"ip:port\"",
                        ),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hocon::parse;

    fn facts(s: &str) -> ConfigFacts {
        let (f, p) = analyze(&parse(s).unwrap());
        assert!(p.is_empty(), "{p:?}");
        f
    }

    #[test]
    fn default_listeners_and_overrides() {
        let f = facts(
            "listeners.tcp.default.bind = 1883\nlisteners.ssl.default.bind = 8883\nlisteners.ssl.default.enable = false\nlisteners.quic.default { enable = true, bind = \"0.0.0.0:14567\" }\nlisteners.ws.default.bind = \":8083\"\ndashboard.listeners.http.bind = 0\n",
        );
        let names: Vec<_> = f
            .listeners
            .iter()
            .map(|l| (l.port_name.as_str(), l.port, l.udp))
            .collect();
        assert_eq!(
            names,
            vec![
                ("quic-default", 14567, true),
                ("tcp-default", 1883, false),
                ("ws-default", 8083, false)
            ]
        );
        assert_eq!(f.dashboard_http, None);
    }

    #[test]
    fn gateway_listeners_are_udp_for_udp_and_dtls() {
        let f = facts(
            "gateway.mqttsn { listeners.udp.default { bind = 1884 } listeners.dtls.default { bind = \"0.0.0.0:1885\" } }\ngateway.coap { enable = false, listeners.udp.default.bind = 5683 }",
        );
        let names: Vec<_> = f
            .listeners
            .iter()
            .map(|l| (l.port_name.as_str(), l.port, l.udp))
            .collect();
        assert_eq!(
            names,
            vec![
                ("mqttsn-dtls-default", 1885, true),
                ("mqttsn-udp-default", 1884, true)
            ]
        );
    }

    #[test]
    fn ipv6_and_https_dashboard() {
        let f = facts("dashboard.listeners.https.bind = \"[::]:18084\"");
        assert_eq!(f.dashboard_http, Some(18083));
        assert_eq!(f.dashboard_https, Some(18084));
    }

    #[test]
    fn bad_port_is_a_problem() {
        let (_, p) = analyze(&parse("listeners.tcp.default.bind = 99999").unwrap());
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("99999"));
    }
}
