//! Properties of the parser on random input:
//! 1. it never panics, whatever the bytes (read as lossy UTF-8), and on
//!    random soups of the language's own tokens;
//! 2. every span it produces (tree and diagnostics) lies within the text, on
//!    character boundaries, in the parsed file;
//! 3. a mistake in one declaration never changes how the others parse.

use proptest::prelude::*;
use score::diagnostics::Diagnostic;
use score::source::{FileId, Span};
use score::syntax::{ast, parse};

const FILE: FileId = FileId(7);

fn assert_span_ok(text: &str, span: Span, what: &str) {
    assert_eq!(span.file, FILE, "{what} {span:?} in the wrong file");
    assert!(span.start <= span.end, "{what} {span:?} reversed");
    assert!(
        span.end as usize <= text.len(),
        "{what} {span:?} past the end ({})",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start as usize),
        "{what} {span:?} splits a character"
    );
    assert!(
        text.is_char_boundary(span.end as usize),
        "{what} {span:?} splits a character"
    );
}

/// Parse and check every span; returns the tree and diagnostics.
fn parse_checked(text: &str) -> (ast::File, Vec<Diagnostic>) {
    let (file, diagnostics) = parse(FILE, text);
    let mut copy = file.clone();
    copy.visit_spans_mut(&mut |span| assert_span_ok(text, *span, "node"));
    for d in &diagnostics {
        assert!(!d.labels.is_empty(), "a diagnostic without a label: {d:?}");
        for label in &d.labels {
            assert_span_ok(text, label.span, "label");
        }
        assert!(!d.message.is_empty());
    }
    // Errors are in file order, and only syntax codes come out of `parse`.
    for pair in diagnostics.windows(2) {
        assert!(pair[0].primary_span().unwrap().start <= pair[1].primary_span().unwrap().start);
    }
    for d in &diagnostics {
        assert!(matches!(d.code.as_str(), "E0001" | "E0002"), "{d:?}");
    }
    (file, diagnostics)
}

/// Tokens of the language, alone or in pieces, to build plausible noise.
fn token() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "score",
        "use",
        "type",
        "enum",
        "intent",
        "check",
        "contract",
        "agent",
        "part",
        "sequence",
        "by",
        "true",
        "false",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ":",
        ",",
        "=",
        "+",
        "->",
        ".",
        ".{",
        "?",
        "-",
        "///",
        "/// doc",
        "//",
        "// c",
        "/*",
        "*/",
        "/* c */",
        "\"",
        "\"\"\"",
        "\"x\"",
        "\"a\\\"b\"",
        "\"\\u{1F3B5}\"",
        "\"\\q\"",
        "\"\"\"\n  t\n  \"\"\"",
        "15m",
        "15min",
        "500ms",
        "1.5h",
        "200_000",
        "0.2",
        "-3",
        "\n",
        "\n\n",
        " ",
        "\t",
        "\r\n",
        "score.repo",
        "std.checks",
        "é",
        "🎵",
        "\\",
        "@",
        ";",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        6 => fixed,
        2 => "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        1 => "[0-9][0-9_.a-z]{0,5}",
    ]
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((token(), prop::sample::select(vec!["", " ", "\n"])), 0..80).prop_map(
        |toks| {
            let mut s = String::new();
            for (t, sep) in toks {
                s.push_str(&t);
                s.push_str(sep);
            }
            s
        },
    )
}

// ---------------------------------------------------------------------------
// Valid declarations, to test recovery around one broken among them.

fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}".prop_filter("not reserved", |s| {
        !matches!(
            s.as_str(),
            "score"
                | "use"
                | "type"
                | "enum"
                | "intent"
                | "check"
                | "contract"
                | "agent"
                | "part"
                | "sequence"
                | "by"
                | "true"
                | "false"
        )
    })
}

fn leaf_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ident(),
        (ident(), ident()).prop_map(|(a, b)| format!("{a}.{b}")),
        "[a-z /*.]{0,12}".prop_map(|s| format!("\"{s}\"")),
        (0u32..100_000).prop_map(|n| n.to_string()),
        (1u32..90, prop::sample::select(vec!["ms", "s", "m", "h"]))
            .prop_map(|(n, u)| format!("{n}{u}")),
        Just("true".to_string()),
        (ident(), ident()).prop_map(|(a, b)| format!("{a}: {b}")),
        (ident(), ident(), ident()).prop_map(|(a, b, c)| format!("{a} = {b}.{c}")),
        (ident(), 0u32..1000).prop_map(|(a, n)| format!("{a} {n}")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    leaf_value().prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            (ident(), prop::collection::vec(inner.clone(), 0..3)).prop_map(|(f, v)| {
                let args: Vec<String> = v
                    .iter()
                    .enumerate()
                    .map(|(i, a)| format!("a{i}: {a}"))
                    .collect();
                format!("{f}({})", args.join(", "))
            }),
            prop::collection::vec((ident(), inner), 0..3).prop_map(|v| {
                let entries: Vec<String> = v.iter().map(|(k, x)| format!("{k}: {x}")).collect();
                format!("{{{}}}", entries.join(", "))
            }),
        ]
    })
}

