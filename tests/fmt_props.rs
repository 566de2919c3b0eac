//! Properties of `score fmt` on random valid programs.
//!
//! The generator builds source text token by token from random
//! declarations of every kind and random values of every kind; between any
//! two tokens it puts random trivia: spaces, newlines, blank lines, line and
//! block comments (one-line and multi-line). Then, for every program:
//! 1. it parses without errors (the generator only writes valid programs);
//! 2. formatting is idempotent;
//! 3. formatting preserves the meaning: the trees, spans aside, are equal;
//! 4. formatting preserves the comments: the same texts in the same order.

use proptest::prelude::*;
use score::fmt::format_source;
use score::source::FileId;
use score::syntax::{ast, parse};

#[derive(Clone, Debug)]
struct Tok {
    text: String,
    /// Punctuation may touch its neighbours; words need a space between.
    punct: bool,
}

type Toks = Vec<Tok>;

fn w(s: impl Into<String>) -> Tok {
    Tok {
        text: s.into(),
        punct: false,
    }
}

fn p(s: &str) -> Tok {
    Tok {
        text: s.to_string(),
        punct: true,
    }
}

/// `items` separated by commas, with an optional trailing comma.
fn commas(items: Vec<Toks>, trailing: bool) -> Toks {
    let mut out = Vec::new();
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        out.extend(item);
        if i + 1 < n || (trailing && n > 0) {
            out.push(p(","));
        }
    }
    out
}

fn bracketed(open: &str, inner: Toks, close: &str) -> Toks {
    let mut out = vec![p(open)];
    out.extend(inner);
    out.push(p(close));
    out
}

// ---------------------------------------------------------------------------
// Names, types, literals

fn ident() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a", "b", "foo", "bar_2", "model", "checks", "parts", "scores", "_x", "Text", "tokens",
        "usd", "input", "output", "byname", "trueish",
    ])
    .prop_map(String::from)
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(ident(), 1..=3).prop_map(|v| v.join("."))
}

fn value_path() -> impl Strategy<Value = String> {
    prop_oneof![4 => path(), 1 => ident().prop_map(|i| format!("score.{i}"))]
}

fn type_expr() -> BoxedStrategy<Toks> {
    path()
        .prop_map(|p| vec![w(p)])
        .prop_recursive(3, 8, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|mut t| {
                    t.push(p("?"));
                    t
                }),
                inner.clone().prop_map(|t| bracketed("[", t, "]")),
                (inner.clone(), inner).prop_map(|(k, v)| {
                    let mut t = k;
                    t.push(p(":"));
                    t.extend(v);
                    bracketed("{", t, "}")
                }),
            ]
        })
        .boxed()
}

fn string() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "a",
        "b c",
        "é",
        "🎵",
        "\\\"",
        "\\\\",
        "\\n",
        "\\t",
        "\\r",
        "\\0",
        "\\u{41}",
        "\\u{1F3B5}",
        "\\u{7}",
        "//",
        "/*",
        "*/",
        "'",
        "{x}",
        " ",
        "\\u{202E}",
    ]);
    prop::collection::vec(piece, 0..5).prop_map(|ps| format!("\"{}\"", ps.concat()))
}

fn text_block() -> impl Strategy<Value = String> {
    // No piece ends with a quote and none holds three in a row, so the
    // content never closes the block early.
    let piece = prop::sample::select(vec![
        "word", "x y", "é", "\\\"", "\\\\", "\\n", "\\t", "\"a", "\"\"b", "\\u{20}", "\t", "//",
        "/* no */", "  ", "\\r",
    ]);
    let line = (0usize..6, prop::collection::vec(piece, 0..4))
        .prop_map(|(indent, ps)| format!("{}{}", " ".repeat(indent), ps.concat()));
    (
        any::<bool>(),
        prop::collection::vec(line, 0..5),
        0usize..6,
        any::<bool>(),
    )
        .prop_map(|(newline_first, lines, close_indent, close_own_line)| {
            let mut s = String::from("\"\"\"");
            if newline_first {
                s.push('\n');
            }
            s.push_str(&lines.join("\n"));
            if close_own_line {
                s.push('\n');
                s.push_str(&" ".repeat(close_indent));
            }
            s.push_str("\"\"\"");
            s
        })
}

fn number() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0", "42", "-3", "200_000", "1_0", "0.5", "-1_0.5_0", "12.0", "7",
    ])
    .prop_map(String::from)
}

