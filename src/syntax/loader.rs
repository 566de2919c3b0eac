//! Loading a program: the entry file, then every module it imports,
//! transitively, each parsed once.
//!
//! `use std.x...` resolves into the embedded standard library; any other
//! `use a.b` resolves relative to the importing file's directory
//! (`a/b.score`). `use a.b.c` imports the module `a/b/c.score` if it exists,
//! else the item `c` of the module `a/b.score`. Problems with imports are
//! E0103 diagnostics in the program, never a failure of the load: only an
//! unreadable entry file is a [`LoadError`].

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::ast::{self, Ident, Item};
use super::{parse, stdlib};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Origin, SourceMap};

/// Every file of a program, parsed, with its imports resolved.
#[derive(Debug)]
pub struct Program {
    pub sources: SourceMap,
    /// The parsed files, indexed by `FileId::index()`.
    pub files: Vec<ast::File>,
    /// The entry file(s).
    pub roots: Vec<FileId>,
    /// One per `use` declaration of every loaded file, in load order.
    pub imports: Vec<Import>,
    /// E0001 and E0002 from parsing, E0103 from resolving imports.
    pub diagnostics: Vec<Diagnostic>,
}

/// One resolved `use` declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The file holding the `use`.
    pub from: FileId,
    /// Index of the [`Item::Use`] in `files[from].items`.
    pub item: usize,
    /// The imported module; `None` if it does not exist (E0103 reported).
    pub module: Option<FileId>,
    pub kind: ImportKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportKind {
    /// `use a.b.c` of the module `a/b/c.score`: its items are referred to as
    /// `c.Item`; `alias` is the last segment of the path.
    Module { alias: Ident },
    /// `use a.b.{x, y}`, or `use a.b.c` when `c` is an item of `a/b.score`.
    Items(Vec<Ident>),
}

/// The entry file could not be read.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub error: io::Error,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read `{}`: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Load the program whose entry file is `entry`, reading files with `read`
/// (normally `std::fs::read_to_string`; tests give an in-memory map). The
/// entry keeps the name it was given; imported files are named relative to
/// it (`examples/billing/types.score`).
pub fn load(
    entry: &Path,
    read: &dyn Fn(&Path) -> io::Result<String>,
) -> Result<Program, LoadError> {
    let text = read(entry).map_err(|error| LoadError {
        path: entry.to_path_buf(),
        error,
    })?;
    let mut loader = Loader::new(read);
    let name = entry.to_string_lossy().into_owned();
    let dir = entry.parent().map(Path::to_path_buf).unwrap_or_default();
    let id = loader.add(
        name,
        Origin::Disk(entry.to_path_buf()),
        text,
        FileHome::Disk(dir),
    );
    loader.keys.insert(Key::Disk(key_of(entry)), id);
    Ok(loader.finish(id))
}

/// Load a program whose entry text is given (the language server's unsaved
/// buffer, tests). `name` is shown in diagnostics; imports resolve relative
/// to `base_dir`.
pub fn load_source(
    name: &str,
    text: String,
    base_dir: &Path,
    read: &dyn Fn(&Path) -> io::Result<String>,
) -> Program {
    let mut loader = Loader::new(read);
    let id = loader.add(
        name.to_string(),
        Origin::Memory,
        text,
        FileHome::Disk(base_dir.to_path_buf()),
    );
    // The buffer stands for its file on disk: a module importing it back
    // gets the buffer, not a second copy.
    if let Some(file_name) = Path::new(name).file_name() {
        loader
            .keys
            .insert(Key::Disk(key_of(&base_dir.join(file_name))), id);
    }
    loader.finish(id)
}

/// Where a file's relative imports are looked for.
#[derive(Clone, Debug)]
enum FileHome {
    /// A directory, as given (relative paths stay relative, so the names
    /// shown in diagnostics stay those the user typed).
    Disk(PathBuf),
    /// The standard library: only `std.*` imports make sense there.
    Stdlib,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Disk(PathBuf),
    Std(String),
}

