//! One checked program per open document, and the mapping between the
//! compiler's world (file ids, byte spans) and the editor's (URIs, UTF-16
//! positions).
//!
//! Every open document is checked as the root of its own program. Imports
//! are read through the editor's buffers first, so unsaved changes in one
//! open file are seen by the files that import it. Standard library modules
//! have no file on disk; they are written, read-only, into a cache directory
//! so that "go to definition" can open them.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use lsp_types::{Location, Position, Range, Url};

use crate::check::{Checked, check};
use crate::source::{FileId, Origin, SourceFile, Span};
use crate::syntax::{Program, load_source, stdlib};

/// The text of every open document, by URI.
#[derive(Default, Debug)]
pub struct Documents {
    texts: HashMap<Url, String>,
}

impl Documents {
    pub fn open(&mut self, uri: Url, text: String) {
        self.texts.insert(uri, text);
    }

    pub fn close(&mut self, uri: &Url) {
        self.texts.remove(uri);
    }

    pub fn get(&self, uri: &Url) -> Option<&str> {
        self.texts.get(uri).map(String::as_str)
    }

    pub fn uris(&self) -> impl Iterator<Item = &Url> {
        self.texts.keys()
    }

    /// The open buffers that stand for files on disk, by normalised path.
    fn by_path(&self) -> HashMap<PathBuf, String> {
        self.texts
            .iter()
            .filter_map(|(uri, text)| Some((normalize(&uri.to_file_path().ok()?), text.clone())))
            .collect()
    }
}

/// A checked program rooted at one document.
#[derive(Debug)]
pub struct Analysis {
    pub uri: Url,
    pub program: Program,
    pub checked: Checked,
    pub root: FileId,
}

impl Analysis {
    /// Load and check `text` as the document `uri`, reading its imports
    /// from the open buffers or else from disk.
    pub fn new(uri: &Url, text: &str, documents: &Documents) -> Analysis {
        let overlay = documents.by_path();
        let read = move |path: &Path| -> std::io::Result<String> {
            match overlay.get(&normalize(path)) {
                Some(text) => Ok(text.clone()),
                None => std::fs::read_to_string(path),
            }
        };
        let (name, base_dir) = match uri.to_file_path() {
            Ok(path) => {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (path.to_string_lossy().into_owned(), dir)
            }
            // An untitled buffer: relative imports resolve from the
            // server's working directory, the best guess there is.
            Err(()) => (uri.to_string(), std::env::current_dir().unwrap_or_default()),
        };
        let program = load_source(&name, text.to_string(), &base_dir, &read);
        let checked = check(&program);
        let root = program.roots.first().copied().unwrap_or_default();
        Analysis {
            uri: uri.clone(),
            program,
            checked,
            root,
        }
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        self.program.sources.get(id)
    }

    pub fn root_text(&self) -> &str {
        &self.file(self.root).text
    }

    /// The URI an editor opens for a file of this program.
    pub fn uri_of(&self, id: FileId) -> Option<Url> {
        if id == self.root {
            return Some(self.uri.clone());
        }
        match &self.file(id).origin {
            Origin::Disk(path) => Url::from_file_path(absolute(path)).ok(),
            Origin::Stdlib(dotted) => Url::from_file_path(stdlib_file(dotted)?).ok(),
            Origin::Memory => None,
        }
    }

    /// The file of this program that a URI names, if loaded.
    pub fn file_of(&self, uri: &Url) -> Option<FileId> {
        if uri == &self.uri {
            return Some(self.root);
        }
        let wanted = normalize(&uri.to_file_path().ok()?);
        self.program
            .sources
            .files()
            .find(|f| match &f.origin {
                Origin::Disk(path) => normalize(&absolute(path)) == wanted,
                Origin::Stdlib(dotted) => {
                    stdlib_path(dotted).is_some_and(|p| normalize(&p) == wanted)
                }
                Origin::Memory => false,
            })
            .map(|f| f.id)
    }