fn duration() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["500ms", "30s", "15m", "2h", "1_000ms"]).prop_map(String::from)
}

fn literal() -> impl Strategy<Value = Toks> {
    prop_oneof![
        3 => string(),
        1 => text_block(),
        2 => number(),
        1 => duration(),
    ]
    .prop_map(|s| vec![w(s)])
}

// ---------------------------------------------------------------------------
// Values

fn value() -> BoxedStrategy<Toks> {
    let leaf = prop_oneof![
        4 => literal(),
        1 => any::<bool>().prop_map(|b| vec![w(b.to_string())]),
        3 => value_path().prop_map(|p| vec![w(p)]),
        2 => (ident(), type_expr(), prop::option::of(value_path())).prop_map(|(n, ty, src)| {
            let mut t = vec![w(n), p(":")];
            t.extend(ty);
            if let Some(src) = src {
                t.push(p("="));
                t.push(w(src));
            }
            t
        }),
        1 => (ident(), value_path()).prop_map(|(n, src)| vec![w(n), p("="), w(src)]),
        1 => (ident(), literal()).prop_map(|(tag, lit)| {
            let mut t = vec![w(tag)];
            t.extend(lit);
            t
        }),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), any::<bool>())
                .prop_map(|(items, trailing)| bracketed("[", commas(items, trailing), "]")),
            (
                prop::collection::vec((prop_oneof![ident(), string()], inner.clone(),), 0..3),
                any::<bool>()
            )
                .prop_map(|(entries, trailing)| {
                    let items = entries
                        .into_iter()
                        .map(|(k, v)| {
                            let mut t = vec![w(k), p(":")];
                            t.extend(v);
                            t
                        })
                        .collect();
                    bracketed("{", commas(items, trailing), "}")
                }),
            (
                path(),
                prop::collection::vec((prop::option::of(ident()), inner), 0..3),
                any::<bool>()
            )
                .prop_map(|(callee, args, trailing)| {
                    let items = args
                        .into_iter()
                        .map(|(name, v)| {
                            let mut t = Vec::new();
                            // `f(n: T)` reads as the argument `n` with the
                            // value `T`: a typed value needs a name before it.
                            let typed = v.get(1).is_some_and(|t| t.text == ":");
                            let name = name.or_else(|| typed.then(|| "arg".to_string()));
                            if let Some(name) = name {
                                t.push(w(name));
                                t.push(p(":"));
                            }
                            t.extend(v);
                            t
                        })
                        .collect();
                    let mut t = vec![w(callee)];
                    t.extend(bracketed("(", commas(items, trailing), ")"));
                    t
                }),
        ]
    })
    .boxed()
}

// ---------------------------------------------------------------------------
// Declarations

fn doc() -> impl Strategy<Value = Toks> {
    let line = prop::sample::select(vec!["", " hello", "  two spaces", "x", " /x", " `code`"]);
    prop::collection::vec(line, 1..3)
        .prop_map(|lines| lines.into_iter().map(|l| w(format!("///{l}\n"))).collect())
}

fn with_doc(body: impl Strategy<Value = Toks>) -> impl Strategy<Value = Toks> {
    (prop::option::weighted(0.3, doc()), body).prop_map(|(doc, body)| {
        let mut t = doc.unwrap_or_default();
        t.extend(body);
        t
    })
}

fn setting() -> impl Strategy<Value = Toks> {
    with_doc(
        (ident(), prop::collection::vec(value(), 1..4)).prop_map(|(name, values)| {
            let mut t = vec![w(name)];
            t.extend(commas(values, false));
            t
        }),
    )
}

fn body() -> impl Strategy<Value = Toks> {
    prop::collection::vec(setting(), 0..5)
        .prop_map(|settings| bracketed("{", settings.into_iter().flatten().collect(), "}"))
}

fn keyword_decl(
    keyword: &'static str,
    rest: impl Strategy<Value = Toks>,
) -> impl Strategy<Value = Toks> {
    with_doc(rest.prop_map(move |rest| {
        let mut t = vec![w(keyword)];
        t.extend(rest);
        t
    }))
}

