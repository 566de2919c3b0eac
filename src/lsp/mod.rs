//! `score lsp`: the language server, over stdio.
//!
//! Built on `lsp-server` (the synchronous JSON-RPC transport that
//! rust-analyzer uses) and `lsp-types`: checking a program takes
//! milliseconds, so a single thread that answers one message at a time is
//! enough, needs no async runtime, and is easy to drive from tests.
//!
//! Everything the server answers comes from the checked model and its
//! symbol table (`Model::symbols` and references), never
//! from the word under the cursor. Diagnostics are re-published after a
//! short pause in typing (debounced), for every open document, since a
//! change in one file can fix or break the files that import it.

mod actions;
mod analysis;
mod completion;
mod features;
mod transport;

use std::collections::{HashMap, HashSet};
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response, ResponseError};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _, WorkspaceSymbolRequest,
};
use lsp_types::{
    CodeActionProviderCapability, CompletionOptions, InitializeParams, OneOf,
    PublishDiagnosticsParams, RenameOptions, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, Url,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use analysis::{Analysis, Documents, stdlib_dir};

/// How long typing must pause before diagnostics are re-published. Short
/// enough that an edit's diagnostics arrive within 100 ms on a 10k-line
/// score (checking one takes ~20 ms; see docs/performance.md), long enough
/// that a burst of keystrokes is checked once.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Serve the language server protocol on stdin/stdout until the client
/// sends `shutdown` and `exit` (or closes the stream). A malformed message
/// is answered with a JSON-RPC error and skipped (`lsp::transport`).
pub fn serve_stdio() -> io::Result<()> {
    let (connection, writer) = transport::stdio();
    let result = serve(&connection);
    // The writer thread must see the channel close to finish.
    drop(connection);
    match writer.join() {
        Ok(written) => written?,
        Err(panic) => std::panic::resume_unwind(panic),
    }
    result
}

/// Serve the protocol over any `lsp-server` connection (tests use an
/// in-memory one).
pub fn serve(connection: &Connection) -> io::Result<()> {
    let capabilities = serde_json::to_value(capabilities()).map_err(io::Error::other)?;
    let params = connection
        .initialize(capabilities)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let mut server = Server::new(&params);
    server.run(connection)
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(true.into()),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), ":".into(), " ".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// The server's state: open documents, the workspace folders, and a cache
/// of checked programs that any change to any document invalidates.
pub struct Server {
    documents: Documents,
    folders: Vec<PathBuf>,
    cache: HashMap<Url, Rc<Analysis>>,
    /// Documents whose diagnostics are stale.
    pending: HashSet<Url>,
    /// Documents we published diagnostics for (to clear them on close).
    published: HashSet<Url>,
}

impl Server {
    pub fn new(params: &InitializeParams) -> Server {
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| f.uri.to_file_path().ok())
            .collect();
        // `rootUri` is deprecated in favour of workspace folders, but
        // older clients send only it.
        #[allow(deprecated)]
        let root = params.root_uri.as_ref();
        if folders.is_empty()
            && let Some(root) = root.and_then(|u| u.to_file_path().ok())
        {
            folders.push(root);
        }
        Server {
            documents: Documents::default(),
            folders,
            cache: HashMap::new(),
            pending: HashSet::new(),
            published: HashSet::new(),
        }
    }

    fn run(&mut self, connection: &Connection) -> io::Result<()> {
        loop {
            let message = if self.pending.is_empty() {
                match connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(()),
                }
            } else {
                match connection.receiver.recv_timeout(DEBOUNCE) {
                    Ok(message) => message,
                    Err(e) if e.is_timeout() => {
                        self.publish_pending(connection)?;
                        continue;
                    }
                    Err(_) => return Ok(()),
                }
            };
            match message {
                Message::Request(request) => {
                    if connection
                        .handle_shutdown(&request)
                        .map_err(|e| io::Error::other(e.to_string()))?
                    {
                        return Ok(());
                    }
                    let response = self.answer(request);
                    send(connection, Message::Response(response))?;
                }
                Message::Notification(notification) => {
                    self.notify(connection, notification)?;
                }
                Message::Response(_) => {}
            }
        }
    }

    /// Answer one request. A panic is a bug in the server: it is logged and
    /// answered with an error, and the server carries on.
    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.dispatch(request)));
        match outcome {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(error)) => Response {
                id,
                result: None,
                error: Some(error),
            },
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                eprintln!("score lsp: internal error while answering {method}: {what}");
                // The cache may hold half-built state: drop it.
                self.cache.clear();
                Response::new_err(
                    id,
                    ErrorCode::InternalError as i32,
                    format!("internal error in the score language server: {what}"),
                )
            }
        }
    }

    fn dispatch(&mut self, request: Request) -> Result<Value, ResponseError> {
        let method = request.method.as_str();
        match method {
            HoverRequest::METHOD => self.handle::<HoverRequest>(request, features::hover),
            GotoDefinition::METHOD => self.handle::<GotoDefinition>(request, features::definition),
            References::METHOD => self.handle::<References>(request, features::references),
            PrepareRenameRequest::METHOD => {
                self.handle::<PrepareRenameRequest>(request, features::prepare_rename)
            }
            Rename::METHOD => self.handle::<Rename>(request, features::rename),
            Completion::METHOD => self.handle::<Completion>(request, completion::completion),
            DocumentSymbolRequest::METHOD => {
                self.handle::<DocumentSymbolRequest>(request, features::document_symbols)
            }
            WorkspaceSymbolRequest::METHOD => self
                .handle::<WorkspaceSymbolRequest>(request, |s, p| {
                    features::workspace_symbols(s, p)
                }),
            Formatting::METHOD => self.handle::<Formatting>(request, features::formatting),
            CodeActionRequest::METHOD => {
                self.handle::<CodeActionRequest>(request, actions::code_actions)
            }
            _ => Err(ResponseError {
                code: ErrorCode::MethodNotFound as i32,
                message: format!("the score language server does not handle `{method}`"),
                data: None,
            }),
        }
    }

    fn handle<R>(
        &mut self,
        request: Request,
        f: impl FnOnce(&mut Server, R::Params) -> Result<R::Result, String>,
    ) -> Result<Value, ResponseError>
    where
        R: lsp_types::request::Request,
        R::Params: DeserializeOwned,
        R::Result: Serialize,
    {
        let params: R::Params =
            serde_json::from_value(request.params).map_err(|e| ResponseError {
                code: ErrorCode::InvalidParams as i32,
                message: format!("invalid parameters for `{}`: {e}", R::METHOD),
                data: None,
            })?;
        let result = f(self, params).map_err(|message| ResponseError {
            code: ErrorCode::RequestFailed as i32,
            message,
            data: None,
        })?;
        serde_json::to_value(result).map_err(|e| ResponseError {
            code: ErrorCode::InternalError as i32,
            message: e.to_string(),
            data: None,
        })
    }

    fn notify(&mut self, connection: &Connection, notification: Notification) -> io::Result<()> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(
                    notification.params,
                ) {
                    let uri = p.text_document.uri;
                    self.documents.open(uri.clone(), p.text_document.text);
                    self.changed();
                    // A freshly opened file gets its diagnostics at once.
                    self.pending.remove(&uri);
                    self.publish(connection, &uri)?;
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(
                    notification.params,
                ) {
                    // Full sync: the last change holds the whole text.
                    if let Some(change) = p.content_changes.into_iter().last() {
                        self.documents.open(p.text_document.uri, change.text);
                        self.changed();
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(
                    notification.params,
                ) {
                    let uri = p.text_document.uri;
                    self.documents.close(&uri);
                    self.changed();
                    self.pending.remove(&uri);
                    if self.published.remove(&uri) {
                        publish_diagnostics(connection, uri, Vec::new())?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Any change to any buffer may change every program that imports it.
    fn changed(&mut self) {
        self.cache.clear();
        self.pending.extend(self.documents.uris().cloned());
    }

    fn publish_pending(&mut self, connection: &Connection) -> io::Result<()> {
        let uris: Vec<Url> = self.pending.drain().collect();
        for uri in uris {
            self.publish(connection, &uri)?;
        }
        Ok(())
    }

    fn publish(&mut self, connection: &Connection, uri: &Url) -> io::Result<()> {
        let diagnostics = match catch_unwind(AssertUnwindSafe(|| {
            self.analysis(uri).map(|a| features::diagnostics(&a))
        })) {
            Ok(Some(diagnostics)) => diagnostics,
            Ok(None) => return Ok(()),
            Err(_) => {
                eprintln!("score lsp: internal error while checking {uri}");
                self.cache.clear();
                return Ok(());
            }
        };
        self.published.insert(uri.clone());
        publish_diagnostics(connection, uri.clone(), diagnostics)
    }

    /// The checked program rooted at an open document (or at a file on disk).
    pub fn analysis(&mut self, uri: &Url) -> Option<Rc<Analysis>> {
        if let Some(analysis) = self.cache.get(uri) {
            return Some(analysis.clone());
        }
        let text = match self.documents.get(uri) {
            Some(text) => text.to_string(),
            None => std::fs::read_to_string(uri.to_file_path().ok()?).ok()?,
        };
        let analysis = Rc::new(Analysis::new(uri, &text, &self.documents));
        self.cache.insert(uri.clone(), analysis.clone());
        Some(analysis)
    }

    /// Every program of the workspace: one per open document and per
    /// `.score` file under the workspace folders (for references, rename
    /// and workspace symbols, which must see the files that import a name).
    fn workspace(&mut self) -> Vec<Rc<Analysis>> {
        let mut uris: Vec<Url> = self.documents.uris().cloned().collect();
        if let Ok(files) = crate::source::score_files(&self.folders) {
            for file in files.into_iter().take(MAX_WORKSPACE_FILES) {
                if let Ok(uri) = Url::from_file_path(&file)
                    && !uris.contains(&uri)
                    && !analysis::is_stdlib_uri(&uri)
                {
                    uris.push(uri);
                }
            }
        }
        uris.sort();
        uris.iter().filter_map(|uri| self.analysis(uri)).collect()
    }
}

/// Workspace-wide requests check at most this many files.
const MAX_WORKSPACE_FILES: usize = 2000;

fn send(connection: &Connection, message: Message) -> io::Result<()> {
    connection
        .sender
        .send(message)
        .map_err(|_| io::Error::other("the client connection is closed"))
}

fn publish_diagnostics(
    connection: &Connection,
    uri: Url,
    diagnostics: Vec<lsp_types::Diagnostic>,
) -> io::Result<()> {
    let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
    send(
        connection,
        Message::Notification(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            params,
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{
        CompletionParams, HoverParams, Position, TextDocumentIdentifier, TextDocumentPositionParams,
    };

    const TEXT: &str = "use std.checks.{cargo_test}\n\
        score demo { default_agent coder }\n\
        /// Ünïcode doc.\n\
        intent shorten \"Short links\" { accept \"same slug\" }\n\
        agent coder: openai { model \"gpt\" tier complex }\n\
        type Link { slug: Text, tags: [Text]? }\n\
        part model by coder { serves shorten output link: Link }\n\
        part store { serves shorten input link = model.link ensures cargo_test(package: \"s\") }\n\
        sequence { model -> [store] }\n";

    /// Every prefix of a file is a half-typed file: no request may fail
    /// or panic on any of them, at any position.
    #[test]
    fn every_prefix_is_answered() {
        let uri = Url::parse("untitled:prefix.score").unwrap();
        let mut server = Server::new(&InitializeParams::default());
        let boundaries: Vec<usize> = (0..=TEXT.len())
            .filter(|&i| TEXT.is_char_boundary(i))
            .step_by(3)
            .collect();
        for end in boundaries {
            let text = &TEXT[..end];
            server.documents.open(uri.clone(), text.to_string());
            server.changed();
            let analysis = server.analysis(&uri).unwrap();
            let _ = features::diagnostics(&analysis);
            let at = analysis::end_position(text);
            for position in [at, Position::new(at.line, 0), Position::new(0, 5)] {
                let doc = TextDocumentPositionParams {
                    text_document: TextDocumentIdentifier { uri: uri.clone() },
                    position,
                };
                let completion = completion::completion(
                    &mut server,
                    CompletionParams {
                        text_document_position: doc.clone(),
                        work_done_progress_params: Default::default(),
                        partial_result_params: Default::default(),
                        context: None,
                    },
                );
                assert!(completion.is_ok(), "completion at {end}");
                let hover = features::hover(
                    &mut server,
                    HoverParams {
                        text_document_position_params: doc,
                        work_done_progress_params: Default::default(),
                    },
                );
                assert!(hover.is_ok(), "hover at {end}");
            }
        }
    }

    fn complete(text: &str) -> Vec<String> {
        let uri = Url::parse("untitled:half.score").unwrap();
        let mut server = Server::new(&InitializeParams::default());
        server.documents.open(uri.clone(), text.to_string());
        let doc = TextDocumentPositionParams {
            text_document: TextDocumentIdentifier { uri },
            position: analysis::end_position(text),
        };
        let params = CompletionParams {
            text_document_position: doc,
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
            context: None,
        };
        match completion::completion(&mut server, params).unwrap() {
            Some(lsp_types::CompletionResponse::Array(items)) => {
                items.into_iter().map(|i| i.label).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn completion_uses_the_model_of_the_half_typed_file() {
        assert_eq!(complete(&format!("{TEXT}part docs by ")), ["coder"]);
        assert_eq!(complete(&format!("{TEXT}part docs by c")), ["coder"]);
        assert_eq!(
            complete(&format!("{TEXT}part docs {{\n  input l = model.")),
            ["link"]
        );
        let types = complete(&format!("{TEXT}type T {{\n  f: "));
        assert!(types.contains(&"Link".to_string()) && types.contains(&"Text".to_string()));
        let modules = complete("use std.");
        for m in ["checks", "types", "agents"] {
            assert!(modules.contains(&m.to_string()), "{modules:?}");
        }
        let checks = complete(&format!("{TEXT}part docs {{\n  ensures "));
        assert_eq!(checks, ["cargo_test"]);
        let settings = complete(&format!("{TEXT}agent b: openai {{\n  "));
        assert!(
            settings.contains(&"temperature".to_string()),
            "{settings:?}"
        );
        assert!(!settings.contains(&"run".to_string()), "{settings:?}");
    }
}
