//! The boundary proof: invalid globs (E0403), parts that may write the same
//! path at the same time (E0401), parts that own paths outside their
//! contracts (E0402), and parts that read what a concurrent part may write
//! (W0404).
//!
//! The checker hands over plain data ([`ContractGlobs`], [`PartGlobs`]) and
//! an oracle for "may these two parts run at the same time" ([`Concurrency`]),
//! so this module knows nothing of the model or the AST.
//!
//! A part's *effective* `owns` (and `reads`) are its own globs, in source
//! order, followed by those of each contract it fulfils, in the order the
//! contracts are listed. "First" below means first in that order.
//!
//! Scale: the overlap rules never compare all pairs of globs. Every match
//! of a glob starts with its literal head (`src/api/` for `src/api/*.rs`,
//! `tests/user_` for `tests/user_*.rs`), so two globs can only overlap when
//! one head is a prefix of the other. Distinct globs are sorted by head and
//! swept with a stack of the heads enclosing the current one, which
//! enumerates exactly the related pairs in O(n log n + pairs); globs that
//! start with a wildcard or `{}` (`**/*.md`, `{src,lib}/x`) have an empty
//! head and are related to every glob. For each candidate pair the (cheap,
//! bitset-backed) concurrency question is asked before any automaton work,
//! and each distinct pattern is compiled once and each pair of patterns
//! intersected at most once.

use crate::diagnostics::{Code, Diagnostic};
use crate::glob::{self, FastMap, Glob, GlobError};
use crate::source::Span;

/// One glob as written in an `owns` or `reads` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobDecl {
    /// The string's value (after escapes).
    pub pattern: String,
    /// The string literal in the source, quotes included. When its length
    /// is the pattern's plus two, it is a plain `"..."` without escapes and
    /// E0403 points inside it at the culprit; otherwise at the whole literal.
    pub span: Span,
}

/// The globs of one contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractGlobs {
    pub name: String,
    pub owns: Vec<GlobDecl>,
    pub reads: Vec<GlobDecl>,
}

/// The globs of one part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartGlobs {
    pub name: String,
    pub name_span: Span,
    /// Indices into the `contracts` slice given to [`check_boundaries`], in
    /// the order the part lists them (indices out of range are ignored).
    pub contracts: Vec<usize>,
    /// The part's own `owns` (not its contracts').
    pub owns: Vec<GlobDecl>,
    /// The part's own `reads` (not its contracts').
    pub reads: Vec<GlobDecl>,
}

/// Whether two parts may run at the same time (neither is reachable from
/// the other through sequences and input bindings). Indices are into the
/// `parts` slice. Asked only for distinct parts, with `a < b`.
pub trait Concurrency {
    fn may_run_together(&self, a: usize, b: usize) -> bool;
}

/// Run the boundary rules. Diagnostics come grouped by rule (E0403, E0402,
/// E0401, W0404), each in a deterministic order; the caller sorts them by
/// position.
///
/// - E0403 once per invalid glob as written (a contract's once, however
///   many parts fulfil it); invalid globs take no part in the other rules.
/// - E0401 once per pair of concurrent parts whose effective `owns`
///   overlap, for their first overlapping pair of globs.
/// - E0402 for each glob of a part's own `owns` that matches a path outside
///   the union of the `owns` of the contracts it fulfils. Contracts without
///   `owns` do not constrain (a contract that only fixes inputs and outputs
///   says nothing about files), and neither does a contract with an invalid
///   `owns` glob (its bounds are unknown; E0403 says why).
/// - W0404 once per ordered pair (reader, writer) of concurrent parts where
///   the reader's effective `reads` overlap the writer's effective `owns`,
///   unless the two parts already have an E0401 (ordering them fixes both).
pub fn check_boundaries(
    contracts: &[ContractGlobs],
    parts: &[PartGlobs],
    order: &dyn Concurrency,
) -> Vec<Diagnostic> {
    let mut checker = Checker {
        contracts,
        parts,
        order,
        table: Table::default(),
        diagnostics: Vec::new(),
        overlaps: FastMap::default(),
    };
    let (contract_owns, contract_reads, contract_sound) = checker.compile_contracts();
    let part_owns: Vec<Vec<Use>> = (0..parts.len())
        .map(|p| checker.effective(p, |part| &part.owns, &contract_owns))
        .collect();
    let part_reads: Vec<Vec<Use>> = (0..parts.len())
        .map(|p| checker.effective(p, |part| &part.reads, &contract_reads))
        .collect();
    checker.outside_contracts(&part_owns, &contract_owns, &contract_sound);
    checker.overlaps(&part_owns, &part_reads);
    checker.diagnostics
}

