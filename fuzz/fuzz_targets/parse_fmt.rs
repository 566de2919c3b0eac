//! Parse arbitrary input; when it parses without errors, format it, and
//! check what formatting promises: the result parses cleanly too, means the
//! same (the trees are equal spans aside), and formatting it again changes
//! nothing.
//!
//! Run from this directory: `cargo +nightly fuzz run parse_fmt`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use score::fmt::format_source;
use score::source::FileId;
use score::syntax::parse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (mut tree, diagnostics) = parse(FileId(0), &text);
    let mut spans = tree.clone();
    spans.visit_spans_mut(&mut |span| {
        assert!(span.end as usize <= text.len());
        assert!(text.is_char_boundary(span.start as usize));
        assert!(text.is_char_boundary(span.end as usize));
    });
    if diagnostics.iter().any(|d| d.is_error()) {
        return;
    }
    let formatted = match format_source(FileId(0), &text) {
        Ok(formatted) => formatted,
        Err(diagnostics) => panic!("parsed cleanly but did not format: {diagnostics:?}"),
    };
    let (mut again, diagnostics) = parse(FileId(0), &formatted);
    assert!(
        diagnostics.is_empty(),
        "formatted text has errors: {diagnostics:?}\n{formatted}"
    );
    tree.strip_spans();
    again.strip_spans();
    assert_eq!(
        tree.items, again.items,
        "formatting changed the meaning:\n{formatted}"
    );
    let twice = format_source(FileId(0), &formatted).expect("formatted text formats");
    assert_eq!(formatted, twice, "formatting is not idempotent");
});
