//! The registry of diagnostic codes: the one place where codes, their
//! severities, titles and long explanations live. `score explain CODE` and
//! `docs/errors.md` are generated from it.

use super::Severity;
use std::fmt;

/// A diagnostic code such as `E0401`. Codes are stable: tools and tests rely
/// on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    E0001,
    E0002,
    E0101,
    E0102,
    E0103,
    E0104,
    E0105,
    W0106,
    E0201,
    E0202,
    E0203,
    E0204,
    E0205,
    E0301,
    E0401,
    E0402,
    E0403,
    W0404,
    E0501,
    E0502,
    E0503,
    W0601,
    W0602,
    W0603,
}

/// Everything the registry knows about one code.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub severity: Severity,
    /// One line, lower case, no final period: "unknown name".
    pub title: &'static str,
    /// Markdown: what the rule is, why it exists, a wrong and a right example.
    pub explanation: &'static str,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0001 => "E0001",
            Code::E0002 => "E0002",
            Code::E0101 => "E0101",
            Code::E0102 => "E0102",
            Code::E0103 => "E0103",
            Code::E0104 => "E0104",
            Code::E0105 => "E0105",
            Code::W0106 => "W0106",
            Code::E0201 => "E0201",
            Code::E0202 => "E0202",
            Code::E0203 => "E0203",
            Code::E0204 => "E0204",
            Code::E0205 => "E0205",
            Code::E0301 => "E0301",
            Code::E0401 => "E0401",
            Code::E0402 => "E0402",
            Code::E0403 => "E0403",
            Code::W0404 => "W0404",
            Code::E0501 => "E0501",
            Code::E0502 => "E0502",
            Code::E0503 => "E0503",
            Code::W0601 => "W0601",
            Code::W0602 => "W0602",
            Code::W0603 => "W0603",
        }
    }

    /// Look a code up by its text, case-insensitively (`e0401` works too).
    pub fn parse(text: &str) -> Option<Code> {
        CODES
            .iter()
            .map(|info| info.code)
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn info(self) -> &'static CodeInfo {
        CODES
            .iter()
            .find(|info| info.code == self)
            .expect("every code is in the registry")
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }

    pub fn title(self) -> &'static str {
        self.info().title
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! registry {
    ($($code:ident, $severity:ident, $title:literal, $file:literal;)*) => {
        /// Every code, in order.
        pub static CODES: &[CodeInfo] = &[
            $(CodeInfo {
                code: Code::$code,
                severity: Severity::$severity,
                title: $title,
                explanation: include_str!(concat!("explanations/", $file)),
            },)*
        ];
    };
}

registry! {
    E0001, Error, "syntax error", "E0001.md";
    E0002, Error, "unterminated string or text block", "E0002.md";
    E0101, Error, "unknown name", "E0101.md";
    E0102, Error, "duplicate definition", "E0102.md";
    E0103, Error, "unresolved import", "E0103.md";
    E0104, Error, "unknown setting", "E0104.md";
    E0105, Error, "missing required setting", "E0105.md";
    W0106, Warning, "import never used", "W0106.md";
    E0201, Error, "type mismatch in a binding", "E0201.md";
    E0202, Error, "input never bound", "E0202.md";
    E0203, Error, "binding to an output the source does not produce", "E0203.md";
    E0204, Error, "record type with no finite value", "E0204.md";
    E0205, Error, "wrong arguments to a check", "E0205.md";
    E0301, Error, "cycle in the sequence", "E0301.md";
    E0401, Error, "parts that may run at the same time can write the same path", "E0401.md";
    E0402, Error, "part owns a path outside its contract", "E0402.md";
    E0403, Error, "invalid path or glob", "E0403.md";
    W0404, Warning, "part reads what a concurrent part may write", "W0404.md";
    E0501, Error, "part is more complex than its agent's tier", "E0501.md";
    E0502, Error, "unknown agent provider", "E0502.md";
    E0503, Error, "part has no agent", "E0503.md";
    W0601, Warning, "intent served by no part", "W0601.md";
    W0602, Warning, "part serves no intent", "W0602.md";
    W0603, Warning, "intent without acceptance criteria", "W0603.md";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_complete() {
        let mut seen = HashSet::new();
        for info in CODES {
            assert!(seen.insert(info.code), "{} listed twice", info.code);
            assert_eq!(Code::parse(info.code.as_str()), Some(info.code));
            assert!(!info.title.is_empty());
            assert!(
                info.explanation.trim().len() > 40,
                "{} needs an explanation",
                info.code
            );
            let prefix = if info.severity == Severity::Warning {
                'W'
            } else {
                'E'
            };
            assert!(info.code.as_str().starts_with(prefix));
        }
        let titles: HashSet<_> = CODES.iter().map(|i| i.title).collect();
        assert_eq!(titles.len(), CODES.len(), "titles are unique");
    }

    #[test]
    fn parse_is_case_insensitive() {
        assert_eq!(Code::parse("e0401"), Some(Code::E0401));
        assert_eq!(Code::parse("E9999"), None);
    }
}
