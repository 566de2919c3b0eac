//! Source files, file ids, spans and the line index.
//!
//! Every other phase refers to text through a [`Span`]: a file id plus a byte
//! range. The [`SourceMap`] owns the text of every loaded file and converts
//! byte offsets to the positions users and tools want: 1-based line and
//! column counted in characters (for humans and `--format json`), and 0-based
//! UTF-16 columns (for the language server). [`score_files`] finds the
//! `.score` files that paths on a command line stand for.

mod discover;

pub use discover::score_files;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Identifies one file in a [`SourceMap`]. Ids are dense indices, stable for
/// the lifetime of the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

impl FileId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A byte range in one file. Every AST node and every diagnostic label has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        debug_assert!(start <= end, "span start after end");
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        debug_assert_eq!(self.file, other.file);
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= (self.end as usize)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}..{}", self.file.0, self.start, self.end)
    }
}

/// Where a file came from: the user's disk, or the standard library embedded
/// in the binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk; `path` is the path used to open it.
    Disk(PathBuf),
    /// A standard library module, e.g. `std.checks`.
    Stdlib(String),
    /// Text with no file behind it (tests, the language server's unsaved buffers).
    Memory,
}

/// A 1-based position for humans: line and column, the column counted in
/// Unicode scalar values (characters), so `é` counts as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One loaded file: its display name, origin, text and line index.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// The name shown in diagnostics: the path as given on the command line
    /// (or relative to it), or `<std>/checks.score` for the stdlib.
    pub name: String,
    pub origin: Origin,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    fn new(id: FileId, name: String, origin: Origin, text: String) -> SourceFile {
        let line_starts = line_starts(&text);
        SourceFile {
            id,
            name,
            origin,
            text,
            line_starts,
        }
    }

    pub fn span(&self) -> Span {
        Span::new(self.id, 0, self.text.len())
    }

    pub fn path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::Disk(p) => Some(p),
            _ => None,
        }
    }

    pub fn is_stdlib(&self) -> bool {
        matches!(self.origin, Origin::Stdlib(_))
    }

    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// 0-based line index containing `offset` (offsets past the end clamp).
    pub fn line_index(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len()) as u32;
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte range of a 0-based line, without its line terminator.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let start = self.line_starts[line] as usize;
        let end = self
            .line_starts
            .get(line + 1)
            .map(|&s| s as usize)
            .unwrap_or(self.text.len());
        let text = &self.text[start..end];
        let trimmed = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(text);
        start..start + trimmed.len()
    }

    /// Clamp an offset into the text and onto a character boundary.
    pub fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.clamp(offset);
        let line = self.line_index(offset);
        let start = self.line_starts[line] as usize;
        let column = self.text[start..offset].chars().count();
        LineCol {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// 0-based line and UTF-16 column of a byte offset (LSP positions).
    pub fn utf16_position(&self, offset: usize) -> (u32, u32) {
        let offset = self.clamp(offset);
        let line = self.line_index(offset);
        let start = self.line_starts[line] as usize;
        let column: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        (line as u32, column as u32)
    }

    /// Byte offset of a 0-based line and UTF-16 column. Positions past the
    /// end of a line clamp to its end; lines past the end clamp to the end of
    /// the file.
    pub fn offset_of_utf16(&self, line: u32, column: u32) -> usize {
        let line = line as usize;
        if line >= self.line_starts.len() {
            return self.text.len();
        }
        let range = self.line_range(line);
        let mut remaining = column as usize;
        for (index, ch) in self.text[range.clone()].char_indices() {
            if remaining == 0 {
                return range.start + index;
            }
            remaining = remaining.saturating_sub(ch.len_utf16());
        }
        range.end
    }
}

fn line_starts(text: &str) -> Vec<u32> {
    let mut starts = vec![0];
    starts.extend(
        text.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i as u32 + 1),
    );
    starts
}

/// Owns every file of a program. Files are only ever added, so ids stay valid.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, origin: Origin, text: String) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files
            .push(SourceFile::new(id, name.into(), origin, text));
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.index()]
    }

    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The text a span covers.
    pub fn text(&self, span: Span) -> &str {
        let file = self.get(span.file);
        &file.text[file.clamp(span.start as usize)..file.clamp(span.end as usize)]
    }

    pub fn find_by_origin(&self, origin: &Origin) -> Option<FileId> {
        self.files
            .iter()
            .find(|f| &f.origin == origin)
            .map(|f| f.id)
    }
}

impl<'a> codespan_reporting::files::Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files
            .get(id.index())
            .map(|f| f.name.as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files
            .get(id.index())
            .map(|f| f.text.as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn line_index(
        &'a self,
        id: FileId,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        let file = self
            .files
            .get(id.index())
            .ok_or(codespan_reporting::files::Error::FileMissing)?;
        Ok(file.line_index(byte_index))
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<Range<usize>, codespan_reporting::files::Error> {
        let file = self
            .files
            .get(id.index())
            .ok_or(codespan_reporting::files::Error::FileMissing)?;
        if line_index >= file.line_starts.len() {
            // codespan asks for the line after the last one when a span ends
            // at the very end of the file.
            if line_index == file.line_starts.len() {
                return Ok(file.text.len()..file.text.len());
            }
            return Err(codespan_reporting::files::Error::LineTooLarge {
                given: line_index,
                max: file.line_starts.len() - 1,
            });
        }
        let start = file.line_starts[line_index] as usize;
        let end = file
            .line_starts
            .get(line_index + 1)
            .map(|&s| s as usize)
            .unwrap_or(file.text.len());
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "t.score".into(), Origin::Memory, text.into())
    }

    #[test]
    fn line_col_counts_characters() {
        let f = file("ab\ncé d\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // `d` is after `c`, `é` (2 bytes) and a space.
        let d = f.text.find('d').unwrap();
        assert_eq!(f.line_col(d), LineCol { line: 2, column: 4 });
        assert_eq!(f.line_col(f.text.len()), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn utf16_round_trip() {
        let f = file("x \u{1F3B5} y\nz");
        let y = f.text.find('y').unwrap();
        // the emoji is two UTF-16 units
        assert_eq!(f.utf16_position(y), (0, 5));
        assert_eq!(f.offset_of_utf16(0, 5), y);
        assert_eq!(f.offset_of_utf16(1, 0), f.text.find('z').unwrap());
        assert_eq!(f.offset_of_utf16(0, 99), f.line_range(0).end);
        assert_eq!(f.offset_of_utf16(7, 0), f.text.len());
    }

    #[test]
    fn crlf_lines() {
        let f = file("a\r\nb");
        assert_eq!(f.line_range(0), 0..1);
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
    }
}
