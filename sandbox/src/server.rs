//! A small HTTP/1.1 server on 127.0.0.1 with an ephemeral port: it records every request and can
//! inject faults (a one-shot status, 429 with Retry-After, a dropped connection, added latency).
//! Written by hand rather than with a library so a fault can be exactly what a real network does,
//! such as closing the connection without an answer.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// When the request was read, for timing assertions.
    pub received_at: std::time::Instant,
}

impl RecordedRequest {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k == name).then(|| percent_decode(v))
        })
    }

    /// A header by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// "GET /api/ce/task": method and path without the query, for counting requests per endpoint.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path())
    }
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = ((b[i + 1] as char).to_digit(16), (b[i + 2] as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response to send.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
            body: serde_json::to_vec(value).unwrap(),
        }
    }

    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Self { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.as_bytes().to_vec() }
    }

    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: vec![] }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A fault to inject.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status (and a small body) instead of the real answer.
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    RateLimited { retry_after_secs: u32 },
    /// Close the connection without answering.
    DropConnection,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer with exactly this (hostile or broken responses).
    Body { status: u16, content_type: String, body: Vec<u8> },
    /// Answer normally, with these headers added (rate-limit announcements).
    AddHeaders(Vec<(String, String)>),
    /// 302 to this URL.
    Redirect(String),
    /// Answer normally: lets the first requests of a rule through before a later rule applies.
    Pass,
    /// Hold each request until `parties` requests of this rule have arrived (at most 20 s), compute
    /// every answer, and only then send them: two runs reading at the same moment, made certain
    /// rather than lucky. (Releasing them at once is not enough: on a loaded machine one answer can
    /// go out, and that run write, before the other answer is computed.)
    HoldUntil { parties: usize, arrived: Arc<(Mutex<(usize, usize)>, std::sync::Condvar)> },
    /// Wait this long, then close the connection without answering or processing the request.
    Hang(Duration),
    /// Answer with exactly this response (a status with absurd headers, say).
    Reply(Response),
    /// Answer normally, but one byte every this long (a server that dribbles its body).
    Dribble(Duration),
}

impl Fault {
    pub fn hold_until(parties: usize) -> Self {
        Fault::HoldUntil { parties, arrived: Arc::new((Mutex::new((0, 0)), std::sync::Condvar::new())) }
    }
}

/// Injects `fault` into the next `times` requests whose method matches (any when `None`) and whose
/// path contains `path_contains`.
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub method: Option<String>,
    pub path_contains: String,
    pub fault: Fault,
    pub times: u32,
}

/// What a fake does with a request.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: &RecordedRequest) -> Response;
}

#[derive(Default)]
struct Shared {
    requests: Vec<RecordedRequest>,
    /// TCP connections accepted (each one a TLS handshake on a TLS server).
    connections: usize,
    faults: Vec<FaultRule>,
    latency: Duration,
}

/// A running server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    tls: bool,
}

impl Server {
    pub fn start(handler: Arc<dyn Handler>) -> Self {
        Self::start_with(handler, None)
    }

    /// The same server behind TLS, with this certificate chain and key.
    pub fn start_tls(handler: Arc<dyn Handler>, tls: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(handler, Some(tls))
    }

