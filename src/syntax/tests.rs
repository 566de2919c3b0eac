//! Unit tests of the front end: every construct of the language reference
//! (docs/language.md), error recovery, and its complete example.

use super::ast::*;
use super::parse;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The complete example the language reference points to: the one copy,
/// `examples/shortener.score`, so the tests read what users read.
const EXAMPLE: &str = include_str!("../../examples/shortener.score");

fn parse_ok(text: &str) -> File {
    let (file, diags) = parse(FileId(0), text);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {text:?}: {diags:#?}"
    );
    check_spans(&file, text);
    file
}

fn stripped(text: &str) -> File {
    let mut file = parse_ok(text);
    file.strip_spans();
    file
}

/// Every span lies within the text, on character boundaries, in file 0.
fn check_spans(file: &File, text: &str) {
    let mut file = file.clone();
    file.visit_spans_mut(&mut |span| {
        assert_eq!(span.file, FileId(0));
        assert!(span.start <= span.end, "{span:?}");
        assert!((span.end as usize) <= text.len(), "{span:?}");
        assert!(text.is_char_boundary(span.start as usize), "{span:?}");
        assert!(text.is_char_boundary(span.end as usize), "{span:?}");
    });
}

fn errors(text: &str) -> Vec<Diagnostic> {
    let (file, diags) = parse(FileId(0), text);
    check_spans(&file, text);
    diags
}

/// 1-based line of a diagnostic's primary span.
fn line_of(text: &str, d: &Diagnostic) -> usize {
    let at = d.primary_span().unwrap().start as usize;
    text[..at].matches('\n').count() + 1
}

fn span_text(text: &str, span: Span) -> &str {
    &text[span.range()]
}

// ---------------------------------------------------------------------------
// Builders for expected trees (spans are stripped before comparing).

fn id(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: Span::default(),
    }
}

fn path(dotted: &str) -> Path {
    Path {
        segments: dotted.split('.').map(id).collect(),
        span: Span::default(),
    }
}

fn lit(value: &str) -> StringLit {
    StringLit {
        value: value.to_string(),
        block: false,
        span: Span::default(),
    }
}

fn s(value: &str) -> Value {
    Value::Str(lit(value))
}

fn block(value: &str) -> Value {
    Value::Str(StringLit {
        value: value.to_string(),
        block: true,
        span: Span::default(),
    })
}

fn num(raw: &str, value: f64) -> Value {
    Value::Number(NumberLit {
        raw: raw.to_string(),
        value,
        integer: !raw.contains('.'),
        span: Span::default(),
    })
}

fn name_value(dotted: &str) -> Value {
    Value::Path(path(dotted))
}

fn named(dotted: &str) -> TypeExpr {
    TypeExpr {
        kind: TypeExprKind::Named(path(dotted)),
        span: Span::default(),
    }
}

fn optional(t: TypeExpr) -> TypeExpr {
    TypeExpr {
        kind: TypeExprKind::Optional(Box::new(t)),
        span: Span::default(),
    }
}

fn list_of(t: TypeExpr) -> TypeExpr {
    TypeExpr {
        kind: TypeExprKind::List(Box::new(t)),
        span: Span::default(),
    }
}

fn map_of(k: TypeExpr, v: TypeExpr) -> TypeExpr {
    TypeExpr {
        kind: TypeExprKind::Map(Box::new(k), Box::new(v)),
        span: Span::default(),
    }
}

fn typed(name: &str, ty: TypeExpr) -> Value {
    Value::Typed {
        name: id(name),
        ty,
        source: None,
        span: Span::default(),
    }
}

fn binding(name: &str, source: &str) -> Value {
    Value::Binding {
        name: id(name),
        source: path(source),
        span: Span::default(),
    }
}

fn call(callee: &str, args: Vec<(Option<&str>, Value)>) -> Value {
    Value::Call(Call {
        callee: path(callee),
        args: args
            .into_iter()
            .map(|(name, value)| Arg {
                name: name.map(id),
                value,
                span: Span::default(),
            })
            .collect(),
        span: Span::default(),
    })
}

fn set(name: &str, values: Vec<Value>) -> Setting {
    Setting {
        doc: None,
        name: id(name),
        values,
        span: Span::default(),
    }
}

fn body(settings: Vec<Setting>) -> Body {
    Body {
        settings,
        span: Span::default(),
    }
}

fn doc(text: &str) -> Option<Doc> {
    Some(Doc {
        text: text.to_string(),
        span: Span::default(),
    })
}

fn field(name: &str, ty: TypeExpr) -> Field {
    Field {
        doc: None,
        name: id(name),
        ty,
        span: Span::default(),
    }
}

fn part(name: &str, contracts: &[&str], agent: Option<&str>, settings: Vec<Setting>) -> Item {
    Item::Part(PartDecl {
        doc: None,
        name: id(name),
        contracts: contracts.iter().map(|c| path(c)).collect(),
        agent: agent.map(path),
        body: body(settings),
        span: Span::default(),
    })
}

fn the_settings(file: &File) -> Vec<Setting> {
    match &file.items[0] {
        Item::Part(p) => p.body.settings.clone(),
        other => panic!("not a part: {other:?}"),
    }
}

/// The values of the single setting of `part p { x VALUES }`.
fn values_of(values: &str) -> Vec<Value> {
    let file = stripped(&format!("part p {{\n  x {values}\n}}\n"));
    let settings = the_settings(&file);
    assert_eq!(settings.len(), 1, "{settings:#?}");
    settings[0].values.clone()
}

