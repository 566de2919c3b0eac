//! Glob text → position automaton.
//!
//! Parsing builds a tree of positions (one per character-matching unit of the
//! pattern) and alternatives; the Glushkov construction turns it into an
//! automaton without ε-moves. Every structural rule (`**` is a whole segment,
//! no empty segment, no `.`/`..` segment, no leading `/` in an alternative)
//! is then checked on the automaton's edges rather than on the text, so it
//! holds for every expansion of `{}` without expanding them.

use super::{CharSet, Compiled, Glob, GlobError, GlobErrorKind, MAX_LEN, MAX_NESTING, Nfa};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An ordinary character other than `/`.
    Char,
    Slash,
    /// `?` or `[...]`.
    Wild,
    /// `*`: nullable, loops on itself.
    Star,
    /// `**`: one or more of any character, loops on itself; zero segments
    /// is handled by skip edges (see `add_skips`).
    GlobStar,
}

#[derive(Debug)]
struct Position {
    set: CharSet,
    kind: Kind,
    span: Range<usize>,
}

#[derive(Debug)]
enum Node {
    /// A position index (its automaton state is `index + 1`).
    Atom(usize),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
}

fn fail(
    kind: GlobErrorKind,
    message: String,
    label: &str,
    help: Option<String>,
    offset: Range<usize>,
) -> GlobError {
    GlobError {
        kind,
        message,
        label: label.to_string(),
        help,
        offset,
    }
}

fn malformed(
    message: String,
    label: &str,
    help: Option<String>,
    offset: Range<usize>,
) -> GlobError {
    fail(GlobErrorKind::Malformed, message, label, help, offset)
}

/// The checks made on the text itself, before tokenizing.
fn check_text(pattern: &str) -> Result<(), GlobError> {
    if pattern.is_empty() {
        return Err(malformed(
            "empty glob".to_string(),
            "this glob is empty",
            Some("write a path relative to the workspace, such as `src/**`".to_string()),
            0..0,
        ));
    }
    if pattern.len() > MAX_LEN {
        let mut start = MAX_LEN;
        while !pattern.is_char_boundary(start) {
            start -= 1;
        }
        return Err(malformed(
            format!("glob is longer than {MAX_LEN} bytes"),
            "the glob goes on past here",
            Some("use a shorter glob, with `*` or `**` for the long parts".to_string()),
            start..pattern.len(),
        ));
    }
    check_absolute(pattern)?;
    check_backslash(pattern)?;
    Ok(())
}

pub(super) fn parse(pattern: &str) -> Result<Glob, GlobError> {
    check_text(pattern)?;
    let (positions, items, braces) = tokenize(pattern)?;
    let compiled = if braces {
        // Alternatives: the rules must hold in every expansion, which the
        // automaton's edges tell without expanding.
        let (mut written, written_accept) = automaton(&positions, &items, false);
        check_structure(pattern, &positions, &written, &written_accept)?;
        add_skips(&positions, &mut written);
        check_dots(pattern, &positions, &written, &written_accept)?;
        Some(compile_parsed(
            positions.iter().map(|p| p.set.clone()).collect(),
            &positions,
            &items,
        ))
    } else {
        // One expansion: the same rules by a linear scan (most globs; the
        // automaton is then only built if a comparison needs it).
        check_linear(pattern, &positions)?;
        None
    };
    let parts = literal_parts(pattern, &positions, &items);
    let glob = Glob {
        pattern: pattern.to_string(),
        compiled: std::sync::OnceLock::new(),
        literal: parts.literal,
        below: parts.below,
        head_end: parts.head_end,
        tail_start: parts.tail_start,
    };
    if let Some(compiled) = compiled {
        let _ = glob.compiled.set(compiled);
    }
    Ok(glob)
}

/// Positions and top-level items of a pattern, and whether it has `{}`.
fn tokenize(pattern: &str) -> Result<(Vec<Position>, Vec<Node>, bool), GlobError> {
    let mut parser = Parser {
        src: pattern,
        at: 0,
        positions: Vec::new(),
        braces: false,
    };
    let items = parser.seq(0)?;
    Ok((parser.positions, items, parser.braces))
}

