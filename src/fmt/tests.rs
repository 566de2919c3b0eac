//! Input → expected output, one construct at a time. Every expected output
//! is also checked to be a fixed point (formatting it changes nothing).

use super::*;
use crate::diagnostics::Code;

fn fmt(source: &str) -> String {
    match format_source(FileId(0), source) {
        Ok(text) => text,
        Err(diagnostics) => panic!("syntax errors in test input: {diagnostics:#?}\n{source}"),
    }
}

#[track_caller]
fn check(source: &str, expected: &str) {
    let once = fmt(source);
    assert_eq!(
        once, expected,
        "\n--- got\n{once}\n--- expected\n{expected}"
    );
    let twice = fmt(&once);
    assert_eq!(
        twice, once,
        "not idempotent\n--- once\n{once}\n--- twice\n{twice}"
    );
}

/// Formatting `source` leaves it unchanged.
#[track_caller]
fn stable(source: &str) {
    check(source, source);
}

// ---------------------------------------------------------------------------
// Declarations

#[test]
fn empty_file_stays_empty() {
    check("", "");
    check("\n\n  \n", "");
}

#[test]
fn score_declaration() {
    check(
        "score   demo{title \"Demo\"\n concurrency 4}",
        "score demo {\n  title \"Demo\"\n  concurrency 4\n}\n",
    );
}

#[test]
fn empty_bodies_are_braces() {
    check("contract C {\n\n}", "contract C {}\n");
    check("part p {   }", "part p {}\n");
}

#[test]
fn uses_are_grouped_and_declarations_separated_by_one_blank_line() {
    check(
        "use std.checks.{cargo_test,shell}\n\n\nuse std.types\ncontract A {} contract B {}\n\n\n\npart p {}",
        "use std.checks.{cargo_test, shell}\nuse std.types\n\ncontract A {}\n\ncontract B {}\n\npart p {}\n",
    );
}

#[test]
fn use_item_lists_break_when_too_long() {
    let names: Vec<String> = (0..12).map(|i| format!("item_number_{i}")).collect();
    let source = format!("use std.checks.{{{}}}", names.join(", "));
    let mut expected = String::from("use std.checks.{\n");
    for name in &names {
        expected.push_str(&format!("  {name},\n"));
    }
    expected.push_str("}\n");
    check(&source, &expected);
}

#[test]
fn type_fields_one_per_line_without_commas() {
    check(
        "type Link { slug: Text, target : Text?, tags:[Text], meta: {Text: [Json]?} }",
        "type Link {\n  slug: Text\n  target: Text?\n  tags: [Text]\n  meta: {Text: [Json]?}\n}\n",
    );
}

#[test]
fn short_enums_stay_on_one_line() {
    check(
        "enum V {\n  public\n  private\n}",
        "enum V { public, private }\n",
    );
    check("enum V { a, b, }", "enum V { a, b }\n");
}

#[test]
fn long_enums_have_one_variant_per_line() {
    let names: Vec<String> = (0..10).map(|i| format!("variant_{i}")).collect();
    let source = format!("enum Many {{ {} }}", names.join(" "));
    let mut expected = String::from("enum Many {\n");
    for name in &names {
        expected.push_str(&format!("  {name},\n"));
    }
    expected.push_str("}\n");
    check(&source, &expected);
}

#[test]
fn documented_variants_break_the_enum() {
    check(
        "enum V { /// the first\n a, b }",
        "enum V {\n  /// the first\n  a,\n  b,\n}\n",
    );
}

#[test]
fn intents_with_and_without_bodies() {
    check(
        "intent shorten \"Shorten a URL\" { accept \"same slug twice\"  priority must }",
        "intent shorten \"Shorten a URL\" {\n  accept \"same slug twice\"\n  priority must\n}\n",
    );
    check("intent bare   \"No body\"", "intent bare \"No body\"\n");
    check(
        "intent empty \"Empty body\" { }",
        "intent empty \"Empty body\" {}\n",
    );
}

#[test]
fn check_declarations() {
    check(
        "check cargo_test( package : Text , ) { run \"cargo test -p {package}\" timeout 10m }",
        "check cargo_test(package: Text) {\n  run \"cargo test -p {package}\"\n  timeout 10m\n}\n",
    );
    check("check nothing() {}", "check nothing() {}\n");
}

#[test]
fn agent_and_part_headers() {
    check(
        "agent coder : command { tier routine }",
        "agent coder: command {\n  tier routine\n}\n",
    );
    check(
        "part store:Storage+Extra   by   coder { retries 2 }",
        "part store: Storage + Extra by coder {\n  retries 2\n}\n",
    );
    check("part docs by coder {}", "part docs by coder {}\n");
    check("part api: lib.HttpApi {}", "part api: lib.HttpApi {}\n");
}

