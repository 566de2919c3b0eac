//! Reading a spec-kit `spec.md`: the user stories that become intents.
//!
//! The format (spec-kit's `templates/spec-template.md`): headings
//! `### User Story 1 - Title (Priority: P1)`, each followed by prose and numbered
//! acceptance scenarios (`1. **Given** ..., **When** ..., **Then** ...`),
//! and `**SC-001**: ...` success criteria for the whole feature. Stories
//! in other languages are recognised by a few common words for "user
//! story", or by `US` and a number.

use super::markdown::{self, LineKind};
use super::{Source, Warning};

/// A heading that names a user story.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoryHeading {
    pub number: u32,
    /// The title, without the number and the priority.
    pub title: String,
    /// `P1` → 1.
    pub priority: Option<u32>,
}

/// One user story of spec.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Story {
    pub heading: StoryHeading,
    pub line: usize,
    /// The acceptance scenarios, as plain text.
    pub scenarios: Vec<String>,
}

/// Everything read from one spec.md.
#[derive(Clone, Debug, Default)]
pub(crate) struct Spec {
    /// The feature's name, from the level-1 heading.
    pub title: Option<String>,
    pub stories: Vec<Story>,
    /// `SC-00N` measurable outcomes, as plain text.
    pub success: Vec<String>,
    pub warnings: Vec<Warning>,
}

/// Words that say "user story", ASCII ones in lower case.
const STORY_WORDS: &[&str] = &[
    "user story",
    "user-story",
    "userstory",
    "historia de usuario",
    "história de usuário",
    "história do usuário",
    "histoire utilisateur",
    "récit utilisateur",
    "storia utente",
    "benutzergeschichte",
    "user-geschichte",
    "gebruikersverhaal",
    "ユーザーストーリー",
    "用户故事",
    "使用者故事",
    "사용자 스토리",
    "story",
];

/// Read a heading's text as a user story heading: a word for "user story"
/// (or `US`) and a number, then an optional title and `(Priority: Pn)`.
pub(crate) fn story_heading(text: &str) -> Option<StoryHeading> {
    let lower = text.to_ascii_lowercase();
    let mut after_keyword = None;
    for word in STORY_WORDS {
        if let Some(at) = lower.find(word) {
            let end = at + word.len();
            if after_keyword.is_none_or(|(start, _)| at < start) {
                after_keyword = Some((at, end));
            }
        }
    }
    // `US1` / `US 1` as a whole word.
    if after_keyword.is_none() {
        let bytes = lower.as_bytes();
        let mut from = 0;
        while let Some(found) = lower[from..].find("us") {
            let at = from + found;
            let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
            let next = lower[at + 2..].trim_start_matches([' ', '-']);
            if boundary && next.starts_with(|c: char| c.is_ascii_digit()) {
                after_keyword = Some((at, at + 2));
                break;
            }
            from = at + 2;
        }
    }
    let (_, end) = after_keyword?;
    let rest = text[end..].trim_start_matches([' ', '#', '-', '\u{a0}']);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 6 {
        return None;
    }
    let number: u32 = rest[..digits].parse().ok()?;
    let rest = rest[digits..].trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | '.' | ')' | '：')
    });
    let (title, priority) = split_priority(rest);
    let title = markdown::plain(
        title.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':')),
    );
    let title = if title.is_empty() {
        format!("User story {number}")
    } else {
        title
    };
    Some(StoryHeading {
        number,
        title,
        priority,
    })
}

/// The title before a parenthesis holding a priority (`(Priority: P1)`,
/// `(Prioridad: P2)`, `（优先级：P1）`), and that priority.
fn split_priority(text: &str) -> (&str, Option<u32>) {
    for open in ['(', '（'] {
        let mut from = 0;
        while let Some(found) = text[from..].find(open) {
            let at = from + found;
            let inner_start = at + open.len_utf8();
            let inner_end = text[inner_start..]
                .find([')', '）'])
                .map_or(text.len(), |e| inner_start + e);
            if let Some(p) = priority_in(&text[inner_start..inner_end]) {
                return (&text[..at], Some(p));
            }
            from = inner_start;
        }
    }
    (text, None)
}

/// `P1` as a word in `text` → 1.
fn priority_in(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if (b == b'P' || b == b'p') && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let end = i + 1 + digits;
            if (1..=3).contains(&digits)
                && bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric())
            {
                return text[i + 1..end].parse().ok();
            }
        }
    }
    None
}