/// Build the matching automaton of a pattern that [`parse`] accepted.
pub(super) fn compile(pattern: &str) -> Compiled {
    match tokenize(pattern) {
        Ok((positions, items, _)) => compile_parsed(
            positions.iter().map(|p| p.set.clone()).collect(),
            &positions,
            &items,
        ),
        // Unreachable for a parsed glob; an automaton matching nothing is
        // the safe answer all the same.
        Err(_) => Compiled {
            nfa: Nfa {
                sets: vec![CharSet::Any],
                follow: vec![Vec::new()],
                accept: vec![false],
            },
            cuts: Vec::new(),
        },
    }
}

fn check_absolute(pattern: &str) -> Result<(), GlobError> {
    let bytes = pattern.as_bytes();
    let absolute = |message: String, label: &str, help: String, end: usize| {
        Err(fail(
            GlobErrorKind::Absolute,
            message,
            label,
            Some(help),
            0..end,
        ))
    };
    if pattern.starts_with('/') {
        let rest = pattern.trim_start_matches('/');
        let fix = if rest.is_empty() { "**" } else { rest };
        return absolute(
            format!("`{pattern}` is an absolute path"),
            "absolute path",
            format!("paths are relative to the workspace: write `{fix}`"),
            pattern.len() - rest.len(),
        );
    }
    if pattern.starts_with("\\\\") {
        return absolute(
            format!("`{pattern}` is an absolute path"),
            "network path",
            "paths are relative to the workspace and use `/`".to_string(),
            2,
        );
    }
    if bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes.len() == 2 || bytes[2] == b'\\' || bytes[2] == b'/')
    {
        let end = bytes.len().min(3);
        let rest = pattern[end..].replace('\\', "/");
        let help = if rest.is_empty() || rest.starts_with('/') {
            "paths are relative to the workspace and use `/`".to_string()
        } else {
            format!("paths are relative to the workspace and use `/`: write `{rest}`")
        };
        return absolute(
            format!("`{pattern}` is an absolute path"),
            "drive letter",
            help,
            end,
        );
    }
    if pattern == "~" || pattern.starts_with("~/") {
        return absolute(
            format!("`{pattern}` is a path in the home directory"),
            "home directory",
            "paths are relative to the workspace".to_string(),
            1,
        );
    }
    Ok(())
}