fn settings() -> impl Strategy<Value = String> {
    prop::collection::vec((ident(), prop::collection::vec(value(), 1..3)), 0..4).prop_map(|s| {
        s.iter()
            .map(|(name, values)| format!("  {name} {}\n", values.join(", ")))
            .collect()
    })
}

fn declaration() -> impl Strategy<Value = String> {
    prop_oneof![
        (ident(), settings()).prop_map(|(n, s)| format!("part {n} {{\n{s}}}\n")),
        (ident(), ident(), ident(), settings())
            .prop_map(|(n, c, a, s)| format!("part {n}: {c} by {a} {{\n{s}}}\n")),
        (ident(), ident(), settings())
            .prop_map(|(n, p, s)| format!("/// An agent.\nagent {n}: {p} {{\n{s}}}\n")),
        (ident(), prop::collection::vec((ident(), ident()), 0..4)).prop_map(|(n, f)| {
            let fields: String = f.iter().map(|(a, t)| format!("  {a}: [{t}]?\n")).collect();
            format!("type {n} {{\n{fields}}}\n")
        }),
        (ident(), prop::collection::vec(ident(), 1..4))
            .prop_map(|(n, v)| format!("enum {n} {{ {} }}\n", v.join(", "))),
        (ident(), ident()).prop_map(|(a, b)| format!("use {a}.{b}\n")),
        (ident(), "[a-z ]{0,10}", settings())
            .prop_map(|(n, st, s)| format!("intent {n} \"{st}\" {{\n{s}}}\n")),
        (ident(), ident(), ident())
            .prop_map(|(a, b, c)| format!("sequence {{\n  {a} -> [{b}, {c}] -> {a}\n}}\n")),
    ]
}

/// Noise that breaks a declaration without opening a string or comment
/// (which may legitimately run on to the end of the line or file), nor a
/// `///` (which documents the next declaration, by design).
fn breakage() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{", "}", "[", "]", "(", ")", ":", ",", "=", "+", "->", "?", "@", ";", "15min", "part",
        "type", "\"x\"", "1.5h", ".", "-",
    ])
}

fn without_spans(item: &ast::Item) -> ast::Item {
    let mut file = ast::File {
        file: FILE,
        items: vec![item.clone()],
        comments: Vec::new(),
    };
    file.strip_spans();
    file.items.remove(0)
}

/// Replace each space between tokens (not inside strings or doc comments)
/// by some other trivia: newlines, comments, several spaces.
fn relayout(text: &str, picks: &[prop::sample::Index]) -> String {
    const TRIVIA: &[&str] = &[
        " ",
        "\n",
        "  \n\n    ",
        " /* c */ ",
        " // c\n",
        "\t",
        " /* a /* nested */ b */\n",
    ];
    let mut out = String::new();
    let mut in_string = false;
    let mut in_doc = false;
    let mut n = 0;
    for (i, c) in text.char_indices() {
        if in_doc {
            in_doc = c != '\n';
        } else if c == '"' {
            in_string = !in_string;
        } else if !in_string && text[i..].starts_with("///") {
            in_doc = true;
        } else if !in_string && c == ' ' && !picks.is_empty() {
            out.push_str(TRIVIA[picks[n % picks.len()].index(TRIVIA.len())]);
            n += 1;
            continue;
        }
        out.push(c);
    }
    out
}