/// A valid glob in a part's effective `owns` or `reads`.
#[derive(Clone, Copy, Debug)]
struct Use {
    glob: u32,
    span: Span,
    /// The contract it comes from, or `None` for the part's own.
    via: Option<usize>,
}

/// Every distinct pattern, parsed once.
#[derive(Default)]
struct Table<'a> {
    by_pattern: FastMap<&'a str, Result<u32, GlobError>>,
    globs: Vec<Glob>,
}

impl<'a> Table<'a> {
    fn get(&mut self, pattern: &'a str) -> Result<u32, GlobError> {
        if let Some(result) = self.by_pattern.get(pattern) {
            return result.clone();
        }
        let result = Glob::parse(pattern).map(|glob| {
            self.globs.push(glob);
            self.globs.len() as u32 - 1
        });
        self.by_pattern.insert(pattern, result.clone());
        result
    }
}

struct Checker<'a> {
    contracts: &'a [ContractGlobs],
    parts: &'a [PartGlobs],
    order: &'a dyn Concurrency,
    table: Table<'a>,
    diagnostics: Vec<Diagnostic>,
    /// `intersection`, computed once per pair of globs (smaller id first).
    overlaps: FastMap<(u32, u32), Option<String>>,
}

impl<'a> Checker<'a> {
    /// Compile one declaration site's globs, reporting invalid ones.
    fn compile(&mut self, decls: &'a [GlobDecl], via: Option<usize>) -> (Vec<Use>, bool) {
        let mut uses = Vec::with_capacity(decls.len());
        let mut sound = true;
        for decl in decls {
            match self.table.get(&decl.pattern) {
                Ok(glob) => uses.push(Use {
                    glob,
                    span: decl.span,
                    via,
                }),
                Err(error) => {
                    sound = false;
                    self.diagnostics.push(invalid_glob(decl, &error));
                }
            }
        }
        (uses, sound)
    }

    /// Per contract: valid `owns`, valid `reads`, and whether every `owns`
    /// glob was valid.
    fn compile_contracts(&mut self) -> (Vec<Vec<Use>>, Vec<Vec<Use>>, Vec<bool>) {
        let mut owns = Vec::with_capacity(self.contracts.len());
        let mut reads = Vec::with_capacity(self.contracts.len());
        let mut sound = Vec::with_capacity(self.contracts.len());
        for (index, contract) in self.contracts.iter().enumerate() {
            let (o, s) = self.compile(&contract.owns, Some(index));
            let (r, _) = self.compile(&contract.reads, Some(index));
            owns.push(o);
            reads.push(r);
            sound.push(s);
        }
        (owns, reads, sound)
    }

    /// The contracts a part fulfils: valid indices, each once, in order.
    fn contracts_of(&self, part: usize) -> Vec<usize> {
        let mut seen = Vec::new();
        for &c in &self.parts[part].contracts {
            if c < self.contracts.len() && !seen.contains(&c) {
                seen.push(c);
            }
        }
        seen
    }