#[test]
fn sequences_one_chain_per_line() {
    check(
        "sequence { model->[store,docs]->api  lone }",
        "sequence {\n  model -> [store, docs] -> api\n  lone\n}\n",
    );
    check("sequence {}", "sequence {}\n");
}

#[test]
fn long_chains_break_before_each_arrow() {
    let steps: Vec<String> = (0..9)
        .map(|i| format!("a_rather_long_part_name_{i}"))
        .collect();
    let source = format!("sequence {{ {} }}", steps.join(" -> "));
    let mut expected = format!("sequence {{\n  {}\n", steps[0]);
    for step in &steps[1..] {
        expected.push_str(&format!("    -> {step}\n"));
    }
    expected.push_str("}\n");
    check(&source, &expected);
}

// ---------------------------------------------------------------------------
// Settings and values

fn in_part(settings: &str) -> String {
    format!("part p {{\n{settings}}}\n")
}

#[test]
fn scalar_values() {
    stable(&in_part(
        "  budget tokens 200_000, usd 12.5\n  retries -3\n  timeout 15m\n  flag true\n  tier complex\n",
    ));
}

#[test]
fn numbers_keep_their_spelling() {
    check(
        &in_part("  n 1_000_000.000_1, 007\n"),
        &in_part("  n 1_000_000.000_1, 007\n"),
    );
}

#[test]
fn typed_values_and_bindings() {
    check(
        &in_part(
            "  input n :Text? =score.repo\n  input m=model.link_type\n  output o:{Text:[Int]}\n",
        ),
        &in_part(
            "  input n: Text? = score.repo\n  input m = model.link_type\n  output o: {Text: [Int]}\n",
        ),
    );
}

#[test]
fn lists_maps_and_calls() {
    check(
        &in_part(
            "  run [ \"a\" , \"b\" , ]\n  env {A:\"1\",\"b c\":[1,2]}\n  ensures cargo_test(package:\"x\"),shell( \"y\" )\n  none [], {}, f()\n",
        ),
        &in_part(
            "  run [\"a\", \"b\"]\n  env { A: \"1\", \"b c\": [1, 2] }\n  ensures cargo_test(package: \"x\"), shell(\"y\")\n  none [], {}, f()\n",
        ),
    );
}

#[test]
fn long_setting_values_break_one_per_line() {
    let globs: Vec<String> = (0..6)
        .map(|i| format!("\"src/module_{i}/**/*.rs\""))
        .collect();
    let source = in_part(&format!("  owns {}\n", globs.join(", ")));
    let mut expected = String::from("part p {\n  owns\n");
    for (i, glob) in globs.iter().enumerate() {
        let comma = if i + 1 < globs.len() { "," } else { "" };
        expected.push_str(&format!("    {glob}{comma}\n"));
    }
    expected.push_str("}\n");
    check(&source, &expected);
}

#[test]
fn a_single_long_list_breaks_inside() {
    let args: Vec<String> = (0..8).map(|i| format!("\"--option-number-{i}\"")).collect();
    let source = in_part(&format!("  run [{}]\n", args.join(", ")));
    let mut expected = String::from("part p {\n  run [\n");
    for arg in &args {
        expected.push_str(&format!("    {arg},\n"));
    }
    expected.push_str("  ]\n}\n");
    check(&source, &expected);
}

#[test]
fn nested_values_break_from_the_outside_in() {
    let long = "x".repeat(60);
    check(
        &in_part(&format!(
            "  ensures shell(cmd: \"{long}\", args: [\"{long}\"])\n"
        )),
        &format!(
            "part p {{\n  ensures shell(\n    cmd: \"{long}\",\n    args: [\"{long}\"],\n  )\n}}\n"
        ),
    );
}

#[test]
fn strings_are_escaped_canonically() {
    check(
        &in_part("  title \"caf\\u{e9} \\u{1F3B5} \\\"q\\\" \\\\ \\n\\t\\r\\0 \\u{7}\"\n"),
        &in_part("  title \"café 🎵 \\\"q\\\" \\\\ \\n\\t\\r\\0 \\u{7}\"\n"),
    );
}

#[test]
fn text_blocks_are_reindented() {
    check(
        "part p {\n    brief \"\"\"\n          Define the type.\n            Indented.\n\n          Last.\n  \"\"\"\n}\n",
        "part p {\n  brief \"\"\"\n    Define the type.\n      Indented.\n\n    Last.\n    \"\"\"\n}\n",
    );
}

#[test]
fn text_blocks_written_on_one_line() {
    check(
        "part p { brief \"\"\"one line\"\"\" }",
        "part p {\n  brief \"\"\"\n    one line\n    \"\"\"\n}\n",
    );
    check(
        "part p { brief \"\"\"\"\"\" }",
        "part p {\n  brief \"\"\"\n    \"\"\"\n}\n",
    );
}