/// Read `text`, the content of a spec.md.
pub(crate) fn read(text: &str) -> Spec {
    let lines = markdown::lines(text);
    let mut spec = Spec::default();
    // The story being read, with its heading level.
    let mut current: Option<(usize, usize)> = None;
    // Story number → its line, for repeats.
    let mut lines_of: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for line in &lines {
        match line.kind {
            LineKind::Hidden => {}
            LineKind::Heading { level, title } => {
                if level == 1 && spec.title.is_none() {
                    let plain = markdown::plain(title);
                    let name = plain
                        .split_once(':')
                        .map_or(plain.as_str(), |(_, n)| n)
                        .trim();
                    spec.title = Some(name.to_string());
                }
                if current.is_some_and(|(_, story_level)| level <= story_level) {
                    current = None;
                }
                if level >= 2
                    && let Some(heading) = story_heading(title)
                {
                    if let Some(&first) = lines_of.get(&heading.number) {
                        spec.warnings.push(Warning {
                            source: Source::Spec,
                            line: line.number,
                            message: format!(
                                "user story {} is declared again (first at line {}); this one is \
                                 ignored",
                                heading.number, first
                            ),
                        });
                        continue;
                    }
                    lines_of.insert(heading.number, line.number);
                    spec.stories.push(Story {
                        heading,
                        line: line.number,
                        scenarios: Vec::new(),
                    });
                    current = Some((spec.stories.len() - 1, level));
                }
            }
            LineKind::Text => {
                let t = line.text.trim();
                if let Some(item) = list_item(t) {
                    let plain = markdown::plain(item);
                    if let Some(criterion) = success_criterion(&plain) {
                        spec.success.push(criterion.to_string());
                    } else if let Some((story, _)) = current
                        && (numbered(t) || plain.to_ascii_lowercase().starts_with("given"))
                        && !plain.is_empty()
                    {
                        spec.stories[story].scenarios.push(plain);
                    }
                }
            }
        }
    }
    spec
}

/// The text of a list item (`- x`, `* x`, `1. x`).
fn list_item(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    numbered_item(line)
}

fn numbered_item(line: &str) -> Option<&str> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let rest = &line[digits..];
    rest.strip_prefix(". ")
        .or_else(|| rest.strip_prefix(") "))
        .map(str::trim)
}

fn numbered(line: &str) -> bool {
    numbered_item(line).is_some()
}

/// `SC-001: text` → `text`.
fn success_criterion(plain: &str) -> Option<&str> {
    let rest = plain.strip_prefix("SC-")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let text = rest[digits..].trim_start_matches([':', ' ']).trim();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_headings_in_several_shapes() {
        let h = story_heading("User Story 1 - Sign in (Priority: P1) 🎯 MVP").unwrap();
        assert_eq!(
            (h.number, h.title.as_str(), h.priority),
            (1, "Sign in", Some(1))
        );
        let h = story_heading("Phase 3: User Story 2 — Reset password (Priority: P2)").unwrap();
        assert_eq!(
            (h.number, h.title.as_str(), h.priority),
            (2, "Reset password", Some(2))
        );
        let h = story_heading("Historia de usuario 3 - Buscar (Prioridad: P3)").unwrap();
        assert_eq!(
            (h.number, h.title.as_str(), h.priority),
            (3, "Buscar", Some(3))
        );
        let h = story_heading("用户故事 4 - 导出数据（优先级：P2）").unwrap();
        assert_eq!(
            (h.number, h.title.as_str(), h.priority),
            (4, "导出数据", Some(2))
        );
        let h = story_heading("US5: Admin").unwrap();
        assert_eq!((h.number, h.title.as_str(), h.priority), (5, "Admin", None));
        assert!(story_heading("Phase 1: Setup").is_none());
        assert!(story_heading("Business rules").is_none());
        assert!(story_heading("User Stories").is_none());
    }

    #[test]
    fn stories_scenarios_and_success_criteria() {
        let text = "# Feature Specification: Login\r\n\r\n## User Scenarios\r\n\r\n### User Story 1 - Sign in (Priority: P1)\r\n\r\nText.\r\n\r\n**Acceptance Scenarios**:\r\n\r\n1. **Given** an account, **When** it signs in, **Then** it sees home\r\n2. **Given** a wrong password, **Then** an error\r\n\r\n### Edge Cases\r\n\r\n1. not a scenario\r\n\r\n## Success Criteria\r\n\r\n- **SC-001**: Sign in takes under 2 s\r\n";
        let spec = read(text);
        assert_eq!(spec.title.as_deref(), Some("Login"));
        assert_eq!(spec.stories.len(), 1);
        assert_eq!(spec.stories[0].line, 5);
        assert_eq!(
            spec.stories[0].scenarios,
            [
                "Given an account, When it signs in, Then it sees home",
                "Given a wrong password, Then an error"
            ]
        );
        assert_eq!(spec.success, ["Sign in takes under 2 s"]);
    }
}