fn value_of(value: &str) -> Value {
    let mut values = values_of(value);
    assert_eq!(values.len(), 1, "{values:#?}");
    values.remove(0)
}

// ---------------------------------------------------------------------------
// The complete example

#[test]
fn the_complete_example_parses_into_the_expected_tree() {
    let file = stripped(EXAMPLE);
    let uses = |module: &str, items: &[&str]| {
        Item::Use(UseDecl {
            doc: None,
            path: path(module),
            items: Some(items.iter().map(|i| id(i)).collect()),
            span: Span::default(),
        })
    };
    let intent = |name: &str, statement: &str, accepts: &[&str]| {
        Item::Intent(IntentDecl {
            doc: None,
            name: id(name),
            statement: lit(statement),
            body: Some(body(
                accepts.iter().map(|a| set("accept", vec![s(a)])).collect(),
            )),
            span: Span::default(),
        })
    };
    let agent = |name: &str, provider: &str, settings: Vec<Setting>| {
        Item::Agent(AgentDecl {
            doc: None,
            name: id(name),
            provider: id(provider),
            body: body(settings),
            span: Span::default(),
        })
    };
    let contract = |name: &str, settings: Vec<Setting>| {
        Item::Contract(ContractDecl {
            doc: None,
            name: id(name),
            body: body(settings),
            span: Span::default(),
        })
    };
    let expected = vec![
        Item::Score(ScoreDecl {
            doc: doc("A URL shortener, built by two agents."),
            name: id("shortener"),
            body: body(vec![
                set("title", vec![s("URL shortener")]),
                set("workspace", vec![s(".")]),
                set("concurrency", vec![num("4", 4.0)]),
                set("default_agent", vec![name_value("coder")]),
            ]),
            span: Span::default(),
        }),
        uses("std.checks", &["cargo_test"]),
        Item::Type(TypeDecl {
            doc: None,
            name: id("Link"),
            fields: vec![
                field("slug", named("Text")),
                field("target", named("Text")),
                field("visits", named("Int")),
                field("note", optional(named("Text"))),
                field("tags", list_of(named("Text"))),
            ],
            span: Span::default(),
        }),
        Item::Enum(EnumDecl {
            doc: None,
            name: id("Visibility"),
            variants: ["public", "private"]
                .iter()
                .map(|v| Variant {
                    doc: None,
                    name: id(v),
                    span: Span::default(),
                })
                .collect(),
            span: Span::default(),
        }),
        intent(
            "shorten",
            "A user turns a long URL into a short link",
            &[
                "the same URL submitted twice yields the same slug",
                "an invalid URL is rejected with a clear error",
            ],
        ),
        intent(
            "redirect",
            "Visiting a short link redirects to its target",
            &["an unknown slug answers 404"],
        ),
        agent(
            "architect",
            "openai",
            vec![
                set("model", vec![s("gpt-4.1")]),
                set("key_env", vec![s("OPENAI_API_KEY")]),
                set("tier", vec![name_value("complex")]),
            ],
        ),
        agent(
            "coder",
            "command",
            vec![
                set(
                    "run",
                    vec![Value::List(
                        vec![
                            s("aider"),
                            s("--yes-always"),
                            s("--message-file"),
                            s("{prompt_file}"),
                        ],
                        Span::default(),
                    )],
                ),
                set("tier", vec![name_value("routine")]),
                set("concurrency", vec![num("2", 2.0)]),
            ],
        ),
        contract(
            "Storage",
            vec![
                set("input", vec![typed("link_type", named("Text"))]),
                set("output", vec![typed("store_api", named("Text"))]),
                set("owns", vec![s("src/store/**")]),
                set("reads", vec![s("src/model.rs")]),
                set(
                    "ensures",
                    vec![call("cargo_test", vec![(Some("package"), s("store"))])],
                ),
                set(
                    "ensures",
                    vec![s("every public function has a doc comment")],
                ),
            ],
        ),
        contract(
            "HttpApi",
            vec![
                set("input", vec![typed("store_api", named("Text"))]),
                set("owns", vec![s("src/api/**"), s("src/main.rs")]),
                set(
                    "ensures",
                    vec![call("cargo_test", vec![(Some("package"), s("api"))])],
                ),
            ],
        ),
        part(
            "model",
            &[],
            Some("architect"),
            vec![
                set(
                    "serves",
                    vec![name_value("shorten"), name_value("redirect")],
                ),
                set("complexity", vec![name_value("complex")]),
                set("owns", vec![s("src/model.rs")]),
                set("output", vec![typed("link_type", named("Text"))]),
                set(
                    "brief",
                    vec![block(
                        "Define the Link type and slug generation in src/model.rs.",
                    )],
                ),
            ],
        ),
        part(
            "store",
            &["Storage"],
            None,
            vec![
                set("serves", vec![name_value("shorten")]),
                set("complexity", vec![name_value("routine")]),
                set("input", vec![binding("link_type", "model.link_type")]),
                set("retries", vec![num("2", 2.0)]),
                set(
                    "timeout",
                    vec![Value::Duration(DurationLit {
                        raw: "15m".into(),
                        millis: 900_000,
                        span: Span::default(),
                    })],
                ),
            ],
        ),
        part(
            "api",
            &["HttpApi"],
            None,
            vec![
                set(
                    "serves",
                    vec![name_value("shorten"), name_value("redirect")],
                ),
                set("input", vec![binding("store_api", "store.store_api")]),
            ],
        ),
        part(
            "docs",
            &[],
            None,
            vec![
                set("serves", vec![name_value("shorten")]),
                set("owns", vec![s("docs/**")]),
            ],
        ),
        Item::Sequence(SequenceDecl {
            doc: None,
            chains: vec![Chain {
                steps: vec![
                    Step::Part(path("model")),
                    Step::Group {
                        parts: vec![path("store"), path("docs")],
                        span: Span::default(),
                    },
                    Step::Part(path("api")),
                ],
                arrows: vec![Span::default(); 2],
                span: Span::default(),
            }],
            span: Span::default(),
        }),
    ];
    assert_eq!(file.items.len(), expected.len());
    for (got, want) in file.items.iter().zip(&expected) {
        assert_eq!(got, want);
    }
    let comments: Vec<&str> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        comments,
        [
            "// repository the parts write into, relative to this file",
            "// at most this many parts run at once",
            "// optional",
            "// list",
        ]
    );
}