#[test]
fn text_blocks_keep_a_final_newline_and_escapes() {
    // The value ends with a newline (an empty last line), holds a tab, a
    // backslash and three quotes.
    check(
        "part p { brief \"\"\"\n  a\\tb \\\\ \\\"\\\"\\\"\n\n  \"\"\" }",
        "part p {\n  brief \"\"\"\n    a\tb \\\\ \"\"\\\"\n\n    \"\"\"\n}\n",
    );
}

#[test]
fn text_blocks_in_lists_and_intents() {
    check(
        "intent i \"\"\"\n  Statement.\n\"\"\"\npart p { accept \"a\", \"\"\"\n  b\n  \"\"\" }",
        "intent i \"\"\"\n  Statement.\n  \"\"\"\n\npart p {\n  accept\n    \"a\",\n    \"\"\"\n      b\n      \"\"\"\n}\n",
    );
}

#[test]
fn text_block_indentation_that_belongs_to_the_value_is_kept() {
    // Every line of the value starts with two spaces: written plainly they
    // would read as indentation, so the first one is escaped.
    let source = "part p { brief \"\"\"\n  \\u{20} a\n    b\n  \"\"\" }";
    let formatted = fmt(source);
    assert_eq!(
        formatted,
        "part p {\n  brief \"\"\"\n    \\u{20} a\n      b\n    \"\"\"\n}\n"
    );
    let value = |text: &str| {
        let (file, _) = syntax::parse(FileId(0), text);
        let Item::Part(part) = &file.items[0] else {
            panic!()
        };
        let Value::Str(s) = &part.body.settings[0].values[0] else {
            panic!()
        };
        s.value.clone()
    };
    assert_eq!(value(source), "  a\n  b");
    assert_eq!(value(&formatted), "  a\n  b");
}

use crate::syntax::ast::{Item, Value};

#[test]
fn blank_lines_between_settings_are_kept_once() {
    check(
        "part p {\n\n\n  a 1\n  b 2\n\n\n\n  c 3\n\n}\n",
        "part p {\n  a 1\n  b 2\n\n  c 3\n}\n",
    );
}

// ---------------------------------------------------------------------------
// Comments

#[test]
fn comments_before_declarations_and_settings() {
    check(
        "// header\n\n// about p\npart p {\n      // about a\n  a 1\n}",
        "// header\n\n// about p\npart p {\n  // about a\n  a 1\n}\n",
    );
}

#[test]
fn trailing_comments_stay_on_their_line() {
    check(
        "score s {\n  title \"x\"    // the title\n  concurrency 4 /* at most */\n} // end",
        "score s {\n  title \"x\" // the title\n  concurrency 4 /* at most */\n} // end\n",
    );
}

#[test]
fn comments_at_the_end_of_a_body() {
    check(
        "part p {\n  a 1\n\n  // more later\n}",
        "part p {\n  a 1\n\n  // more later\n}\n",
    );
    check("part p { // nothing yet\n}", "part p { // nothing yet\n}\n");
    check(
        "part p {\n  // nothing yet\n}",
        "part p {\n  // nothing yet\n}\n",
    );
}

#[test]
fn comments_at_the_end_of_the_file() {
    check("part p {}\n// bye\n\n\n", "part p {}\n// bye\n");
    check("part p {}\n\n\n/* bye */", "part p {}\n\n/* bye */\n");
    check("// only a comment", "// only a comment\n");
}

#[test]
fn inline_block_comments_stay_inline() {
    check(
        "part p {\n  /* why */ tier complex\n}",
        "part p {\n  /* why */ tier complex\n}\n",
    );
    check("/* a */ part p {}", "/* a */ part p {}\n");
}

#[test]
fn comments_inside_value_lists_stay_with_their_element() {
    check(
        "part p {\n  owns \"a\", // first\n       \"b\" // second\n}",
        "part p {\n  owns\n    \"a\", // first\n    \"b\" // second\n}\n",
    );
    check(
        "part p { run [\"a\", // first\n \"b\"] }",
        "part p {\n  run [\n    \"a\", // first\n    \"b\",\n  ]\n}\n",
    );
    check(
        "part p { run [\n  // leading\n  \"a\",\n  \"b\", // last\n  // dangling\n] }",
        "part p {\n  run [\n    // leading\n    \"a\",\n    \"b\", // last\n    // dangling\n  ]\n}\n",
    );
    check(
        "part p { ensures verify(a: 1, /* two */ b: 2) }",
        "part p {\n  ensures verify(a: 1, /* two */ b: 2)\n}\n",
    );
}

