//! Finding `.score` files on disk: what the paths on a command line, or an
//! editor's workspace folders, stand for. Shared by the CLI's driver
//! (`score check`, `score fmt`) and the language server, so both see the
//! same files.

use std::path::{Path, PathBuf};

/// The `.score` files that paths given on a command line (or an editor's
/// workspace folders) stand for: files as given, directories walked recursively for `*.score` files
/// (sorted by path within each directory given), skipping hidden
/// directories, `target/` and `node_modules/`. A file given twice is listed
/// once.
pub fn score_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| with_path(e, path))?;
        let mut found = Vec::new();
        if meta.is_dir() {
            walk(path, &mut found)?;
            found.sort();
        } else {
            found.push(path.clone());
        }
        for file in found {
            if !out.contains(&file) {
                out.push(file);
            }
        }
    }
    Ok(out)
}

fn with_path(error: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| with_path(e, dir))?;
    for entry in entries {
        let entry = entry.map_err(|e| with_path(e, dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type().map_err(|e| with_path(e, &path))?;
        if kind.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                walk(&path, out)?;
            }
            continue;
        }
        // A symbolic link counts if it leads to a file; linked directories
        // are not followed (they could loop).
        let is_file = kind.is_file() || (kind.is_symlink() && path.is_file());
        if is_file && path.extension().is_some_and(|ext| ext == "score") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_score_files_from_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "b.score",
            "a.score",
            "notes.txt",
            "sub/c.score",
            ".hidden/d.score",
            "target/e.score",
            "node_modules/f.score",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
        }
        let explicit = root.join("notes.txt");
        let found =
            score_files(&[root.to_path_buf(), explicit.clone(), root.join("a.score")]).unwrap();
        assert_eq!(
            found,
            vec![
                root.join("a.score"),
                root.join("b.score"),
                root.join("sub/c.score"),
                explicit,
            ]
        );
    }

    #[test]
    fn a_missing_path_is_an_error_naming_it() {
        let error = score_files(&[PathBuf::from("/no/such/dir/x.score")]).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        assert!(
            error.to_string().contains("/no/such/dir/x.score"),
            "{error}"
        );
    }
}
