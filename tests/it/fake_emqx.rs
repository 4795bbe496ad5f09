//! A local fake EMQX dashboard listener that replays `tests/data/emqx-api/` with the real
//! status codes, headers and bodies: `/status` without auth, `/api/v5/nodes` behind HTTP basic
//! auth (401 with `WWW-Authenticate` when missing or wrong), the exact 404 bytes for unknown
//! paths. Variants: a forced 403, a sequence of node lists (for `--wait`), a server that sends
//! garbage, one that never answers, and a TLS one with a certificate from a CA made in the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "emqx-render-status";
pub const SECRET: &str = "3bK9vR2mQ7xT5nW8pL4cF6hJ1dZ0sYaE";

pub fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/emqx-api")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// What the fake server answers.
#[derive(Clone)]
pub struct Scenario {
    /// Node-list bodies, served in turn (the last one repeats).
    pub nodes: Vec<Vec<u8>>,
    /// `/status` status and body.
    pub status: (u16, Vec<u8>),
    /// Answer `/api/v5/nodes` with 403 UNAUTHORIZED_ROLE.
    pub forbid: bool,
}

impl Scenario {
    pub fn nodes(file: &str) -> Scenario {
        Scenario {
            nodes: vec![fixture(file)],
            status: (200, fixture("status-running.txt")),
            forbid: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Http,
    Garbage,
    Silent,
}

pub struct Server {
    pub url: String,
    /// PEM of the CA that signed the TLS server's certificate.
    pub ca_pem: Option<String>,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn respond(w: &mut dyn Write, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(body);
    let _ = w.flush();
}

fn handle(stream: &mut (impl Read + Write), scenario: &Scenario, served: &AtomicUsize) {
    let mut reader = BufReader::new(&mut *stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut auth = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("authorization")
        {
            auth = Some(v.trim().to_string());
        }
    }
    drop(reader);
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let path = path.split('?').next().unwrap_or("/");
    let json = [("content-type", "application/json")];
    let www = [
        ("content-type", "application/json"),
        ("www-authenticate", "Basic Realm=\"emqx-dashboard\""),
    ];
    match path {
        "/status" | "/api/v5/status" => {
            let (code, body) = &scenario.status;
            let mut headers = vec![("retry-after", "15")];
            if !body.is_empty() {
                headers.push(("content-type", "text/plain"));
            }
            respond(stream, *code, &headers, body);
        }
        "/api/v5/nodes" => {
            use base64::Engine;
            let good = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
            );
            match auth.as_deref() {
                None => respond(
                    stream,
                    401,
                    &www,
                    &fixture("error-401-missing-authorization.json"),
                ),
                Some(a) if a != good => respond(stream, 401, &www, &fixture("error-401.json")),
                Some(_) if scenario.forbid => respond(
                    stream,
                    403,
                    &json,
                    &fixture("error-403-unauthorized-role.json"),
                ),
                Some(_) => {
                    let i = served
                        .fetch_add(1, Ordering::SeqCst)
                        .min(scenario.nodes.len() - 1);
                    respond(stream, 200, &json, &scenario.nodes[i]);
                }
            }
        }
        _ => respond(
            stream,
            404,
            &json,
            &fixture("error-404-path-not-found.json"),
        ),
    }
}

fn spawn(listener: TcpListener, handler: impl Fn(TcpStream) + Send + 'static) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            handler(stream);
        }
    });
}

/// Starts a plain HTTP fake on 127.0.0.1.
pub fn start(scenario: Scenario, mode: Mode) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
    spawn(listener, move |mut s| match mode {
        Mode::Http => handle(&mut s, &scenario, &served),
        Mode::Garbage => {
            let _ = s.write_all(b"\x00\x01 this is not HTTP \xff\r\n\r\n");
        }
        // Accept, read, and never answer: keep the socket open so only a timeout ends the wait.
        Mode::Silent => {
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            held.lock().unwrap().push(s);
        }
    });
    Server { url, ca_pem: None }
}

/// Starts an HTTPS fake whose certificate (for 127.0.0.1 and localhost) is signed by a CA
/// generated here.
pub fn start_tls(scenario: Scenario) -> Server {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = vec![server_cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let served = Arc::new(AtomicUsize::new(0));
    spawn(listener, move |s| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, s);
        handle(&mut tls, &scenario, &served);
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    Server {
        url,
        ca_pem: Some(ca.pem()),
    }
}
