//! Drives the real `score lsp` binary over stdio with JSON-RPC, as an editor
//! would: initialize, open files, ask questions, shut down.

mod support;

use support::lsp_wire;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

const LIB: &str = r#"/// The shared link record.
type Link {
  slug: Text
  target: Text
}

contract Storage {
  input link_type: Text
  output store_api: Text
  owns "src/store/**"
}
"#;

const MAIN: &str = r#"use std.checks.{cargo_test}
use lib.{Link, Storage}

score demo {
  default_agent coder
}

/// Short links, é ü.
intent shorten "A user turns a long URL into a short link" {
  accept "same URL, same slug"
}

/// Writes code.
agent coder: mock {
  tier complex
}

part model {
  serves shorten
  output link_type: Text
  output link: Link
}

part store: Storage {
  serves shorten
  input link_type = model.link_type
  ensures cargo_test(package: "store")
}
"#;

const BROKEN: &str = r#"agent coder: mock {
  tier complex
}

intent shorten "Short links"

part model by codr {
  serves shorten
  output link_type: Text
}

part store {
  serves shorten
  input link_type: Text
}
"#;

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
    dir: PathBuf,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let lsp_wire::Server {
            child,
            stdin,
            messages,
        } = lsp_wire::start(dir).expect("start `score lsp`");
        let mut client = Client {
            child,
            stdin,
            messages,
            next_id: 1,
            notifications: Vec::new(),
            dir: dir.to_path_buf(),
        };
        let root = uri(dir);
        let result = client.request(
            "initialize",
            json!({"processId": null, "rootUri": root, "capabilities": {}}),
        );
        assert!(result["capabilities"]["hoverProvider"].as_bool().unwrap());
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        lsp_wire::write_message(&mut self.stdin, &message).unwrap();
    }

    /// Bytes as they are, framed or not.
    fn send_raw(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(20))
            .expect("the server answers within 20 s")
    }

    /// Send a request and return its result (panics on an error response).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.raw_request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn raw_request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next();
            if message["id"] == json!(id) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The next diagnostics published for a document.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notifications.iter().position(|n| {
            n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
        }) {
            let n = self.notifications.remove(i);
            return n["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let message = self.next();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.notifications.push(message);
        }
    }

    fn open(&mut self, name: &str, text: &str) -> String {
        let uri = uri(&self.dir.join(name));
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "score", "version": 1, "text": text}}),
        );
        uri
    }

    fn shutdown(mut self) {
        let result = self.request("shutdown", Value::Null);
        assert!(result.is_null());
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// 0-based line and UTF-16 column of the `nth` occurrence of `needle`.
fn pos(text: &str, needle: &str, nth: usize) -> Value {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} not in text"))
        .0;
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
    let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": character})
}

fn at(uri: &str, position: Value) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position})
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.score"), LIB).unwrap();
    std::fs::write(dir.path().join("main.score"), MAIN).unwrap();
    std::fs::write(dir.path().join("broken.score"), BROKEN).unwrap();
    dir
}

fn labels(items: &Value) -> Vec<String> {
    let items = items.get("items").unwrap_or(items);
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn diagnostics_and_quick_fixes() {
    let dir = fixture();
    let mut client = Client::start(dir.path());
    let broken = client.open("broken.score", BROKEN);
    let diagnostics = client.diagnostics(&broken);
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"E0101"), "{codes:?}");
    assert!(codes.contains(&"W0603"), "{codes:?}");
    assert!(codes.contains(&"E0202"), "{codes:?}");
    let unknown = diagnostics.iter().find(|d| d["code"] == "E0101").unwrap();
    assert_eq!(unknown["range"]["start"], pos(BROKEN, "codr", 0));
    assert_eq!(unknown["severity"], 1);
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `coder`?")
    );
    let unbound = diagnostics.iter().find(|d| d["code"] == "E0202").unwrap();
    let related = &unbound["relatedInformation"];
    assert!(
        related
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["message"] == "declared here"),
        "{related}"
    );

    // Did-you-mean.
    let range = &unknown["range"];
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": broken}, "range": range, "context": {"diagnostics": []}}),
    );
    let fix = &actions[0];
    assert_eq!(fix["title"], "Replace `codr` with `coder`");
    let edit = &fix["edit"]["changes"][&broken][0];
    assert_eq!(edit["newText"], "coder");
    assert_eq!(&edit["range"], range);

    // Missing accept.
    let warning = diagnostics.iter().find(|d| d["code"] == "W0603").unwrap();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": broken}, "range": warning["range"], "context": {"diagnostics": []}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Add an `accept` criterion"), "{titles:?}");

    // The binding skeleton for E0202, applied: the program then has no E0202.
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": broken}, "range": unbound["range"], "context": {"diagnostics": []}}),
    );
    let bind = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Bind `link_type`"))
        .unwrap_or_else(|| panic!("{actions}"));
    let edit = &bind["edit"]["changes"][&broken][0];
    assert_eq!(edit["newText"], "\n  input link_type = model.link_type");
    let fixed = apply(BROKEN, edit);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": broken, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let after = client.diagnostics(&broken);
    assert!(after.iter().all(|d| d["code"] != "E0202"), "{after:?}");
    client.shutdown();
}