fn check_backslash(pattern: &str) -> Result<(), GlobError> {
    let Some(at) = pattern.find('\\') else {
        return Ok(());
    };
    let next = pattern[at + 1..].chars().next();
    let help = match next {
        Some(c) if "*?[]{},!".contains(c) => {
            format!("globs have no escapes: to match `{c}` literally, write `[{c}]`")
        }
        _ => format!(
            "paths use `/` between segments: write `{}`",
            pattern.replace('\\', "/")
        ),
    };
    Err(malformed(
        format!("backslash in glob `{pattern}`"),
        "backslash",
        Some(help),
        at..at + 1,
    ))
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    at: usize,
    positions: Vec<Position>,
    /// Whether a `{` was seen.
    braces: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.at..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut chars = self.src[self.at..].chars();
        chars.next();
        chars.next()
    }

    /// Consume the next character (the caller has peeked it).
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn atom(&mut self, set: CharSet, kind: Kind, span: Range<usize>) -> Node {
        self.positions.push(Position { set, kind, span });
        Node::Atom(self.positions.len() - 1)
    }

    /// A sequence up to the end, or (inside braces, `depth > 0`) up to the
    /// `,` or `}` that ends the alternative.
    fn seq(&mut self, depth: usize) -> Result<Vec<Node>, GlobError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            let start = self.at;
            let item = match c {
                ',' | '}' if depth > 0 => break,
                '}' => {
                    return Err(malformed(
                        "unmatched `}` in glob".to_string(),
                        "no `{` opens this",
                        Some("write `[}]` to match a literal `}`".to_string()),
                        start..start + 1,
                    ));
                }
                '{' => self.alternatives(depth + 1)?,
                '[' => self.set()?,
                '*' => {
                    let mut count = 0;
                    while self.peek() == Some('*') {
                        self.bump();
                        count += 1;
                    }
                    match count {
                        1 => self.atom(CharSet::AnyNoSlash, Kind::Star, start..self.at),
                        2 => self.atom(CharSet::Any, Kind::GlobStar, start..self.at),
                        _ => {
                            return Err(malformed(
                                format!("`{}` is not a wildcard", "*".repeat(count)),
                                "too many `*`",
                                Some(
                                    "use `*` for any characters within a segment, or `**` \
                                     for any number of whole segments"
                                        .to_string(),
                                ),
                                start..self.at,
                            ));
                        }
                    }
                }
                '?' => {
                    self.bump();
                    self.atom(CharSet::AnyNoSlash, Kind::Wild, start..self.at)
                }
                '/' => {
                    self.bump();
                    self.atom(CharSet::Char('/'), Kind::Slash, start..self.at)
                }
                _ => {
                    self.bump();
                    self.atom(CharSet::Char(c), Kind::Char, start..self.at)
                }
            };
            items.push(item);
        }
        Ok(items)
    }

    /// `{a,b,...}`; the cursor is on the `{`.
    fn alternatives(&mut self, depth: usize) -> Result<Node, GlobError> {
        let start = self.at;
        self.bump();
        self.braces = true;
        if depth > MAX_NESTING {
            return Err(malformed(
                "braces nested too deeply in glob".to_string(),
                "too deep",
                Some(format!(
                    "nest at most {MAX_NESTING} `{{}}` inside each other"
                )),
                start..start + 1,
            ));
        }
        let mut alternatives = Vec::new();
        loop {
            alternatives.push(Node::Seq(self.seq(depth)?));
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                _ => {
                    return Err(malformed(
                        "unclosed `{` in glob".to_string(),
                        "this `{` is never closed",
                        Some(
                            "close the alternatives with `}`, or write `[{]` to match a \
                             literal `{`"
                                .to_string(),
                        ),
                        start..start + 1,
                    ));
                }
            }
        }
        if matches!(alternatives.as_slice(), [Node::Seq(only)] if only.is_empty()) {
            return Err(malformed(
                "empty `{}` in glob".to_string(),
                "no alternatives",
                Some("list alternatives inside the braces, such as `{a,b}`".to_string()),
                start..self.at,
            ));
        }
        Ok(Node::Alt(alternatives))
    }

    /// `[abc]`, `[a-z]`, `[!a]`; the cursor is on the `[`.
    fn set(&mut self) -> Result<Node, GlobError> {
        let start = self.at;
        self.bump();
        let negated = matches!(self.peek(), Some('!' | '^'));
        if negated {
            self.bump();
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let item_start = self.at;
            let Some(lo) = self.bump() else {
                return Err(unclosed_set(start));
            };
            if lo == ']' && !first {
                break;
            }
            first = false;
            let mut hi = lo;
            if self.peek() == Some('-') && self.peek2().is_some_and(|d| d != ']') {
                self.bump();
                hi = self.bump().unwrap_or(lo);
            }
            if (lo == '/' || hi == '/') && !self.src[self.at..].contains(']') {
                // `src/[ab/x`: no `]` anywhere after, so the set was never
                // closed; that, not the `/`, is the mistake.
                return Err(unclosed_set(start));
            }
            if lo == '/' || hi == '/' {
                return Err(malformed(
                    "a `[...]` set cannot contain `/`".to_string(),
                    "`/` in a set",
                    Some(
                        "a set matches one character within a segment; write the `/` \
                         outside it"
                            .to_string(),
                    ),
                    item_start..self.at,
                ));
            }
            if hi < lo {
                return Err(malformed(
                    format!("range `{lo}-{hi}` is out of order"),
                    "reversed range",
                    Some(format!("write the smaller character first: `{hi}-{lo}`")),
                    item_start..self.at,
                ));
            }
            ranges.push((lo, hi));
        }
        Ok(self.atom(CharSet::Set { negated, ranges }, Kind::Wild, start..self.at))
    }
}

