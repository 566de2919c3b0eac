//! The wire of the language server protocol, for the clients in
//! `tests/lsp.rs` and `benches/lsp_latency.rs`: start `score lsp`, and send
//! and receive Content-Length framed JSON-RPC messages.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};

/// A running `score lsp`: the process, its input, and every message it
/// writes, read by a thread of their own so that waits can time out.
pub struct Server {
    pub child: Child,
    pub stdin: ChildStdin,
    pub messages: Receiver<Value>,
}

/// Start the release or debug `score` binary of this build as a language
/// server. It writes the standard library under `dir/cache`, so nothing
/// leaves the test's temporary directory.
pub fn start(dir: &Path) -> std::io::Result<Server> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_score"))
        .arg("lsp")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, messages) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        while let Some(message) = read_message(&mut reader) {
            if tx.send(message).is_err() {
                break;
            }
        }
    });
    Ok(Server {
        child,
        stdin,
        messages,
    })
}

/// Write one framed message.
pub fn write_message(stdin: &mut ChildStdin, message: &Value) -> std::io::Result<()> {
    let body = message.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    stdin.flush()
}

/// Read one framed message; `None` at the end of the stream or on garbage.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