/// Apply one LSP text edit to a text.
fn apply(text: &str, edit: &Value) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let character = p["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= character {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let range = &edit["range"];
    let (s, e) = (offset(&range["start"]), offset(&range["end"]));
    format!(
        "{}{}{}",
        &text[..s],
        edit["newText"].as_str().unwrap(),
        &text[e..]
    )
}

#[test]
fn navigation_hover_rename_completion_formatting() {
    let dir = fixture();
    let mut client = Client::start(dir.path());
    let main = client.open("main.score", MAIN);
    let diagnostics = client.diagnostics(&main);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let lib = uri(&dir.path().join("lib.score"));

    // Hover on a use of `coder`: its doc comment and the model's facts.
    let hover = client.request("textDocument/hover", at(&main, pos(MAIN, "coder", 0)));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("Writes code."), "{text}");
    assert!(text.contains("provider: `mock`"), "{text}");
    assert!(text.contains("tier: `complex`"), "{text}");
    // Hover on a part: its agent, intents, inputs.
    let hover = client.request("textDocument/hover", at(&main, pos(MAIN, "store", 0)));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("serves: `shorten`"), "{text}");
    assert!(text.contains("= model.link_type"), "{text}");
    // On a setting name: the schema's doc.
    let hover = client.request("textDocument/hover", at(&main, pos(MAIN, "tier", 0)));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("tier complex")
    );

    // Definition into another file.
    let def = client.request("textDocument/definition", at(&main, pos(MAIN, "Link", 1)));
    assert_eq!(def["uri"], lib);
    assert_eq!(def["range"]["start"], pos(LIB, "Link", 0));
    // Definition into the standard library: a read-only copy on disk.
    let def = client.request(
        "textDocument/definition",
        at(&main, pos(MAIN, "cargo_test", 1)),
    );
    let target = def["uri"].as_str().unwrap();
    assert!(target.ends_with("/std/checks.score"), "{target}");
    let path = target.strip_prefix("file://").unwrap();
    let copy = std::fs::read_to_string(path).unwrap();
    assert!(copy.contains("check cargo_test"));
    assert!(std::fs::metadata(path).unwrap().permissions().readonly());

    // References of `Link` across files (lib.score is not open: found on disk).
    let refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": lib}, "position": pos(LIB, "Link", 0), "context": {"includeDeclaration": true}}),
    );
    let places: Vec<(String, Value)> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["uri"].as_str().unwrap().to_string(),
                r["range"]["start"].clone(),
            )
        })
        .collect();
    assert!(
        places.contains(&(lib.clone(), pos(LIB, "Link", 0))),
        "{places:?}"
    );
    assert!(
        places.contains(&(main.clone(), pos(MAIN, "Link", 0))),
        "{places:?}"
    );
    assert!(
        places.contains(&(main.clone(), pos(MAIN, "Link", 1))),
        "{places:?}"
    );
    assert_eq!(places.len(), 3, "{places:?}");

    // Rename the contract across both files.
    let prepared = client.request(
        "textDocument/prepareRename",
        at(&main, pos(MAIN, "Storage", 1)),
    );
    assert_eq!(prepared["start"], pos(MAIN, "Storage", 1));
    let edit = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "Storage", 1), "newName": "Store"}),
    );
    assert_eq!(
        edit["changes"][&main].as_array().unwrap().len(),
        2,
        "{edit}"
    );
    assert_eq!(edit["changes"][&lib].as_array().unwrap().len(), 1, "{edit}");
    // Stdlib names cannot be renamed.
    let refused = client.raw_request(
        "textDocument/prepareRename",
        at(&main, pos(MAIN, "cargo_test", 1)),
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("standard library"),
        "{refused}"
    );

    // Completion in a half-typed edit of main.score.
    let edited = format!("{MAIN}\npart docs: \n");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let end = pos(&edited, "part docs: ", 0);
    let end = json!({"line": end["line"], "character": end["character"].as_u64().unwrap() + 11});
    let items = client.request("textDocument/completion", at(&main, end));
    assert_eq!(labels(&items), ["Storage"], "contracts after `:`");
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "part store: Storage {\n  ",
            "",
            &["serves", "input", "complexity", "owns"],
        ),
        ("  serves ", "", &["shorten"]),
        ("  input link_type = ", "", &["model", "store", "score"]),
        ("  input link_type = model.", "", &["link_type", "link"]),
        ("  output link: ", "", &["Text", "Link"]),
    ];
    for (needle, _, expected) in cases {
        let p = pos(MAIN, needle, 0);
        let p = json!({"line": p["line"].as_u64().unwrap() + needle.matches('\n').count() as u64,
            "character": needle.rsplit('\n').next().unwrap().len()});
        let items = client.request("textDocument/completion", at(&main, p));
        let got = labels(&items);
        for e in expected {
            assert!(
                got.iter().any(|g| g == e),
                "after {needle:?}: {e} missing from {got:?}"
            );
        }
    }
    let agent = pos(MAIN, "  tier complex", 0);
    let items = client.request("textDocument/completion", at(&main, agent));
    let got = labels(&items);
    assert!(
        got.contains(&"latency".to_string()),
        "mock settings: {got:?}"
    );
    assert!(
        !got.contains(&"model".to_string()),
        "no openai settings for mock: {got:?}"
    );

    // Formatting: a badly laid out buffer comes back canonical.
    let messy = "intent   shorten \"x\"{accept \"y\"}\n";
    let other = client.open("messy.score", messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": other}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let formatted = edits[0]["newText"].as_str().unwrap();
    assert_eq!(
        formatted,
        score::fmt::format_source(Default::default(), messy).unwrap()
    );
    assert_ne!(formatted, messy);

    // Outline.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": main}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in ["demo", "shorten", "coder", "model", "store"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let workspace = client.request("workspace/symbol", json!({"query": "link"}));
    let names: Vec<&str> = workspace
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Link"), "{names:?}");
    client.shutdown();
}