fn items_without_spans(text: &str) -> Vec<ast::Item> {
    let (mut file, diagnostics) = parse_checked(text);
    assert!(diagnostics.is_empty(), "{text}\n{diagnostics:#?}");
    file.strip_spans();
    file.items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn layout_does_not_change_the_tree(
        decls in prop::collection::vec(declaration(), 1..5),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..20),
    ) {
        let text: String = decls.concat();
        let spread = relayout(&text, &picks);
        prop_assert_eq!(items_without_spans(&text), items_without_spans(&spread), "{}", spread);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        parse_checked(&text);
    }

    #[test]
    fn never_panics_on_token_soup(text in soup()) {
        parse_checked(&text);
    }

    #[test]
    fn never_panics_on_soup_inside_a_declaration(head in prop::sample::select(vec![
        "part p {\n", "type T {\n", "enum E {\n", "check c(", "agent a: mock {\n", "sequence {\n", "use a.",
        "intent i ", "score s {\n", "part p: A + B by c {\n  x ",
    ]), body in soup()) {
        parse_checked(&format!("{head}{body}"));
    }

    #[test]
    fn valid_declarations_parse_cleanly(decls in prop::collection::vec(declaration(), 1..6)) {
        let text: String = decls.concat();
        let (file, diagnostics) = parse_checked(&text);
        prop_assert!(diagnostics.is_empty(), "{text}\n{diagnostics:#?}");
        prop_assert_eq!(file.items.len(), decls.len());
    }

    #[test]
    fn one_broken_declaration_does_not_change_the_others(
        decls in prop::collection::vec(declaration(), 2..6),
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        noise in breakage(),
    ) {
        let broken = which.index(decls.len());
        // Insert the noise at a token boundary (a space) of the broken
        // declaration, never at the start of a line.
        let target = &decls[broken];
        let spaces: Vec<usize> = target.match_indices(' ').map(|(i, _)| i).collect();
        prop_assume!(!spaces.is_empty());
        let cut = spaces[at.index(spaces.len())];
        let damaged = format!("{} {noise} {}", &target[..cut], &target[cut + 1..]);
        let mut texts = decls.clone();
        texts[broken] = damaged;
        let text: String = texts.concat();
        let (file, diagnostics) = parse_checked(&text);

        // Every error lies within the damaged declaration.
        let start: usize = texts[..broken].iter().map(String::len).sum();
        let end = start + texts[broken].len();
        for d in &diagnostics {
            let span = d.primary_span().unwrap();
            prop_assert!((start..=end).contains(&(span.start as usize)), "{text}\n{d:#?}");
        }
        // The other declarations are all there, unchanged.
        let clean: Vec<ast::Item> = decls
            .iter()
            .map(|d| parse(FILE, d).0.items.into_iter().next().unwrap())
            .collect();
        let got: Vec<ast::Item> = file.items.iter().map(without_spans).collect();
        for (i, item) in clean.iter().enumerate() {
            if i == broken {
                continue;
            }
            let want = without_spans(item);
            prop_assert!(got.contains(&want), "declaration {i} lost or changed in\n{text}\n{got:#?}");
        }
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    // Run on a thread with a small stack, like a language server's worker.
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            for open in ["[", "{", "(", "f(", "{a: ", "/*"] {
                for depth in [63, 64, 65, 10_000] {
                    let text = format!("part p {{ x {} }}", open.repeat(depth));
                    let (_, diagnostics) = parse_checked(&text);
                    assert!(!diagnostics.is_empty());
                }
            }
            // the deepest legal nesting still parses
            let text = format!("part p {{ x {}1{} }}", "[".repeat(63), "]".repeat(63));
            let (file, diagnostics) = parse_checked(&text);
            assert!(diagnostics.is_empty(), "{diagnostics:#?}");
            assert!(matches!(file.items[0], ast::Item::Part(_)));
        })
        .unwrap();
    handle.join().unwrap();
}

// ---------------------------------------------------------------------------
// Nesting: every construct that nests, at any depth, in every stage.

/// Where a nested construct goes: `{}` is replaced by it.
const OUTPUT: &str = "part p {\n  serves i\n  output x: {}\n}\n";
const INPUT: &str = "part p {\n  serves i\n  input y: {}\n}\n";
const PARAMETER: &str = "check deep(v: {}) { run \"true\" }\n";
const ARGUMENT: &str = "part p {\n  serves i\n  ensures json(v: {})\n}\n";
const SETTING: &str = "part p {\n  serves i\n  ensures {}\n}\n";
const UNKNOWN_SETTING: &str = "part p {\n  serves i\n  note {}\n}\n";
const BODY: &str = "part p {\n  serves i\n  {}\n}\n";
const GLOB: &str = "part p {\n  serves i\n  owns \"src/{}\"\n}\n";