    /// A part's own globs (compiled, errors reported) followed by its
    /// contracts'.
    fn effective(
        &mut self,
        part: usize,
        own: impl Fn(&'a PartGlobs) -> &'a Vec<GlobDecl>,
        of_contracts: &[Vec<Use>],
    ) -> Vec<Use> {
        let (mut uses, _) = self.compile(own(&self.parts[part]), None);
        for c in self.contracts_of(part) {
            uses.extend_from_slice(&of_contracts[c]);
        }
        uses
    }

    fn overlap(&mut self, a: u32, b: u32) -> Option<String> {
        let key = (a.min(b), a.max(b));
        if let Some(found) = self.overlaps.get(&key) {
            return found.clone();
        }
        let found =
            glob::intersection(&self.table.globs[a as usize], &self.table.globs[b as usize]);
        self.overlaps.insert(key, found.clone());
        found
    }

    /// E0402.
    fn outside_contracts(
        &mut self,
        part_owns: &[Vec<Use>],
        contract_owns: &[Vec<Use>],
        contract_sound: &[bool],
    ) {
        for (p, part) in self.parts.iter().enumerate() {
            let bounding: Vec<usize> = self
                .contracts_of(p)
                .into_iter()
                .filter(|&c| !self.contracts[c].owns.is_empty())
                .collect();
            if bounding.is_empty() || bounding.iter().any(|&c| !contract_sound[c]) {
                continue;
            }
            let union: Vec<&Glob> = bounding
                .iter()
                .flat_map(|&c| &contract_owns[c])
                .map(|u| &self.table.globs[u.glob as usize])
                .collect();
            for own in part_owns[p].iter().filter(|u| u.via.is_none()) {
                let glob = &self.table.globs[own.glob as usize];
                let Some(path) = glob::difference(glob, union.iter().copied()) else {
                    continue;
                };
                let names = list_names(bounding.iter().map(|&c| self.contracts[c].name.as_str()));
                let which = if bounding.len() == 1 {
                    format!("contract {names}")
                } else {
                    format!("contracts {names}")
                };
                let mut diagnostic = Diagnostic::new(
                    Code::E0402,
                    format!(
                        "part `{}` owns `{}` outside {which}",
                        part.name,
                        glob.as_str()
                    ),
                )
                .primary(
                    own.span,
                    format!("matches e.g. `{path}`, which is outside {which}"),
                );
                for &c in &bounding {
                    for u in &contract_owns[c] {
                        diagnostic = diagnostic
                            .secondary(u.span, format!("`{}` owns this", self.contracts[c].name));
                    }
                }
                let owners = if bounding.len() == 1 {
                    format!("the `owns` of `{}`", self.contracts[bounding[0]].name)
                } else {
                    "the `owns` of one of these contracts".to_string()
                };
                self.diagnostics.push(
                    diagnostic
                        .note(
                            "a part may own only paths that the `owns` of its contracts allow"
                                .to_string(),
                        )
                        .help(format!(
                            "widen {owners} if the path belongs there, or leave it to another \
                             part"
                        )),
                );
            }
        }
    }

    /// E0401 and W0404.
    fn overlaps(&mut self, part_owns: &[Vec<Use>], part_reads: &[Vec<Use>]) {
        let n = self.table.globs.len();
        let owned_by = Users::new(n, part_owns);
        let read_by = Users::new(n, part_reads);
        let used: Vec<u32> = (0..n as u32)
            .filter(|&g| !owned_by.of(g).is_empty() || !read_by.of(g).is_empty())
            .collect();

        // Candidates: (part, part, index, index, glob, glob). For E0401 the
        // parts are ordered (smaller first); for W0404 (reader, writer).
        let mut writes: Vec<(u32, u32, u32, u32, u32, u32)> = Vec::new();
        let mut reads: Vec<(u32, u32, u32, u32, u32, u32)> = Vec::new();
        let globs = &self.table.globs;
        let order = self.order;
        let together =
            |a: u32, b: u32| order.may_run_together(a.min(b) as usize, a.max(b) as usize);
        for_each_related_pair(
            &used,
            |g| globs[g as usize].literal_head(),
            |g, h| {
                // Disagreeing literal text rules a pair out before anything is
                // asked about parts (globs in one directory, `src/*_a.rs` and
                // `src/*_b.rs`, share their head but not their tail).
                if !glob::may_overlap(&globs[g as usize], &globs[h as usize]) {
                    return;
                }
                for &(p, i) in owned_by.of(g) {
                    for &(q, j) in owned_by.of(h) {
                        if p == q || (g == h && p > q) || !together(p, q) {
                            continue;
                        }
                        writes.push(if p < q {
                            (p, q, i, j, g, h)
                        } else {
                            (q, p, j, i, h, g)
                        });
                    }
                }
                let orientations: &[(u32, u32)] =
                    if g == h { &[(g, g)] } else { &[(g, h), (h, g)] };
                for &(rg, wg) in orientations {
                    for &(r, i) in read_by.of(rg) {
                        for &(w, j) in owned_by.of(wg) {
                            if r != w && together(r, w) {
                                reads.push((r, w, i, j, rg, wg));
                            }
                        }
                    }
                }
            },
        );

        writes.sort_unstable();
        writes.dedup();
        // Pairs with an E0401 get no W0404 on top: ordering them, the fix
        // for both, is already asked for.
        let mut both_write: FastMap<(u32, u32), ()> = FastMap::default();
        for group in writes.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
            for &(p, q, i, j, g, h) in group {
                if let Some(path) = self.overlap(g, h) {
                    both_write.insert((p, q), ());
                    let (a, b) = (
                        &part_owns[p as usize][i as usize],
                        &part_owns[q as usize][j as usize],
                    );
                    let diagnostic = self.both_write(p as usize, q as usize, a, b, &path);
                    self.diagnostics.push(diagnostic);
                    break;
                }
            }
        }

        reads.sort_unstable();
        reads.dedup();
        for group in reads.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
            let (r, w) = (group[0].0, group[0].1);
            if both_write.contains_key(&(r.min(w), r.max(w))) {
                continue;
            }
            for &(r, w, i, j, g, h) in group {
                if let Some(path) = self.overlap(g, h) {
                    let read = &part_reads[r as usize][i as usize];
                    let write = &part_owns[w as usize][j as usize];
                    let diagnostic =
                        self.reads_while_written(r as usize, w as usize, read, write, &path);
                    self.diagnostics.push(diagnostic);
                    break;
                }
            }
        }
    }

    /// " (through contract `X`)" for a glob that comes from a contract.
    fn through(&self, u: &Use) -> String {
        match u.via {
            Some(c) => format!(" (through contract `{}`)", self.contracts[c].name),
            None => String::new(),
        }
    }

    fn both_write(&self, p: usize, q: usize, a: &Use, b: &Use, path: &str) -> Diagnostic {
        let (pa, pb) = (&self.parts[p], &self.parts[q]);
        let mut diagnostic = Diagnostic::new(
            Code::E0401,
            format!(
                "parts `{}` and `{}` may run at the same time and can both write `{path}`",
                pa.name, pb.name
            ),
        );
        diagnostic = if a.span == b.span {
            diagnostic.primary(
                a.span,
                format!(
                    "`{}` and `{}` may both write here{}",
                    pa.name,
                    pb.name,
                    self.through(a)
                ),
            )
        } else {
            diagnostic
                .primary(
                    a.span,
                    format!("`{}` may write here{}", pa.name, self.through(a)),
                )
                .secondary(
                    b.span,
                    format!("`{}` may also write here{}", pb.name, self.through(b)),
                )
        };
        diagnostic
            .secondary(pa.name_span, format!("not ordered with `{}`", pb.name))
            .secondary(pb.name_span, format!("not ordered with `{}`", pa.name))
            .note(format!(
                "no `sequence` or input binding orders `{}` and `{}`, so they may run at the \
                 same time",
                pa.name, pb.name
            ))
            .help(format!(
                "order them with `sequence {{ {} -> {} }}`, or make their `owns` disjoint",
                pa.name, pb.name
            ))
    }

    fn reads_while_written(
        &self,
        r: usize,
        w: usize,
        read: &Use,
        write: &Use,
        path: &str,
    ) -> Diagnostic {
        let (reader, writer) = (&self.parts[r], &self.parts[w]);
        Diagnostic::new(
            Code::W0404,
            format!(
                "part `{}` reads `{path}`, which `{}` may be writing at the same time",
                reader.name, writer.name
            ),
        )
        .primary(
            read.span,
            format!("`{}` reads here{}", reader.name, self.through(read)),
        )
        .secondary(
            write.span,
            format!("`{}` may write here{}", writer.name, self.through(write)),
        )
        .help(format!(
            "order them with `sequence {{ {} -> {} }}` so that `{}` reads finished files, or \
             narrow the `reads`",
            writer.name, reader.name, reader.name
        ))
    }
}