    pub fn range(&self, span: Span) -> Range {
        let file = self.file(span.file);
        Range::new(
            position(file, span.start as usize),
            position(file, span.end as usize),
        )
    }

    pub fn location(&self, span: Span) -> Option<Location> {
        Some(Location::new(self.uri_of(span.file)?, self.range(span)))
    }

    /// The byte offset of an editor position in a file.
    pub fn offset(&self, file: FileId, at: Position) -> usize {
        self.file(file).offset_of_utf16(at.line, at.character)
    }

    /// Whether a file is (a copy of) the standard library.
    pub fn is_stdlib(&self, id: FileId) -> bool {
        let file = self.file(id);
        file.is_stdlib() || (id == self.root && is_stdlib_uri(&self.uri))
    }
}

pub fn position(file: &SourceFile, offset: usize) -> Position {
    let (line, character) = file.utf16_position(offset);
    Position::new(line, character)
}

/// The position just after the last character of `text`.
pub fn end_position(text: &str) -> Position {
    let line = text.matches('\n').count() as u32;
    let last = text.rsplit('\n').next().unwrap_or("");
    Position::new(
        line,
        last.chars().map(char::len_utf16).sum::<usize>() as u32,
    )
}

/// Where the read-only copies of the standard library live:
/// `$XDG_CACHE_HOME/score/stdlib-VERSION` (or `~/.cache/...`, or the
/// temporary directory).
pub fn stdlib_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("score")
        .join(format!("stdlib-{}", env!("CARGO_PKG_VERSION")))
}

/// The path of a stdlib module's copy (`std.checks` → `.../std/checks.score`).
fn stdlib_path(dotted: &str) -> Option<PathBuf> {
    stdlib::module(dotted)?;
    Some(stdlib_dir().join(format!("{}.score", dotted.replace('.', "/"))))
}

/// The copy of a stdlib module on disk, written (read-only) when missing or
/// out of date. `None` when the module is unknown or cannot be written.
pub fn stdlib_file(dotted: &str) -> Option<PathBuf> {
    let text = stdlib::module(dotted)?;
    let path = stdlib_path(dotted)?;
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(path.parent()?).ok()?;
        // A stale copy is read-only: remove it before writing anew.
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, text).ok()?;
        if let Ok(meta) = std::fs::metadata(&path) {
            let mut permissions = meta.permissions();
            permissions.set_readonly(true);
            let _ = std::fs::set_permissions(&path, permissions);
        }
    }
    Some(path)
}

/// Whether a URI names one of the stdlib copies.
pub fn is_stdlib_uri(uri: &Url) -> bool {
    uri.to_file_path()
        .is_ok_and(|p| normalize(&p).starts_with(normalize(&stdlib_dir())))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

/// `a/./b/../c` → `a/c`, without touching the disk (the files may not exist).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_removes_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }

    #[test]
    fn end_position_counts_utf16() {
        assert_eq!(end_position("ab\n\u{1F3B5}x"), Position::new(1, 3));
        assert_eq!(end_position(""), Position::new(0, 0));
    }

    #[test]
    fn imports_are_read_from_open_buffers() {
        let dir = std::env::temp_dir().join(format!("score-lsp-analysis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let main = Url::from_file_path(dir.join("main.score")).unwrap();
        let lib = Url::from_file_path(dir.join("lib.score")).unwrap();
        let mut docs = Documents::default();
        // lib.score exists only as an unsaved buffer.
        docs.open(lib.clone(), "type Link { slug: Text }\n".into());
        let text = "use lib.{Link}\ncontract C { input l: Link }\n";
        docs.open(main.clone(), text.into());
        let analysis = Analysis::new(&main, text, &docs);
        assert!(
            analysis.checked.diagnostics.iter().all(|d| !d.is_error()),
            "{:#?}",
            analysis.checked.diagnostics
        );
        let lib_file = analysis.file_of(&lib).expect("lib.score is loaded");
        assert_eq!(analysis.uri_of(lib_file), Some(lib));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