#[test]
fn positions_are_utf16_and_half_typed_files_are_safe() {
    let dir = fixture();
    let mut client = Client::start(dir.path());
    // An emoji (two UTF-16 units) before a reference on the same line.
    let text = "agent coder: mock {}\nintent i \"x\" { accept \"y\" }\n/* 🎵 */ part p by coder { serves i }\n";
    let u = client.open("emoji.score", text);
    let _ = client.diagnostics(&u);
    let p = pos(text, "coder", 1);
    // 18 characters, 21 bytes, 19 UTF-16 units before `coder`.
    assert_eq!(p["character"], 19, "the emoji counts as two units");
    let def = client.request("textDocument/definition", at(&u, p));
    assert_eq!(def["range"]["start"], json!({"line": 0, "character": 6}));
    // Garbage and half-typed declarations never crash the server.
    for junk in [
        "part",
        "part x: ",
        "agent a: openai {\n  mod",
        "\"unterminated",
        "sequence { a -> [",
        "}}}{{{",
    ] {
        let u = client.open("junk.score", junk);
        let _ = client.diagnostics(&u);
        let end = pos(junk, junk.rsplit('\n').next().unwrap(), 0);
        let end = json!({"line": end["line"], "character": end["character"].as_u64().unwrap() + junk.rsplit('\n').next().unwrap().len() as u64});
        client.request("textDocument/completion", at(&u, end.clone()));
        client.request("textDocument/hover", at(&u, end.clone()));
        client.request("textDocument/definition", at(&u, end));
        client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": u}}),
        );
    }
    client.shutdown();
}

