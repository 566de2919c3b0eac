//! Overlap ([`intersection`]) and inclusion ([`difference`]) of globs, exact,
//! with example paths.

use super::{Compiled, FastMap, Glob, Nfa};
use std::collections::BTreeMap;

/// A path matched by both globs, or `None` if no path is. See the module
/// documentation for which example is chosen.
pub fn intersection(a: &Glob, b: &Glob) -> Option<String> {
    if !may_overlap(a, b) {
        return None;
    }
    if let Some(path) = a.as_literal() {
        return b.matches(path).then(|| path.to_string());
    }
    if let Some(path) = b.as_literal() {
        return a.matches(path).then(|| path.to_string());
    }
    let (a, b) = (a.compiled(), b.compiled());
    let alphabet = alphabet(&[&a.cuts, &b.cuts]);
    let (a, b) = (&a.nfa, &b.nfa);
    first_path(
        (0u32, 0u32),
        &alphabet,
        |(qa, qb)| (u64::from(qa) << 29) | u64::from(qb),
        |(qa, qb), c, out| {
            for &sa in &a.follow[qa as usize] {
                if !a.sets[sa as usize].contains(c) {
                    continue;
                }
                for &sb in &b.follow[qb as usize] {
                    if b.sets[sb as usize].contains(c) {
                        out.push(((sa, sb), a.accept[sa as usize] && b.accept[sb as usize]));
                    }
                }
            }
        },
    )
}

/// A path matched by `a` and by none of `union`, or `None` if every path of
/// `a` is matched by some glob of `union` (with an empty union: an example
/// path of `a`). Accepts `&[Glob]`, `&Vec<Glob>` or an iterator of `&Glob`.
pub fn difference<'g>(a: &Glob, union: impl IntoIterator<Item = &'g Glob>) -> Option<String> {
    // Globs that cannot overlap `a` cannot cover any of its paths.
    let union: Vec<&Glob> = union.into_iter().filter(|u| may_overlap(a, u)).collect();
    // Every match of `a` starts with its head; `DIR/**` covers all of
    // them when the head is inside `DIR/` (the common contract case).
    if union.iter().any(|u| {
        u.pattern == a.pattern || (u.below && a.literal_head().starts_with(u.literal_head()))
    }) {
        return None;
    }
    if let Some(path) = a.as_literal() {
        return (!union.iter().any(|u| u.matches(path))).then(|| path.to_string());
    }
    let a = a.compiled();
    let union: Vec<&Compiled> = union.iter().map(|u| u.compiled()).collect();
    let mut cuts: Vec<&[u32]> = vec![&a.cuts];
    cuts.extend(union.iter().map(|u| u.cuts.as_slice()));
    let alphabet = alphabet(&cuts);
    let nfas: Vec<&Nfa> = union.iter().map(|u| &u.nfa).collect();
    let mut dfa = SubsetDfa::new(&nfas);
    let a = &a.nfa;
    first_path(
        (0u32, 0u32),
        &alphabet,
        |(qa, d)| (u64::from(qa) << 32) | u64::from(d),
        |(qa, d), c, out| {
            let mut d2 = None;
            for &sa in &a.follow[qa as usize] {
                if a.sets[sa as usize].contains(c) {
                    let d2 = *d2.get_or_insert_with(|| dfa.step(d, c));
                    let accepting = a.accept[sa as usize] && !dfa.accepting[d2 as usize];
                    out.push(((sa, d2), accepting));
                }
            }
        },
    )
}

/// A cheap necessary condition for an overlap, from literal text alone:
/// every match of a glob starts with its literal head and ends with its
/// literal tail, so `false` (heads or tails that disagree, as in `src/*.rs`
/// and `src/*.md`) means the globs are disjoint. `true` decides nothing.
pub fn may_overlap(a: &Glob, b: &Glob) -> bool {
    let (ha, hb) = (a.literal_head(), b.literal_head());
    let (ta, tb) = (a.literal_tail(), b.literal_tail());
    (ha.starts_with(hb) || hb.starts_with(ha)) && (ta.ends_with(tb) || tb.ends_with(ta))
}

fn has_hidden_segment(path: &str) -> bool {
    path.split('/').any(|segment| segment.starts_with('.'))
}

// ---------------------------------------------------------------------------
// The alphabet

/// One representative character per class of characters that no glob of
/// the comparison tells apart, in the preferred order for examples.
///
/// The cut points of every glob split the code points into intervals; within
/// an interval, every predicate of every glob has the same value, so testing
/// one character of it stands for all.
fn alphabet(cut_lists: &[&[u32]]) -> Vec<char> {
    let mut cuts: Vec<u32> = cut_lists.iter().flat_map(|c| c.iter().copied()).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut reps = Vec::with_capacity(cuts.len() + 1);
    let mut lo = 0;
    for cut in cuts
        .into_iter()
        .chain(std::iter::once(char::MAX as u32 + 1))
    {
        if cut > lo {
            if let Some(c) = best_char(lo, cut) {
                reps.push(c);
            }
            lo = cut;
        }
    }
    reps.sort_by_key(|&c| rank(c));
    reps
}

