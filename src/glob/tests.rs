//! Tests of the glob engine: examples from the design, error cases, and
//! property tests against a brute-force reference (brace expansion and a
//! backtracking matcher that shares no code with the automata).

use super::*;
use proptest::prelude::*;
use std::sync::OnceLock;

fn glob(pattern: &str) -> Glob {
    Glob::parse(pattern).unwrap_or_else(|e| panic!("`{pattern}` should parse: {e}"))
}

fn error(pattern: &str) -> GlobError {
    match Glob::parse(pattern) {
        Ok(_) => panic!("`{pattern}` should be rejected"),
        Err(e) => e,
    }
}

fn overlap(a: &str, b: &str) -> Option<String> {
    let result = intersection(&glob(a), &glob(b));
    // Symmetric, and the example really is in both.
    assert_eq!(result, intersection(&glob(b), &glob(a)), "{a} ∩ {b}");
    if let Some(path) = &result {
        assert!(glob(a).matches(path) && glob(b).matches(path), "{path}");
    }
    result
}

fn outside(a: &str, union: &[&str]) -> Option<String> {
    let union: Vec<Glob> = union.iter().map(|p| glob(p)).collect();
    let result = difference(&glob(a), &union);
    if let Some(path) = &result {
        assert!(glob(a).matches(path), "{path}");
        assert!(!union.iter().any(|u| u.matches(path)), "{path}");
    }
    result
}

// ---------------------------------------------------------------------------
// Matching

#[test]
fn star_stays_within_a_segment() {
    let g = glob("src/*.rs");
    assert!(g.matches("src/main.rs"));
    assert!(g.matches("src/.rs"));
    assert!(!g.matches("src/a/main.rs"));
    assert!(!g.matches("src/main.rsx"));
}

#[test]
fn globstar_matches_zero_or_more_segments() {
    let g = glob("a/**/b");
    assert!(g.matches("a/b"));
    assert!(g.matches("a/x/b"));
    assert!(g.matches("a/x/y/b"));
    assert!(!g.matches("a/xb"));
    assert!(!g.matches("ab"));
    let leading = glob("**/b");
    assert!(leading.matches("b"));
    assert!(leading.matches("x/y/b"));
    assert!(!leading.matches("xb"));
    let double = glob("**/**/x");
    assert!(double.matches("x"));
    assert!(double.matches("a/x"));
    assert!(double.matches("a/b/c/x"));
}

#[test]
fn trailing_globstar_matches_below_not_the_directory() {
    let g = glob("src/**");
    assert!(g.matches("src/x"));
    assert!(g.matches("src/x/y/z"));
    assert!(!g.matches("src"));
    assert!(!g.matches("srcx"));
    assert!(glob("**").matches("anything/at/all"));
}

#[test]
fn sets_and_question_marks() {
    let g = glob("[a-c]?[!x]");
    assert!(g.matches("bzy"));
    assert!(!g.matches("dzy"));
    assert!(!g.matches("bzx"));
    assert!(!g.matches("b/y"));
    assert!(glob("[]x]").matches("]"));
    assert!(glob("[!]x]").matches("a"));
    assert!(glob("[a-]").matches("-"));
    assert!(glob("[^a]").matches("b"));
    // Sets never match `/`, even through a range or negation.
    assert!(!glob("a[!x]b").matches("a/b"));
    assert!(!glob("a[+-0]b").matches("a/b"));
    assert!(glob("a[+-0]b").matches("a.b"));
}

#[test]
fn alternatives_may_contain_slashes_and_nest() {
    let g = glob("src/{api/**,main.rs,{lib,mod}.rs}");
    assert!(g.matches("src/api/x/y.rs"));
    assert!(g.matches("src/main.rs"));
    assert!(g.matches("src/mod.rs"));
    assert!(!g.matches("src/api"));
    assert!(!g.matches("src/other.rs"));
    assert!(glob("{a,**}/b").matches("b"));
    assert!(glob("x{/**,}").matches("x"));
    assert!(glob("x{/**,}").matches("x/y"));
    assert!(glob("a,b").matches("a,b"));
}

