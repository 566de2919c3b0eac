//! The little of Markdown the spec-kit importer needs: lines with their
//! numbers, headings, and the regions whose content is not prose (code
//! fences, HTML comments) so that an example inside them is never read as
//! a task or a story.
//!
//! Real files are not CommonMark-clean, and this reader does not try to be a
//! full parser: it classifies lines, never fails, and never panics.

/// One line of a Markdown file, without its line ending (`\n` or `\r\n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// 1-based, as editors show it.
    pub number: usize,
    pub text: &'a str,
    pub kind: LineKind<'a>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LineKind<'a> {
    /// `#`..`######` followed by a space (or nothing); the title is trimmed
    /// and loses closing `#`s.
    Heading { level: usize, title: &'a str },
    /// Inside a fenced code block or an HTML comment, or a fence line
    /// itself: never read as content.
    Hidden,
    /// Anything else, blank lines included.
    Text,
}

/// Split `text` into classified lines. A fence is three or more backticks
/// or tildes (indented at most 3 spaces) and is closed by a fence of the
/// same character at least as long; an unclosed fence hides the rest of the
/// file, as in CommonMark. An HTML comment hides the lines from `<!--` to
/// `-->`.
pub(crate) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    let mut in_comment = false;
    for (index, raw) in text.split('\n').enumerate() {
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index + 1;
        let kind = if let Some((c, len)) = fence {
            if let Some((c2, len2)) = fence_marker(text)
                && c2 == c
                && len2 >= len
                && text.trim_start().trim_start_matches(c).trim().is_empty()
            {
                fence = None;
            }
            LineKind::Hidden
        } else if in_comment {
            if text.contains("-->") {
                in_comment = false;
            }
            LineKind::Hidden
        } else if let Some(marker) = fence_marker(text) {
            fence = Some(marker);
            LineKind::Hidden
        } else if text.trim_start().starts_with("<!--") {
            let after = &text.trim_start()[4..];
            if !after.contains("-->") {
                in_comment = true;
            }
            LineKind::Hidden
        } else if let Some((level, title)) = heading(text) {
            LineKind::Heading { level, title }
        } else {
            LineKind::Text
        };
        out.push(Line { number, text, kind });
    }
    // A file ending with a newline has an empty last "line" that no editor
    // shows.
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// The fence character and length of a fence line (at most 3 spaces of
/// indentation), or `None`.
fn fence_marker(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let len = rest.chars().take_while(|&x| x == c).count();
    (len >= 3).then_some((c, len))
}

/// An ATX heading: up to 3 spaces, 1 to 6 `#`, then a space or the end.
fn heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let after = &rest[level..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    let title = after.trim().trim_end_matches('#').trim_end();
    Some((level, title))
}

/// `text` without Markdown emphasis markers (`**`, `__`) and code ticks,
/// and with runs of whitespace collapsed to one space: what a reader sees.
pub(crate) fn plain(text: &str) -> String {
    let cleaned = text.replace("**", "").replace("__", "").replace('`', "");
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<LineKind<'_>> {
        lines(text).into_iter().map(|l| l.kind).collect()
    }

    #[test]
    fn headings_fences_and_comments_are_classified() {
        let text =
            "# Title\r\n## Phase 1 ##\n```md\n- [ ] T001 x\n```\n<!--\nT002\n-->\n#nope\ntext\n";
        assert_eq!(
            kinds(text),
            [
                LineKind::Heading {
                    level: 1,
                    title: "Title"
                },
                LineKind::Heading {
                    level: 2,
                    title: "Phase 1"
                },
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Text,
                LineKind::Text,
            ]
        );
        let numbers: Vec<usize> = lines(text).iter().map(|l| l.number).collect();
        assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
        assert_eq!(lines(text)[0].text, "# Title");
    }

    #[test]
    fn a_fence_closes_only_with_its_own_character_and_length() {
        let text = "````\n```\n~~~\n````\nafter";
        assert_eq!(
            kinds(text),
            [
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Hidden,
                LineKind::Text
            ]
        );
    }

    #[test]
    fn plain_drops_emphasis_and_ticks() {
        assert_eq!(plain("**Given**  a `x`,\tthen"), "Given a x, then");
    }
}
