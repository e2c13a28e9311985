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
        // Skip headers.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
                break;
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
                let body = std::fs::read(&file)?;
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
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