#[test]
fn the_complete_example_has_exact_spans() {
    let file = parse_ok(EXAMPLE);
    let t = EXAMPLE;
    // A declaration's span covers its doc comment and ends at its `}`.
    let score = &file.items[0];
    assert!(span_text(t, score.span()).starts_with("/// A URL shortener"));
    assert!(span_text(t, score.span()).ends_with("default_agent coder\n}"));
    let Item::Part(store) = &file.items[11] else {
        panic!("item 11 is the part `store`")
    };
    assert_eq!(span_text(t, store.name.span), "store");
    assert_eq!(span_text(t, store.contracts[0].span), "Storage");
    assert_eq!(
        span_text(t, store.body.settings[2].span),
        "input link_type = model.link_type"
    );
    let Value::Binding { source, span, .. } = &store.body.settings[2].values[0] else {
        panic!("a binding")
    };
    assert_eq!(span_text(t, *span), "link_type = model.link_type");
    assert_eq!(span_text(t, source.span), "model.link_type");
    assert_eq!(span_text(t, source.segments[1].span), "link_type");
    let Item::Sequence(seq) = file.items.last().unwrap() else {
        panic!("the last item is the sequence")
    };
    let chain = &seq.chains[0];
    assert_eq!(span_text(t, chain.span), "model -> [store, docs] -> api");
    assert_eq!(span_text(t, chain.steps[1].span()), "[store, docs]");
    assert!(chain.arrows.iter().all(|a| span_text(t, *a) == "->"));
    let Item::Type(link) = &file.items[2] else {
        panic!("item 3 is the type `Link`")
    };
    assert_eq!(span_text(t, link.fields[3].span), "note: Text?");
    assert_eq!(span_text(t, link.fields[3].ty.span), "Text?");
    assert_eq!(span_text(t, file.comments[2].span), "// optional");
}

#[test]
fn strip_spans_compares_trees_regardless_of_layout() {
    let compact = "part a: X by b { serves x, y  owns \"a\" }";
    let spread = "// lead\npart   a :X\n  by b\n{\n  serves x ,\n    y\n  owns \"a\"\n}\n";
    let mut a = stripped(compact);
    let mut b = stripped(spread);
    a.comments.clear();
    b.comments.clear();
    assert_eq!(a, b);
    let mut spans = Vec::new();
    a.visit_spans_mut(&mut |s| spans.push(*s));
    assert!(!spans.is_empty());
    assert!(spans.iter().all(|s| *s == Span::default()));
}

// ---------------------------------------------------------------------------
// Literals

