//! Redaction: the secrets the runtime holds never leave it, in any form.
//!
//! A program the runtime starts is an adversary (see `docs/security.md`):
//! it may print a key it was given (`pass_env`) or found, and not always
//! as it was given. A literal byte match misses the key that comes back
//! JSON-escaped (`sk-a\/b`), URL-encoded or base64-encoded, so a
//! [`Redactor`] masks every form a secret can take in stored or printed
//! bytes:
//!
//! - the raw bytes;
//! - JSON-escaped: serde's escaping, with `/` as `\/` (PHP, some Java
//!   encoders), ASCII-only (`\u00e9`, Python's default, both hex cases),
//!   and escaped twice (a JSON string inside a JSON string);
//! - URL-encoded: every byte but the unreserved ones (`encodeURIComponent`),
//!   the reserved ones left alone (`encodeURI`), spaces as `+` (forms),
//!   every byte; upper- and lower-case hex;
//! - base64, standard and URL-safe: a secret inside a longer base64 stream
//!   starts at one of three alignments; for each, the characters that
//!   depend on the secret's bytes alone (its "stable core") are masked.
//!
//! One redactor is built at the start of a run from every secret the
//! runtime holds (see [`secret_looking`] and `runtime::prepare`) and
//! applied wherever bytes leave the runtime: journal lines, the terminal,
//! the report, error messages, prompt files, HTTP transcripts and the
//! output files of every program it starts. Secrets shorter than
//! [`MIN_SECRET_LEN`] bytes are not masked: masking `1` or `true` in every
//! log would destroy the logs and protect nothing (real keys are long).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

/// What a masked secret is replaced by.
pub const MASK: &str = "***";

/// Secrets shorter than this (in bytes) are not masked.
pub const MIN_SECRET_LEN: usize = 8;