/// A score with one construct nested `depth` steps deep.
fn nested(construct: usize, depth: usize) -> String {
    let wrap = |open: &str, core: &str, close: &str| {
        format!("{}{core}{}", open.repeat(depth), close.repeat(depth))
    };
    let (place, filling) = match construct {
        // `Text???...`: each mark is one more level of the type's tree.
        0 => (OUTPUT, wrap("", "Text", "?")),
        1 => (OUTPUT, wrap("[", "Text", "]")),
        2 => (OUTPUT, wrap("{Text: ", "Text", "}")),
        // `[[Text?]?]`: brackets and marks together.
        3 => (OUTPUT, wrap("[", "Text", "?]")),
        4 => (PARAMETER, wrap("[", "Text", "]?")),
        5 => (INPUT, wrap("", "Text", "?")),
        // Values: lists, maps and calls, as a check's (`Json`) argument.
        6 => (ARGUMENT, wrap("[", "1", "]")),
        7 => (ARGUMENT, wrap("{k: ", "1", "}")),
        8 => (SETTING, wrap("json(v: ", "1", ")")),
        9 => (UNKNOWN_SETTING, wrap("[{a: ", "\"x\"", "}]")),
        // Block comments, and braces in a glob.
        10 => (BODY, wrap("/*", "", "*/")),
        _ => (GLOB, wrap("{a,", "x", "}")),
    };
    format!(
        "score s {{ default_agent a }}\n\
         agent a: mock {{ tier complex }}\n\
         intent i \"x\" {{ accept \"y\" }}\n\
         check json(v: Json) {{ run \"true\" }}\n{}",
        place.replacen("{}", &filling, 1)
    )
}

const NESTABLE: usize = 12;

/// How many levels of the tree one step of `nested` adds.
fn levels_per_step(construct: usize) -> usize {
    match construct {
        3 | 4 | 9 => 2,
        _ => 1,
    }
}

/// Parse, check, build and format `text`; none of them may panic or
/// overflow the stack.
fn every_stage(text: &str) -> Vec<Diagnostic> {
    let (_, mut diagnostics) = parse_checked(text);
    let program = score::syntax::load_source(
        "deep.score",
        text.to_string(),
        std::path::Path::new("."),
        &|p| std::fs::read_to_string(p),
    );
    let checked = score::check::check(&program);
    if !checked.has_errors() {
        let plan = score::plan::build(&checked, &program.sources, std::path::Path::new("."))
            .expect("a score without errors builds");
        // The plan reads back (serde_json bounds its own recursion).
        score::plan::load(&score::plan::to_json(&plan)).expect("a built plan loads");
    }
    if let Ok(formatted) = score::fmt::format_source(FILE, text) {
        assert_eq!(
            score::fmt::format_source(FILE, &formatted).as_deref(),
            Ok(formatted.as_str()),
            "formatting is idempotent"
        );
    }
    diagnostics.extend(checked.diagnostics);
    diagnostics
}

/// On a thread with the stack of a runtime worker (2 MiB), smaller than the
/// 8 MiB of the main thread the CLI and the language server run on.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_nesting_depth_is_handled_in_every_stage(
        construct in 0..NESTABLE,
        depth in prop_oneof![0usize..80, 0usize..100_000],
    ) {
        on_small_stack(move || {
            let text = nested(construct, depth);
            let diagnostics = every_stage(&text);
            let too_deep = diagnostics.iter().any(|d| d.message == "nesting too deep");
            // Past the bound (64 levels, a few taken by the declaration
            // around), the nesting is reported; well within it, it is not.
            // (Globs have their own bound, with its own message.)
            let levels = depth * levels_per_step(construct);
            if levels > 64 && construct != NESTABLE - 1 {
                assert!(too_deep, "{construct} at {depth}: {diagnostics:#?}");
            }
            if levels < 60 {
                assert!(!too_deep, "{construct} at {depth}: {diagnostics:#?}");
            }
        });
    }
}

#[test]
fn the_deepest_legal_nesting_passes_every_stage() {
    for construct in 0..NESTABLE {
        on_small_stack(move || {
            // The deepest each construct may go (the declaration around it
            // takes a level or two of the 64).
            let deepest = (0..=64)
                .rev()
                .find(|&d| {
                    let (_, diagnostics) = parse(FILE, &nested(construct, d));
                    diagnostics.iter().all(|d| d.message != "nesting too deep")
                })
                .unwrap();
            assert!(
                deepest * levels_per_step(construct) >= 60,
                "{construct}: only {deepest} levels"
            );
            every_stage(&nested(construct, deepest));
            every_stage(&nested(construct, deepest + 1));
        });
    }
}