#[test]
fn invalid_paths_never_match() {
    let g = glob("**");
    for path in ["", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b"] {
        assert!(!g.matches(path), "{path:?}");
    }
    assert!(g.matches(".hidden/..."));
    assert!(!glob("*").matches(".."));
    assert!(!glob(".*").matches("."));
}

#[test]
fn unicode_characters_are_single_characters() {
    let g = glob("docs/?.md");
    assert!(g.matches("docs/é.md"));
    assert!(glob("[à-ü]").matches("é"));
    assert!(!glob("[à-ü]").matches("a"));
}

// ---------------------------------------------------------------------------
// Literal prefixes

#[test]
fn literal_prefix_is_the_leading_literal_segments() {
    let prefix = |p: &str| glob(p).literal_prefix().join("/");
    assert_eq!(glob("src/api/*.rs").literal_prefix(), ["src", "api"]);
    assert_eq!(glob("src/main.rs").literal_prefix(), ["src", "main.rs"]);
    assert_eq!(prefix("src/**"), "src");
    assert_eq!(prefix("src/a*/x"), "src");
    assert_eq!(prefix("src/{a,b}/**"), "src");
    assert!(prefix("**/*.md").is_empty());
    assert!(prefix("{src,lib}/**").is_empty());
    assert!(prefix("src{/a,/b}").is_empty());
    assert_eq!(glob("src/main.rs").as_literal(), Some("src/main.rs"));
    assert_eq!(glob("tests/user_*.rs").literal_head(), "tests/user_");
    assert_eq!(glob("**/*.md").literal_head(), "");
    assert_eq!(glob("src/**/x.rs").literal_tail(), "x.rs");
    assert_eq!(glob("src/*.rs").literal_tail(), ".rs");
    assert_eq!(glob("src/main.rs").literal_tail(), "src/main.rs");
    assert_eq!(glob("src/*.rs").as_literal(), None);
}

// ---------------------------------------------------------------------------
// Errors

#[test]
fn absolute_paths_are_rejected() {
    let e = error("/etc/x");
    assert_eq!(e.kind, GlobErrorKind::Absolute);
    assert_eq!(e.message, "`/etc/x` is an absolute path");
    assert_eq!(
        e.help.as_deref(),
        Some("paths are relative to the workspace: write `etc/x`")
    );
    assert_eq!(e.offset, 0..1);
    for pattern in ["C:\\x", "c:/x", "\\\\server\\x", "~/x", "{/a,b}", "{a,/b}"] {
        assert_eq!(error(pattern).kind, GlobErrorKind::Absolute, "{pattern}");
    }
    assert_eq!(error("{a,/b}").offset, 3..4);
}

#[test]
fn parent_segments_escape_the_workspace() {
    let e = error("../x");
    assert_eq!(e.kind, GlobErrorKind::EscapesWorkspace);
    assert_eq!(e.message, "`../x` escapes the workspace");
    assert_eq!(e.offset, 0..2);
    for pattern in ["a/../b", "{..,a}/x", "**/..", "a/{..}", "x/**/../y"] {
        assert_eq!(
            error(pattern).kind,
            GlobErrorKind::EscapesWorkspace,
            "{pattern}"
        );
    }
    // Not a `..` segment.
    for pattern in ["..a", "a..", "a/...", ".{.a,b}"] {
        glob(pattern);
    }
}