/// Who uses each distinct glob, as (part, index in its effective list):
/// one flat array grouped by glob (a large score has as many globs as
/// parts, so one small vector per glob would dominate the allocations).
struct Users {
    starts: Vec<u32>,
    users: Vec<(u32, u32)>,
}

impl Users {
    fn new(globs: usize, lists: &[Vec<Use>]) -> Users {
        let mut starts = vec![0u32; globs + 1];
        for u in lists.iter().flatten() {
            starts[u.glob as usize + 1] += 1;
        }
        for g in 0..globs {
            starts[g + 1] += starts[g];
        }
        let mut next = starts.clone();
        let mut users = vec![(0, 0); starts[globs] as usize];
        for (p, uses) in lists.iter().enumerate() {
            for (i, u) in uses.iter().enumerate() {
                let at = &mut next[u.glob as usize];
                users[*at as usize] = (p as u32, i as u32);
                *at += 1;
            }
        }
        Users { starts, users }
    }

    fn of(&self, glob: u32) -> &[(u32, u32)] {
        &self.users[self.starts[glob as usize] as usize..self.starts[glob as usize + 1] as usize]
    }
}

/// An E0403 for `decl`, labelled inside the string when it is a plain
/// literal (see [`GlobDecl::span`]).
fn invalid_glob(decl: &GlobDecl, error: &GlobError) -> Diagnostic {
    let plain = decl.span.len() == decl.pattern.len() + 2;
    let span = if plain && !error.offset.is_empty() && error.offset.end <= decl.pattern.len() {
        let start = decl.span.start as usize + 1;
        Span::new(
            decl.span.file,
            start + error.offset.start,
            start + error.offset.end,
        )
    } else {
        decl.span
    };
    let mut diagnostic =
        Diagnostic::new(Code::E0403, error.message.clone()).primary(span, error.label.clone());
    if let Some(help) = &error.help {
        diagnostic = diagnostic.help(help.clone());
    }
    diagnostic
}