#[test]
fn comments_in_declaration_headers_move_after_the_brace() {
    check(
        "part /* odd */ p: C by a { // why\n  x 1\n}",
        "part p: C by a { /* odd */ // why\n  x 1\n}\n",
    );
}

#[test]
fn comments_inside_chains() {
    check(
        "sequence {\n  a -> // first edge\n  b\n  // own line\n  c\n}",
        "sequence {\n  a // first edge\n    -> b\n  // own line\n  c\n}\n",
    );
}

#[test]
fn comments_in_enums_and_types() {
    check(
        "enum V { a, // the a\n b }",
        "enum V {\n  a, // the a\n  b,\n}\n",
    );
    check(
        "enum V { // header\n a, b }",
        "enum V { // header\n  a,\n  b,\n}\n",
    );
    check(
        "type T {\n  a: Text // why\n  // before b\n  b: Int\n}",
        "type T {\n  a: Text // why\n  // before b\n  b: Int\n}\n",
    );
}

#[test]
fn multi_line_block_comments_are_kept_verbatim() {
    check(
        "part p {\n      /* one\n         two */\n  a 1\n}",
        "part p {\n  /* one\n         two */\n  a 1\n}\n",
    );
}

#[test]
fn line_comments_lose_trailing_whitespace() {
    check("part p {} // end   \n", "part p {} // end\n");
}

#[test]
fn doc_comments_are_normalised() {
    check(
        "///The project.\n///\n///   indented\nscore s {\n  ///   the title\n  title \"x\"\n}",
        "/// The project.\n///\n///   indented\nscore s {\n  ///   the title\n  title \"x\"\n}\n",
    );
}

#[test]
fn comments_between_a_doc_and_its_declaration() {
    check(
        "/// doc\n// note\npart p {}",
        "/// doc\n// note\npart p {}\n",
    );
}

#[test]
fn crlf_sources() {
    check(
        "part p {\r\n  a 1 // one\r\n\r\n\r\n  b 2\r\n}\r\n",
        "part p {\n  a 1 // one\n\n  b 2\n}\n",
    );
}

// ---------------------------------------------------------------------------
// The whole example of the design reference

const EXAMPLE: &str = r#"/// A URL shortener, built by three agents.
score shortener {
  title "URL shortener"
  workspace "."          // repository the parts write into, relative to this file
  concurrency 4          // at most this many parts run at once
  default_agent coder
}

use std.checks.{cargo_test, shell}
use std.types.{FileSet}

type Link {
  slug: Text
  target: Text
  visits: Int
  note: Text?            // optional
  tags: [Text]           // list
}

enum Visibility { public, private }

contract Storage {
  input  link_type: Text
  output store_api: Text
  owns   "src/store/**"
  ensures cargo_test(package: "store")
}

part model by architect {
  serves shorten, redirect
  brief """
    Define the Link type and slug generation in src/model.rs.
    """
}

sequence {
  model -> [store, docs] -> api
}
"#;

#[test]
fn the_design_example() {
    check(
        EXAMPLE,
        r#"/// A URL shortener, built by three agents.
score shortener {
  title "URL shortener"
  workspace "." // repository the parts write into, relative to this file
  concurrency 4 // at most this many parts run at once
  default_agent coder
}

use std.checks.{cargo_test, shell}
use std.types.{FileSet}

type Link {
  slug: Text
  target: Text
  visits: Int
  note: Text? // optional
  tags: [Text] // list
}

enum Visibility { public, private }

contract Storage {
  input link_type: Text
  output store_api: Text
  owns "src/store/**"
  ensures cargo_test(package: "store")
}

part model by architect {
  serves shorten, redirect
  brief """
    Define the Link type and slug generation in src/model.rs.
    """
}

sequence {
  model -> [store, docs] -> api
}
"#,
    );
}

// ---------------------------------------------------------------------------
// Refusals and files

#[test]
fn syntax_errors_are_returned_not_formatted() {
    let errors = format_source(FileId(0), "part p {\n  owns \"a\",\n}\n").unwrap_err();
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|d| d.is_error()));
    let errors = format_source(FileId(0), "part p { brief \"unterminated }\n").unwrap_err();
    assert!(errors.iter().any(|d| d.code == Code::E0002));
}

#[test]
fn format_file_copies_broken_declarations() {
    let source = "part ok {}\npart broken { owns , }\n// after\ncontract C {}\n";
    let (tree, diagnostics) = syntax::parse(FileId(0), source);
    assert!(diagnostics.iter().any(|d| d.is_error()));
    let out = format_file(&tree, source);
    assert!(out.contains("part broken { owns , }"), "{out}");
    assert!(out.contains("// after"), "{out}");
    assert!(out.contains("contract C {}"), "{out}");
}