/// A real editor: headless Neovim runs `editors/neovim/test.lua`, which
/// starts `score lsp` and checks diagnostics, hover and definition. Skipped
/// (with a message) when `nvim` is not installed.
#[test]
fn malformed_messages_are_answered_and_the_server_keeps_serving() {
    let dir = fixture();
    let mut client = Client::start(dir.path());
    let main = client.open("main.score", MAIN);
    client.diagnostics(&main);
    let garbage: [&[u8]; 7] = [
        // bad JSON, bad UTF-8 (the length is right)
        b"Content-Length: 9\r\n\r\n{not json",
        b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
        // no Content-Length, a bad one, a huge one
        b"Content-Type: application/json\r\n\r\n{\"jsonrpc\": \"2.0\"}",
        b"Content-Length: many\r\n\r\n{}",
        b"Content-Length: 99999999999999999999\r\n\r\n{}",
        // no header at all, and bytes that are not text
        b"hello, server\r\n\r\n",
        b"\xff\xfe\r\n\r\n",
    ];
    for bytes in garbage {
        client.send_raw(bytes);
        let reply = client.next();
        assert_eq!(reply["id"], Value::Null, "{reply}");
        assert_eq!(reply["error"]["code"], -32700, "{reply}");
        assert!(reply["error"]["message"].as_str().unwrap().len() > 10);
        // The next request is answered as if nothing happened.
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": main}}),
        );
        assert!(
            symbols.to_string().contains("\"store\""),
            "{:?}: {symbols}",
            String::from_utf8_lossy(bytes)
        );
    }
    // Garbage glued to the next message does not hide it.
    let request = json!({"jsonrpc": "2.0", "id": 999, "method": "textDocument/documentSymbol",
        "params": {"textDocument": {"uri": main}}})
    .to_string();
    client.send_raw(format!("junk!Content-Length: {}\r\n\r\n{request}", request.len()).as_bytes());
    assert_eq!(client.next()["error"]["code"], -32700);
    let answer = client.next();
    assert_eq!(answer["id"], 999, "{answer}");
    assert!(answer["result"].is_array(), "{answer}");
    client.shutdown();
}

#[test]
fn neovim_headless() {
    let found = Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: `nvim` is not installed (apt-get install neovim)");
        return;
    }
    let dir = fixture();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/neovim/test.lua");
    let output = Command::new("nvim")
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("SCORE_BIN", env!("CARGO_BIN_EXE_score"))
        .env("SCORE_DIR", dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .stdin(Stdio::null())
        .output()
        .expect("run nvim");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("ok"),
        "neovim test failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
}

#[test]
fn an_unused_import_is_warned_and_removed_by_a_quick_fix() {
    let dir = fixture();
    let mut client = Client::start(dir.path());
    // `shell` is not used, nor is the module `std.types`.
    let text = MAIN.replace(
        "use std.checks.{cargo_test}",
        "use std.checks.{cargo_test, shell}\nuse std.types",
    );
    let uri = client.open("unused.score", &text);
    let diagnostics = client.diagnostics(&uri);
    let unused: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "W0106")
        .collect();
    assert_eq!(unused.len(), 2, "{diagnostics:?}");
    // Shown faded, as unused code is (DiagnosticTag::Unnecessary = 1).
    assert!(unused.iter().all(|d| d["tags"] == json!([1])), "{unused:?}");
    assert!(
        diagnostics.iter().all(|d| d["severity"] != 1),
        "{diagnostics:?}"
    );
    let mut fix = |d: &Value| {
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": []}}),
        );
        let action = actions
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["title"] == "Remove the unused import")
            .unwrap_or_else(|| panic!("{actions}"))
            .clone();
        action["edit"]["changes"][&uri][0].clone()
    };
    let shell = unused
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .starts_with("`shell` is imported but never used")
        })
        .unwrap();
    let module = unused
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .starts_with("the module `std.types` is imported but never used")
        })
        .unwrap();
    let (shell_edit, module_edit) = (fix(shell), fix(module));
    // The module's line goes first (it is below), then the name.
    let fixed = apply(&apply(&text, &module_edit), &shell_edit);
    assert_eq!(fixed, MAIN);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let after = client.diagnostics(&uri);
    assert!(after.iter().all(|d| d["code"] != "W0106"), "{after:?}");
    client.shutdown();
}