/// "`A`", "`A` and `B`", "`A`, `B` and `C`".
fn list_names<'n>(names: impl Iterator<Item = &'n str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Calls `visit` on every pair of items (including an item with itself)
/// whose literal heads are related: one is a prefix of the other. Only such
/// globs can overlap. Each unordered pair comes once.
///
/// Sorted, the heads that extend a head H directly follow H; a sweep keeping
/// the stack of enclosing heads meets every related pair once, at the later
/// item, in O(n log n + pairs).
fn for_each_related_pair<'p>(
    items: &[u32],
    head: impl Fn(u32) -> &'p str,
    mut visit: impl FnMut(u32, u32),
) {
    let mut sorted: Vec<(&str, u32)> = items.iter().map(|&g| (head(g), g)).collect();
    sorted.sort_unstable();
    let mut stack: Vec<(&str, u32)> = Vec::new();
    for &(h, g) in &sorted {
        while stack.last().is_some_and(|&(top, _)| !h.starts_with(top)) {
            stack.pop();
        }
        visit(g, g);
        for &(_, other) in &stack {
            visit(other, g);
        }
        stack.push((h, g));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Severity;
    use crate::source::FileId;
    use std::cell::Cell;
    use std::collections::HashSet;

    /// Builds inputs with real spans: every string literal is appended to a
    /// fake source text, so labels can be checked by the text they cover.
    #[derive(Default)]
    struct Fixture {
        text: String,
        contracts: Vec<ContractGlobs>,
        parts: Vec<PartGlobs>,
        /// (before, after) pairs: `before` is ordered before `after`
        /// (transitively closed by `sequence`).
        order: HashSet<(usize, usize)>,
        /// How many times the concurrency question was asked.
        asked: Cell<usize>,
    }

    impl Fixture {
        fn literal(&mut self, pattern: &str) -> GlobDecl {
            let start = self.text.len();
            self.text.push_str(&format!("\"{pattern}\" "));
            GlobDecl {
                pattern: pattern.to_string(),
                span: Span::new(FileId(0), start, start + pattern.len() + 2),
            }
        }

        fn contract(&mut self, name: &str, owns: &[&str], reads: &[&str]) -> usize {
            let owns = owns.iter().map(|p| self.literal(p)).collect();
            let reads = reads.iter().map(|p| self.literal(p)).collect();
            self.contracts.push(ContractGlobs {
                name: name.to_string(),
                owns,
                reads,
            });
            self.contracts.len() - 1
        }

        fn part(
            &mut self,
            name: &str,
            contracts: &[usize],
            owns: &[&str],
            reads: &[&str],
        ) -> usize {
            let start = self.text.len();
            self.text.push_str(name);
            self.text.push(' ');
            let name_span = Span::new(FileId(0), start, start + name.len());
            let owns = owns.iter().map(|p| self.literal(p)).collect();
            let reads = reads.iter().map(|p| self.literal(p)).collect();
            self.parts.push(PartGlobs {
                name: name.to_string(),
                name_span,
                contracts: contracts.to_vec(),
                owns,
                reads,
            });
            self.parts.len() - 1
        }

        /// `sequence { a -> b -> ... }`, transitively closed.
        fn sequence(&mut self, chain: &[usize]) {
            for (i, &a) in chain.iter().enumerate() {
                for &b in &chain[i + 1..] {
                    self.order.insert((a, b));
                }
            }
        }

        fn check(&self) -> Vec<Diagnostic> {
            check_boundaries(&self.contracts, &self.parts, self)
        }

        fn covered(&self, span: Span) -> &str {
            &self.text[span.range()]
        }
    }

    impl Concurrency for Fixture {
        fn may_run_together(&self, a: usize, b: usize) -> bool {
            assert!(a < b, "asked about ({a}, {b})");
            self.asked.set(self.asked.get() + 1);
            !self.order.contains(&(a, b)) && !self.order.contains(&(b, a))
        }
    }

    fn codes(diagnostics: &[Diagnostic]) -> Vec<Code> {
        diagnostics.iter().map(|d| d.code).collect()
    }

    fn labels(f: &Fixture, d: &Diagnostic) -> Vec<(bool, String, String)> {
        d.labels
            .iter()
            .map(|l| (l.primary, f.covered(l.span).to_string(), l.message.clone()))
            .collect()
    }

    #[test]
    fn parts_ordered_by_a_sequence_may_own_the_same_files() {
        let mut f = Fixture::default();
        let a = f.part("model", &[], &["src/**"], &[]);
        let b = f.part("store", &[], &["src/**"], &[]);
        f.sequence(&[a, b]);
        assert!(f.check().is_empty());
    }

    #[test]
    fn disjoint_depths_do_not_overlap() {
        let mut f = Fixture::default();
        f.part("top", &[], &["src/*.rs"], &[]);
        f.part("nested", &[], &["src/*/*.rs"], &[]);
        assert!(f.check().is_empty());
    }

    #[test]
    fn concurrent_overlap_is_reported_with_an_example_path() {
        let mut f = Fixture::default();
        f.part("notes", &[], &["**/*.md"], &[]);
        f.part("docs", &[], &["docs/**"], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0401]);
        let d = &diagnostics[0];
        assert_eq!(
            d.message,
            "parts `notes` and `docs` may run at the same time and can both write `docs/a.md`"
        );
        assert_eq!(
            labels(&f, d),
            [
                (true, "\"**/*.md\"".into(), "`notes` may write here".into()),
                (
                    false,
                    "\"docs/**\"".into(),
                    "`docs` may also write here".into()
                ),
                (false, "notes".into(), "not ordered with `docs`".into()),
                (false, "docs".into(), "not ordered with `notes`".into()),
            ]
        );
        assert_eq!(
            d.help.as_deref(),
            Some("order them with `sequence { notes -> docs }`, or make their `owns` disjoint")
        );
    }

    #[test]
    fn one_diagnostic_per_pair_for_the_first_overlapping_globs() {
        let mut f = Fixture::default();
        f.part("a", &[], &["x/**", "y/**"], &[]);
        f.part("b", &[], &["y/**", "x/1"], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0401]);
        // (x/**, x/1) comes before (y/**, y/**) in declaration order.
        assert!(diagnostics[0].message.ends_with("can both write `x/1`"));
    }

    #[test]
    fn overlaps_through_alternatives_at_the_start_are_found() {
        let mut f = Fixture::default();
        f.part("a", &[], &["{src,lib}/a.rs"], &[]);
        f.part("b", &[], &["lib/a.rs"], &[]);
        f.part("c", &[], &["src/{a,b}/**"], &[]);
        f.part("d", &[], &["src/b/x.rs"], &[]);
        let messages: Vec<String> = f.check().into_iter().map(|d| d.message).collect();
        assert_eq!(
            messages,
            [
                "parts `a` and `b` may run at the same time and can both write `lib/a.rs`",
                "parts `c` and `d` may run at the same time and can both write `src/b/x.rs`",
            ]
        );
    }

    #[test]
    fn every_concurrent_pair_is_reported_once() {
        let mut f = Fixture::default();
        let a = f.part("a", &[], &["src/**"], &[]);
        f.part("b", &[], &["src/b/**"], &[]);
        let c = f.part("c", &[], &["src/b/c.rs", "src/**"], &[]);
        f.part("d", &[], &["docs/**"], &[]);
        f.sequence(&[a, c]);
        let diagnostics = f.check();
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "parts `a` and `b` may run at the same time and can both write `src/b/a`",
                "parts `b` and `c` may run at the same time and can both write `src/b/c.rs`",
            ]
        );
    }

    #[test]
    fn a_shared_contract_glob_gets_one_label() {
        let mut f = Fixture::default();
        let storage = f.contract("Storage", &["src/store/**"], &[]);
        f.part("primary", &[storage], &[], &[]);
        f.part("replica", &[storage], &[], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0401]);
        let d = &diagnostics[0];
        assert!(
            d.message.ends_with("can both write `src/store/a`"),
            "{}",
            d.message
        );
        assert_eq!(
            labels(&f, d)[0],
            (
                true,
                "\"src/store/**\"".into(),
                "`primary` and `replica` may both write here (through contract `Storage`)".into()
            )
        );
    }

    #[test]
    fn contract_globs_are_part_of_the_effective_owns() {
        let mut f = Fixture::default();
        let api = f.contract("HttpApi", &["src/api/**", "src/main.rs"], &[]);
        f.part("api", &[api], &[], &[]);
        f.part("cli", &[], &["src/main.rs"], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0401]);
        let d = &diagnostics[0];
        assert!(d.message.ends_with("can both write `src/main.rs`"));
        assert_eq!(
            labels(&f, d)[..2],
            [
                (
                    true,
                    "\"src/main.rs\"".into(),
                    "`api` may write here (through contract `HttpApi`)".into()
                ),
                (
                    false,
                    "\"src/main.rs\"".into(),
                    "`cli` may also write here".into()
                ),
            ]
        );
        // The contract's glob, not the part's.
        assert!(d.labels[0].span.start < f.parts[1].name_span.start);
    }

    #[test]
    fn invalid_globs_are_reported_once_where_written() {
        let mut f = Fixture::default();
        let shared = f.contract("Shared", &["/etc/x"], &["../config.toml"]);
        f.part("a", &[shared], &["src/[ab"], &[]);
        f.part("b", &[shared], &[], &[]);
        f.part("c", &[], &["**"], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0403, Code::E0403, Code::E0403]);
        let absolute = &diagnostics[0];
        assert_eq!(absolute.message, "`/etc/x` is an absolute path");
        assert_eq!(
            absolute.help.as_deref(),
            Some("paths are relative to the workspace: write `etc/x`")
        );
        // Inside the string: just the leading `/`.
        assert_eq!(f.covered(absolute.labels[0].span), "/");
        assert_eq!(
            diagnostics[1].message,
            "`../config.toml` escapes the workspace"
        );
        assert_eq!(f.covered(diagnostics[1].labels[0].span), "..");
        assert_eq!(diagnostics[2].message, "unclosed `[` in glob");
        assert_eq!(f.covered(diagnostics[2].labels[0].span), "[");
        // No E0401 between `c` (`**`) and the invalid globs of `a` and `b`.
    }

    #[test]
    fn invalid_globs_in_escaped_strings_label_the_whole_literal() {
        let mut f = Fixture::default();
        f.part("a", &[], &[], &[]);
        let start = f.text.len();
        f.text.push_str("\"src\\\\x\"");
        f.parts[0].owns.push(GlobDecl {
            pattern: "src\\x".to_string(),
            span: Span::new(FileId(0), start, f.text.len()),
        });
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0403]);
        assert_eq!(f.covered(diagnostics[0].labels[0].span), "\"src\\\\x\"");
        assert_eq!(
            diagnostics[0].help.as_deref(),
            Some("paths use `/` between segments: write `src/x`")
        );
    }

    #[test]
    fn a_part_must_stay_inside_its_contract() {
        let mut f = Fixture::default();
        let storage = f.contract("Storage", &["src/store/**"], &[]);
        f.part("store", &[storage], &["src/store/db/**", "src/x/**"], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0402]);
        let d = &diagnostics[0];
        assert_eq!(
            d.message,
            "part `store` owns `src/x/**` outside contract `Storage`"
        );
        assert_eq!(
            labels(&f, d),
            [
                (
                    true,
                    "\"src/x/**\"".into(),
                    "matches e.g. `src/x/a`, which is outside contract `Storage`".into()
                ),
                (
                    false,
                    "\"src/store/**\"".into(),
                    "`Storage` owns this".into()
                ),
            ]
        );
        assert_eq!(
            d.notes,
            ["a part may own only paths that the `owns` of its contracts allow"]
        );
    }

    #[test]
    fn several_contracts_bound_a_part_by_their_union() {
        let mut f = Fixture::default();
        let store = f.contract("Storage", &["src/store/**"], &[]);
        let api = f.contract("HttpApi", &["src/api/**"], &[]);
        let plain = f.contract("Plain", &[], &[]);
        let both = f.part(
            "both",
            &[store, api, plain],
            &["src/store/a.rs", "src/api/b.rs"],
            &[],
        );
        let wide = f.part("wide", &[store, api], &["src/*/c.rs"], &[]);
        // Both get the contracts' globs: ordered, so no E0401.
        f.sequence(&[both, wide]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0402]);
        assert_eq!(
            diagnostics[0].message,
            "part `wide` owns `src/*/c.rs` outside contracts `Storage` and `HttpApi`"
        );
        assert!(diagnostics[0].labels[0].message.contains("`src/a/c.rs`"));
    }

    #[test]
    fn contracts_without_owns_or_with_invalid_owns_do_not_bound() {
        let mut f = Fixture::default();
        let plain = f.contract("Plain", &[], &["src/**"]);
        let broken = f.contract("Broken", &["src/[x"], &[]);
        f.part("free", &[plain], &["anything/**"], &[]);
        f.part("unknown", &[broken], &["elsewhere/**"], &[]);
        assert_eq!(codes(&f.check()), [Code::E0403]);
    }

    #[test]
    fn reading_what_a_concurrent_part_writes_is_a_warning() {
        let mut f = Fixture::default();
        let store = f.part("store", &[], &["src/store/**"], &[]);
        let api = f.part("api", &[], &["src/api/**"], &["src/**"]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::W0404]);
        let d = &diagnostics[0];
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(
            d.message,
            "part `api` reads `src/store/a`, which `store` may be writing at the same time"
        );
        assert_eq!(
            labels(&f, d),
            [
                (true, "\"src/**\"".into(), "`api` reads here".into()),
                (
                    false,
                    "\"src/store/**\"".into(),
                    "`store` may write here".into()
                ),
            ]
        );
        f.sequence(&[store, api]);
        assert!(f.check().is_empty());
    }

    #[test]
    fn one_warning_per_reader_and_writer() {
        let mut f = Fixture::default();
        let model = f.contract("Model", &[], &["src/model.rs"]);
        f.part("a", &[model], &["a/**"], &["b/**", "b/x"]);
        f.part("b", &[], &["b/**", "src/*.rs"], &["a/**"]);
        let diagnostics = f.check();
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "part `a` reads `b/a`, which `b` may be writing at the same time",
                "part `b` reads `a/a`, which `a` may be writing at the same time",
            ]
        );
        // Parts that both write what they read get the E0401 alone.
        let mut both = Fixture::default();
        both.part("x", &[], &["src/**"], &["src/**"]);
        both.part("y", &[], &["src/**"], &["src/**"]);
        assert_eq!(codes(&both.check()), [Code::E0401]);
        // A part reading what it writes itself is fine.
        let mut g = Fixture::default();
        g.part("self", &[], &["src/**"], &["src/**"]);
        assert!(g.check().is_empty());
    }

    #[test]
    fn related_pairs_are_exactly_the_prefix_related_ones() {
        let heads = [
            "", "src/", "src/a/", "src/a/b", "src/ab", "src-x/", "docs/", "src/a/", "s",
        ];
        let items: Vec<u32> = (0..heads.len() as u32).collect();
        let mut got: Vec<(u32, u32)> = Vec::new();
        for_each_related_pair(
            &items,
            |g| heads[g as usize],
            |a, b| {
                got.push((a.min(b), a.max(b)));
            },
        );
        got.sort_unstable();
        let mut want = Vec::new();
        for a in 0..heads.len() {
            for b in a..heads.len() {
                if heads[a].starts_with(heads[b]) || heads[b].starts_with(heads[a]) {
                    want.push((a as u32, b as u32));
                }
            }
        }
        assert_eq!(got, want);
    }

    /// A large score: every module is independent of the others, so
    /// nothing may be compared pairwise; only globs whose literal text
    /// agrees reach the concurrency question.
    #[test]
    fn large_scores_compare_only_related_globs() {
        let mut f = Fixture::default();
        let module = f.contract("Module", &[], &["src/shared/api.rs"]);
        let shared = f.part("shared", &[], &["src/shared/**", "**/*.md"], &[]);
        let n = 3000;
        for i in 0..n {
            // A directory each, and files in one flat directory told apart
            // by their tails.
            let owns = [format!("src/mod{i}/**"), format!("src/handlers/*_m{i}.rs")];
            let p = f.part(&format!("m{i}"), &[module], &[&owns[0], &owns[1]], &[]);
            f.order.insert((shared, p));
        }
        let diagnostics = f.check();
        assert!(diagnostics.is_empty(), "{:?}", diagnostics.first());
        // Only `shared` against each module: its `**/*.md` against their
        // directory, its `src/shared/**` against their read. Linear, where
        // comparing all pairs of parts would ask n²/2 = 4.5 million times.
        assert_eq!(f.asked.get(), 2 * n);

        // One unordered module that overlaps is still found.
        f.part("rogue", &[], &["src/mod1234/x.rs"], &[]);
        let diagnostics = f.check();
        assert_eq!(codes(&diagnostics), [Code::E0401]);
        assert_eq!(
            diagnostics[0].message,
            "parts `m1234` and `rogue` may run at the same time and can both write \
             `src/mod1234/x.rs`"
        );
    }
}
