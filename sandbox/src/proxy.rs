//! A forward (CONNECT) proxy on 127.0.0.1 for the tests: it tunnels to the target and records each
//! tunnel asked for. It can require Basic credentials, allow tunnels only to port 443 (Squid's
//! default `CONNECT` rule), or accept only NTLM/Negotiate, to test each message the task gives.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine;

#[derive(Clone, Debug, Default)]
pub struct ProxyOptions {
    /// Require `Proxy-Authorization: Basic` with this user and password.
    pub credentials: Option<(String, String)>,
    /// Refuse tunnels to any port but 443 (403), as Squid does by default.
    pub only_port_443: bool,
    /// Answer every request with 407 asking for NTLM or Negotiate.
    pub windows_auth_only: bool,
    /// Read the CONNECT and never answer it (a proxy that hangs).
    pub never_answers: bool,
}

/// One tunnel the proxy was asked for.
#[derive(Clone, Debug)]
pub struct Tunnel {
    /// `host:port`.
    pub target: String,
    pub proxy_authorization: Option<String>,
    /// The status the proxy answered.
    pub status: u16,
}

pub struct ForwardProxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<Tunnel>>>,
    stop: Arc<AtomicBool>,
}

impl ForwardProxy {
    pub fn start(options: ProxyOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (t, st) = (tunnels.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (t, options) = (t.clone(), options.clone());
                thread::spawn(move || handle(stream, &options, &t));
            }
        });
        Self { addr, tunnels, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn tunnels(&self) -> Vec<Tunnel> {
        self.tunnels.lock().unwrap().clone()
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn handle(mut client: TcpStream, options: &ProxyOptions, tunnels: &Mutex<Vec<Tunnel>>) {
    let _ = client.set_nodelay(true);
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut auth = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("proxy-authorization")
        {
            auth = Some(v.trim().to_string());
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("").to_string());
    let record = |status: u16| tunnels.lock().unwrap().push(Tunnel { target: target.clone(), proxy_authorization: auth.clone(), status });
    let reply = |client: &mut TcpStream, status: &str, extra: &str| {
        let _ = client.write_all(format!("HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\n\r\n").as_bytes());
    };
    if method != "CONNECT" {
        record(400);
        return reply(&mut client, "400 Bad Request", "");
    }
    if options.never_answers {
        record(0);
        // Hold the connection open, silent, until the client gives up.
        let mut buf = [0u8; 1024];
        while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
        return;
    }
    if options.windows_auth_only {
        record(407);
        return reply(&mut client, "407 Proxy Authentication Required", "Proxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\n");
    }
    if let Some((user, pass)) = &options.credentials {
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")));
        if auth.as_deref() != Some(expected.as_str()) {
            record(407);
            return reply(&mut client, "407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"corp\"\r\n");
        }
    }
    if options.only_port_443 && !target.ends_with(":443") {
        record(403);
        return reply(&mut client, "403 Forbidden", "");
    }
    let Ok(upstream) = TcpStream::connect(&target) else {
        record(502);
        return reply(&mut client, "502 Bad Gateway", "");
    };
    record(200);
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    // Bytes the reader already buffered belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    let mut up_write = upstream.try_clone().unwrap();
    let _ = up_write.write_all(&buffered);
    let mut up_read = upstream;
    let mut client_write = client.try_clone().unwrap();
    let t = thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Write);
    });
    let mut client_read = reader.into_inner();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match client_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if up_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = up_write.shutdown(Shutdown::Write);
    let _ = t.join();
}