/// The Glushkov construction: fills `follow` and returns (nullable, first
/// states, last states) of `node`.
///
/// With `empty_stars` false, `*` is treated as matching at least one
/// character. The edges then say which positions are *written* next to each
/// other in some expansion of `{}`, which is what the structural rules are
/// about: `src/*/x` has no empty segment even though its `*` may match
/// nothing (such a match is simply not a path).
fn glushkov(
    node: &Node,
    positions: &[Position],
    empty_stars: bool,
    follow: &mut [Vec<u32>],
) -> (bool, Vec<u32>, Vec<u32>) {
    match node {
        Node::Atom(index) => {
            let state = *index as u32 + 1;
            let kind = positions[*index].kind;
            if matches!(kind, Kind::Star | Kind::GlobStar) {
                follow[state as usize].push(state);
            }
            (empty_stars && kind == Kind::Star, vec![state], vec![state])
        }
        Node::Seq(items) => glushkov_seq(items, positions, empty_stars, follow),
        Node::Alt(alternatives) => {
            let (mut nullable, mut first, mut last) = (false, Vec::new(), Vec::new());
            for alternative in alternatives {
                let (n, f, l) = glushkov(alternative, positions, empty_stars, follow);
                nullable |= n;
                first.extend(f);
                last.extend(l);
            }
            (nullable, first, last)
        }
    }
}

fn glushkov_seq(
    items: &[Node],
    positions: &[Position],
    empty_stars: bool,
    follow: &mut [Vec<u32>],
) -> (bool, Vec<u32>, Vec<u32>) {
    let (mut nullable, mut first, mut last) = (true, Vec::<u32>::new(), Vec::<u32>::new());
    for item in items {
        let (n, f, l) = glushkov(item, positions, empty_stars, follow);
        for &state in &last {
            follow[state as usize].extend_from_slice(&f);
        }
        if nullable {
            first.extend_from_slice(&f);
        }
        if n {
            last.extend(l);
        } else {
            last = l;
        }
        nullable &= n;
    }
    (nullable, first, last)
}

/// The automaton's edges and accepting states.
fn automaton(
    positions: &[Position],
    items: &[Node],
    empty_stars: bool,
) -> (Vec<Vec<u32>>, Vec<bool>) {
    let n = positions.len() + 1;
    let mut follow = vec![Vec::new(); n];
    let (nullable, first, last) = glushkov_seq(items, positions, empty_stars, &mut follow);
    follow[0] = first;
    for list in &mut follow {
        list.sort_unstable();
        list.dedup();
    }
    let mut accept = vec![false; n];
    accept[0] = nullable;
    for state in last {
        accept[state as usize] = true;
    }
    (follow, accept)
}

