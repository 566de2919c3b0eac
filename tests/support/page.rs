//! The live page's wire, for the tests of `score serve` and `score run
//! --ui`: a plain HTTP/1.1 client over a 127.0.0.1 socket (one request per
//! connection), a reader of server-sent events, and the URL a server
//! prints.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `http://HOST:PORT` and the path (with query) of a URL.
pub fn split(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    (host.to_string(), format!("/{path}"))
}

fn connect(host: &str) -> TcpStream {
    let stream = TcpStream::connect(host).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// One request; the status and the body.
pub fn request(method: &str, host: &str, path: &str) -> (u16, String) {
    let mut stream = connect(host);
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

pub fn get(host: &str, path: &str) -> (u16, String) {
    request("GET", host, path)
}

pub fn get_json(host: &str, path: &str) -> serde_json::Value {
    let (status, body) = get(host, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A server-sent event.
#[derive(Debug)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// An open event stream.
pub struct Sse {
    reader: BufReader<TcpStream>,
}

impl Sse {
    pub fn open(host: &str, path: &str) -> Sse {
        let mut stream = connect(host);
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains(" 200 "), "the stream opens: {line}");
        // The rest of the head.
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Sse { reader }
    }

    /// The next event (chunk sizes and keep-alive comments skipped);
    /// `None` when the stream ended.
    pub fn next(&mut self) -> Option<SseEvent> {
        let (mut event, mut data) = (String::new(), String::new());
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(name) = l.strip_prefix("event:") {
                event = name.trim().to_string();
            } else if let Some(d) = l.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            } else if l.is_empty() && !event.is_empty() {
                return Some(SseEvent { event, data });
            } else if l == "0" && event.is_empty() {
                // The last chunk of a chunked body.
                return None;
            }
        }
    }

    /// Events until one `state` event for which `done` holds; panics if the
    /// stream ends first. The `record` events seen on the way are returned.
    pub fn until_state(
        &mut self,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> (serde_json::Value, Vec<serde_json::Value>) {
        let mut records = Vec::new();
        while let Some(event) = self.next() {
            match event.event.as_str() {
                "record" => records.push(serde_json::from_str(&event.data).unwrap()),
                "state" => {
                    let state: serde_json::Value = serde_json::from_str(&event.data).unwrap();
                    if done(&state) {
                        return (state, records);
                    }
                }
                _ => {}
            }
        }
        panic!("the stream ended before the state expected");
    }
}

/// The first `http://…` URL in a line of `reader`.
pub fn read_url(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("the server ended without printing its URL");
        }
        if let Some(start) = line.find("http://") {
            return line[start..].split_whitespace().next().unwrap().to_string();
        }
    }
}
