//! The language server's stdio transport: `Content-Length` framed JSON-RPC
//! read by hand, so that one malformed message cannot stop the server.
//!
//! `lsp_server::Connection::stdio()` ends its reader thread at the first
//! frame it cannot read (bad JSON, bad UTF-8, a missing or bad
//! `Content-Length`), which closes the connection and makes the server
//! exit: an editor plugin with a bug, or anything else writing to the pipe,
//! takes the server down. Here each problem is answered the JSON-RPC way, a
//! response with `"id": null` and error -32700 (Parse error; -32600 Invalid
//! Request for JSON that is not a message), and reading goes on:
//!
//! - a frame whose length is known (bad JSON, bad UTF-8 body): the next
//!   frame starts right after it;
//! - a frame whose length is not (no `Content-Length`, a bad or huge one,
//!   text that is not a header, a header line without end): the stream is
//!   searched for the next `Content-Length:` header, and reading resumes
//!   there. The leftovers of a frame already answered (a body longer than
//!   its `Content-Length` said) are skipped without a second answer.
//!
//! [`FrameReader`] is the pure part (any `Read`, unit-tested below);
//! [`stdio`] wires it to stdin and stdout with a reader and a writer thread
//! around an in-memory `lsp_server::Connection`, which the server uses as
//! before.

use lsp_server::{Connection, Message};
use serde_json::{Value, json};
use std::io::{self, Read, Write};

/// A header line longer than this is not a header.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// The largest message body accepted (a whole document is sent on every
/// change; a 10 000-line score is about 300 KB).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// JSON-RPC error codes for what cannot be read.
pub(crate) const PARSE_ERROR: i32 = -32700;
pub(crate) const INVALID_REQUEST: i32 = -32600;

/// What the stream holds next.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    /// Not a message: the JSON-RPC error response to send back.
    Malformed(Value),
}

/// Reads framed messages from `input`, recovering from malformed ones.
///
/// It keeps its own buffer rather than a `BufRead`'s, so that a line found
/// to be garbage is not lost: the next header may be glued to it (`hello
/// Content-Length: 42`), and the search for it starts inside that line.
pub(crate) struct FrameReader<R> {
    input: R,
    buf: Vec<u8>,
    /// Where unread data starts in `buf`.
    pos: usize,
    eof: bool,
    /// The length of the last frame was unknown: find the next header,
    /// from `pos`.
    must_resync: bool,
    /// A malformed frame was just answered: header garbage right after it
    /// is the rest of that frame, skipped without another answer.
    answered: bool,
}

/// What a header block said.
enum Headers {
    Length(usize),
    /// Not a header block: why, and where to look for the next one.
    Bad {
        problem: String,
        resync_at: usize,
    },
    End,
}

/// A line at `pos`: the range of its text (line break excluded) and where
/// the next line starts.
enum Line {
    Text {
        start: usize,
        end: usize,
        next: usize,
    },
    TooLong,
    End,
}

impl<R: Read> FrameReader<R> {
    pub(crate) fn new(input: R) -> FrameReader<R> {
        FrameReader {
            input,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            must_resync: false,
            answered: false,
        }
    }

    /// The next message or malformed frame; `None` at the end of the
    /// stream (a frame cut off by the end is dropped: nobody is left to
    /// answer).
    pub(crate) fn next_frame(&mut self) -> io::Result<Option<Incoming>> {
        loop {
            // What has been read is no longer needed.
            self.buf.drain(..self.pos);
            self.pos = 0;
            if self.must_resync {
                self.must_resync = false;
                if !self.resync()? {
                    return Ok(None);
                }
            }
            let length = match self.headers()? {
                Headers::End => return Ok(None),
                Headers::Length(length) => length,
                Headers::Bad { problem, resync_at } => {
                    self.pos = resync_at;
                    self.must_resync = true;
                    if self.answered {
                        continue;
                    }
                    self.answered = true;
                    return Ok(Some(Incoming::Malformed(error(
                        PARSE_ERROR,
                        &problem,
                        None,
                    ))));
                }
            };
            self.answered = false;
            if !self.fill_to(self.pos + length)? {
                return Ok(None);
            }
            let incoming = parse_body(&self.buf[self.pos..self.pos + length]);
            self.pos += length;
            if matches!(incoming, Incoming::Malformed(_)) {
                self.answered = true;
            }
            return Ok(Some(incoming));
        }
    }

