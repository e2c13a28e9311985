//! A small static file server for 127.0.0.1: the demo and the test pages.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::thread::JoinHandle;

/// Folders served, first match wins: the demo, then the test-only pages.
pub fn roots() -> Vec<PathBuf> {
    let root = super::root();
    vec![root.join("demo"), root.join("tests/pages")]
}

pub struct Server {
    pub port: u16,
    thread: JoinHandle<()>,
}

impl Server {
    /// Listen on 127.0.0.1:`port` (0 = any free port) in a background thread.
    pub fn start(port: u16, roots: Vec<PathBuf>) -> Result<Server, String> {
        let listener =
            TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let roots = roots.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &roots);
                });
            }
        });
        Ok(Server { port, thread })
    }

    /// The listener thread has ended (it serves until the process ends otherwise).
    pub fn finished(&self) -> bool {
        self.thread.is_finished()
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("css") => "text/css",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `<file>.gz` (what `cargo xtask build` writes next to what it ships) if
/// it is there and not older than `file`.
fn precompressed(file: &Path) -> Option<PathBuf> {
    let mut gz = file.as_os_str().to_owned();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(&gz)? >= modified(file)?).then_some(gz)
}

fn handle(stream: TcpStream, roots: &[PathBuf]) -> std::io::Result<()> {
    // Headers and body go out in separate writes: with Nagle's algorithm on,
    // the body waits for the client's delayed ACK (40 ms a file, measured: a
    // worker start, four files in a chain, took 150 ms instead of 60).
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        // Of the headers, only whether the client takes gzip.
        let mut gzip = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
                break;
            }
            let line = line.to_ascii_lowercase();
            if let Some(value) = line.strip_prefix("accept-encoding:") {
                gzip |= value.split(',').any(takes_gzip);
            }
        }
        let mut parts = request.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let path = target.split(['?', '#']).next().unwrap_or("/");
        let path = if path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
        let rel = Path::new(path.trim_start_matches('/'));
        let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
        let file = roots.iter().map(|r| r.join(rel)).find(|p| safe && p.is_file());
        let mut out = &stream;
        match (method, file) {
            ("GET" | "HEAD", Some(file)) => {
                let gz = if gzip { precompressed(&file) } else { None };
                let body = std::fs::read(gz.as_ref().unwrap_or(&file))?;
                let encoding = if gz.is_some() { "Content-Encoding: gzip\r\n" } else { "" };
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: {}\r\n{encoding}Vary: Accept-Encoding\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
                    content_type(&file),
                    body.len()
                )?;
                if method == "GET" {
                    out.write_all(&body)?;
                }
            }
            _ => {
                let body = b"not found";
                write!(out, "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n", body.len())?;
                out.write_all(body)?;
            }
        }
        out.flush()?;
    }
}

/// Whether one coding of an Accept-Encoding value (lowercase) accepts gzip:
/// `gzip` or `x-gzip`, unless its weight is zero (`gzip;q=0`, RFC 9110
/// section 12.5.3).
fn takes_gzip(coding: &str) -> bool {
    let mut parts = coding.split(';');
    let name = parts.next().unwrap_or("").trim();
    let refused = parts.any(|p| {
        p.trim().strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
    });
    matches!(name, "gzip" | "x-gzip") && !refused
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::{Duration, SystemTime};

    fn get(port: u16, headers: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(stream, "GET /a.js HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n").expect("write");
        stream.shutdown(std::net::Shutdown::Write).expect("shutdown");
        // The server keeps the connection open: read one response, by its length.
        let mut response = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let text = String::from_utf8_lossy(&response).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| l.strip_prefix("Content-Length: "));
                if body.len() >= length.expect("Content-Length").parse().expect("length") {
                    return text;
                }
            }
            let n = stream.read(&mut buf).expect("read");
            assert!(n > 0, "connection closed after {text:?}");
            response.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn sends_the_precompressed_file_to_clients_that_take_gzip() {
        let dir = std::env::temp_dir().join(format!("tabphone-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("a.js"), "plain js").expect("write");
        std::fs::write(dir.join("a.js.gz"), "fake gz").expect("write");
        let server = Server::start(0, vec![dir.clone()]).expect("server");

        let gz = get(server.port, "Accept-Encoding: br, GZIP;q=0.8\r\n");
        assert!(gz.contains("Content-Encoding: gzip\r\n"), "{gz}");
        assert!(gz.ends_with("\r\n\r\nfake gz"), "{gz}");
        for refused in ["br", "gzip;q=0", "gzip; q=0.000, br"] {
            let plain = get(server.port, &format!("Accept-Encoding: {refused}\r\n"));
            assert!(plain.ends_with("\r\n\r\nplain js"), "{refused}: {plain}");
        }
        let plain = get(server.port, "Accept-Encoding: br\r\n");
        assert!(!plain.contains("Content-Encoding"), "{plain}");
        assert!(plain.ends_with("\r\n\r\nplain js"), "{plain}");

        // A .gz older than its file is stale: the file goes out as it is.
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(dir.join("a.js.gz"))
            .expect("open")
            .set_modified(old)
            .expect("mtime");
        let stale = get(server.port, "Accept-Encoding: gzip\r\n");
        assert!(stale.ends_with("\r\n\r\nplain js"), "{stale}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