fn declaration() -> impl Strategy<Value = Toks> {
    let named_body = |kw: &'static str| {
        keyword_decl(
            kw,
            (ident(), body()).prop_map(|(name, body)| {
                let mut t = vec![w(name)];
                t.extend(body);
                t
            }),
        )
    };
    let use_decl = keyword_decl(
        "use",
        (
            path(),
            prop::option::of((prop::collection::vec(ident(), 1..4), any::<bool>())),
        )
            .prop_map(|(path, items)| {
                let mut t = vec![w(path)];
                if let Some((items, trailing)) = items {
                    t.push(p(".{"));
                    t.extend(commas(
                        items.into_iter().map(|i| vec![w(i)]).collect(),
                        trailing,
                    ));
                    t.push(p("}"));
                }
                t
            }),
    );
    let field = with_doc(
        (ident(), type_expr(), any::<bool>()).prop_map(|(name, ty, comma)| {
            let mut t = vec![w(name), p(":")];
            t.extend(ty);
            if comma {
                t.push(p(","));
            }
            t
        }),
    );
    let type_decl = keyword_decl(
        "type",
        (ident(), prop::collection::vec(field, 0..4)).prop_map(|(name, fields)| {
            let mut t = vec![w(name)];
            t.extend(bracketed("{", fields.into_iter().flatten().collect(), "}"));
            t
        }),
    );
    let variant =
        (with_doc(ident().prop_map(|v| vec![w(v)])), any::<bool>()).prop_map(|(mut t, comma)| {
            if comma {
                t.push(p(","));
            }
            t
        });
    let enum_decl = keyword_decl(
        "enum",
        (ident(), prop::collection::vec(variant, 1..6)).prop_map(|(name, variants)| {
            let mut t = vec![w(name)];
            t.extend(bracketed(
                "{",
                variants.into_iter().flatten().collect(),
                "}",
            ));
            t
        }),
    );
    let intent = keyword_decl(
        "intent",
        (
            ident(),
            prop_oneof![3 => string(), 1 => text_block()],
            prop::option::of(body()),
        )
            .prop_map(|(name, statement, body)| {
                let mut t = vec![w(name), w(statement)];
                t.extend(body.unwrap_or_default());
                t
            }),
    );
    let param = (ident(), type_expr()).prop_map(|(name, ty)| {
        let mut t = vec![w(name), p(":")];
        t.extend(ty);
        t
    });
    let check = keyword_decl(
        "check",
        (
            ident(),
            prop::collection::vec(param, 0..3),
            any::<bool>(),
            body(),
        )
            .prop_map(|(name, params, trailing, body)| {
                let mut t = vec![w(name)];
                t.extend(bracketed("(", commas(params, trailing), ")"));
                t.extend(body);
                t
            }),
    );
    let agent = keyword_decl(
        "agent",
        (ident(), ident(), body()).prop_map(|(name, provider, body)| {
            let mut t = vec![w(name), p(":"), w(provider)];
            t.extend(body);
            t
        }),
    );
    let part = keyword_decl(
        "part",
        (
            ident(),
            prop::collection::vec(path(), 0..3),
            prop::option::of(path()),
            body(),
        )
            .prop_map(|(name, contracts, agent, body)| {
                let mut t = vec![w(name)];
                for (i, c) in contracts.into_iter().enumerate() {
                    t.push(p(if i == 0 { ":" } else { "+" }));
                    t.push(w(c));
                }
                if let Some(agent) = agent {
                    t.push(w("by"));
                    t.push(w(agent));
                }
                t.extend(body);
                t
            }),
    );
    let step = prop_oneof![
        3 => path().prop_map(|p| vec![w(p)]),
        1 => (prop::collection::vec(path(), 1..4), any::<bool>()).prop_map(|(parts, trailing)| {
            bracketed("[", commas(parts.into_iter().map(|p| vec![w(p)]).collect(), trailing), "]")
        }),
    ];
    let chain = prop::collection::vec(step, 1..5).prop_map(|steps| {
        let mut t = Vec::new();
        for (i, s) in steps.into_iter().enumerate() {
            if i > 0 {
                t.push(p("->"));
            }
            t.extend(s);
        }
        t
    });
    let sequence = keyword_decl(
        "sequence",
        prop::collection::vec(chain, 0..4)
            .prop_map(|chains| bracketed("{", chains.into_iter().flatten().collect(), "}")),
    );
    prop_oneof![
        named_body("score"),
        use_decl,
        type_decl,
        enum_decl,
        intent,
        check,
        named_body("contract"),
        agent,
        part,
        sequence,
    ]
}

// ---------------------------------------------------------------------------
// Trivia