    /// Reads until `buf` holds `len` bytes; `false` at the end of the
    /// stream before that.
    fn fill_to(&mut self, len: usize) -> io::Result<bool> {
        while self.buf.len() < len {
            if !self.read_more()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Appends what the input has next; `false` at its end.
    fn read_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.input.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The line at `pos`, read with a bound (nothing is consumed).
    fn line(&mut self) -> io::Result<Line> {
        let mut searched = self.pos;
        loop {
            let limit = self.buf.len().min(self.pos + MAX_HEADER_LINE + 1);
            if let Some(i) = self.buf[searched..limit].iter().position(|&b| b == b'\n') {
                let newline = searched + i;
                let end = if newline > self.pos && self.buf[newline - 1] == b'\r' {
                    newline - 1
                } else {
                    newline
                };
                return Ok(Line::Text {
                    start: self.pos,
                    end,
                    next: newline + 1,
                });
            }
            if limit == self.pos + MAX_HEADER_LINE + 1 {
                return Ok(Line::TooLong);
            }
            searched = limit;
            if !self.read_more()? {
                return Ok(Line::End);
            }
        }
    }

    /// Reads a header block up to its blank line.
    fn headers(&mut self) -> io::Result<Headers> {
        let mut length: Option<Result<usize, String>> = None;
        let mut seen_any = false;
        let mut block_start = self.pos;
        loop {
            let line_start = self.pos;
            // Garbage where a header should be: the next header may start
            // inside it, so the search starts just after its first byte.
            let bad = |problem: String| Headers::Bad {
                problem,
                resync_at: line_start + 1,
            };
            let (start, end) = match self.line()? {
                Line::End => return Ok(Headers::End),
                Line::TooLong => {
                    return Ok(bad(format!(
                        "a header line is longer than {MAX_HEADER_LINE} bytes"
                    )));
                }
                Line::Text { start, end, next } => {
                    self.pos = next;
                    (start, end)
                }
            };
            if start == end {
                if !seen_any {
                    // Blank lines between frames are harmless.
                    block_start = self.pos;
                    continue;
                }
                // Without a good length, the header block was perhaps
                // garbage glued to a real header (`junk!Content-Length:`,
                // read as a header named `junk!Content-Length`): the
                // search starts inside it.
                let resync_at = block_start + 1;
                return Ok(match length {
                    Some(Ok(n)) => Headers::Length(n),
                    Some(Err(problem)) => Headers::Bad { problem, resync_at },
                    None => Headers::Bad {
                        problem: "the message has no Content-Length header".into(),
                        resync_at,
                    },
                });
            }
            seen_any = true;
            let Ok(text) = std::str::from_utf8(&self.buf[start..end]) else {
                return Ok(bad("a header is not UTF-8 text".into()));
            };
            let header = text
                .split_once(':')
                .filter(|(name, _)| is_header_name(name));
            let Some((name, value)) = header else {
                return Ok(bad(format!(
                    "expected a header such as `Content-Length: 42`, found `{}`",
                    shorten(text)
                )));
            };
            if name.eq_ignore_ascii_case("content-length") {
                let value = value.trim();
                length = Some(match value.parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => Ok(n),
                    Ok(n) => Err(format!(
                        "Content-Length {n} is more than the {MAX_BODY} bytes a message may have"
                    )),
                    Err(_) => Err(format!(
                        "Content-Length `{}` is not a number of bytes",
                        shorten(value)
                    )),
                });
            }
        }
    }

    /// Moves `pos` to the next `Content-Length:` (any case); `false` at
    /// the end of the stream. Memory stays bounded: what cannot be part of
    /// a match is dropped as the search goes.
    fn resync(&mut self) -> io::Result<bool> {
        const NEEDLE: &[u8] = b"content-length:";
        loop {
            let haystack = &self.buf[self.pos..];
            if let Some(i) = haystack
                .windows(NEEDLE.len())
                .position(|w| w.eq_ignore_ascii_case(NEEDLE))
            {
                self.pos += i;
                return Ok(true);
            }
            // Keep what could be the start of a match.
            let keep = haystack.len().min(NEEDLE.len() - 1);
            self.pos = self.buf.len() - keep;
            self.buf.drain(..self.pos);
            self.pos = 0;
            if !self.read_more()? {
                return Ok(false);
            }
        }
    }
}

/// An HTTP-style header name (a token: no spaces, quotes or brackets).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A body of known length: a message, or why it is not one.
fn parse_body(body: &[u8]) -> Incoming {
    // Only an object is a message (serde would read the fields of a
    // request or response from an array as well).
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    match serde_json::from_slice::<Message>(body) {
        Ok(Message::Response(response)) if object && is_response(body) => {
            return Incoming::Message(Message::Response(response));
        }
        // Serde reads a response from anything with an `id` (a request
        // whose `method` is not a string, say): rare enough to check.
        Ok(Message::Response(_)) => {}
        Ok(message) if object => return Incoming::Message(message),
        _ => {}
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Incoming::Malformed(error(PARSE_ERROR, "the message is not UTF-8 text", None));
    };
    match serde_json::from_str::<Value>(text) {
        Err(e) => Incoming::Malformed(error(
            PARSE_ERROR,
            &format!("the message is not valid JSON: {e}"),
            None,
        )),
        Ok(value) => {
            // JSON, but not a request, response or notification: answer
            // with its id when it has one that can be an id.
            let id = value
                .get("id")
                .filter(|id| id.is_i64() || id.is_u64() || id.is_string())
                .cloned();
            Incoming::Malformed(error(
                INVALID_REQUEST,
                "the message is not a JSON-RPC request, response or notification",
                id,
            ))
        }
    }
}

/// Whether `body` (which parsed as a response) has a result or an error,
/// and no method: a response, not a broken request.
fn is_response(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| {
        v.get("method").is_none() && (v.get("result").is_some() != v.get("error").is_some())
    })
}