#[test]
fn malformed_globs_are_rejected_with_a_position() {
    let cases: &[(&str, &str, std::ops::Range<usize>)] = &[
        ("", "empty glob", 0..0),
        ("src/[ab", "unclosed `[` in glob", 4..5),
        ("src/{a,b", "unclosed `{` in glob", 4..5),
        ("src/{a,[b}", "unclosed `[` in glob", 7..8),
        ("a}", "unmatched `}` in glob", 1..2),
        ("a/{}", "empty `{}` in glob", 2..4),
        ("a//b", "empty path segment in glob `a//b`", 1..3),
        ("a/{,b}/c", "empty path segment in glob `a/{,b}/c`", 1..7),
        ("src/", "glob `src/` ends with `/`", 3..4),
        ("a**b", "`**` must be a whole path segment", 1..3),
        ("**.rs", "`**` must be a whole path segment", 0..2),
        ("{a,**}b", "`**` must be a whole path segment", 3..5),
        ("a/***", "`***` is not a wildcard", 2..5),
        (
            "*{*/a,b}",
            "two `*` meet through `{}` in glob `*{*/a,b}`",
            0..3,
        ),
        (
            "*{a,*/**}",
            "two `*` meet through `{}` in glob `*{a,*/**}`",
            0..5,
        ),
        ("[z-a]", "range `z-a` is out of order", 1..4),
        ("a[/]", "a `[...]` set cannot contain `/`", 2..3),
        ("src/[ab/**", "unclosed `[` in glob", 4..5),
        ("src\\main.rs", "backslash in glob `src\\main.rs`", 3..4),
        ("./src", "glob `./src` has a `.` segment", 0..1),
        ("a/./b", "glob `a/./b` has a `.` segment", 2..3),
        (".", "glob `.` has a `.` segment", 0..1),
    ];
    for (pattern, message, offset) in cases {
        let e = error(pattern);
        assert_eq!(e.kind, GlobErrorKind::Malformed, "{pattern}");
        assert_eq!(&e.message, message, "{pattern}");
        assert_eq!(&e.offset, offset, "{pattern}");
        assert!(e.help.is_some(), "{pattern} has help");
    }
    assert_eq!(
        error("src/").help.as_deref(),
        Some("to match everything below `src`, write `src/**`")
    );
    assert_eq!(
        error("./src").help.as_deref(),
        Some("remove the leading `./`: globs are already relative to the workspace: write `src`")
    );
    assert_eq!(
        error("src/**.rs").help.as_deref(),
        Some("to match at any depth, put `**` in a segment of its own: `src/**/*.rs`")
    );
    assert_eq!(
        error("a**").help.as_deref(),
        Some("use `*` to match within a segment, or put `**` between slashes, as in `a/**/b`")
    );
    assert_eq!(
        error("a\\*").help.as_deref(),
        Some("globs have no escapes: to match `*` literally, write `[*]`")
    );
}

#[test]
fn hostile_input_is_an_error_not_a_crash() {
    let deep = "{".repeat(10_000);
    assert_eq!(error(&deep).kind, GlobErrorKind::Malformed);
    let long = "a".repeat(MAX_LEN + 1);
    assert_eq!(error(&long).kind, GlobErrorKind::Malformed);
    let nested = format!("{}a{}", "{".repeat(MAX_NESTING), "}".repeat(MAX_NESTING));
    assert!(glob(&nested).matches("a"));
    let many = "**/".repeat(300) + "x";
    assert!(glob(&many).matches("x"));
    assert!(glob(&many).matches("a/b/x"));
}

// ---------------------------------------------------------------------------
// Intersection and difference

#[test]
fn overlaps_from_the_issue() {
    assert_eq!(overlap("src/*.rs", "src/*/*.rs"), None);
    assert_eq!(overlap("**/*.md", "docs/**").as_deref(), Some("docs/a.md"));
    assert_eq!(
        overlap("src/{a,b}/**", "src/b/x.rs").as_deref(),
        Some("src/b/x.rs")
    );
}

#[test]
fn overlap_examples_are_short_and_readable() {
    assert_eq!(overlap("*", "*").as_deref(), Some("a"));
    assert_eq!(overlap("src/**", "**/*.rs").as_deref(), Some("src/a.rs"));
    assert_eq!(overlap("[xyz]*", "*").as_deref(), Some("x"));
    assert_eq!(overlap("a/**/b", "**/b").as_deref(), Some("a/b"));
    assert_eq!(
        overlap("src/api/**", "src/**").as_deref(),
        Some("src/api/a")
    );
    // Only a hidden file is common: it is reported.
    assert_eq!(overlap(".*", "*rc").as_deref(), Some(".rc"));
    assert_eq!(
        overlap(".github/**", "**/*.yml").as_deref(),
        Some(".github/a.yml")
    );
}

#[test]
fn literal_text_rules_out_pairs_cheaply() {
    assert!(!may_overlap(&glob("src/*.rs"), &glob("src/*.md")));
    assert!(!may_overlap(&glob("src/a/**"), &glob("src/b/*")));
    assert!(may_overlap(&glob("src/**"), &glob("**/*.rs")));
    // Necessary, not sufficient.
    assert!(may_overlap(&glob("a/*"), &glob("a/*/*")));
}