fn compile_parsed(sets: Vec<CharSet>, positions: &[Position], items: &[Node]) -> Compiled {
    let (mut follow, accept) = automaton(positions, items, true);
    add_skips(positions, &mut follow);
    let mut cuts = vec!['.' as u32, '.' as u32 + 1, '/' as u32, '/' as u32 + 1];
    for set in &sets {
        match set {
            CharSet::Char(c) => cuts.extend([*c as u32, *c as u32 + 1]),
            CharSet::Set { ranges, .. } => {
                for &(lo, hi) in ranges {
                    cuts.extend([lo as u32, hi as u32 + 1]);
                }
            }
            CharSet::AnyNoSlash | CharSet::Any => {}
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut all_sets = Vec::with_capacity(sets.len() + 1);
    all_sets.push(CharSet::Any); // the start state is never entered
    all_sets.extend(sets);
    Compiled {
        nfa: Nfa {
            sets: all_sets,
            follow,
            accept,
        },
        cuts,
    }
}

/// The rules of `check_structure` and `check_dots` for a glob without
/// `{}`, where the positions are simply in a row. Same errors, same order
/// (the tests compare both on many globs).
fn check_linear(pattern: &str, positions: &[Position]) -> Result<(), GlobError> {
    let kind = |i: usize| positions.get(i).map(|p| p.kind);
    for (i, position) in positions.iter().enumerate() {
        let before = i.checked_sub(1).and_then(kind);
        let after = kind(i + 1);
        match position.kind {
            Kind::GlobStar => {
                if !matches!(before, None | Some(Kind::Slash))
                    || !matches!(after, None | Some(Kind::Slash))
                {
                    return Err(globstar_not_whole(pattern, position));
                }
            }
            Kind::Slash => {
                if after == Some(Kind::Slash) {
                    return Err(empty_segment(pattern, position, &positions[i + 1]));
                }
                if after.is_none() {
                    return Err(trailing_slash(pattern, position));
                }
            }
            Kind::Char | Kind::Wild | Kind::Star => {}
        }
    }
    let is_dot = |i: usize| {
        positions
            .get(i)
            .is_some_and(|p| p.set == CharSet::Char('.'))
    };
    let ends_segment = |i: usize| matches!(kind(i + 1), None | Some(Kind::Slash));
    for i in 0..positions.len() {
        // Reached from the start of the path: everything before it is
        // `**/` that may match nothing.
        let at_start = positions[..i].chunks(2).all(
            |pair| matches!(pair, [g, s] if g.kind == Kind::GlobStar && s.kind == Kind::Slash),
        );
        let after_slash = i > 0 && positions[i - 1].kind == Kind::Slash;
        if !is_dot(i) || !(at_start || after_slash) {
            continue;
        }
        if ends_segment(i) {
            return Err(dot_segment(pattern, &positions[i], at_start));
        }
        if is_dot(i + 1) && ends_segment(i + 1) {
            return Err(dot_dot_segment(
                pattern,
                &positions[i],
                &positions[i + 1],
                at_start,
            ));
        }
    }
    Ok(())
}

fn unclosed_set(start: usize) -> GlobError {
    malformed(
        "unclosed `[` in glob".to_string(),
        "this `[` is never closed",
        Some("close the set with `]`, or write `[[]` to match a literal `[`".to_string()),
        start..start + 1,
    )
}

fn globstar_not_whole(pattern: &str, position: &Position) -> GlobError {
    let (before, after) = (
        &pattern[..position.span.start],
        &pattern[position.span.end..],
    );
    // The usual slip: `src/**.rs` for `.rs` files at any depth.
    let help = if (before.is_empty() || before.ends_with('/'))
        && after.chars().next().is_some_and(|c| !"/,}".contains(c))
    {
        format!("to match at any depth, put `**` in a segment of its own: `{before}**/*{after}`")
    } else {
        "use `*` to match within a segment, or put `**` between slashes, as in `a/**/b`".to_string()
    };
    malformed(
        "`**` must be a whole path segment".to_string(),
        "`**` next to other characters",
        Some(help),
        position.span.clone(),
    )
}

fn empty_segment(pattern: &str, slash: &Position, next: &Position) -> GlobError {
    malformed(
        format!("empty path segment in glob `{pattern}`"),
        "empty segment",
        Some("remove the extra `/`".to_string()),
        slash.span.start..next.span.end.max(slash.span.end),
    )
}

fn trailing_slash(pattern: &str, slash: &Position) -> GlobError {
    let help = match pattern.strip_suffix('/') {
        Some(dir) if slash.span.end == pattern.len() => {
            format!("to match everything below `{dir}`, write `{dir}/**`")
        }
        _ => "remove the trailing `/`".to_string(),
    };
    malformed(
        format!("glob `{pattern}` ends with `/`"),
        "trailing `/`",
        Some(help),
        slash.span.clone(),
    )
}

fn dot_segment(pattern: &str, dot: &Position, at_start: bool) -> GlobError {
    let help = if at_start && pattern.starts_with("./") {
        format!(
            "remove the leading `./`: globs are already relative to the workspace: write `{}`",
            pattern.trim_start_matches("./")
        )
    } else {
        "remove the `.` segment: globs are matched against normalized paths".to_string()
    };
    malformed(
        format!("glob `{pattern}` has a `.` segment"),
        "`.` segment",
        Some(help),
        dot.span.clone(),
    )
}

fn dot_dot_segment(
    pattern: &str,
    first: &Position,
    second: &Position,
    at_start: bool,
) -> GlobError {
    let span = first.span.start..second.span.end;
    if at_start {
        fail(
            GlobErrorKind::EscapesWorkspace,
            format!("`{pattern}` escapes the workspace"),
            "`..` leaves the workspace",
            Some(
                "globs name files inside the workspace; to work on files above it, move the \
                 score's `workspace` up"
                    .to_string(),
            ),
            span,
        )
    } else {
        fail(
            GlobErrorKind::EscapesWorkspace,
            format!("`{pattern}` contains a `..` segment"),
            "`..` segment",
            Some(
                "globs are matched against normalized paths, which never contain `..`: write \
                 the path without it"
                    .to_string(),
            ),
            span,
        )
    }
}

fn predecessors(follow: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let mut preds = vec![Vec::new(); follow.len()];
    for (from, list) in follow.iter().enumerate() {
        for &to in list {
            preds[to as usize].push(from as u32);
        }
    }
    preds
}

/// `**` is a whole segment, no empty segment, no trailing `/`, no
/// alternative that starts with `/` — checked on the edges before the skip
/// edges of `**/` are added (the bare automaton is the union of all
/// expansions of `{}`).
fn check_structure(
    pattern: &str,
    positions: &[Position],
    follow: &[Vec<u32>],
    accept: &[bool],
) -> Result<(), GlobError> {
    let kind = |state: u32| positions[state as usize - 1].kind;
    let preds = predecessors(follow);
    for (index, position) in positions.iter().enumerate() {
        let state = index as u32 + 1;
        match position.kind {
            Kind::GlobStar => {
                let bad_before = preds[state as usize]
                    .iter()
                    .any(|&p| p != state && p != 0 && kind(p) != Kind::Slash);
                let bad_after = follow[state as usize]
                    .iter()
                    .any(|&q| q != state && kind(q) != Kind::Slash);
                if bad_before || bad_after {
                    return Err(globstar_not_whole(pattern, position));
                }
            }
            Kind::Slash => {
                if preds[state as usize].contains(&0) {
                    return Err(fail(
                        GlobErrorKind::Absolute,
                        format!("`{pattern}` has an alternative that starts with `/`"),
                        "an absolute path starts here",
                        Some("paths are relative to the workspace: remove this `/`".to_string()),
                        position.span.clone(),
                    ));
                }
                if let Some(&next) = follow[state as usize]
                    .iter()
                    .find(|&&q| kind(q) == Kind::Slash)
                {
                    return Err(empty_segment(
                        pattern,
                        position,
                        &positions[next as usize - 1],
                    ));
                }
                if accept[state as usize] {
                    return Err(trailing_slash(pattern, position));
                }
            }
            Kind::Star => {
                // `*{*/x,y}`: written out, one alternative reads `**/x`,
                // which would make the `**` depend on how the braces are
                // read. Rejected rather than guessed.
                if let Some(&next) = follow[state as usize]
                    .iter()
                    .find(|&&q| q != state && kind(q) == Kind::Star)
                {
                    let end = positions[next as usize - 1].span.end;
                    return Err(malformed(
                        format!("two `*` meet through `{{}}` in glob `{pattern}`"),
                        "these `*` would be written next to each other",
                        Some(
                            "one `*` already matches any characters within a segment; \
                             remove one of them, and write `**` only as a whole segment"
                                .to_string(),
                        ),
                        position.span.start..end,
                    ));
                }
            }
            Kind::Char | Kind::Wild => {}
        }
    }
    Ok(())
}

/// Let every `**/` match zero segments: whatever may come before the `**`
/// may also be followed directly by whatever follows its `/`. Repeated to a
/// fixed point so that `**/**/x` matches `x`.
fn add_skips(positions: &[Position], follow: &mut [Vec<u32>]) {
    let globstars: Vec<u32> = (1..=positions.len() as u32)
        .rev()
        .filter(|&s| positions[s as usize - 1].kind == Kind::GlobStar)
        .collect();
    if globstars.is_empty() {
        return;
    }
    loop {
        let mut changed = false;
        for &g in &globstars {
            let preds: Vec<u32> = (0..follow.len() as u32)
                .filter(|&p| p != g && follow[p as usize].binary_search(&g).is_ok())
                .collect();
            let slashes: Vec<u32> = follow[g as usize]
                .iter()
                .copied()
                .filter(|&q| q != g && positions[q as usize - 1].kind == Kind::Slash)
                .collect();
            for s in slashes {
                let targets = follow[s as usize].clone();
                for &p in &preds {
                    for &t in &targets {
                        let list = &mut follow[p as usize];
                        if let Err(at) = list.binary_search(&t) {
                            list.insert(at, t);
                            changed = true;
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// No `.` or `..` segment in any expansion (after `**/` skips, so that
/// `**/../x` is caught too).
fn check_dots(
    pattern: &str,
    positions: &[Position],
    follow: &[Vec<u32>],
    accept: &[bool],
) -> Result<(), GlobError> {
    let n = follow.len();
    let is_dot = |s: u32| positions[s as usize - 1].set == CharSet::Char('.');
    let is_slash = |s: u32| positions[s as usize - 1].kind == Kind::Slash;
    let mut at_start = vec![false; n];
    let mut after_slash = vec![false; n];
    for &s in &follow[0] {
        at_start[s as usize] = true;
    }
    for (from, list) in follow.iter().enumerate().skip(1) {
        if is_slash(from as u32) {
            for &s in list {
                after_slash[s as usize] = true;
            }
        }
    }
    let ends_segment =
        |s: u32| accept[s as usize] || follow[s as usize].iter().any(|&q| is_slash(q));
    for d1 in 1..n as u32 {
        if !is_dot(d1) || !(at_start[d1 as usize] || after_slash[d1 as usize]) {
            continue;
        }
        let d1_position = &positions[d1 as usize - 1];
        if ends_segment(d1) {
            return Err(dot_segment(pattern, d1_position, at_start[d1 as usize]));
        }
        for &d2 in &follow[d1 as usize] {
            if d2 == d1 || !is_dot(d2) || !ends_segment(d2) {
                continue;
            }
            return Err(dot_dot_segment(
                pattern,
                d1_position,
                &positions[d2 as usize - 1],
                at_start[d1 as usize],
            ));
        }
    }
    Ok(())
}

struct LiteralParts {
    literal: bool,
    below: bool,
    head_end: usize,
    tail_start: usize,
}

/// From the top-level sequence: whether the glob is literal, whether it is
/// `HEAD**`, and the literal text every match starts and ends with.
fn literal_parts(pattern: &str, positions: &[Position], items: &[Node]) -> LiteralParts {
    let plain = |node: &Node| match node {
        Node::Atom(i) if matches!(positions[*i].kind, Kind::Char | Kind::Slash) => {
            Some(&positions[*i])
        }
        _ => None,
    };
    let head_len = items.iter().map_while(plain).count();
    let literal = head_len == items.len();
    let head_end = items[..head_len]
        .last()
        .and_then(plain)
        .map_or(0, |p| p.span.end);
    let below = items.len() == head_len + 1
        && matches!(items.last(), Some(Node::Atom(i)) if positions[*i].kind == Kind::GlobStar);
    let tail_len = items.iter().rev().map_while(plain).count();
    let mut tail_start = items[items.len() - tail_len..]
        .first()
        .and_then(plain)
        .map_or(pattern.len(), |p| p.span.start);
    // `**/x` also matches `x`: the `/` after a `**` is not always there.
    let before_tail = items.len().checked_sub(tail_len + 1).map(|i| &items[i]);
    let after_globstar =
        matches!(before_tail, Some(Node::Atom(i)) if positions[*i].kind == Kind::GlobStar);
    if after_globstar && pattern[tail_start..].starts_with('/') {
        tail_start += 1;
    }
    LiteralParts {
        literal,
        below,
        head_end,
        tail_start,
    }
}

/// Validation through the automaton, whatever the glob: the tests check
/// that the linear scan used for globs without `{}` agrees with it.
#[cfg(test)]
pub(super) fn check_with_automaton(pattern: &str) -> Result<(), GlobError> {
    check_text(pattern)?;
    let (positions, items, _) = tokenize(pattern)?;
    let (mut written, written_accept) = automaton(&positions, &items, false);
    check_structure(pattern, &positions, &written, &written_accept)?;
    add_skips(&positions, &mut written);
    check_dots(pattern, &positions, &written, &written_accept)
}
