//! Workspace globs: parsing, matching, and exact overlap and inclusion tests
//! with example paths.
//!
//! The boundary proof (E0401, E0402, W0404) asks two questions about globs:
//! *can some path match both?* ([`intersection`]) and *is every path of one
//! glob matched by some glob of a set?* ([`difference`]). Both answers are
//! exact — `Some` if and only if such a path exists — and come with a
//! concrete example path for the message.
//!
//! # Paths
//!
//! A path is relative to the workspace and `/`-separated: one or more
//! non-empty segments, none of them `.` or `..` (`src/main.rs`). Nothing else
//! is ever matched: [`Glob::matches`] is `false` for `""`, `/abs`, `a//b`,
//! `a/` or `a/../b`, and the example paths this module produces are always
//! valid paths.
//!
//! # Glob syntax
//!
//! | syntax   | matches |
//! | -------- | ------- |
//! | `*`      | any run of characters within one segment, including none (never `/`) |
//! | `**`     | as a whole segment: zero or more whole segments — `a/**/b` matches `a/b` and `a/x/y/b`, `**/b` matches `b` |
//! | `?`      | one character (not `/`) |
//! | `[abc]`, `[a-z]` | one character of the set (never `/`) |
//! | `[!a]`, `[^a]`   | one character not in the set (never `/`) |
//! | `{x,y}`  | either alternative; alternatives may contain `/` and any glob syntax, and may nest |
//! | other    | itself |
//!
//! Decisions worth knowing:
//! - A trailing `/**` matches one or more segments below: `src/**` matches
//!   `src/x` and `src/x/y` but not `src` itself. Globs describe files, and a
//!   file named exactly `src` is not "below `src`".
//! - `**` must be a whole segment in every alternative: `a**b`, `**.rs` and
//!   `{a,**}b` are malformed (rather than silently meaning `*`), so a
//!   mistyped glob never means something else than the author thought.
//!   `***` is malformed too, and so is a `*` that meets another `*` through
//!   braces (`*{*/a,b}` would read `**/a` once written out).
//! - There are no escapes: a backslash is an error (it is usually a Windows
//!   separator). To match a special character literally, put it in a set:
//!   `[*]`, `[{]`, `[[]`. In a set, `]` right after `[` or `[!` is literal,
//!   and `-` first or last is literal.
//! - A `,` outside braces is an ordinary character; a `]` outside a set is an
//!   ordinary character; a `}` outside braces is an error (it is almost always
//!   a typo such as `{a,b}}`).
//! - Errors ([`GlobErrorKind`]): absolute paths (`/x`, `C:\x`, `\\server`,
//!   `~/x`, or an alternative starting with `/`); `..` segments
//!   (escaping the workspace); malformed globs (empty glob, empty segment
//!   `a//b`, trailing `/`, a `.` segment, unclosed `[` or `{`, empty `{}`,
//!   unmatched `}`, backslash, a set containing `/` (reported as an unclosed
//!   `[` when no `]` follows at all, as in `src/[ab/x`), a reversed range such as
//!   `[z-a]`, misplaced `**`, more than [`MAX_LEN`] bytes or
//!   [`MAX_NESTING`] nested braces). Every alternative is checked:
//!   `{src,../x}/y` escapes the workspace.
//!
//! # Example paths (witnesses)
//!
//! [`intersection`] and [`difference`] return an example path chosen for
//! stable, readable messages: the fewest segments that start with `.` (so
//! `docs/a.md` rather than the shorter `docs/.md`, but `.github/a.yml` when
//! the globs require it); then a shortest one; then the first in the order
//! of characters lower-case letters (`a` first), digits, upper-case letters,
//! `_`, `-`, other ASCII, then the rest. Characters the globs mention form
//! their own classes, so examples reuse them (`[xyz]*` gives `x`). The
//! choice depends only on the set of paths, so it is the same whichever way
//! round two globs are given.
//!
//! # How it works
//!
//! Each glob is compiled, once, into a position automaton (Glushkov
//! construction): one state per character-matching position of the
//! pattern, no ε-moves. The automaton is built on first use, because most
//! globs of a large score are answered by their literal parts alone; globs
//! with `{}` are compiled by [`Glob::parse`], whose checks of every
//! alternative read the automaton's edges. `*` and `**` are positions with a self loop; the
//! "zero segments" case of `**/` is a set of extra edges that skip the `**`
//! and the `/` after it. For two globs, the characters they mention cut the
//! alphabet into a few classes (each literal character alone, each set
//! boundary, `/`, `.`, and "anything else"); one representative character per
//! class is enough, because no glob tells members of a class apart. Overlap
//! is a breadth-first search over the product of the two automata and a
//! small automaton that accepts only valid paths; inclusion is the same over
//! the first automaton times the lazily built subset automaton of the union.
//! Cheap exact shortcuts answer most pairs before any search: literal heads
//! and tails that disagree, literal globs (one match test), and `DIR/**`
//! covering a glob whose head lies inside `DIR/`.

mod ops;
mod parse;

#[cfg(test)]
mod tests;

pub use ops::{difference, intersection, may_overlap};

use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

/// The longest glob accepted, in bytes. Paths are far shorter in practice;
/// the limit bounds the work of the automaton constructions.
pub const MAX_LEN: usize = 4096;

/// The deepest nesting of `{}` accepted.
pub const MAX_NESTING: usize = 32;