#[test]
fn near_misses_do_not_overlap() {
    assert_eq!(overlap("src/*.rs", "src/*.md"), None);
    assert_eq!(overlap("src/**", "src"), None);
    assert_eq!(overlap("src/**", "srcx/a"), None);
    assert_eq!(overlap("a/*", "a/*/*"), None);
    assert_eq!(overlap("[ab]", "[!ab]"), None);
    assert_eq!(overlap("src/store/**", "src/api/**"), None);
    // The only common strings are `..` and `.`, which are not paths.
    assert_eq!(overlap(".?", "?."), None);
    assert_eq!(overlap("a/.?/b", "a/?./b"), None);
}

#[test]
fn inclusion_with_examples() {
    assert_eq!(outside("src/store/**", &["src/store/**"]), None);
    assert_eq!(outside("src/store/db/*.rs", &["src/store/**"]), None);
    assert_eq!(
        outside("src/x/**", &["src/store/**"]).as_deref(),
        Some("src/x/a")
    );
    assert_eq!(
        outside("src/{api,main.rs}", &["src/api", "src/lib.rs"]).as_deref(),
        Some("src/main.rs")
    );
    assert_eq!(
        outside("src/?*.rs", &["src/[a-m]*.rs", "src/[!a-m]*.rs"]),
        None
    );
    // `*` may be empty: `src/.rs` is in neither set.
    assert_eq!(
        outside("src/*.rs", &["src/[a-m]*.rs", "src/[!a-m]*.rs"]).as_deref(),
        Some("src/.rs")
    );
    assert_eq!(
        outside("src/*.rs", &["src/[a-m]*.rs"]).as_deref(),
        Some("src/n.rs")
    );
    assert_eq!(outside("a/**", &["a/*", "a/*/**"]), None);
    assert_eq!(outside("a/**", &["a/*"]).as_deref(), Some("a/a/a"));
    assert_eq!(outside("src/**", &[]).as_deref(), Some("src/a"));
    assert_eq!(outside("x", &["*"]), None);
    // Covered by a `DIR/**` through the head alone.
    assert_eq!(
        outside("src/store/{a,b}/*.rs", &["x/**", "src/store/**"]),
        None
    );
    assert_eq!(
        outside("src/store{,x}/a", &["src/store/**"]).as_deref(),
        Some("src/storex/a")
    );
    assert_eq!(outside("{a,b}/**", &["**"]), None);
    assert_eq!(outside("x", &["y"]).as_deref(), Some("x"));
    // Found by the property tests: one path reaches several automaton
    // states, and the first example must still be first in path order.
    assert_eq!(outside("{*./**,aa}/**", &["*"]).as_deref(), Some("aa/a"));
}

// ---------------------------------------------------------------------------
// Property tests against a brute-force reference

