//! The HTTP edge of `status`: a blocking ureq (rustls) client with timeouts, HTTPS with the
//! system's roots or a given CA, an optional client certificate, HTTP basic auth with an API
//! key. Errors say what failed and what to try; secrets never appear in them.

use std::time::Duration;

use base64::Engine;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

/// An API key and its secret (the secret is never printed).
#[derive(Clone)]
pub struct Credentials {
    pub key: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ key: {:?}, secret: <hidden> }}", self.key)
    }
}

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub ca_pem: Option<Vec<u8>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Vec<u8>>,
    pub insecure: bool,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
}

/// Why a request failed. `Network` may pass (the cluster restarting); the others will not.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("{url} answered {status} {code}: {message}")]
    Api {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected answer from {url}: {reason}")]
    Garbage { url: String, reason: String },
}

impl ClientError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ClientError::Api { status: 401, .. } => Some(
                "check EMQX_API_KEY/EMQX_API_SECRET (or --api-key-file): the key must be in the cluster's bootstrap API key file, which core nodes load at boot",
            ),
            ClientError::Api { status: 403, .. } => Some(
                "the API key's role may not read this; use an administrator key, or a viewer key on EMQX Enterprise or 5.9+",
            ),
            ClientError::Api { status: 404, .. } => Some(
                "--url must be the dashboard listener of a node (e.g. http://emqx-dashboard.mqtt:18083), not an MQTT port or a path",
            ),
            ClientError::Network { .. } => Some(
                "is the URL reachable from here (kubectl port-forward svc/<name>-dashboard 18083)? For HTTPS with a private CA, pass --cacert",
            ),
            _ => None,
        }
    }

    pub fn is_network(&self) -> bool {
        matches!(self, ClientError::Network { .. })
    }
}

/// The X.509 version of a DER certificate is v3 (or v2) when the TBSCertificate starts with the
/// explicit `[0]` version tag. ureq panics on v1 client certificates; refuse them first.
fn is_v1(der: &[u8]) -> bool {
    fn skip_header(d: &[u8]) -> Option<&[u8]> {
        let len = *d.get(1)?;
        let n = if len & 0x80 == 0 {
            2
        } else {
            2 + usize::from(len & 0x7f)
        };
        d.get(n..)
    }
    let tbs = skip_header(der).filter(|_| der.first() == Some(&0x30));
    let first = tbs
        .and_then(skip_header)
        .filter(|_| tbs.and_then(|t| t.first()) == Some(&0x30));
    first.and_then(|f| f.first()) != Some(&0xa0)
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<Certificate<'static>>, ClientError> {
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(ClientError::Usage(format!(
                    "{what}: not a PEM certificate ({e})"
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(ClientError::Usage(format!(
            "{what}: no PEM certificate in the file"
        )));
    }
    Ok(out)
}

/// A blocking HTTP client for one base URL.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
}

impl Client {
    pub fn new(
        url: &str,
        creds: Option<&Credentials>,
        o: &ClientOptions,
    ) -> Result<Client, ClientError> {
        let base = url.trim_end_matches('/').to_string();
        let parsed: ureq::http::Uri = base
            .parse()
            .map_err(|_| ClientError::Usage(format!("--url {url:?} is not a URL")))?;
        match parsed.scheme_str() {
            Some("http") | Some("https") if parsed.host().is_some() => {}
            _ => {
                return Err(ClientError::Usage(format!(
                    "--url {url:?} must be http://HOST[:PORT] or https://HOST[:PORT]"
                )));
            }
        }
        let roots = match &o.ca_pem {
            Some(pem) => RootCerts::new_with_certs(&certs(pem, "--cacert")?),
            None => RootCerts::PlatformVerifier,
        };
        let client_cert = match (&o.client_cert_pem, &o.client_key_pem) {
            (Some(c), Some(k)) => {
                let chain = certs(c, "--client-cert")?;
                if chain.first().is_some_and(|c| is_v1(c.der())) {
                    return Err(ClientError::Usage(
                        "--client-cert: an X.509 v1 certificate cannot be used by TLS clients; issue a v3 certificate".into(),
                    ));
                }
                let key = PrivateKey::from_pem(k).map_err(|e| {
                    ClientError::Usage(format!("--client-key: not a PEM private key ({e})"))
                })?;
                Some(ClientCert::new_with_certs(&chain, key))
            }
            (None, None) => None,
            _ => {
                return Err(ClientError::Usage(
                    "--client-cert and --client-key go together".into(),
                ));
            }
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .client_cert(client_cert)
            .disable_verification(o.insecure)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(o.connect_timeout)
            .timeout_global(o.timeout)
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        let auth = creds.map(|c| {
            let raw = format!("{}:{}", c.key, c.secret);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        });
        Ok(Client { agent, base, auth })
    }

    /// GET `path`; returns the status and the body text.
    pub fn get(&self, path: &str, with_auth: bool) -> Result<(u16, String), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.get(&url).header("Accept", "application/json");
        if with_auth && let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req.call().map_err(|e| ClientError::Network {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| ClientError::Garbage {
                url: url.clone(),
                reason: format!("cannot read the body ({e})"),
            })?;
        Ok((status, body))
    }

    /// GET an API path that must answer 200; EMQX error bodies become `Api` errors.
    pub fn get_api(&self, path: &str) -> Result<String, ClientError> {
        let (status, body) = self.get(path, true)?;
        if status == 200 {
            return Ok(body);
        }
        let url = format!("{}{path}", self.base);
        let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        let field = |k: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        match (field("code"), field("message")) {
            (Some(code), message) => Err(ClientError::Api {
                url,
                status,
                code,
                message: message.unwrap_or_default(),
            }),
            _ => Err(ClientError::Api {
                url,
                status,
                code: "HTTP_ERROR".into(),
                message: body
                    .chars()
                    .take(120)
                    .collect::<String>()
                    .replace('\n', " "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_usage_errors() {
        for u in ["not a url", "ftp://x", "http://", "localhost:18083"] {
            assert!(
                matches!(
                    Client::new(u, None, &ClientOptions::default()),
                    Err(ClientError::Usage(_))
                ),
                "{u}"
            );
        }
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let c = Credentials {
            key: "k".into(),
            secret: "s3cr3t".into(),
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