struct Loader<'r> {
    read: &'r dyn Fn(&Path) -> io::Result<String>,
    sources: SourceMap,
    files: Vec<ast::File>,
    homes: Vec<FileHome>,
    /// Files already loaded, so that each is loaded once.
    keys: HashMap<Key, FileId>,
    imports: Vec<Import>,
    diagnostics: Vec<Diagnostic>,
}

/// The identity of a file on disk: its canonical path when it has one (so
/// `a/../b.score` and `b.score` are one file), else the path normalised.
fn key_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalise(path))
}

/// `a/./b/../c` → `a/c`, lexically.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// How the text of a path is shown: normalised, with `/` separators.
fn display(path: &Path) -> String {
    let mut out = String::new();
    for component in normalise(path).components() {
        match component {
            Component::Prefix(prefix) => out.push_str(&prefix.as_os_str().to_string_lossy()),
            Component::RootDir => out.push('/'),
            other => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    out
}

/// The outcome of looking for one module.
enum Found {
    Loaded(FileId),
    Missing,
    /// Exists but cannot be read (permissions, not UTF-8, ...).
    Unreadable(PathBuf, io::Error),
}

impl<'r> Loader<'r> {
    fn new(read: &'r dyn Fn(&Path) -> io::Result<String>) -> Loader<'r> {
        Loader {
            read,
            sources: SourceMap::new(),
            files: Vec::new(),
            homes: Vec::new(),
            keys: HashMap::new(),
            imports: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    fn add(&mut self, name: String, origin: Origin, text: String, home: FileHome) -> FileId {
        let id = self.sources.add(name, origin, text);
        let (file, diags) = parse(id, &self.sources.get(id).text);
        self.files.push(file);
        self.homes.push(home);
        self.diagnostics.extend(diags);
        id
    }

    /// Resolve the imports of every file, including files loaded meanwhile:
    /// a work list, so import cycles simply end when every file is loaded.
    fn finish(mut self, root: FileId) -> Program {
        let mut next = 0;
        while next < self.files.len() {
            let from = FileId(next as u32);
            let uses: Vec<(usize, ast::UseDecl)> = self.files[next]
                .items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Item::Use(u) => Some((i, u.clone())),
                    _ => None,
                })
                .collect();
            for (item, decl) in uses {
                let import = self.resolve(from, item, &decl);
                self.imports.push(import);
            }
            next += 1;
        }
        Program {
            sources: self.sources,
            files: self.files,
            roots: vec![root],
            imports: self.imports,
            diagnostics: self.diagnostics,
        }
    }

    fn resolve(&mut self, from: FileId, item: usize, decl: &ast::UseDecl) -> Import {
        let segments: Vec<&str> = decl.path.segments.iter().map(|s| s.name.as_str()).collect();
        if let Some(items) = &decl.items {
            let kind = ImportKind::Items(items.clone());
            return match self.find(from, &segments) {
                Found::Loaded(module) => {
                    self.check_items(module, &decl.path, items);
                    Import {
                        from,
                        item,
                        module: Some(module),
                        kind,
                    }
                }
                other => {
                    self.report_missing(from, &decl.path, &segments, other, None);
                    Import {
                        from,
                        item,
                        module: None,
                        kind,
                    }
                }
            };
        }
        let alias = decl.path.last().clone();
        let whole = self.find(from, &segments);
        if let Found::Loaded(module) = whole {
            return Import {
                from,
                item,
                module: Some(module),
                kind: ImportKind::Module { alias },
            };
        }
        // Not a module: perhaps an item of the parent module.
        if segments.len() > 1 {
            let parent = &segments[..segments.len() - 1];
            match self.find(from, parent) {
                Found::Loaded(module) => {
                    let items = vec![alias];
                    let parent_path = ast::Path {
                        segments: decl.path.segments[..parent.len()].to_vec(),
                        span: decl.path.segments[0]
                            .span
                            .to(decl.path.segments[parent.len() - 1].span),
                    };
                    self.check_items(module, &parent_path, &items);
                    return Import {
                        from,
                        item,
                        module: Some(module),
                        kind: ImportKind::Items(items),
                    };
                }
                Found::Unreadable(path, error) => {
                    self.report_missing(
                        from,
                        &decl.path,
                        parent,
                        Found::Unreadable(path, error),
                        None,
                    );
                    return Import {
                        from,
                        item,
                        module: None,
                        kind: ImportKind::Module { alias },
                    };
                }
                Found::Missing => {}
            }
        }
        let parent = (segments.len() > 1).then(|| &segments[..segments.len() - 1]);
        self.report_missing(from, &decl.path, &segments, whole, parent);
        Import {
            from,
            item,
            module: None,
            kind: ImportKind::Module { alias },
        }
    }

    /// Where a module path leads from a file: a stdlib name or a file path.
    fn locate(&self, from: FileId, segments: &[&str]) -> Option<Key> {
        if segments.first() == Some(&"std") {
            return Some(Key::Std(segments.join(".")));
        }
        match &self.homes[from.index()] {
            FileHome::Disk(dir) => {
                let mut path = dir.clone();
                for s in &segments[..segments.len() - 1] {
                    path.push(s);
                }
                path.push(format!("{}.score", segments[segments.len() - 1]));
                Some(Key::Disk(path))
            }
            FileHome::Stdlib => None,
        }
    }

    /// Load the module at `segments` (relative to `from`), once.
    fn find(&mut self, from: FileId, segments: &[&str]) -> Found {
        match self.locate(from, segments) {
            None => Found::Missing,
            Some(Key::Std(name)) => {
                let key = Key::Std(name.clone());
                if let Some(&id) = self.keys.get(&key) {
                    return Found::Loaded(id);
                }
                let Some(text) = stdlib::module(&name) else {
                    return Found::Missing;
                };
                let id = self.add(
                    stdlib::display_name(&name),
                    Origin::Stdlib(name),
                    text.to_string(),
                    FileHome::Stdlib,
                );
                self.keys.insert(key, id);
                Found::Loaded(id)
            }
            Some(Key::Disk(path)) => {
                let key = Key::Disk(key_of(&path));
                if let Some(&id) = self.keys.get(&key) {
                    return Found::Loaded(id);
                }
                match (self.read)(&path) {
                    Ok(text) => {
                        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                        let id = self.add(
                            display(&path),
                            Origin::Disk(path),
                            text,
                            FileHome::Disk(dir),
                        );
                        self.keys.insert(key, id);
                        Found::Loaded(id)
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Found::Missing,
                    Err(e) => Found::Unreadable(path, e),
                }
            }
        }
    }

    /// What a missing module would have been, for messages.
    fn looked_for(&self, from: FileId, segments: &[&str]) -> String {
        match self.locate(from, segments) {
            Some(Key::Std(name)) => format!("the standard library module `{name}`"),
            Some(Key::Disk(path)) => format!("`{}`", display(&path)),
            None => format!("`{}`", segments.join(".")),
        }
    }

    fn report_missing(
        &mut self,
        from: FileId,
        path: &ast::Path,
        segments: &[&str],
        found: Found,
        parent: Option<&[&str]>,
    ) {
        let dotted = segments.join(".");
        let diagnostic = match found {
            Found::Unreadable(file, error) => {
                Diagnostic::new(Code::E0103, format!("cannot read module `{dotted}`")).primary(
                    path.span,
                    format!("`{}` cannot be read: {error}", display(&file)),
                )
            }
            _ if matches!(self.homes[from.index()], FileHome::Stdlib)
                && segments.first() != Some(&"std") =>
            {
                Diagnostic::new(Code::E0103, format!("cannot find module `{dotted}`")).primary(
                    path.span,
                    "the standard library can only import `std` modules",
                )
            }
            _ => {
                let mut d = Diagnostic::new(Code::E0103, format!("cannot find module `{dotted}`"))
                    .primary(path.span, "no such module");
                let mut looked = format!("looked for {}", self.looked_for(from, segments));
                if let Some(parent) = parent {
                    looked.push_str(&format!(
                        ", and for an item `{}` in {}",
                        segments[segments.len() - 1],
                        self.looked_for(from, parent)
                    ));
                }
                d = d.note(looked);
                if segments.first() == Some(&"std") {
                    let names: Vec<&str> = stdlib::modules().map(|(n, _)| n).collect();
                    match best_match(&dotted, names.iter().copied()) {
                        Some(close) => d = d.help(format!("did you mean `{close}`?")),
                        None => {
                            d = d.help(format!("the standard library has {}", quoted_list(&names)))
                        }
                    }
                } else {
                    d = d.help("module paths are relative to the importing file's directory: `use billing.types` loads `billing/types.score`");
                }
                d
            }
        };
        self.diagnostics.push(diagnostic);
    }

    /// E0103 for each imported name the module does not declare.
    fn check_items(&mut self, module: FileId, path: &ast::Path, items: &[Ident]) {
        let file = &self.files[module.index()];
        // A module with a broken declaration may declare the name there;
        // its syntax error is reported already.
        if file.items.iter().any(|i| matches!(i, Item::Error(_))) {
            return;
        }
        let declared: Vec<&str> = file
            .items
            .iter()
            .filter_map(|i| i.name())
            .map(|n| n.name.as_str())
            .collect();
        let mut missing = Vec::new();
        for item in items {
            if !declared.contains(&item.name.as_str()) {
                let mut d = Diagnostic::new(
                    Code::E0103,
                    format!("module `{}` has no item `{}`", path.dotted(), item.name),
                )
                .primary(item.span, "not declared in this module");
                if let Some(close) = best_match(&item.name, declared.iter().copied()) {
                    d = d.help(format!("did you mean `{close}`?"));
                }
                d = d.note(if declared.is_empty() {
                    format!("`{}` declares nothing", self.sources.get(module).name)
                } else {
                    format!(
                        "`{}` declares {}",
                        self.sources.get(module).name,
                        quoted_list(&declared)
                    )
                });
                missing.push(d);
            }
        }
        self.diagnostics.extend(missing);
    }
}

/// "`a`, `b` and `c`".
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The candidate closest to `name` if it is close enough to be a likely typo
/// (Damerau-Levenshtein distance at most a third of the longer name, at
/// least 1); ties go to the alphabetically first, for stable output.
fn best_match<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let longest = name.chars().count().max(candidate.chars().count());
        let distance = strsim::damerau_levenshtein(&name.to_lowercase(), &candidate.to_lowercase());
        if distance > (longest / 3).max(1) {
            continue;
        }
        if best.is_none_or(|(d, c)| distance < d || (distance == d && candidate < c)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// An in-memory file system.
    fn fs(files: &[(&str, &str)]) -> impl Fn(&Path) -> io::Result<String> {
        let map: BTreeMap<String, String> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        move |path: &Path| {
            let key = display(path);
            map.get(&key)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no file {key}")))
        }
    }

    fn names(program: &Program) -> Vec<String> {
        program.sources.files().map(|f| f.name.clone()).collect()
    }

    fn messages(program: &Program) -> Vec<String> {
        program
            .diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn loads_modules_items_and_the_stdlib() {
        let read = fs(&[
            (
                "examples/billing/main.score",
                "use std.checks.{cargo_test, shell}\nuse types\nuse types.Invoice\nuse std.types\npart p {}\n",
            ),
            (
                "examples/billing/types.score",
                "type Invoice { total: Int }\n",
            ),
        ]);
        let program = load(Path::new("examples/billing/main.score"), &read).unwrap();
        assert!(program.diagnostics.is_empty(), "{:#?}", program.diagnostics);
        assert_eq!(
            names(&program),
            [
                "examples/billing/main.score",
                "<std>/checks.score",
                "examples/billing/types.score",
                "<std>/types.score"
            ]
        );
        assert_eq!(program.files.len(), 4);
        assert_eq!(program.roots, [FileId(0)]);
        assert_eq!(
            program.sources.get(FileId(1)).origin,
            Origin::Stdlib("std.checks".into())
        );
        assert_eq!(
            program.sources.get(FileId(2)).origin,
            Origin::Disk(PathBuf::from("examples/billing/types.score"))
        );
        let kinds: Vec<(usize, Option<FileId>, String)> = program
            .imports
            .iter()
            .map(|i| {
                let kind = match &i.kind {
                    ImportKind::Module { alias } => format!("module {}", alias.name),
                    ImportKind::Items(items) => {
                        format!(
                            "items {}",
                            items
                                .iter()
                                .map(|i| i.name.as_str())
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    }
                };
                (i.item, i.module, kind)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (0, Some(FileId(1)), "items cargo_test,shell".to_string()),
                (1, Some(FileId(2)), "module types".to_string()),
                (2, Some(FileId(2)), "items Invoice".to_string()),
                (3, Some(FileId(3)), "module types".to_string()),
            ]
        );
    }

    #[test]
    fn each_file_is_loaded_once_and_cycles_end() {
        let read = fs(&[
            ("main.score", "use a\nuse b\nuse a\n"),
            ("a.score", "use b\ntype A { x: Int }\n"),
            ("b.score", "use a\nuse sub.c\ntype B { x: Int }\n"),
            ("sub/c.score", "use d\n"),
            ("sub/d.score", "use c\n"),
        ]);
        let program = load(Path::new("main.score"), &read).unwrap();
        assert!(program.diagnostics.is_empty(), "{:#?}", program.diagnostics);
        assert_eq!(
            names(&program),
            [
                "main.score",
                "a.score",
                "b.score",
                "sub/c.score",
                "sub/d.score"
            ]
        );
        assert_eq!(program.imports.len(), 8);
        assert!(program.imports.iter().all(|i| i.module.is_some()));
    }

    #[test]
    fn missing_modules_and_items_are_e0103() {
        let read = fs(&[
            (
                "dir/main.score",
                "use nowhere\nuse std.chekcs\nuse std.checks.{cargo_tset, nothing_like_it}\nuse lib.b.c\nuse lib.Typo\n",
            ),
            ("dir/lib.score", "type Type { x: Int }\n"),
        ]);
        let program = load(Path::new("dir/main.score"), &read).unwrap();
        let text = &program.sources.get(FileId(0)).text;
        let found: Vec<(String, String)> = program
            .diagnostics
            .iter()
            .map(|d| {
                assert_eq!(d.code, Code::E0103);
                (
                    d.message.clone(),
                    text[d.primary_span().unwrap().range()].to_string(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "cannot find module `nowhere`".to_string(),
                    "nowhere".to_string()
                ),
                (
                    "cannot find module `std.chekcs`".to_string(),
                    "std.chekcs".to_string()
                ),
                (
                    "module `std.checks` has no item `cargo_tset`".to_string(),
                    "cargo_tset".to_string()
                ),
                (
                    "module `std.checks` has no item `nothing_like_it`".to_string(),
                    "nothing_like_it".to_string()
                ),
                (
                    "cannot find module `lib.b.c`".to_string(),
                    "lib.b.c".to_string()
                ),
                (
                    "module `lib` has no item `Typo`".to_string(),
                    "Typo".to_string()
                ),
            ]
        );
        let d = &program.diagnostics;
        assert_eq!(d[0].notes, ["looked for `dir/nowhere.score`"]);
        assert_eq!(d[1].help.as_deref(), Some("did you mean `std.checks`?"));
        assert_eq!(d[2].help.as_deref(), Some("did you mean `cargo_test`?"));
        assert!(d[3].help.is_none());
        assert!(
            d[3].notes[0].starts_with("`<std>/checks.score` declares `cargo_test`"),
            "{:?}",
            d[3].notes
        );
        assert_eq!(
            d[4].notes,
            ["looked for `dir/lib/b/c.score`, and for an item `c` in `dir/lib/b.score`"]
        );
        assert_eq!(d[5].help.as_deref(), Some("did you mean `Type`?"));
        // unresolved imports are still listed, with no module
        assert_eq!(program.imports.len(), 5);
        assert_eq!(program.imports[0].module, None);
        assert!(program.imports[2].module.is_some());
    }

    #[test]
    fn syntax_errors_of_imported_files_are_reported_and_do_not_cascade() {
        let read = fs(&[
            ("main.score", "use lib.{A, B}\n"),
            ("lib.score", "type A { x Int }\ntype B { y: Int }\n"),
        ]);
        let program = load(Path::new("main.score"), &read).unwrap();
        assert_eq!(messages(&program), ["expected `:`, found `Int`"]);
        assert_eq!(
            program.diagnostics[0].primary_span().unwrap().file,
            FileId(1)
        );
    }

    #[test]
    fn unreadable_entry_is_a_load_error() {
        let read = fs(&[]);
        let err = load(Path::new("missing/main.score"), &read).unwrap_err();
        assert_eq!(err.path, PathBuf::from("missing/main.score"));
        assert_eq!(
            err.to_string(),
            "cannot read `missing/main.score`: no file missing/main.score"
        );
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn unreadable_module_is_e0103() {
        let read = |path: &Path| -> io::Result<String> {
            if path.ends_with("main.score") {
                Ok("use bad".to_string())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                ))
            }
        };
        let program = load(Path::new("main.score"), &read).unwrap();
        assert_eq!(messages(&program), ["cannot read module `bad`"]);
    }

    #[test]
    fn load_source_resolves_relative_to_the_base_directory() {
        let read = fs(&[("proj/lib.score", "use main\ntype T { x: Int }\n")]);
        let program = load_source(
            "proj/main.score",
            "use lib.T\n".to_string(),
            Path::new("proj"),
            &read,
        );
        assert!(program.diagnostics.is_empty(), "{:#?}", program.diagnostics);
        assert_eq!(names(&program), ["proj/main.score", "proj/lib.score"]);
        assert_eq!(program.sources.get(FileId(0)).origin, Origin::Memory);
        // `lib` importing `main` back gets the buffer, not a disk copy
        assert_eq!(program.imports[1].module, Some(FileId(0)));
    }

    #[test]
    fn loads_real_files() {
        let dir = std::env::temp_dir().join(format!("score-loader-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("billing")).unwrap();
        std::fs::write(dir.join("main.score"), "use billing.types\nuse ./billing\n").unwrap();
        std::fs::write(
            dir.join("billing/types.score"),
            "use std.types.{FileSet}\ntype Invoice { f: FileSet }\n",
        )
        .unwrap();
        let entry = dir.join("main.score");
        let program = load(&entry, &|p: &Path| std::fs::read_to_string(p)).unwrap();
        // `use ./billing` is a syntax error; the rest loads
        assert_eq!(program.files.len(), 3);
        assert_eq!(program.diagnostics.len(), 1);
        assert_eq!(program.diagnostics[0].code, Code::E0001);
        assert_eq!(
            names(&program)[1],
            display(&dir.join("billing/types.score"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stdlib_files_may_only_import_the_stdlib() {
        let mut loader =
            Loader::new(&|_: &Path| Err(io::Error::new(io::ErrorKind::NotFound, "none")));
        let id = loader.add(
            "<std>/x.score".into(),
            Origin::Stdlib("std.x".into()),
            "use other\nuse std.types\n".into(),
            FileHome::Stdlib,
        );
        let program = loader.finish(id);
        assert_eq!(messages(&program), ["cannot find module `other`"]);
        assert_eq!(program.imports[1].module, Some(FileId(1)));
    }

    #[test]
    fn paths_are_normalised_for_display() {
        assert_eq!(display(Path::new("./a/./b/../c.score")), "a/c.score");
        assert_eq!(display(Path::new("../x/y.score")), "../x/y.score");
        assert_eq!(display(Path::new("/abs/p.score")), "/abs/p.score");
    }
}