#[test]
fn strings_with_every_escape() {
    let v = value_of(r#""q\" b\\ n\n t\t r\r z\0 u\u{1F3B5}""#);
    assert_eq!(v, s("q\" b\\ n\n t\t r\r z\0 u\u{1F3B5}"));
    assert_eq!(value_of(r#""""#), s(""));
    assert_eq!(
        value_of(r#""héllo // not a comment /* nor this */""#),
        s("héllo // not a comment /* nor this */")
    );
}

#[test]
fn unknown_escape_is_e0001_at_the_escape_and_keeps_the_declaration() {
    let text = "part p {\n  brief \"a \\q b\"\n}\n";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::E0001);
    assert_eq!(span_text(text, diags[0].primary_span().unwrap()), "\\q");
    assert!(matches!(file.items[0], Item::Part(_)));
}

#[test]
fn text_blocks_strip_indentation() {
    let text = "part p {\n  brief \"\"\"\n    First line.\n      indented \\\"quoted\\\"\n\n    Last line.\n    \"\"\"\n}\n";
    assert_eq!(
        the_settings(&stripped(text))[0].values[0],
        block("First line.\n  indented \"quoted\"\n\nLast line.")
    );
    assert_eq!(value_of(r#""""one line""""#), block("one line"));
    // quotes inside a text block need no escape unless there are three
    assert_eq!(value_of("\"\"\"say \"hi\" \"\"\""), block("say \"hi\" "));
}

#[test]
fn numbers_and_durations() {
    assert_eq!(value_of("200_000"), num("200_000", 200_000.0));
    assert_eq!(value_of("0.2"), num("0.2", 0.2));
    assert_eq!(value_of("-3"), num("-3", -3.0));
    assert_eq!(value_of("1_000.000_5"), num("1_000.000_5", 1000.0005));
    for (raw, millis) in [
        ("500ms", 500),
        ("30s", 30_000),
        ("15m", 900_000),
        ("2h", 7_200_000),
        ("1_000ms", 1000),
    ] {
        assert_eq!(
            value_of(raw),
            Value::Duration(DurationLit {
                raw: raw.into(),
                millis,
                span: Span::default()
            })
        );
    }
}

#[test]
fn malformed_durations_are_explained() {
    for (raw, words) in [
        ("15min", "not a valid number or duration"),
        ("1.5h", "not a valid duration"),
        ("2x", "not a valid"),
    ] {
        let text = format!("part p {{\n  timeout {raw}\n}}\n");
        let diags = errors(&text);
        assert_eq!(diags.len(), 1, "{raw}: {diags:#?}");
        assert!(
            diags[0].message.contains(words),
            "{raw}: {}",
            diags[0].message
        );
        assert_eq!(span_text(&text, diags[0].primary_span().unwrap()), raw);
    }
}

#[test]
fn a_duration_too_long_is_reported() {
    let diags = errors("part p { timeout 99999999999999999999h }");
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("too long"));
}

// ---------------------------------------------------------------------------
// Values

#[test]
fn every_value_kind() {
    assert_eq!(value_of("true"), Value::Bool(true, Span::default()));
    assert_eq!(value_of("false"), Value::Bool(false, Span::default()));
    assert_eq!(value_of("complex"), name_value("complex"));
    assert_eq!(value_of("model.link_type"), name_value("model.link_type"));
    assert_eq!(value_of("n: Text"), typed("n", named("Text")));
    assert_eq!(
        value_of("repo: Text = score.repo"),
        Value::Typed {
            name: id("repo"),
            ty: named("Text"),
            source: Some(path("score.repo")),
            span: Span::default()
        }
    );
    assert_eq!(value_of("repo = score.repo"), binding("repo", "score.repo"));
    assert_eq!(
        value_of("tokens 200_000"),
        Value::Tagged {
            tag: id("tokens"),
            value: Box::new(num("200_000", 200_000.0)),
            span: Span::default()
        }
    );
    assert_eq!(
        value_of("label \"x\""),
        Value::Tagged {
            tag: id("label"),
            value: Box::new(s("x")),
            span: Span::default()
        }
    );
    assert_eq!(
        value_of("every 5m"),
        Value::Tagged {
            tag: id("every"),
            value: Box::new(Value::Duration(DurationLit {
                raw: "5m".into(),
                millis: 300_000,
                span: Span::default()
            })),
            span: Span::default()
        }
    );
    assert_eq!(value_of("[]"), Value::List(vec![], Span::default()));
    assert_eq!(
        value_of("[1, \"a\", [b],]"),
        Value::List(
            vec![
                num("1", 1.0),
                s("a"),
                Value::List(vec![name_value("b")], Span::default())
            ],
            Span::default()
        )
    );
    assert_eq!(value_of("{}"), Value::Map(vec![], Span::default()));
    assert_eq!(
        value_of("{ A: \"x\", \"b c\": [1], }"),
        Value::Map(
            vec![
                MapEntry {
                    key: MapKey::Ident(id("A")),
                    value: s("x"),
                    span: Span::default()
                },
                MapEntry {
                    key: MapKey::Str(lit("b c")),
                    value: Value::List(vec![num("1", 1.0)], Span::default()),
                    span: Span::default()
                },
            ],
            Span::default()
        )
    );
    assert_eq!(value_of("cargo_clippy()"), call("cargo_clippy", vec![]));
    assert_eq!(
        value_of("std.checks.shell(\"ls\", cmd: x.y, n: 3,)"),
        call(
            "std.checks.shell",
            vec![
                (None, s("ls")),
                (Some("cmd"), name_value("x.y")),
                (Some("n"), num("3", 3.0))
            ]
        )
    );
}

#[test]
fn several_values_and_settings_over_lines() {
    let text = "part p {\n  owns \"a\",\n       \"b\", [c]\n  serves x tier routine\n}\n";
    let settings = the_settings(&stripped(text));
    assert_eq!(settings.len(), 3);
    assert_eq!(
        settings[0],
        set(
            "owns",
            vec![
                s("a"),
                s("b"),
                Value::List(vec![name_value("c")], Span::default())
            ]
        )
    );
    assert_eq!(settings[1], set("serves", vec![name_value("x")]));
    assert_eq!(settings[2], set("tier", vec![name_value("routine")]));
}

#[test]
fn words_that_start_with_keywords_are_names() {
    let settings = the_settings(&stripped(
        "part p { checks parts, scores, byline, types, usefully }",
    ));
    assert_eq!(
        settings[0],
        set(
            "checks",
            vec![
                name_value("parts"),
                name_value("scores"),
                name_value("byline"),
                name_value("types"),
                name_value("usefully")
            ]
        )
    );
}

// ---------------------------------------------------------------------------
// Types

#[test]
fn type_expressions() {
    let file = stripped(
        "type T {\n  a: Text?\n  b: [Text]\n  c: {Text: Int}\n  d: [{Text: [std.types.FileSet?]}]??,\n  e: Json, }\n",
    );
    let Item::Type(t) = &file.items[0] else {
        panic!()
    };
    let tys: Vec<&TypeExpr> = t.fields.iter().map(|f| &f.ty).collect();
    assert_eq!(*tys[0], optional(named("Text")));
    assert_eq!(*tys[1], list_of(named("Text")));
    assert_eq!(*tys[2], map_of(named("Text"), named("Int")));
    assert_eq!(
        *tys[3],
        optional(optional(list_of(map_of(
            named("Text"),
            list_of(optional(named("std.types.FileSet")))
        ))))
    );
    assert_eq!(tys[3].display(), "[{Text: [std.types.FileSet?]}]??");
    assert_eq!(*tys[4], named("Json"));
}

#[test]
fn optional_spans_cover_the_mark() {
    let text = "type T { a: [Text] ? }";
    let file = parse_ok(text);
    let Item::Type(t) = &file.items[0] else {
        panic!()
    };
    assert_eq!(span_text(text, t.fields[0].ty.span), "[Text] ?");
}

// ---------------------------------------------------------------------------
// Declarations

#[test]
fn use_declarations() {
    let file = stripped("use std.checks\nuse a.b.{x, y,}\nuse single");
    assert_eq!(
        file.items,
        vec![
            Item::Use(UseDecl {
                doc: None,
                path: path("std.checks"),
                items: None,
                span: Span::default()
            }),
            Item::Use(UseDecl {
                doc: None,
                path: path("a.b"),
                items: Some(vec![id("x"), id("y")]),
                span: Span::default()
            }),
            Item::Use(UseDecl {
                doc: None,
                path: path("single"),
                items: None,
                span: Span::default()
            }),
        ]
    );
}

#[test]
fn part_headers() {
    let file = stripped(
        "part a {}\npart b: C {}\npart c: C + D + e.F by g {}\npart d by h.i {}\npart e:C+D by x{}",
    );
    assert_eq!(
        file.items,
        vec![
            part("a", &[], None, vec![]),
            part("b", &["C"], None, vec![]),
            part("c", &["C", "D", "e.F"], Some("g"), vec![]),
            part("d", &[], Some("h.i"), vec![]),
            part("e", &["C", "D"], Some("x"), vec![]),
        ]
    );
}

#[test]
fn intents_checks_enums() {
    let file = stripped(
        "intent a \"do it\"\nintent b \"\"\"\n  block\n  \"\"\" { priority must }\ncheck c() { run \"x\" }\ncheck d(path: Path, n: [Int],) { run \"cat {path}\" timeout 30s }\nenum E {\n  a\n  b,\n  c }\n",
    );
    assert_eq!(
        file.items[0],
        Item::Intent(IntentDecl {
            doc: None,
            name: id("a"),
            statement: lit("do it"),
            body: None,
            span: Span::default()
        })
    );
    let Item::Intent(b) = &file.items[1] else {
        panic!()
    };
    assert!(b.statement.block);
    assert_eq!(b.statement.value, "block");
    assert_eq!(
        b.body,
        Some(body(vec![set("priority", vec![name_value("must")])]))
    );
    let Item::Check(c) = &file.items[2] else {
        panic!()
    };
    assert!(c.params.is_empty());
    let Item::Check(d) = &file.items[3] else {
        panic!()
    };
    let params: Vec<(&str, String)> = d
        .params
        .iter()
        .map(|p| (p.name.name.as_str(), p.ty.display()))
        .collect();
    assert_eq!(
        params,
        [("path", "Path".to_string()), ("n", "[Int]".to_string())]
    );
    assert_eq!(d.body.settings.len(), 2);
    let Item::Enum(e) = &file.items[4] else {
        panic!()
    };
    let names: Vec<&str> = e.variants.iter().map(|v| v.name.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn sequences_with_groups() {
    let file = stripped("sequence {\n  a -> [b, c,] -> d\n  e\n  [f, g] -> h.i\n}\nsequence {}");
    let Item::Sequence(seq) = &file.items[0] else {
        panic!()
    };
    assert_eq!(seq.chains.len(), 3);
    assert_eq!(seq.chains[0].steps.len(), 3);
    assert_eq!(seq.chains[0].arrows.len(), 2);
    assert_eq!(seq.chains[1].steps, vec![Step::Part(path("e"))]);
    assert!(seq.chains[1].arrows.is_empty());
    assert_eq!(
        seq.chains[2].steps[0],
        Step::Group {
            parts: vec![path("f"), path("g")],
            span: Span::default()
        }
    );
    assert_eq!(seq.chains[2].steps[1], Step::Part(path("h.i")));
    let Item::Sequence(empty) = &file.items[1] else {
        panic!()
    };
    assert!(empty.chains.is_empty());
}

#[test]
fn score_level_inputs_and_budgets() {
    let file = stripped(
        "score s {\n  input repo: Text\n  budget tokens 200_000\n  budget usd 12.5\n}\npart p { input r = score.repo }",
    );
    let Item::Score(sc) = &file.items[0] else {
        panic!()
    };
    assert_eq!(
        sc.body.settings[0],
        set("input", vec![typed("repo", named("Text"))])
    );
    assert_eq!(
        sc.body.settings[2].values[0],
        Value::Tagged {
            tag: id("usd"),
            value: Box::new(num("12.5", 12.5)),
            span: Span::default()
        }
    );
    assert_eq!(
        the_settings_of(&file.items[1])[0],
        set("input", vec![binding("r", "score.repo")])
    );
}

fn the_settings_of(item: &Item) -> Vec<Setting> {
    match item {
        Item::Part(p) => p.body.settings.clone(),
        other => panic!("not a part: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Doc comments and comments

#[test]
fn doc_comments_attach_to_declarations_fields_variants_and_settings() {
    let text = "/// The type.\n/// Second line.\ntype T {\n  /// A field.\n  a: Int\n}\n///Tight.\nenum E {\n  /// first\n  a,\n  ///\n  b\n}\npart p {\n  /// Why.\n  retries 2\n}\n/// A use.\nuse x\n/// The order.\nsequence { a }\n";
    let file = parse_ok(text);
    let Item::Type(t) = &file.items[0] else {
        panic!()
    };
    let d = t.doc.as_ref().unwrap();
    assert_eq!(d.text, "The type.\nSecond line.");
    assert_eq!(span_text(text, d.span), "/// The type.\n/// Second line.");
    assert_eq!(t.fields[0].doc.as_ref().unwrap().text, "A field.");
    let Item::Enum(e) = &file.items[1] else {
        panic!()
    };
    assert_eq!(e.doc.as_ref().unwrap().text, "Tight.");
    assert_eq!(e.variants[0].doc.as_ref().unwrap().text, "first");
    assert_eq!(e.variants[1].doc.as_ref().unwrap().text, "");
    let Item::Part(p) = &file.items[2] else {
        panic!()
    };
    assert_eq!(p.body.settings[0].doc.as_ref().unwrap().text, "Why.");
    assert_eq!(file.items[3].doc().unwrap().text, "A use.");
    assert_eq!(file.items[4].doc().unwrap().text, "The order.");
    assert!(file.comments.is_empty());
}

#[test]
fn four_slashes_is_an_ordinary_comment() {
    let file = parse_ok("//// not a doc\npart p {}\n");
    assert!(file.items[0].doc().is_none());
    assert_eq!(file.comments.len(), 1);
}

#[test]
fn doc_comment_documenting_nothing() {
    for text in [
        "part p {\n  retries 2\n  /// dangling\n}\n",
        "type T { a: Int /// dangling\n}",
        "enum E { a /// dangling\n}",
        "part p {}\n/// dangling at the end\n",
        "/// only this\n",
        "sequence { a -> b\n  /// no\n}",
    ] {
        let diags = errors(text);
        assert_eq!(diags.len(), 1, "{text:?}: {diags:#?}");
        assert_eq!(
            diags[0].message, "doc comment documents nothing",
            "{text:?}"
        );
        assert!(span_text(text, diags[0].primary_span().unwrap()).starts_with("///"));
    }
    // the declaration around a dangling doc is kept
    let (file, _) = parse(FileId(0), "part p {\n  retries 2\n  /// dangling\n}\n");
    assert!(matches!(file.items[0], Item::Part(_)));
}

#[test]
fn comments_everywhere() {
    let text = "// top\n/* block /* nested */ */ part /* a */ p /* b */ : /* c */ C // d\n by /* e */ x { // f\n  owns /* g */ \"a\" /* h */ , // i\n  \"b\" // j\n  input n /* k */ : /* l */ [ /* m */ Text /* n */ ] /* o */ ? // p\n}\nsequence { a /* q */ -> /* r */ [ b /* s */ , c ] }\n";
    let file = parse_ok(text);
    assert_eq!(file.comments.len(), 21);
    assert_eq!(file.comments[1].kind, CommentKind::Block);
    assert_eq!(file.comments[1].text, "/* block /* nested */ */");
    assert_eq!(file.comments[0].kind, CommentKind::Line);
    let mut got = file.clone();
    got.strip_spans();
    got.comments.clear();
    let mut plain = stripped(
        "part p: C by x {\n  owns \"a\", \"b\"\n  input n: [Text]?\n}\nsequence { a -> [b, c] }\n",
    );
    plain.comments.clear();
    assert_eq!(got, plain);
}

#[test]
fn crlf_line_endings() {
    let text =
        "/// Doc.\r\npart p { // c\r\n  brief \"\"\"\r\n    a\r\n    b\r\n    \"\"\"\r\n}\r\n";
    let file = parse_ok(text);
    assert_eq!(file.items[0].doc().unwrap().text, "Doc.");
    assert_eq!(the_settings(&file)[0].values[0].clone(), {
        let mut v = the_settings(&file)[0].values[0].clone();
        if let Value::Str(s) = &mut v {
            assert_eq!(s.value, "a\nb");
        }
        v
    });
    assert_eq!(file.comments[0].text, "// c");
}

// ---------------------------------------------------------------------------
// Errors and recovery

#[test]
fn three_broken_declarations_give_three_errors_at_the_right_lines() {
    let text = "\
score s {
  title \"x\"
}

type Link {
  slug Text
}

part a {
  serves x
}

agent coder {
  run [\"x\"]
}

part b {
  owns [\"a\" \"b\"]
}

contract C {
  owns \"c\"
}
";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 3, "{diags:#?}");
    assert!(diags.iter().all(|d| d.code == Code::E0001));
    let lines: Vec<usize> = diags.iter().map(|d| line_of(text, d)).collect();
    assert_eq!(lines, [6, 13, 18]);
    assert_eq!(diags[0].message, "expected `:`, found `Text`");
    assert_eq!(diags[1].message, "expected `:`, found `{`");
    assert_eq!(diags[2].message, "expected `,` or `]`, found `\"b\"`");
    let kinds: Vec<&str> = file.items.iter().map(|i| i.keyword()).collect();
    assert_eq!(
        kinds,
        [
            "score",
            "declaration",
            "part",
            "declaration",
            "declaration",
            "contract"
        ]
    );
    assert_eq!(
        span_text(text, file.items[1].span()),
        "type Link {\n  slug Text\n}"
    );
}

#[test]
fn missing_closing_brace() {
    let text =
        "part store: Storage {\n  serves shorten\n  timeout 15m\n\npart api {\n  serves x\n}\n";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d.message, "expected `}` to close part `store`");
    // points just after the last token of the part, and at its brace
    assert_eq!(
        d.primary_span().unwrap().start as usize,
        text.find("15m").unwrap() + 3
    );
    assert_eq!(d.labels[1].span.start as usize, text.find('{').unwrap());
    assert!(matches!(file.items[1], Item::Part(_)));
}

#[test]
fn messages_in_words_users_know() {
    let cases = [
        ("type T { a: }", "expected a type, found `}`"),
        ("type T { a: {} }", "expected a type, found `}`"),
        ("part p { 1 }", "expected a setting name or `}`, found `1`"),
        (
            "part p { serves }",
            "expected a value after `serves`, found `}`",
        ),
        ("part p { owns \"a\", }", "expected a value, found `}`"),
        (
            "part p Storage {}",
            "expected `:`, `by` or `{`, found `Storage`",
        ),
        ("part p: {}", "expected a contract name, found `{`"),
        ("part p by {}", "expected an agent name, found `{`"),
        (
            "agent a: {}",
            "expected a provider (`openai`, `anthropic`, `command` or `mock`), found `{`",
        ),
        ("agent a {}", "expected `:`, found `{`"),
        ("score {}", "expected a name for the score, found `{`"),
        (
            "intent i { accept \"x\" }",
            "expected a statement in quotes, found `{`",
        ),
        ("use a.{}", "expected an item name, found `}`"),
        (
            "use a.",
            "expected a module or item name, found end of file",
        ),
        (
            "sequence { a -> }",
            "expected a part name or `[`, found `}`",
        ),
        ("sequence { a -> [] }", "expected a part name, found `]`"),
        ("check c(a Text) {}", "expected `:`, found `Text`"),
        ("check c(a: Text {}", "expected `,` or `)`, found `{`"),
        ("part p { x [1 2] }", "expected `,` or `]`, found `2`"),
        ("part p { x { a 1 } }", "expected `:`, found `1`"),
        ("part p { x f(a: ) }", "expected a value, found `)`"),
        ("enum E {}", "expected a variant name, found `}`"),
        (
            "part 9lives {}",
            "expected a name for the part, found `9lives`",
        ),
        (
            "type A { a: Int } xyz",
            "expected a declaration (`score`, `use`, `type`, `enum`, `intent`, `check`, `contract`, `agent`, `part` or `sequence`), found `xyz`",
        ),
        (
            "xyz\npart p {}",
            "expected a declaration (`score`, `use`, `type`, `enum`, `intent`, `check`, `contract`, `agent`, `part` or `sequence`), found `xyz`",
        ),
    ];
    for (text, message) in cases {
        let diags = errors(text);
        assert_eq!(diags.len(), 1, "{text:?}: {diags:#?}");
        assert_eq!(diags[0].code, Code::E0001, "{text:?}");
        assert_eq!(diags[0].message, message, "{text:?}");
        for label in &diags[0].labels {
            assert!(
                !label.message.contains('_') || label.message.contains('`'),
                "rule name leaked: {label:?}"
            );
        }
    }
}

#[test]
fn reserved_words_cannot_be_names() {
    let cases = [
        (
            "part p {\n  part 1\n}",
            "`part` is a reserved word and cannot name a setting",
        ),
        (
            "part type {}",
            "`type` is a reserved word and cannot name a part",
        ),
        (
            "agent by: mock {}",
            "`by` is a reserved word and cannot name an agent",
        ),
        (
            "type T { enum: Int }",
            "`enum` is a reserved word and cannot name a field",
        ),
        (
            "part p { input x = part.out }",
            "`part` is a reserved word and cannot be used as a name",
        ),
        (
            "part p { env { true: 1 } }",
            "`true` is a reserved word and cannot be a map key unless quoted",
        ),
    ];
    for (text, message) in cases {
        let (file, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 1, "{text:?}: {diags:#?}");
        assert_eq!(diags[0].message, message, "{text:?}");
        // the declaration itself is kept
        assert_ne!(file.items[0].keyword(), "declaration", "{text:?}");
    }
    // `score.x` is a value path, `score` alone is not
    assert!(errors("part p { input r = score.repo }").is_empty());
    assert_eq!(errors("part p { input r = score }").len(), 1);
}

#[test]
fn stray_text_after_a_declaration_is_one_error_and_the_declaration_is_kept() {
    let text = "type A { a: Int }\ngarbage here 12 \"x\"\ntype B { b: Int }\n";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(line_of(text, &diags[0]), 2);
    assert_eq!(file.items.len(), 2);
    assert!(matches!(file.items[0], Item::Type(_)));
}

#[test]
fn unterminated_string_is_e0002_at_the_opening_quote() {
    let text = "part a {\n  brief \"never closed\n  serves x\n}\npart b { serves y }\n";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d.code, Code::E0002);
    assert_eq!(d.labels[0].message, "this string is never closed");
    assert_eq!(d.primary_span().unwrap(), Span::new(FileId(0), 17, 18));
    assert_eq!(d.help.as_deref(), Some("add a closing `\"`"));
    assert!(matches!(file.items[0], Item::Error(_)));
    assert!(matches!(file.items[1], Item::Part(_)));
}

#[test]
fn unterminated_text_block_is_e0002_at_the_opening_quotes() {
    let text = "part a {\n  brief \"\"\"\n    never closed\n}\n";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].code, Code::E0002);
    assert_eq!(span_text(text, diags[0].primary_span().unwrap()), "\"\"\"");
    assert_eq!(
        diags[0].labels[0].message,
        "this text block is never closed"
    );
    assert!(matches!(file.items[0], Item::Error(_)));
}

#[test]
fn unterminated_block_comment() {
    let diags = errors("part a {}\n/* never closed\npart b {}\n");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "unterminated block comment");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [10, 64, 65, 1000, 100_000] {
        let text = format!("part p {{ x {}1{} }}", "[".repeat(depth), "]".repeat(depth));
        let diags = errors(&text);
        if depth < 64 {
            assert!(diags.is_empty(), "{depth}: {diags:#?}");
        } else {
            assert_eq!(diags.len(), 1, "{depth}");
            assert_eq!(diags[0].message, "nesting too deep");
        }
        let text = format!(
            "type T {{ a: {}Text{} }}",
            "{Text: ".repeat(depth),
            "}".repeat(depth)
        );
        let diags = errors(&text);
        assert_eq!(diags.is_empty(), depth < 64, "{depth}: {diags:#?}");
    }
}

#[test]
fn empty_and_trivia_only_files() {
    for text in ["", "\n\n", "// just a comment\n", "/* */", "   \t"] {
        let (file, diags) = parse(FileId(0), text);
        assert!(file.items.is_empty());
        assert!(diags.is_empty());
    }
}

#[test]
fn unicode_is_handled_everywhere() {
    let text = "part p { brief \"héllo 🎵\" }\n// ünïcode\népart\npart q { x ü }";
    let (file, diags) = parse(FileId(0), text);
    check_spans(&file, text);
    for d in &diags {
        for l in &d.labels {
            assert!(text.is_char_boundary(l.span.start as usize));
            assert!(text.is_char_boundary(l.span.end as usize));
        }
    }
    assert!(!diags.is_empty());
    assert!(matches!(file.items[0], Item::Part(_)));
}

// ---------------------------------------------------------------------------
// The fast path

/// The declarations the fast path reads on its own (`None` for those it
/// leaves to pest).
fn fast_items(text: &str) -> Vec<Option<Item>> {
    let scan = super::scan::scan(FileId(0), text);
    scan.chunks
        .iter()
        .map(|c| super::fast::declaration(FileId(0), text, c.start, c.end))
        .collect()
}

#[test]
fn the_fast_path_reads_every_correct_declaration_of_the_example() {
    let fast = fast_items(EXAMPLE);
    assert_eq!(fast.len(), 15);
    let (file, _) = parse(FileId(0), EXAMPLE);
    for (i, (f, slow)) in fast.iter().zip(&file.items).enumerate() {
        assert_eq!(f.as_ref(), Some(slow), "declaration {i}");
    }
    for (_, text) in super::stdlib::modules() {
        assert!(fast_items(text).iter().all(Option::is_some));
    }
}

#[test]
fn the_fast_path_leaves_anything_doubtful_to_pest() {
    for text in [
        "part p { part 1 }",
        "part type {}",
        "part p { x \"\\q\" }",
        "part p {\n  x 1\n  /// dangling\n}",
        "part p { x 99999999999999999999h }",
        "part p { x a.b: Text }",
        "part p { x score }",
        "part p { x score.f() }",
        "part p { x { type: 1 } }",
        "part p { x 15min }",
        "type A { a: Int } xyz",
        "use a.{}",
        "intent i \"s\" { x }",
    ] {
        assert_eq!(fast_items(text), vec![None], "{text:?}");
    }
}

#[test]
fn spans_end_at_the_last_token_not_at_trailing_comments() {
    let text = "intent a \"s\" // trailing, with spaces  \n  /* and a block */ \npart p {\n  serves a // why  \n}\n";
    let file = parse_ok(text);
    assert_eq!(span_text(text, file.items[0].span()), "intent a \"s\"");
    let Item::Part(p) = &file.items[1] else {
        panic!()
    };
    assert_eq!(span_text(text, p.body.settings[0].span), "serves a");
    // the same through pest (a reserved word sends the part there)
    let text = "intent a \"s\" { by 1 } // trailing  \n";
    let (file, diags) = parse(FileId(0), text);
    assert_eq!(diags.len(), 1);
    assert_eq!(
        span_text(text, file.items[0].span()),
        "intent a \"s\" { by 1 }"
    );
}

#[test]
fn a_colon_or_semicolon_after_a_setting_is_a_habit_to_drop() {
    for (text, message, help) in [
        (
            "part p {\n  retries: 1;\n}\n",
            "expected a value after `retries`, found `:`",
            "drop the `:` and the `;`: a setting is its name, a space and its value, e.g. `retries 1`",
        ),
        (
            "agent a: openai {\n  model: \"gpt-4.1\"\n}\n",
            "expected a value after `model`, found `:`",
            "drop the `:`: a setting is its name, a space and its value, e.g. `model \"gpt-4.1\"`",
        ),
        (
            "part p {\n  timeout:\n}\n",
            "expected a value after `timeout`, found `:`",
            "drop the `:`: a setting is its name, a space and its value, e.g. `timeout VALUE`",
        ),
    ] {
        let (_, diags) = parse(FileId(0), text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].message, message, "{text}");
        assert_eq!(diags[0].help.as_deref(), Some(help), "{text}");
    }
    let (_, diags) = parse(FileId(0), "part p {\n  retries 1;\n}\n");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].help.as_deref(),
        Some(
            "drop the `;`: there is no separator between settings; a setting's values end where \
             no comma follows"
        )
    );
}