/// Masks every encoding of a set of secrets. Cheap to share (`Arc`); an
/// empty redactor changes nothing and costs nothing.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
    matcher: Option<AhoCorasick>,
    /// The longest pattern, in bytes (files are scanned in chunks that
    /// overlap by this much).
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    /// Never the secrets themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor that masks nothing.
    pub fn none() -> Arc<Redactor> {
        Arc::new(Redactor::default())
    }

    /// A redactor for `secrets` (those shorter than [`MIN_SECRET_LEN`] are
    /// left out; duplicates are fine).
    pub fn new<I, S>(secrets: I) -> Redactor
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut kept: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_string())
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        kept.sort();
        kept.dedup();
        let mut patterns: Vec<Vec<u8>> = kept.iter().flat_map(|s| forms(s)).collect();
        patterns.sort();
        patterns.dedup();
        let longest = patterns.iter().map(Vec::len).max().unwrap_or(0);
        let matcher = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()
        };
        Redactor {
            secrets: kept,
            matcher,
            longest,
        }
    }

    /// This redactor with `extra` secrets as well (the same value when it
    /// has them all already).
    pub fn including<'a>(
        self: &Arc<Redactor>,
        extra: impl IntoIterator<Item = &'a str>,
    ) -> Arc<Redactor> {
        let extra: Vec<&str> = extra
            .into_iter()
            .filter(|s| s.len() >= MIN_SECRET_LEN && !self.secrets.iter().any(|k| k == s))
            .collect();
        if extra.is_empty() {
            return self.clone();
        }
        Arc::new(Redactor::new(
            self.secrets.iter().map(String::as_str).chain(extra),
        ))
    }

    /// This redactor with `other`'s secrets as well.
    pub fn with_secrets_of(self: &Arc<Redactor>, other: &Redactor) -> Arc<Redactor> {
        self.including(other.secrets.iter().map(String::as_str))
    }

    /// Whether it masks nothing.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// `bytes` with every form of every secret masked.
    pub fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(matcher) = &self.matcher else {
            return Cow::Borrowed(bytes);
        };
        let mut matches = matcher.find_iter(bytes).peekable();
        if matches.peek().is_none() {
            return Cow::Borrowed(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for m in matches {
            out.extend_from_slice(&bytes[at..m.start()]);
            out.extend_from_slice(MASK.as_bytes());
            at = m.end();
        }
        out.extend_from_slice(&bytes[at..]);
        Cow::Owned(out)
    }

    /// `text` with every form of every secret masked. (A match of a whole
    /// secret in valid UTF-8 starts and ends on character boundaries, so
    /// the result is valid UTF-8 too.)
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Every string (and object key) in `value`, masked.
    pub fn json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Cow::Owned(masked) = self.text(s) {
                    *s = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.json(&mut v);
                    map.insert(self.text(&key).into_owned(), v);
                }
            }
            _ => {}
        }
    }

    /// One JSON line (a journal record, a transcript entry), masked. When
    /// masking the text would break the JSON (a secret that is also a
    /// number in it), the strings of the value are masked instead.
    pub fn json_line<'a>(&self, line: &'a [u8]) -> Cow<'a, [u8]> {
        let masked = self.bytes(line);
        if let Cow::Owned(bytes) = &masked
            && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err()
            && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(line)
        {
            self.json(&mut value);
            let mut out = serde_json::to_vec(&value).unwrap_or_default();
            if line.ends_with(b"\n") {
                out.push(b'\n');
            }
            return Cow::Owned(out);
        }
        masked
    }

    /// Rewrites the file at `path` with every secret masked (through a
    /// temporary file renamed over it, only when something was masked). A
    /// missing file is fine.
    pub fn file(&self, path: &Path) -> std::io::Result<()> {
        let Some(matcher) = &self.matcher else {
            return Ok(());
        };
        let mut input = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".redacting");
        let tmp = std::path::PathBuf::from(tmp_name);
        let mut output = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        let masked = (|| -> std::io::Result<bool> {
            let mut masked = false;
            let mut buf: Vec<u8> = Vec::new();
            let mut chunk = vec![0u8; 1 << 20];
            let mut eof = false;
            while !eof {
                let n = input.read(&mut chunk)?;
                eof = n == 0;
                buf.extend_from_slice(&chunk[..n]);
                // A match starting before `safe` lies wholly in `buf`.
                let safe = if eof {
                    buf.len()
                } else {
                    buf.len().saturating_sub(self.longest)
                };
                let mut at = 0;
                for m in matcher.find_iter(&buf[..]) {
                    if m.start() >= safe {
                        break;
                    }
                    output.write_all(&buf[at..m.start()])?;
                    output.write_all(MASK.as_bytes())?;
                    at = m.end();
                    masked = true;
                }
                let cut = at.max(safe);
                output.write_all(&buf[at..cut])?;
                buf.drain(..cut);
            }
            output.flush()?;
            Ok(masked)
        })();
        match masked {
            Ok(true) => std::fs::rename(&tmp, path),
            Ok(false) => std::fs::remove_file(&tmp),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// Whether an environment variable's name says it holds a secret: it
/// contains `KEY`, `TOKEN`, `SECRET`, `PASSWORD`, `PASSWD` or `CREDENTIAL`
/// (in any case).
pub fn secret_looking(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// Every form of `secret` to mask (see the module documentation).
fn forms(secret: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![secret.as_bytes().to_vec()];
    let mut json_forms = Vec::new();
    for slash in [false, true] {
        for ascii in [None, Some(false), Some(true)] {
            json_forms.push(json_escape(secret, slash, ascii));
        }
    }
    for form in &json_forms {
        out.push(json_escape(form, false, None).into_bytes());
    }
    out.extend(json_forms.into_iter().map(String::into_bytes));
    for upper in [false, true] {
        for keep_reserved in [false, true] {
            for plus in [false, true] {
                out.push(url_encode(secret, upper, keep_reserved, plus).into_bytes());
            }
        }
        // Every byte encoded, as a hand-rolled encoder (or `od`) does.
        let all: String = secret
            .bytes()
            .map(|b| {
                if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect();
        out.push(all.into_bytes());
    }
    for alphabet in [STANDARD, URL_SAFE] {
        for align in 0..3 {
            let core = base64_core(secret.as_bytes(), align, alphabet);
            // A core this short would mask innocent text.
            if core.len() >= 6 {
                out.push(core.into_bytes());
            }
        }
    }
    out.retain(|form| !form.is_empty());
    out
}

/// `s` as the inside of a JSON string: `slash` escapes `/` as `\/`;
/// `ascii` escapes every non-ASCII character as `\uXXXX` (`Some(true)`:
/// upper-case hex).
fn json_escape(s: &str, slash: bool, ascii: Option<bool>) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !c.is_ascii() && ascii.is_some() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    if ascii == Some(true) {
                        out.push_str(&format!("\\u{unit:04X}"));
                    } else {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` percent-encoded. Unreserved bytes (`A-Z a-z 0-9 - . _ ~`) stay;
/// `keep_reserved` leaves the reserved ones too (`encodeURI`); `plus`
/// writes a space as `+` (HTML forms).
fn url_encode(s: &str, upper: bool, keep_reserved: bool, plus: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let reserved = b";,/?:@&=+$#!'()*[]".contains(&b);
        if unreserved || (keep_reserved && reserved) {
            out.push(b as char);
        } else if b == b' ' && plus {
            out.push('+');
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes` without padding, in `alphabet`.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=group.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The characters of a base64 stream that depend on `secret`'s bytes
/// alone, when the secret starts `align` bytes (0, 1 or 2) after a
/// 3-byte boundary of the encoded data: the characters whose six bits all
/// fall inside the secret.
fn base64_core(secret: &[u8], align: usize, alphabet: &[u8; 64]) -> String {
    let mut padded = vec![0u8; align];
    padded.extend_from_slice(secret);
    let encoded = base64(&padded, alphabet);
    // The first character wholly inside the secret starts at bit
    // `align * 8` rounded up to a multiple of 6; the last whole one ends at
    // or before the secret's last bit.
    let start = (align * 8).div_ceil(6);
    let end = (padded.len() * 8) / 6;
    if start >= end {
        return String::new();
    }
    encoded[start..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
    use proptest::prelude::*;

    const KEY: &str = "sk-a/b+c=d?e&f \"g\\h-é-0123456789";

    fn masked(redactor: &Redactor, text: &str) -> String {
        redactor.text(text).into_owned()
    }

    #[test]
    fn the_raw_secret_is_masked() {
        let r = Redactor::new([KEY]);
        assert_eq!(masked(&r, &format!("key={KEY}.")), "key=***.");
        assert_eq!(masked(&r, "nothing here"), "nothing here");
        assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escaped_forms_are_masked() {
        let r = Redactor::new([KEY]);
        // serde's own escaping (a journal line, a transcript).
        let serde = serde_json::to_string(KEY).unwrap();
        assert_eq!(masked(&r, &serde), "\"***\"");
        // `\/`, as PHP's json_encode writes it: the attack observed.
        let slashed = serde.replace('/', "\\/");
        assert_eq!(masked(&r, &slashed), "\"***\"");
        // ASCII-only, as Python's json.dumps writes it.
        let python = serde.replace('é', "\\u00e9");
        assert_eq!(masked(&r, &python), "\"***\"");
        assert_eq!(masked(&r, &python.replace("00e9", "00E9")), "\"***\"");
        // A JSON string inside a JSON string.
        let twice = serde_json::to_string(&serde).unwrap();
        assert!(!masked(&r, &twice).contains("0123456789"), "{twice}");
        let r = Redactor::new(["sk-a/bcdefgh"]);
        assert_eq!(masked(&r, r#"{"k":"sk-a\/bcdefgh"}"#), r#"{"k":"***"}"#);
    }

    #[test]
    fn url_encoded_forms_are_masked() {
        let r = Redactor::new([KEY]);
        for upper in [false, true] {
            for keep in [false, true] {
                for plus in [false, true] {
                    let form = url_encode(KEY, upper, keep, plus);
                    assert_eq!(masked(&r, &format!("?k={form}&x=1")), "?k=***&x=1");
                }
            }
        }
        assert_eq!(
            url_encode("a/b c", true, false, false),
            "a%2Fb%20c",
            "encodeURIComponent"
        );
        let every: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
        assert_eq!(masked(&r, &every), "***");
    }

    #[test]
    fn base64_forms_are_masked_at_every_alignment() {
        let r = Redactor::new([KEY]);
        for prefix in ["", "x", "xy", "Authorization: Basic "] {
            for suffix in ["", "z", "zw", "tail"] {
                let data = format!("{prefix}{KEY}{suffix}");
                for encoded in [B64.encode(&data), B64URL.encode(&data)] {
                    let out = masked(&r, &encoded);
                    assert!(out.contains(MASK), "{prefix:?} {suffix:?}: {out}");
                    assert!(!survives_base64(&out, KEY), "{out}");
                }
            }
        }
    }

    /// Whether some decoding of `text` (at each offset, `*` left out)
    /// still holds `secret`.
    fn survives_base64(text: &str, secret: &str) -> bool {
        let cleaned: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "+/-_".contains(*c))
            .collect();
        let std_form = cleaned.replace('-', "+").replace('_', "/");
        (0..4).any(|skip| {
            let body: String = std_form.chars().skip(skip).collect();
            let len = body.len() / 4 * 4;
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(&body[..len])
                .map(|bytes| bytes.windows(secret.len()).any(|w| w == secret.as_bytes()))
                .unwrap_or(false)
        })
    }

    #[test]
    fn our_base64_is_base64() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"\xff\xfe\xfd\x00"] {
            assert_eq!(
                base64(data, STANDARD),
                B64.encode(data).trim_end_matches('=')
            );
            assert_eq!(base64(data, URL_SAFE), B64URL.encode(data));
        }
    }

    #[test]
    fn short_values_are_not_secrets() {
        let r = Redactor::new(["1", "true", "abcdefg"]);
        assert!(r.is_empty());
        assert_eq!(masked(&r, "true abcdefg"), "true abcdefg");
    }

    #[test]
    fn json_lines_stay_json() {
        let r = Redactor::new(["12345678"]);
        let line = br#"{"tokens":12345678,"message":"key 12345678"}"#;
        let out = r.json_line(line);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["message"], "key ***");
        let r = Redactor::new([KEY]);
        let line = serde_json::to_vec(&serde_json::json!({ "m": KEY })).unwrap();
        assert_eq!(&*r.json_line(&line), br#"{"m":"***"}"#);
    }

    #[test]
    fn files_are_rewritten_masked_across_chunk_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        // The secret straddles the 1 MiB chunk boundary, and sits at the end.
        let mut text = "x".repeat((1 << 20) - 5);
        text.push_str(KEY);
        text.push_str("\nmiddle\n");
        text.push_str(KEY);
        std::fs::write(&path, &text).unwrap();
        Redactor::new([KEY]).file(&path).unwrap();
        let out = std::fs::read_to_string(&path).unwrap();
        assert!(!out.contains(KEY));
        assert_eq!(out.matches(MASK).count(), 2);
        assert!(out.ends_with("\nmiddle\n***"));
        // Untouched when there is nothing to mask; a missing file is fine.
        std::fs::write(&path, "clean").unwrap();
        Redactor::new([KEY]).file(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "clean");
        Redactor::new([KEY])
            .file(&dir.path().join("missing"))
            .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn including_adds_secrets_once() {
        let base = Arc::new(Redactor::new(["first-secret"]));
        let same = base.including(["first-secret", "short"]);
        assert!(Arc::ptr_eq(&base, &same));
        let more = base.including(["second-secret"]);
        assert_eq!(masked(&more, "first-secret second-secret"), "*** ***");
        assert_eq!(format!("{more:?}"), "Redactor(2 secrets)");
    }

    #[test]
    fn secret_looking_names() {
        for name in [
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "aws_secret_access_key",
            "DB_PASSWORD",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ] {
            assert!(secret_looking(name), "{name}");
        }
        for name in ["PATH", "HOME", "LANG", "EDITOR"] {
            assert!(!secret_looking(name), "{name}");
        }
    }

    proptest! {
        /// No encoding of a random secret survives redaction, wherever it
        /// sits in the text.
        #[test]
        fn no_encoding_survives(
            secret in "[ -~]{8,40}",
            prefix in "[ -~]{0,5}",
            suffix in "[ -~]{0,5}",
        ) {
            let r = Redactor::new([secret.as_str()]);
            let data = format!("{prefix}{secret}{suffix}");
            let encodings = [
                data.clone(),
                serde_json::to_string(&data).unwrap(),
                serde_json::to_string(&data).unwrap().replace('/', "\\/"),
                url_encode(&data, true, false, false),
                url_encode(&data, false, true, true),
            ];
            for encoded in encodings {
                let out = masked(&r, &encoded);
                prop_assert!(out.contains(MASK), "{encoded} -> {out}");
                prop_assert!(!out.contains(&secret), "{out}");
            }
            for encoded in [B64.encode(&data), B64URL.encode(&data)] {
                let out = masked(&r, &encoded);
                prop_assert!(!survives_base64(&out, &secret), "{encoded} -> {out}");
            }
        }
    }
}