/// The preference order of characters in example paths.
fn rank(c: char) -> u32 {
    let code = c as u32;
    match c {
        'a'..='z' => code - 'a' as u32,
        '0'..='9' => 26 + code - '0' as u32,
        'A'..='Z' => 36 + code - 'A' as u32,
        '_' => 62,
        '-' => 63,
        '!'..='~' => 64 + code,
        _ if !c.is_control() => 0x200 + code,
        _ => 0x20_0000 + code,
    }
}

/// The most readable character in the code point interval `[lo, hi)`.
fn best_char(lo: u32, hi: u32) -> Option<char> {
    let within = |from: char, to: char| {
        let start = lo.max(from as u32);
        (start < hi.min(to as u32 + 1))
            .then(|| char::from_u32(start))
            .flatten()
    };
    within('a', 'z')
        .or_else(|| within('0', '9'))
        .or_else(|| within('A', 'Z'))
        .or_else(|| within('_', '_'))
        .or_else(|| within('-', '-'))
        .or_else(|| within('!', '~'))
        .or_else(|| first_valid(lo.max(0xA0), hi))
        .or_else(|| first_valid(lo, hi))
}

/// The first `char` in `[lo, hi)` (skipping surrogates).
fn first_valid(lo: u32, hi: u32) -> Option<char> {
    let start = if (0xD800..0xE000).contains(&lo) {
        0xE000
    } else {
        lo
    };
    (start < hi).then(|| char::from_u32(start)).flatten()
}

// ---------------------------------------------------------------------------
// The valid-path automaton: non-empty segments, none of them `.` or `..`.

const SEGMENT_START: u8 = 0;
const ONE_DOT: u8 = 1;
const TWO_DOTS: u8 = 2;
const IN_SEGMENT: u8 = 3;
const DEAD: u8 = 4;

#[inline]
fn valid_step(state: u8, c: char) -> u8 {
    match c {
        '/' if state == IN_SEGMENT => SEGMENT_START,
        '/' => DEAD,
        '.' => match state {
            SEGMENT_START => ONE_DOT,
            ONE_DOT => TWO_DOTS,
            _ => IN_SEGMENT,
        },
        _ => IN_SEGMENT,
    }
}

// ---------------------------------------------------------------------------
// Searches

/// The search shared by [`intersection`] and [`difference`], over the
/// product of some automaton (states `S`, moved by `step`) with the
/// valid-path automaton.
///
/// `step(state, c, out)` pushes every successor of `state` on `c` with
/// whether it is accepting; `key` packs a state into 61 bits for the visited
/// set. Returns the first accepted path in the order (fewest segments that
/// start with `.`, length, characters by [`rank`]).
fn first_path<S: Copy>(
    start: S,
    alphabet: &[char],
    key: impl Fn(S) -> u64,
    mut step: impl FnMut(S, char, &mut Vec<(S, bool)>),
) -> Option<String> {
    let found = shortest(start, alphabet, &key, &mut step)?;
    if !has_hidden_segment(&found) {
        // Shortest and first among the shortest, with no hidden segment:
        // optimal in the full order too.
        return Some(found);
    }
    fewest_hidden(start, alphabet, &key, &mut step).or(Some(found))
}

struct Entry<S> {
    state: S,
    valid: u8,
    parent: u32,
    c: char,
}

fn read_path<S>(nodes: &[Entry<S>], mut node: usize) -> String {
    let mut chars = Vec::new();
    while node != 0 {
        chars.push(nodes[node].c);
        node = nodes[node].parent as usize;
    }
    chars.iter().rev().collect()
}

/// Breadth-first search for the first shortest accepted path.
///
/// The automata are nondeterministic, so one path reaches several nodes.
/// Nodes are kept in groups that share their path, and each level is
/// generated group by group, character by character: the level is then in
/// path order, and the first accepting node found has the first path.
fn shortest<S: Copy>(
    start: S,
    alphabet: &[char],
    key: &impl Fn(S) -> u64,
    step: &mut impl FnMut(S, char, &mut Vec<(S, bool)>),
) -> Option<String> {
    let mut nodes = vec![Entry {
        state: start,
        valid: SEGMENT_START,
        parent: u32::MAX,
        c: '\0',
    }];
    let mut seen: FastMap<u64, ()> = FastMap::default();
    seen.insert(key(start) << 3 | SEGMENT_START as u64, ());
    // Groups of nodes as (start, end) ranges of `nodes`; the start node
    // alone first.
    let mut level: Vec<(usize, usize)> = vec![(0, 1)];
    let mut successors = Vec::new();
    while !level.is_empty() {
        let mut next_level = Vec::new();
        for (group_first, group_end) in level {
            // Every node of a group has the same path, hence the same
            // valid-path state.
            let valid = nodes[group_first].valid;
            for &c in alphabet {
                let valid2 = valid_step(valid, c);
                if valid2 == DEAD {
                    continue;
                }
                let group_start = nodes.len();
                for node in group_first..group_end {
                    successors.clear();
                    step(nodes[node].state, c, &mut successors);
                    for &(state, accepting) in &successors {
                        if seen.insert(key(state) << 3 | valid2 as u64, ()).is_some() {
                            continue;
                        }
                        nodes.push(Entry {
                            state,
                            valid: valid2,
                            parent: node as u32,
                            c,
                        });
                        if accepting && valid2 == IN_SEGMENT {
                            return Some(read_path(&nodes, nodes.len() - 1));
                        }
                    }
                }
                if nodes.len() > group_start {
                    next_level.push((group_start, nodes.len()));
                }
            }
        }
        level = next_level;
    }
    None
}

