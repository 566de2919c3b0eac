//! The standard library, embedded in the binary at build time (`build.rs`
//! turns every `stdlib/**/*.score` into an entry of this table).

mod table {
    include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));
}

/// The text of a stdlib module, by dotted name (`"std.checks"`).
pub fn module(dotted: &str) -> Option<&'static str> {
    table::MODULES
        .binary_search_by_key(&dotted, |(name, _)| name)
        .ok()
        .map(|i| table::MODULES[i].1)
}

/// Every stdlib module as `(dotted name, text)`, sorted by name.
pub fn modules() -> impl Iterator<Item = (&'static str, &'static str)> {
    table::MODULES.iter().copied()
}

/// The name shown for a stdlib module in diagnostics:
/// `std.checks` → `<std>/checks.score`.
pub fn display_name(dotted: &str) -> String {
    let rest = dotted.strip_prefix("std.").unwrap_or(dotted);
    format!("<std>/{}.score", rest.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn the_documented_modules_are_embedded() {
        for name in ["std.checks", "std.types", "std.agents"] {
            assert!(module(name).is_some(), "{name} is missing");
        }
        assert!(module("std.nope").is_none());
        assert!(module("std").is_none());
        let names: Vec<&str> = modules().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_stdlib_module_parses_cleanly() {
        for (name, text) in modules() {
            let (_, diags) = crate::syntax::parse(FileId(0), text);
            assert!(diags.is_empty(), "{name}: {diags:#?}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("std.checks"), "<std>/checks.score");
        assert_eq!(display_name("std.a.b"), "<std>/a/b.score");
    }
}