    fn start_with(handler: Arc<dyn Handler>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (shared.clone(), stop.clone());
        let is_tls = tls.is_some();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                s.lock().unwrap().connections += 1;
                let (handler, shared, tls) = (handler.clone(), s.clone(), tls.clone());
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                    // Without this, Nagle's algorithm and the client's delayed ACK add ~40 ms to
                    // small answers, which no real server shows and which would distort timings.
                    let _ = stream.set_nodelay(true);
                    match tls {
                        Some(config) => {
                            if let Ok(conn) = rustls::ServerConnection::new(config) {
                                serve(rustls::StreamOwned::new(conn, stream), handler, shared);
                            }
                        }
                        None => serve(stream, handler, shared),
                    }
                });
            }
        });
        Self { addr, shared, stop, tls: is_tls }
    }

    pub fn url(&self) -> String {
        // A TLS server is named by `localhost`, which its test certificate holds.
        if self.tls { format!("https://localhost:{}", self.addr.port()) } else { format!("http://{}", self.addr) }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TCP connections this server accepted: what a client's keep-alive and connection cap let
    /// through (on a TLS server, also the number of handshakes).
    pub fn connections(&self) -> usize {
        self.shared.lock().unwrap().connections
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().unwrap().requests.clear();
    }

    pub fn inject(&self, rule: FaultRule) {
        self.shared.lock().unwrap().faults.push(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().unwrap().faults.clear();
    }

    /// Added to every answer: a simple model of a distant server.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().unwrap().latency = latency;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve<S: Read + Write>(stream: S, handler: Arc<dyn Handler>, shared: Arc<Mutex<Shared>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader) else { return };
        let (fault, latency) = {
            let mut sh = shared.lock().unwrap();
            sh.requests.push(request.clone());
            let fault = sh
                .faults
                .iter_mut()
                .find(|r| {
                    r.times > 0 && r.method.as_deref().is_none_or(|m| m == request.method) && request.target.contains(&r.path_contains)
                })
                .map(|r| {
                    r.times -= 1;
                    r.fault.clone()
                });
            (fault, sh.latency)
        };
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        let response = match fault {
            // Returning drops the stream: the connection closes without an answer.
            Some(Fault::DropConnection) => return,
            Some(Fault::Hang(d)) => {
                thread::sleep(d);
                return;
            }
            Some(Fault::HoldUntil { parties, arrived }) => {
                // (requests arrived, answers computed): every answer is computed after the last
                // arrival and sent after the last is computed.
                let (counts, changed) = &*arrived;
                let wait = Duration::from_secs(20);
                let mut n = counts.lock().unwrap();
                n.0 += 1;
                changed.notify_all();
                drop(changed.wait_timeout_while(n, wait, |n| n.0 < parties).unwrap());
                let response = handler.handle(&request);
                let mut n = counts.lock().unwrap();
                n.1 += 1;
                changed.notify_all();
                drop(changed.wait_timeout_while(n, wait, |n| n.1 < parties).unwrap());
                response
            }
            Some(Fault::Pass) => handler.handle(&request),
            Some(Fault::Reply(r)) => r,
            Some(Fault::Dribble(every)) => {
                let r = handler.handle(&request);
                let mut bytes = Vec::new();
                let _ = write_response(&mut bytes, &r);
                for b in bytes {
                    if reader.get_mut().write_all(&[b]).and_then(|_| reader.get_mut().flush()).is_err() {
                        return;
                    }
                    thread::sleep(every);
                }
                continue;
            }
            Some(Fault::Status(status)) => Response::text(status, "text/plain", "injected fault"),
            Some(Fault::RateLimited { retry_after_secs }) => Response::json(429, &serde_json::json!({"message": "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Global' in namespace 'User'."}))
                .with_header("Retry-After", &retry_after_secs.to_string())
                .with_header("X-RateLimit-Resource", "Core")
                .with_header("X-RateLimit-Remaining", "0"),
            Some(Fault::Body { status, content_type, body }) => Response { status, headers: vec![("Content-Type".into(), content_type)], body },
            Some(Fault::AddHeaders(extra)) => {
                let mut r = handler.handle(&request);
                r.headers.extend(extra);
                r
            }
            Some(Fault::Redirect(location)) => Response::empty(302).with_header("Location", &location),
            Some(Fault::Delay(d)) => {
                thread::sleep(d);
                handler.handle(&request)
            }
            None => handler.handle(&request),
        };
        if write_response(reader.get_mut(), &response).is_err() {
            return;
        }
    }
}

fn read_request<S: Read>(reader: &mut BufReader<S>) -> Option<RecordedRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    // A chunked body (RFC 9112 §7.1) is read as any HTTP/1.1 server reads it, so the next
    // request on the connection starts where it should.
    let body = if headers.get("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        read_chunked(reader)?
    } else {
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(RecordedRequest { method, target, headers, body, received_at: std::time::Instant::now() })
}

/// A chunked body: hex sizes, each chunk and its CRLF, a zero-size chunk, then trailers to an
/// empty line. At most 16 MiB, as a fake need not take more.
fn read_chunked<S: Read>(reader: &mut BufReader<S>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer).ok()? == 0 || trailer.trim_end().is_empty() {
                    return Some(body);
                }
            }
        }
        if body.len() + size > 16 << 20 {
            return None;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).ok()?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_response<W: Write>(w: &mut W, r: &Response) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n", r.status, reason(r.status), r.body.len());
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // One write for head and body, as servers do.
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&r.body);
    w.write_all(&bytes)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_body_is_read_and_the_next_request_starts_after_it() {
        let wire = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let mut reader = BufReader::new(&wire[..]);
        let a = read_request(&mut reader).unwrap();
        assert_eq!((a.target.as_str(), a.body.as_slice()), ("/a", &b"Wikipedia"[..]));
        assert_eq!(read_request(&mut reader).unwrap().target, "/b");
        let c = read_request(&mut reader).unwrap();
        assert_eq!((c.target.as_str(), c.body.len()), ("/c", 0));
        assert!(read_request(&mut reader).is_none());
    }
}