/// Compare paths of equal length in example order.
fn path_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.chars().map(rank).cmp(b.chars().map(rank))
}

/// Dijkstra over (hidden segments, length, path): only run when the
/// shortest example has a segment starting with `.`, to look for one with
/// fewer (`docs/a.md` rather than `docs/.md`).
fn fewest_hidden<S: Copy>(
    start: S,
    alphabet: &[char],
    key: &impl Fn(S) -> u64,
    step: &mut impl FnMut(S, char, &mut Vec<(S, bool)>),
) -> Option<String> {
    type Bucket<S> = Vec<(String, S, u8, bool)>;
    let mut buckets: BTreeMap<(u32, u32), Bucket<S>> = BTreeMap::new();
    buckets.insert((0, 0), vec![(String::new(), start, SEGMENT_START, false)]);
    let mut settled: FastMap<u64, ()> = FastMap::default();
    let mut successors = Vec::new();
    while let Some(((hidden, length), mut items)) = buckets.pop_first() {
        items.sort_by(|x, y| path_order(&x.0, &y.0));
        for (path, state, valid, accepting) in items {
            if settled.insert(key(state) << 3 | valid as u64, ()).is_some() {
                continue;
            }
            if accepting && valid == IN_SEGMENT {
                return Some(path);
            }
            for &c in alphabet {
                let valid2 = valid_step(valid, c);
                if valid2 == DEAD {
                    continue;
                }
                let hidden2 = hidden + u32::from(valid == SEGMENT_START && c == '.');
                successors.clear();
                step(state, c, &mut successors);
                for &(next, accepting2) in &successors {
                    if settled.contains_key(&(key(next) << 3 | valid2 as u64)) {
                        continue;
                    }
                    let mut path2 = String::with_capacity(path.len() + c.len_utf8());
                    path2.push_str(&path);
                    path2.push(c);
                    buckets
                        .entry((hidden2, length + 1))
                        .or_default()
                        .push((path2, next, valid2, accepting2));
                }
            }
        }
    }
    None
}

/// The subset automaton of a union of position automata, built lazily.
/// A subset is a sorted list of (automaton index, state) pairs.
struct SubsetDfa<'g> {
    nfas: &'g [&'g Nfa],
    subsets: Vec<Vec<(u32, u32)>>,
    accepting: Vec<bool>,
    ids: FastMap<Vec<(u32, u32)>, u32>,
    /// (subset, character) → subset.
    steps: FastMap<(u32, char), u32>,
}

impl<'g> SubsetDfa<'g> {
    fn new(nfas: &'g [&'g Nfa]) -> SubsetDfa<'g> {
        let mut dfa = SubsetDfa {
            nfas,
            subsets: Vec::new(),
            accepting: Vec::new(),
            ids: FastMap::default(),
            steps: FastMap::default(),
        };
        let start = (0..nfas.len() as u32).map(|k| (k, 0)).collect();
        dfa.intern(start);
        dfa
    }

    fn intern(&mut self, subset: Vec<(u32, u32)>) -> u32 {
        if let Some(&id) = self.ids.get(&subset) {
            return id;
        }
        let id = self.subsets.len() as u32;
        let accepting = subset
            .iter()
            .any(|&(k, q)| self.nfas[k as usize].accept[q as usize]);
        self.accepting.push(accepting);
        self.subsets.push(subset.clone());
        self.ids.insert(subset, id);
        id
    }

    fn step(&mut self, from: u32, c: char) -> u32 {
        if let Some(&to) = self.steps.get(&(from, c)) {
            return to;
        }
        let mut next: Vec<(u32, u32)> = Vec::new();
        for &(k, q) in &self.subsets[from as usize] {
            let nfa = self.nfas[k as usize];
            next.extend(
                nfa.follow[q as usize]
                    .iter()
                    .filter(|&&s| nfa.sets[s as usize].contains(c))
                    .map(|&s| (k, s)),
            );
        }
        next.sort_unstable();
        next.dedup();
        let to = self.intern(next);
        self.steps.insert((from, c), to);
        to
    }
}