/// Expand `{}` (outside sets) into brace-free patterns.
fn expand(pattern: &str) -> Vec<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_set = false;
    while i < chars.len() {
        match chars[i] {
            '[' if !in_set => {
                in_set = true;
                i += 1;
                if matches!(chars.get(i), Some('!' | '^')) {
                    i += 1;
                }
                // A `]` right after the opening is literal.
                if chars.get(i) == Some(&']') {
                    i += 1;
                }
                continue;
            }
            ']' if in_set => in_set = false,
            '{' if !in_set => {
                let mut depth = 0;
                let mut alternatives = Vec::new();
                let mut start = i + 1;
                let mut j = i;
                let mut set = false;
                loop {
                    match chars[j] {
                        '[' if !set => set = true,
                        ']' if set => set = false,
                        '{' if !set => depth += 1,
                        '}' if !set => {
                            depth -= 1;
                            if depth == 0 {
                                alternatives.push(chars[start..j].iter().collect::<String>());
                                break;
                            }
                        }
                        ',' if !set && depth == 1 => {
                            alternatives.push(chars[start..j].iter().collect::<String>());
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let before: String = chars[..i].iter().collect();
                let after: String = chars[j + 1..].iter().collect();
                return alternatives
                    .iter()
                    .flat_map(|alt| expand(&format!("{before}{alt}{after}")))
                    .collect();
            }
            _ => {}
        }
        i += 1;
    }
    vec![pattern.to_string()]
}

/// Match one brace-free segment pattern against one path segment.
fn segment_matches(pattern: &[char], text: &[char]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some('*') => (0..=text.len()).any(|k| segment_matches(&pattern[1..], &text[k..])),
        Some('?') => !text.is_empty() && segment_matches(&pattern[1..], &text[1..]),
        Some('[') => {
            let Some(&c) = text.first() else {
                return false;
            };
            let mut i = 1;
            let negated = matches!(pattern[i], '!' | '^');
            if negated {
                i += 1;
            }
            let mut found = false;
            let mut first = true;
            loop {
                let lo = pattern[i];
                if lo == ']' && !first {
                    i += 1;
                    break;
                }
                first = false;
                if pattern[i + 1] == '-' && pattern[i + 2] != ']' {
                    found |= lo <= c && c <= pattern[i + 2];
                    i += 3;
                } else {
                    found |= lo == c;
                    i += 1;
                }
            }
            found != negated && segment_matches(&pattern[i..], &text[1..])
        }
        Some(&p) => text.first() == Some(&p) && segment_matches(&pattern[1..], &text[1..]),
    }
}

fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.first() {
        None => path.is_empty(),
        // A trailing `**` needs at least one segment; elsewhere zero will do.
        Some(&"**") => {
            let min = if pattern.len() == 1 { 1 } else { 0 };
            (min..=path.len()).any(|k| segments_match(&pattern[1..], &path[k..]))
        }
        Some(segment) => {
            let p: Vec<char> = segment.chars().collect();
            let t: Vec<char> = path
                .first()
                .map(|s| s.chars().collect())
                .unwrap_or_default();
            !path.is_empty() && segment_matches(&p, &t) && segments_match(&pattern[1..], &path[1..])
        }
    }
}

fn reference_matches(expansions: &[String], path: &str) -> bool {
    let valid = !path.is_empty()
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    let segments: Vec<&str> = path.split('/').collect();
    valid
        && expansions.iter().any(|e| {
            let pattern: Vec<&str> = e.split('/').collect();
            segments_match(&pattern, &segments)
        })
}

/// Every string of length 1..=5 over `a b c . /`: with the globs below
/// (whose literal characters are `a`, `b`, `.`), `c` stands for every other
/// character, so this covers all short paths up to renaming.
fn all_words() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..5 {
            words = words
                .iter()
                .flat_map(|w| ['a', 'b', 'c', '.', '/'].map(|c| format!("{w}{c}")))
                .collect();
            all.extend(words.iter().cloned());
        }
        all
    })
}

/// The order examples are chosen in, for the test alphabet.
fn example_key(word: &str) -> (usize, Vec<usize>) {
    let order = |c: char| "abc./".find(c).unwrap_or(99);
    (word.chars().count(), word.chars().map(order).collect())
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("a"),
        3 => Just("b"),
        2 => Just("."),
        3 => Just("*"),
        2 => Just("?"),
        1 => Just("[ab]"),
        1 => Just("[!a]"),
        1 => Just("[a-b]"),
        1 => Just("[.]"),
    ]
    .prop_map(String::from)
}

fn atoms() -> impl Strategy<Value = String> {
    prop::collection::vec(atom(), 1..3).prop_map(|v| v.concat())
}

fn simple_alternative() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        atoms(),
        (atoms(), atoms()).prop_map(|(x, y)| format!("{x}/{y}")),
        atoms().prop_map(|x| format!("**/{x}")),
        atoms().prop_map(|x| format!("{x}/**")),
        atoms().prop_map(|x| format!("/{x}")),
        atoms().prop_map(|x| format!("{x}/")),
    ]
}

/// An alternative of `{}`, possibly holding another `{}`.
fn alternative() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => simple_alternative(),
        1 => (atoms(), simple_alternative(), simple_alternative())
            .prop_map(|(x, a, b)| format!("{x}{{{a},{b}}}")),
    ]
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("**".to_string()),
        6 => atoms(),
        2 => (atoms(), alternative(), alternative()).prop_map(|(x, a, b)| format!("{x}{{{a},{b}}}")),
        1 => (alternative(), alternative()).prop_map(|(a, b)| format!("{{{a},{b}}}")),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 1..4).prop_map(|v| v.join("/"))
}