/// A parsed, compiled glob. Cheap to match; see the module documentation
/// for the syntax.
#[derive(Clone)]
pub struct Glob {
    pattern: String,
    /// The automaton, built on first use: most globs of a large score are
    /// answered by their literal parts and never need one.
    compiled: OnceLock<Compiled>,
    /// The glob has no wildcard, set or alternative at all.
    literal: bool,
    /// The glob is `DIR/**` or `**`: it matches every path that starts with
    /// its head.
    below: bool,
    /// Every match starts with `pattern[..head_end]` and ends with
    /// `pattern[tail_start..]` (ordinary characters map one to one onto
    /// the pattern's bytes).
    head_end: usize,
    tail_start: usize,
}

/// What comparisons need: the automaton, and the sorted code points where
/// the glob's character predicates change value (see `ops::alphabet`).
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub(crate) nfa: Nfa,
    pub(crate) cuts: Vec<u32>,
}

impl Glob {
    /// Parse and compile a glob.
    pub fn parse(pattern: &str) -> Result<Glob, GlobError> {
        parse::parse(pattern)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `path` (relative, `/`-separated) matches. Invalid paths
    /// (empty, absolute, with empty, `.` or `..` segments) never match.
    pub fn matches(&self, path: &str) -> bool {
        if !is_valid_path(path) {
            return false;
        }
        if self.literal {
            return path == self.pattern;
        }
        self.compiled().nfa.matches(path)
    }

    pub(crate) fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| parse::compile(&self.pattern))
    }

    /// The leading segments that contain no glob syntax: `["src", "api"]`
    /// for `src/api/*.rs`, `[]` for `**/*.md` or `{src,lib}/**`, the whole
    /// path for a literal glob. Every match starts with these segments, so
    /// two globs can only overlap if one's prefix is a segment-prefix of the
    /// other's; the boundary checker indexes globs by it.
    pub fn literal_prefix(&self) -> Vec<&str> {
        let head = self.literal_head();
        if self.literal {
            return head.split('/').collect();
        }
        match head.rfind('/') {
            Some(end) => head[..end].split('/').collect(),
            None => Vec::new(),
        }
    }

    /// The literal characters every match starts with: `src/api/` for
    /// `src/api/*.rs`, `tests/user_` for `tests/user_*.rs`, `""` for
    /// `**/*.md`. A finer index key than [`Glob::literal_prefix`]: two globs
    /// can only overlap if one head is a prefix of the other.
    pub fn literal_head(&self) -> &str {
        &self.pattern[..self.head_end]
    }

    /// The literal characters every match ends with (`.rs` for `src/*.rs`).
    pub(crate) fn literal_tail(&self) -> &str {
        &self.pattern[self.tail_start..]
    }

    /// The path itself if the glob has no wildcard, set or alternative.
    pub fn as_literal(&self) -> Option<&str> {
        self.literal.then_some(self.pattern.as_str())
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.pattern)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Glob) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for Glob {}

/// What is wrong with a glob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GlobErrorKind {
    /// `/etc/x`, `C:\x`, `\\server\x`, `~/x`: globs are relative to the workspace.
    Absolute,
    /// A `..` segment: `../x`, `a/../b`.
    EscapesWorkspace,
    /// Anything else: syntax errors, empty segments, misplaced `**`, ...
    Malformed,
}

/// Why a glob was rejected, with the byte range of the culprit in the
/// pattern, ready to become an E0403 diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobError {
    pub kind: GlobErrorKind,
    /// The diagnostic message, e.g. "`/etc/x` is an absolute path".
    pub message: String,
    /// A short label for the culprit, e.g. "this `[` is never closed".
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Byte range in the pattern (empty only for an empty pattern).
    pub offset: Range<usize>,
}

impl fmt::Display for GlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GlobError {}

/// Whether `path` is a valid workspace path: non-empty segments separated by
/// single `/`, none of them `.` or `..`.
pub fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// The set of characters one pattern position accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CharSet {
    /// An ordinary character, or `/`.
    Char(char),
    /// `?` and `*`: anything but `/`.
    AnyNoSlash,
    /// `**`: anything (the surrounding slashes keep it to whole segments).
    Any,
    /// `[...]`: never `/`.
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl CharSet {
    #[inline]
    pub(crate) fn contains(&self, c: char) -> bool {
        match self {
            CharSet::Char(x) => *x == c,
            CharSet::AnyNoSlash => c != '/',
            CharSet::Any => true,
            CharSet::Set { negated, ranges } => {
                c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// A position automaton. State 0 is the start; every other state is "just
/// matched position `state - 1`" and is entered only on characters of
/// `sets[state]`.
#[derive(Clone, Debug)]
pub(crate) struct Nfa {
    pub(crate) sets: Vec<CharSet>,
    pub(crate) follow: Vec<Vec<u32>>,
    pub(crate) accept: Vec<bool>,
}

impl Nfa {
    pub(crate) fn len(&self) -> usize {
        self.sets.len()
    }

    /// Run the automaton on `text` (validity of the path is checked by the
    /// caller).
    fn matches(&self, text: &str) -> bool {
        // `mark[state] == step` dedups the next state set without clearing.
        let mut mark = vec![usize::MAX; self.len()];
        let mut active: Vec<u32> = vec![0];
        let mut upcoming: Vec<u32> = Vec::new();
        for (step, c) in text.chars().enumerate() {
            upcoming.clear();
            for &state in &active {
                for &to in &self.follow[state as usize] {
                    if mark[to as usize] != step && self.sets[to as usize].contains(c) {
                        mark[to as usize] = step;
                        upcoming.push(to);
                    }
                }
            }
            if upcoming.is_empty() {
                return false;
            }
            std::mem::swap(&mut active, &mut upcoming);
        }
        active.iter().any(|&s| self.accept[s as usize])
    }
}

/// FxHash-style multiplicative hashing for maps keyed by small integers or
/// short strings built by this crate: SipHash's protection against chosen
/// keys is not needed there and its cost shows on large scores.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;
