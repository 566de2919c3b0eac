//! Embeds the standard library: every `stdlib/**/*.score` becomes an entry of
//! a generated table (`std/checks.score` is the module `std.checks`), so that
//! adding a stdlib module needs no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "score") {
            let relative = path.strip_prefix(root).expect("under the stdlib root");
            let module: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((module.join("."), path));
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=stdlib");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("stdlib");
    let mut modules = Vec::new();
    collect(&root, &root, &mut modules);
    modules.sort();
    let mut code = String::from("/// `(module, text)` for every stdlib file, sorted by module.\n");
    code.push_str("pub(crate) static MODULES: &[(&str, &str)] = &[\n");
    for (module, path) in &modules {
        let path = path.to_str().expect("the stdlib path is valid UTF-8");
        writeln!(code, "    ({module:?}, include_str!({path:?})),").unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("stdlib.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
