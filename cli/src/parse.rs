//! `tabphone-cli parse FILE`: one SIP message through the core's parser,
//! summed up in one line.

use std::path::Path;
use std::process::ExitCode;

use tabphone_sip::msg::{self, Message};

/// Exit 0 and a summary, 1 and the error for a malformed message, 2 when
/// the file cannot be read.
pub fn run(path: &Path) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tabphone-cli: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    match msg::parse(&bytes) {
        Ok(Message::Request(r)) => {
            println!(
                "request {} {} ({} headers, {} body bytes)",
                r.method.as_str(),
                r.uri,
                r.headers.0.len(),
                r.body.len()
            );
            ExitCode::SUCCESS
        }
        Ok(Message::Response(r)) => {
            println!(
                "response {} {} ({} headers, {} body bytes)",
                r.status,
                r.reason,
                r.headers.0.len(),
                r.body.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            match &e.answer {
                Some((status, _)) => println!("malformed: {} (a server answers {status})", e.reason),
                None => println!("malformed: {}", e.reason),
            }
            ExitCode::from(1)
        }
    }
}