/// The trivia written before a token; `touching` allows none at all.
fn trivia(choice: u8, touching: bool, comments: &mut usize) -> String {
    let mut comment = |text: &str| {
        *comments += 1;
        text.replace('#', &comments.to_string())
    };
    match choice % 20 {
        0 if touching => String::new(),
        0..=4 => " ".into(),
        5 => "\n".into(),
        6 => "\n    ".into(),
        7 => "\n\n".into(),
        8 => "\n\n\n  ".into(),
        9 => "\t".into(),
        10 => comment(" /* block # */ "),
        11 => comment(" // line #\n"),
        12 => comment("\n// own line #\n"),
        13 => comment("\n\n  // after a blank line #\n\n"),
        14 => comment(" /* multi #\n   line */ "),
        15 => comment("\n/* own # */\n"),
        16 => comment(" /* a # */ /* b */ "),
        17 => comment("\n  //   spaced #  \n  "),
        18 => "\r\n".into(),
        _ => comment("\n/* nested /* # */ */\n"),
    }
}

fn render(tokens: &[Tok], trivia_choices: &[u8]) -> String {
    let mut out = String::new();
    let mut comments = 0;
    let mut choice = trivia_choices.iter().copied().cycle();
    let mut next = || choice.next().unwrap_or(0);
    out.push_str(&trivia(next(), true, &mut comments));
    for (i, tok) in tokens.iter().enumerate() {
        if i > 0 {
            let touching = tok.punct || tokens[i - 1].punct;
            out.push_str(&trivia(next(), touching, &mut comments));
        }
        out.push_str(&tok.text);
    }
    out.push_str(&trivia(next(), true, &mut comments));
    out
}

fn program() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(declaration(), 0..6),
        prop::collection::vec(any::<u8>(), 1..64),
    )
        .prop_map(|(decls, trivia)| {
            let tokens: Toks = decls.into_iter().flatten().collect();
            render(&tokens, &trivia)
        })
}

// ---------------------------------------------------------------------------
// Properties

fn parse_clean(text: &str, what: &str) -> ast::File {
    let (file, diagnostics) = parse(FileId(0), text);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "{what} does not parse: {errors:#?}\n---\n{text}\n---"
    );
    file
}

fn comment_texts(file: &ast::File) -> Vec<String> {
    file.comments
        .iter()
        .map(|c| c.text.trim().replace("\r\n", "\n"))
        .collect()
}

fn check_program(source: &str) {
    let mut original = parse_clean(source, "the generated program");
    let formatted = match format_source(FileId(0), source) {
        Ok(text) => text,
        Err(d) => panic!("format_source refused a valid program: {d:#?}\n---\n{source}"),
    };
    let mut reparsed = parse_clean(&formatted, "the formatted program");
    let again = format_source(FileId(0), &formatted).expect("formatted text parses");
    assert_eq!(
        again, formatted,
        "not idempotent\n--- source\n{source}\n--- formatted once\n{formatted}\n--- twice\n{again}"
    );
    assert_eq!(
        comment_texts(&original),
        comment_texts(&reparsed),
        "comments changed\n--- source\n{source}\n--- formatted\n{formatted}"
    );
    original.strip_spans();
    reparsed.strip_spans();
    assert_eq!(
        original.items, reparsed.items,
        "meaning changed\n--- source\n{source}\n--- formatted\n{formatted}"
    );
}

/// 256 cases keep the suite fast; `PROPTEST_CASES=20000` searches deeper.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn formatting_is_idempotent_and_preserves_meaning_and_comments(source in program()) {
        check_program(&source);
    }
}

/// A fixed program holding every construct, so that a regression shows even
/// without a lucky random case.
#[test]
fn every_construct_at_once() {
    check_program(
        r#"// header

/// The project.
score demo { title "Demo" /* t */ concurrency 4 budget tokens 200_000, usd 12.5 }
use std.checks.{cargo_test, shell,}
use billing.types
type Link { slug: Text, /// where
  target: [Text]? , meta: {Text: Json} }
enum V { a b, /// c doc
 c }
intent go "go \u{1F3B5}" { accept """
      one
        two
      """ // after
}
intent bare "no body"
check run_it(cmd: Text, n: Int,) { run "sh {cmd}" timeout 30s }
contract C { input a: Text = score.repo output b: Text owns "a/**", "b/**" ensures cargo_test(package: "x"), shell("y") }
agent ag: command { run ["a", "b",] env { A: "1", "b c": [1, 2] } stdin prompt }
part p: C + D by ag { input n = q.out retries 2 flag true }
sequence { a -> [b, c,] -> d  e }
"#,
    );
}