fn brace_free_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(""),
        Just("a"),
        Just("."),
        Just(".."),
        Just("**"),
        Just("*"),
        Just("?"),
        Just("[ab]"),
        Just("a**"),
        Just("**a"),
        Just(".*"),
        Just("*."),
        Just("..a"),
    ]
    .prop_map(String::from)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Globs without `{}` are validated by a linear scan; it must report
    /// exactly what the automaton-based rules report.
    #[test]
    fn linear_validation_agrees_with_the_automaton(
        segments in prop::collection::vec(brace_free_segment(), 1..5),
    ) {
        let pattern = segments.join("/");
        let linear = Glob::parse(&pattern).err();
        let automaton = parse::check_with_automaton(&pattern).err();
        prop_assert_eq!(linear, automaton, "{}", pattern);
    }

    #[test]
    fn matching_agrees_with_the_reference(p in pattern()) {
        let Ok(g) = Glob::parse(&p) else { return Ok(()) };
        let expansions = expand(&p);
        for word in all_words() {
            prop_assert_eq!(g.matches(word), reference_matches(&expansions, word), "{} on {}", p, word);
        }
    }

    #[test]
    fn intersection_is_exact(p in pattern(), q in pattern()) {
        let (Ok(a), Ok(b)) = (Glob::parse(&p), Glob::parse(&q)) else { return Ok(()) };
        let (ea, eb) = (expand(&p), expand(&q));
        let common: Vec<&String> = all_words()
            .iter()
            .filter(|w| reference_matches(&ea, w) && reference_matches(&eb, w))
            .collect();
        let found = intersection(&a, &b);
        check_example(found.as_deref(), &common, |w| {
            reference_matches(&ea, w) && reference_matches(&eb, w)
        })?;
        let reversed = intersection(&b, &a);
        prop_assert_eq!(&found, &reversed);
        // The cheap test never rules out a real overlap.
        prop_assert!(found.is_none() || may_overlap(&a, &b));
    }

    #[test]
    fn difference_is_exact(p in pattern(), q in pattern(), r in pattern()) {
        let (Ok(a), Ok(b), Ok(c)) = (Glob::parse(&p), Glob::parse(&q), Glob::parse(&r)) else {
            return Ok(())
        };
        let (ea, eb, ec) = (expand(&p), expand(&q), expand(&r));
        let inside = |w: &str| {
            reference_matches(&ea, w) && !reference_matches(&eb, w) && !reference_matches(&ec, w)
        };
        let outside: Vec<&String> = all_words().iter().filter(|w| inside(w)).collect();
        let found = difference(&a, [&b, &c]);
        check_example(found.as_deref(), &outside, inside)?;
    }
}

/// `found` is the example path for the set whose short members are
/// `short` and whose membership test is `member`: it must exist when a short
/// member does, be a member, and be the first by (no hidden segment, length,
/// preference order).
fn check_example(
    found: Option<&str>,
    short: &[&String],
    member: impl Fn(&str) -> bool,
) -> Result<(), TestCaseError> {
    let Some(example) = found else {
        prop_assert!(short.is_empty(), "missed {:?}", short.first());
        return Ok(());
    };
    prop_assert!(member(example), "{} is not in the set", example);
    prop_assert!(is_valid_path(example));
    let plain = |w: &&&String| !w.split('/').any(|s| s.starts_with('.'));
    let best_plain = short.iter().filter(plain).min_by_key(|w| example_key(w));
    let best_any = short.iter().min_by_key(|w| example_key(w));
    let expected = best_plain.or(best_any);
    if let Some(expected) = expected {
        if example.split('/').any(|s| s.starts_with('.')) {
            prop_assert!(
                best_plain.is_none(),
                "{} preferred over {:?}",
                example,
                best_plain
            );
        }
        if example.chars().count() <= 5 || best_plain.is_some() {
            prop_assert_eq!(example, expected.as_str());
        }
    } else {
        prop_assert!(
            example.chars().count() > 5,
            "{} was not enumerated",
            example
        );
    }
    Ok(())
}