/// A JSON-RPC error response (`"id": null` when no id could be read).
fn error(code: i32, message: &str, id: Option<Value>) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": {"code": code, "message": message},
    })
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// Writes one framed message.
pub(crate) fn write_frame(out: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body)?;
    out.flush()
}

/// A connection over stdin and stdout, and the thread writing stdout (to
/// join once the connection is dropped, so every answer is written). The
/// reader thread ends by itself after `exit` or at the end of stdin.
pub(crate) fn stdio() -> (Connection, std::thread::JoinHandle<io::Result<()>>) {
    let (server, client) = Connection::memory();
    let Connection {
        sender: to_server,
        receiver: from_server,
    } = client;
    std::thread::Builder::new()
        .name("score-lsp-reader".into())
        .spawn(move || {
            let stdin = io::stdin();
            let mut reader = FrameReader::new(stdin.lock());
            while let Ok(Some(incoming)) = reader.next_frame() {
                match incoming {
                    Incoming::Message(message) => {
                        let exit =
                            matches!(&message, Message::Notification(n) if n.method == "exit");
                        if to_server.send(message).is_err() || exit {
                            break;
                        }
                    }
                    Incoming::Malformed(reply) => {
                        let body = reply.to_string();
                        let stdout = io::stdout();
                        let mut out = stdout.lock();
                        if write_frame(&mut out, body.as_bytes()).is_err() {
                            break;
                        }
                    }
                }
            }
        })
        .expect("a thread can be started");
    let writer = std::thread::Builder::new()
        .name("score-lsp-writer".into())
        .spawn(move || {
            for message in from_server {
                let stdout = io::stdout();
                let mut out = stdout.lock();
                message.write(&mut out)?;
            }
            Ok(())
        })
        .expect("a thread can be started");
    (server, writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    const VALID: &str = r#"{"jsonrpc":"2.0","id":7,"method":"shutdown"}"#;

    /// Everything read from `input`: `Ok(method or id)` per message,
    /// `Err((code, id))` per error answer.
    fn read_all(input: &[u8]) -> Vec<Result<String, (i64, Value)>> {
        let mut reader = FrameReader::new(input);
        let mut out = Vec::new();
        while let Some(incoming) = reader.next_frame().unwrap() {
            out.push(match incoming {
                Incoming::Message(Message::Request(r)) => Ok(r.method),
                Incoming::Message(Message::Notification(n)) => Ok(n.method),
                Incoming::Message(Message::Response(r)) => Ok(format!("response {}", r.id)),
                Incoming::Malformed(reply) => {
                    assert_eq!(reply["jsonrpc"], "2.0");
                    assert!(reply["error"]["message"].as_str().unwrap().len() > 5);
                    Err((
                        reply["error"]["code"].as_i64().unwrap(),
                        reply["id"].clone(),
                    ))
                }
            });
        }
        out
    }

    fn parse_error() -> Result<String, (i64, Value)> {
        Err((PARSE_ERROR as i64, Value::Null))
    }

    fn shutdown() -> Result<String, (i64, Value)> {
        Ok("shutdown".into())
    }

    #[test]
    fn well_formed_frames_are_messages() {
        let input = format!("{}\r\n{}", frame(VALID), frame(VALID));
        assert_eq!(read_all(input.as_bytes()), [shutdown(), shutdown()]);
        // Any case, other headers, bare `\n` line ends.
        let input = format!(
            "content-length: {}\nContent-Type: application/vscode-jsonrpc; charset=utf-8\n\n{VALID}",
            VALID.len()
        );
        assert_eq!(read_all(input.as_bytes()), [shutdown()]);
    }

    #[test]
    fn a_body_that_is_not_json_or_not_utf8_is_answered_and_skipped() {
        let input = format!("{}{}", frame("{not json"), frame(VALID));
        assert_eq!(read_all(input.as_bytes()), [parse_error(), shutdown()]);
        let mut input = b"Content-Length: 3\r\n\r\n\xff\xfe{".to_vec();
        input.extend_from_slice(frame(VALID).as_bytes());
        assert_eq!(read_all(&input), [parse_error(), shutdown()]);
        // Two bad frames in a row: two answers.
        let input = format!("{}{}{}", frame("1 2"), frame("}"), frame(VALID));
        assert_eq!(
            read_all(input.as_bytes()),
            [parse_error(), parse_error(), shutdown()]
        );
        // Nested past serde_json's limit: an error, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let input = format!("{}{}", frame(&deep), frame(VALID));
        assert_eq!(read_all(input.as_bytes()), [parse_error(), shutdown()]);
    }

    #[test]
    fn json_that_is_not_a_message_is_an_invalid_request() {
        let input = format!("{}{}", frame("[1, 2]"), frame(VALID));
        assert_eq!(
            read_all(input.as_bytes()),
            [Err((INVALID_REQUEST as i64, Value::Null)), shutdown()]
        );
        let input = frame(r#"{"id": "a", "method": 5}"#);
        assert_eq!(
            read_all(input.as_bytes()),
            [Err((INVALID_REQUEST as i64, json!("a")))]
        );
        // A response is one.
        let input = frame(r#"{"jsonrpc": "2.0", "id": 3, "result": null}"#);
        assert_eq!(read_all(input.as_bytes()), [Ok("response 3".into())]);
    }

    #[test]
    fn a_frame_of_unknown_length_is_answered_once_and_reading_resumes_at_the_next_header() {
        let cases: &[&str] = &[
            // no Content-Length
            "Content-Type: x\r\n\r\n{\"jsonrpc\":\"2.0\"}",
            // not a number, negative, too big
            "Content-Length: abc\r\n\r\n{}",
            "Content-Length: -4\r\n\r\n{}",
            "Content-Length: 99999999999999999999999\r\n\r\n{}",
            "Content-Length: 999999999999\r\n\r\n{}",
            // no headers at all
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}\r\n\r\n",
            "hello world",
            "junk!",
            "X-Junk: 1\r\nContent-Length: many\r\n\r\n",
            // a header line that never ends
            &"x".repeat(100_000),
        ];
        for garbage in cases {
            let input = format!("{garbage}{}", frame(VALID));
            assert_eq!(
                read_all(input.as_bytes()),
                [parse_error(), shutdown()],
                "{}",
                shorten(garbage)
            );
        }
        // Non-UTF-8 bytes where a header should be.
        let mut input = b"\xff\xfe\r\n\r\n".to_vec();
        input.extend_from_slice(frame(VALID).as_bytes());
        assert_eq!(read_all(&input), [parse_error(), shutdown()]);
    }

    #[test]
    fn a_content_length_too_short_gives_one_answer() {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#;
        let input = format!("Content-Length: 5\r\n\r\n{body}{}", frame(VALID));
        assert_eq!(read_all(input.as_bytes()), [parse_error(), shutdown()]);
    }

    #[test]
    fn the_end_of_the_stream_ends_reading() {
        assert!(read_all(b"").is_empty());
        assert!(read_all(b"\r\n\r\n").is_empty());
        // A frame cut off: nobody is left to answer.
        assert!(read_all(b"Content-Length: 10\r\n\r\n{").is_empty());
        assert!(read_all(b"Content-Len").is_empty());
        // Garbage at the very end: answered, then the end.
        assert_eq!(read_all(b"garbage\r\n\r\n"), [parse_error()]);
    }

    #[test]
    fn replies_are_framed() {
        let mut out = Vec::new();
        write_frame(&mut out, b"{}").unwrap();
        assert_eq!(out, b"Content-Length: 2\r\n\r\n{}");
    }
}
