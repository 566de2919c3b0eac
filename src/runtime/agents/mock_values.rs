//! Values generated from a JSON Schema: what the `mock` agent answers.
//!
//! [`generate`] turns a schema and a seed into a value that validates
//! against the schema. It covers what plans use (see "Value schemas" in
//! `docs/plan.md`): `type` (one name or a list), `enum`, `const`, `anyOf` /
//! `oneOf`, `$ref` into the root's `$defs`, `properties`, `required`,
//! `additionalProperties`, `propertyNames` (as `schema.rs` writes it for map
//! keys), `items` / `prefixItems`, `minItems` / `maxItems` / `uniqueItems`,
//! `minLength` / `maxLength`, numeric bounds, and the empty schema `{}`.
//! Other keywords (`pattern`, `allOf`, `multipleOf`, ...) are not taken into
//! account.
//!
//! The values are meant to read like real answers in a mock run's journal,
//! not like noise: a string is named after the property that holds it
//! (`"topic-3f2a"`), arrays have 0 to 3 items, integers are small.
//!
//! The same schema and seed always give the same value: the only source of
//! randomness is a splitmix64 generator seeded with `seed`, and it is drawn
//! from in the schema's own (preserved) key order. Recursive types end:
//! once a named type is nested in itself twice, or eight levels down,
//! optional values are `null` or left out, arrays and maps are as small as
//! their schema allows, and `anyOf` takes its simplest branch.

use serde_json::{Map, Number, Value};

/// How many times a `$ref` may be open inside itself before the generator
/// takes the smallest way out (`null`, empty arrays, no optional fields).
const REF_REPEAT: usize = 2;

/// The nesting depth (arrays and objects) past which values are kept minimal.
const SOFT_DEPTH: usize = 8;

/// A depth no value goes beyond, whatever the schema: a schema that requires
/// infinite nesting cannot be satisfied, and gets `null` there rather than a
/// stack overflow.
const HARD_DEPTH: usize = 64;

/// At most this many items or entries in a generated array or map (unless
/// `minItems` / `minProperties` ask for more).
const MAX_EXTRA_ITEMS: u64 = 3;

/// A value that validates against `schema`, derived from `seed` alone.
pub fn generate(schema: &Value, seed: u64) -> Value {
    let mut generator = Generator {
        root: schema,
        rng: Rng(seed),
        open_refs: Vec::new(),
        recursing: 0,
    };
    generator.value(schema, "", 0)
}

/// `seed` and `salt` mixed into one well-spread seed (splitmix64's
/// finaliser): for deriving independent seeds, e.g. the mock's failure
/// decision and its value from one attempt seed.
pub(crate) fn mix(seed: u64, salt: u64) -> u64 {
    let mut rng = Rng(seed ^ salt.rotate_left(32) ^ 0x6a09_e667_f3bc_c909);
    rng.next();
    rng.next()
}

/// splitmix64: tiny, fast and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0). The modulo bias is irrelevant
    /// for the small `n` used here.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// `true` with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// Four hex digits, to tell generated strings apart.
    fn tag(&mut self) -> String {
        format!("{:04x}", self.next() & 0xffff)
    }
}

struct Generator<'s> {
    root: &'s Value,
    rng: Rng,
    /// The `$ref`s being expanded, outermost first.
    open_refs: Vec<&'s str>,
    /// How many of the open `$ref`s are repeats beyond [`REF_REPEAT`].
    recursing: usize,
}

impl<'s> Generator<'s> {
    /// Whether to take the smallest way out (see the module documentation).
    fn minimal(&self, depth: usize) -> bool {
        self.recursing > 0 || depth >= SOFT_DEPTH
    }

    /// A value for `schema`; `hint` is the name of the property (or map)
    /// that holds it, used to make strings look purposeful.
    fn value(&mut self, schema: &'s Value, hint: &str, depth: usize) -> Value {
        let map = match schema {
            Value::Object(map) => map,
            // `true` accepts anything; `false` accepts nothing, and any
            // value is as wrong as another.
            Value::Bool(true) => return self.any(hint, depth),
            _ => return Value::Null,
        };
        if depth > HARD_DEPTH {
            return Value::Null;
        }
        if let Some(Value::String(reference)) = map.get("$ref") {
            return self.reference(reference, hint, depth);
        }
        if let Some(value) = map.get("const") {
            return value.clone();
        }
        if let Some(Value::Array(choices)) = map.get("enum") {
            return self.pick(choices).cloned().unwrap_or(Value::Null);
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(keyword)
                && !branches.is_empty()
            {
                let branch = self.branch(branches, depth);
                return self.value(branch, hint, depth);
            }
        }
        match self.type_name(map, depth) {
            Some("null") => Value::Null,
            Some("boolean") => Value::Bool(self.rng.chance(1, 2)),
            Some("integer") => Value::from(self.integer(map)),
            Some("number") => self.number(map),
            Some("string") => Value::String(self.string(map, hint)),
            Some("array") => self.array(map, hint, depth),
            Some("object") => self.object(map, hint, depth),
            Some(_) => Value::Null,
            None => self.any(hint, depth),
        }
    }

    /// The value of the definition `reference` points to.
    fn reference(&mut self, reference: &'s str, hint: &str, depth: usize) -> Value {
        let target = match reference.strip_prefix('#') {
            Some("") => Some(self.root),
            // `pointer` undoes the `~0` / `~1` escapes of `schema.rs`.
            Some(pointer) => self.root.pointer(pointer),
            None => None,
        };
        let Some(target) = target else {
            // A dangling reference: no validator accepts the schema anyway.
            return Value::Null;
        };
        // A named type at the top (or as a list's item) names its strings.
        let titled;
        let hint = match target.get("title").and_then(Value::as_str) {
            Some(title) if hint.is_empty() => {
                titled = title.to_string();
                titled.as_str()
            }
            _ => hint,
        };
        let repeats = self.open_refs.iter().filter(|r| **r == reference).count();
        let recursion = repeats >= REF_REPEAT;
        self.open_refs.push(reference);
        self.recursing += usize::from(recursion);
        let value = self.value(target, hint, depth + 1);
        self.recursing -= usize::from(recursion);
        self.open_refs.pop();
        value
    }

    fn pick<'v>(&mut self, choices: &'v [Value]) -> Option<&'v Value> {
        let index = self.rng.below(choices.len() as u64) as usize;
        choices.get(index)
    }

    /// The branch of an `anyOf` to follow: `null` now and then (an optional
    /// value that is absent), always the simplest one when minimal.
    fn branch(&mut self, branches: &'s [Value], depth: usize) -> &'s Value {
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        let null = branches.iter().find(|b| is_null(b));
        if self.minimal(depth) {
            return null
                .or_else(|| branches.iter().find(|b| is_simple(b)))
                .unwrap_or(&branches[0]);
        }
        let others: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
        match null {
            Some(null) if others.is_empty() || self.rng.chance(1, 4) => null,
            _ => others[self.rng.below(others.len() as u64) as usize],
        }
    }

    /// The JSON type to produce: the `type` keyword (one of a list), or what
    /// the other keywords imply; `None` for any value.
    fn type_name(&mut self, map: &'s Map<String, Value>, depth: usize) -> Option<&'s str> {
        match map.get("type") {
            Some(Value::String(name)) => Some(name),
            Some(Value::Array(names)) => {
                let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
                if names.is_empty() {
                    return Some("null");
                }
                if self.minimal(depth) && names.contains(&"null") {
                    return Some("null");
                }
                Some(names[self.rng.below(names.len() as u64) as usize])
            }
            _ => {
                let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
                if has(&[
                    "properties",
                    "required",
                    "additionalProperties",
                    "propertyNames",
                ]) {
                    Some("object")
                } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
                    Some("array")
                } else if has(&["minLength", "maxLength", "format"]) {
                    Some("string")
                } else if has(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
                    Some("number")
                } else {
                    None
                }
            }
        }
    }

    /// A value for the empty schema: something a `Json` output could hold.
    fn any(&mut self, hint: &str, depth: usize) -> Value {
        if self.minimal(depth) {
            return Value::String(self.plain_string(hint));
        }
        match self.rng.below(5) {
            0 => Value::String(self.plain_string(hint)),
            1 => Value::from(self.rng.below(100)),
            2 => Value::Bool(self.rng.chance(1, 2)),
            3 => {
                let mut object = Map::new();
                object.insert("name".into(), Value::String(self.plain_string(hint)));
                object.insert("count".into(), Value::from(self.rng.below(10)));
                Value::Object(object)
            }
            _ => {
                let item = singular(hint);
                let n = 1 + self.rng.below(2);
                Value::Array(
                    (0..n)
                        .map(|_| Value::String(self.plain_string(&item)))
                        .collect(),
                )
            }
        }
    }

    fn integer(&mut self, map: &Map<String, Value>) -> i64 {
        let bound = |key: &str| map.get(key).and_then(Value::as_f64);
        let mut low = bound("minimum").map(|m| m.ceil() as i128);
        if let Some(m) = bound("exclusiveMinimum") {
            let m = m.floor() as i128 + 1;
            low = Some(low.map_or(m, |l| l.max(m)));
        }
        let mut high = bound("maximum").map(|m| m.floor() as i128);
        if let Some(m) = bound("exclusiveMaximum") {
            let m = m.ceil() as i128 - 1;
            high = Some(high.map_or(m, |h| h.min(m)));
        }
        let (low, high) = small_range(low, high);
        if low >= high {
            return clamp_i64(low);
        }
        let span = (high - low + 1).min(u64::MAX as i128) as u64;
        clamp_i64(low + self.rng.below(span) as i128)
    }

    fn number(&mut self, map: &Map<String, Value>) -> Value {
        let bound = |key: &str| map.get(key).and_then(Value::as_f64);
        let low = bound("minimum").or(bound("exclusiveMinimum"));
        let high = bound("maximum").or(bound("exclusiveMaximum"));
        let (low, high) = match (low, high) {
            (Some(l), Some(h)) => (l, h),
            (Some(l), None) => (l, l + 100.0),
            (None, Some(h)) if h >= 0.0 => (0.0, h.min(100.0)),
            (None, Some(h)) => (h - 100.0, h),
            (None, None) => (0.0, 100.0),
        };
        // Quarters read like real quantities (12.25) and are exact in binary.
        let mut value = low + (high - low) * (self.rng.below(401) as f64 / 400.0);
        value = (value * 4.0).round() / 4.0;
        let outside = |v: f64| {
            v < low
                || v > high
                || bound("exclusiveMinimum").is_some_and(|m| v <= m)
                || bound("exclusiveMaximum").is_some_and(|m| v >= m)
        };
        if outside(value) {
            value = low + (high - low) / 2.0;
        }
        Number::from_f64(value).map_or(Value::Null, Value::Number)
    }

    /// A string named after `hint`, shaped by `format` and the length bounds.
    fn string(&mut self, map: &Map<String, Value>, hint: &str) -> String {
        let slug = slug(hint);
        let tag = self.rng.tag();
        let described_as_path = map
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(|d| d.contains("path"));
        let lower = hint.to_ascii_lowercase();
        let format = map.get("format").and_then(Value::as_str).or_else(|| {
            // Names that say what the text is, when the schema does not.
            if lower.ends_with("url") || lower.ends_with("uri") {
                Some("uri")
            } else if lower.ends_with("email") {
                Some("email")
            } else {
                None
            }
        });
        let mut text = match format {
            Some("date") => format!(
                "2024-{:02}-{:02}",
                1 + self.rng.below(12),
                1 + self.rng.below(28)
            ),
            Some("date-time") => format!(
                "2024-{:02}-{:02}T{:02}:{:02}:00Z",
                1 + self.rng.below(12),
                1 + self.rng.below(28),
                self.rng.below(24),
                self.rng.below(60)
            ),
            Some("email") => format!("{slug}-{tag}@example.com"),
            Some("uri" | "url" | "iri") => format!("https://example.com/{slug}-{tag}"),
            Some("uuid") => format!(
                "{:08x}-{tag}-4{:03x}-8{:03x}-{:012x}",
                self.rng.next() as u32,
                self.rng.below(0x1000),
                self.rng.below(0x1000),
                self.rng.next() & 0xffff_ffff_ffff
            ),
            _ if described_as_path || is_path_name(hint) => format!("src/{slug}-{tag}.txt"),
            _ => format!("{slug}-{tag}"),
        };
        let length = |key: &str| map.get(key).and_then(Value::as_u64).map(|n| n as usize);
        let min = length("minLength").unwrap_or(0);
        let chars = text.chars().count();
        if chars < min {
            // Pads with hex digits, never exceeding a sane size.
            let pad = (min - chars).min(1 << 20);
            let digits = "0123456789abcdef".as_bytes();
            text.extend((0..pad).map(|_| digits[self.rng.below(16) as usize] as char));
        }
        if let Some(max) = length("maxLength")
            && text.chars().count() > max
        {
            text = text.chars().take(max).collect();
        }
        text
    }

    /// `"topic-3f2a"`: a string when the schema says nothing more.
    fn plain_string(&mut self, hint: &str) -> String {
        format!("{}-{}", slug(hint), self.rng.tag())
    }

    fn array(&mut self, map: &'s Map<String, Value>, hint: &str, depth: usize) -> Value {
        let count = |key: &str| map.get(key).and_then(Value::as_u64);
        let min = count("minItems").unwrap_or(0);
        let max = count("maxItems").unwrap_or(u64::MAX).max(min);
        let prefix: &[Value] = match map.get("prefixItems") {
            Some(Value::Array(prefix)) => prefix,
            _ => &[],
        };
        let items = map.get("items");
        let closed = matches!(items, Some(Value::Bool(false)));
        let target = if self.minimal(depth) {
            min
        } else {
            min + self.rng.below(MAX_EXTRA_ITEMS + 1)
        };
        let mut target = target.min(max) as usize;
        if closed {
            target = target.min(prefix.len());
        }
        let unique = map.get("uniqueItems") == Some(&Value::Bool(true));
        let item_hint = singular(hint);
        let mut out: Vec<Value> = Vec::with_capacity(target.min(64));
        let mut tries = 0;
        while out.len() < target && tries < target * 4 + 4 {
            tries += 1;
            let schema = match (prefix.get(out.len()), items) {
                (Some(schema), _) | (None, Some(schema)) => schema,
                (None, None) => &Value::Bool(true),
            };
            let value = self.value(schema, &item_hint, depth + 1);
            if unique && out.contains(&value) {
                continue;
            }
            out.push(value);
        }
        Value::Array(out)
    }

    fn object(&mut self, map: &'s Map<String, Value>, hint: &str, depth: usize) -> Value {
        let minimal = self.minimal(depth);
        let required: Vec<&str> = match map.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let additional = map.get("additionalProperties");
        let mut out = Map::new();
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, schema) in properties {
                let wanted =
                    required.contains(&name.as_str()) || (!minimal && self.rng.chance(3, 4));
                if wanted {
                    let value = self.value(schema, name, depth + 1);
                    out.insert(name.clone(), value);
                }
            }
        }
        let extra_schema: &'s Value = match additional {
            Some(schema) => schema,
            None => &Value::Bool(true),
        };
        let closed = matches!(additional, Some(Value::Bool(false)));
        // Required names without a schema of their own take the schema of
        // additional properties.
        for name in &required {
            if !out.contains_key(*name) && !closed {
                let value = self.value(extra_schema, name, depth + 1);
                out.insert((*name).to_string(), value);
            }
        }
        // A map (`{Text: T}`): an object whose entries are all "additional".
        let is_map = !closed
            && additional.is_some()
            && map
                .get("properties")
                .is_none_or(|p| p.as_object().is_some_and(Map::is_empty));
        let min_entries = map
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .saturating_sub(out.len() as u64);
        let max_entries = map
            .get("maxProperties")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX)
            .saturating_sub(out.len() as u64);
        let entries = if is_map && !minimal {
            min_entries + self.rng.below(MAX_EXTRA_ITEMS + 1)
        } else {
            min_entries
        }
        .min(max_entries);
        if entries > 0 && !closed {
            let item = singular(hint);
            let keys = self.keys(map.get("propertyNames"), &item, entries, &out);
            for key in keys {
                let value = self.value(extra_schema, &item, depth + 1);
                out.insert(key, value);
            }
        }
        Value::Object(out)
    }

    /// Up to `n` new keys for a map, valid for its `propertyNames`.
    fn keys(
        &mut self,
        names: Option<&Value>,
        item: &str,
        n: u64,
        taken: &Map<String, Value>,
    ) -> Vec<String> {
        let names = names.and_then(Value::as_object);
        let mut keys: Vec<String> = Vec::new();
        let fresh =
            |keys: &Vec<String>, key: &String| !taken.contains_key(key) && !keys.contains(key);
        if let Some(Value::Array(choices)) = names.and_then(|n| n.get("enum")) {
            // Enum-keyed maps: distinct variants, in a seeded order.
            let mut choices: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
            while keys.len() < n as usize && !choices.is_empty() {
                let key = choices
                    .remove(self.rng.below(choices.len() as u64) as usize)
                    .to_string();
                if fresh(&keys, &key) {
                    keys.push(key);
                }
            }
            return keys;
        }
        let pattern = names.and_then(|n| n.get("pattern")).and_then(Value::as_str);
        let numeric = match pattern {
            None => false,
            Some(p) if NUMERIC_KEY_PATTERNS.contains(&p) => true,
            // A pattern this generator cannot satisfy: an empty map is
            // always a valid map.
            Some(_) => return keys,
        };
        let min_length = names
            .and_then(|n| n.get("minLength"))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let mut tries = 0;
        while keys.len() < n as usize && tries < n * 4 + 4 {
            tries += 1;
            let mut key = if numeric {
                self.rng.below(1000).to_string()
            } else {
                self.plain_string(item)
            };
            while key.chars().count() < min_length {
                key.push('0');
            }
            if fresh(&keys, &key) {
                keys.push(key);
            }
        }
        keys
    }
}

/// The `propertyNames` patterns that `schema.rs` writes for `Int` and
/// `Float` keys: decimal integers match both.
const NUMERIC_KEY_PATTERNS: [&str; 2] = ["^-?[0-9]+$", "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"];

/// Whether a branch of an `anyOf` leads to a value without nesting.
fn is_simple(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            !map.contains_key("$ref")
                && !matches!(
                    map.get("type").and_then(Value::as_str),
                    Some("object" | "array") | None
                )
        }
        _ => true,
    }
}

/// A bounded integer range for the bounds given: 0..=99 unless the bounds
/// say otherwise.
fn small_range(low: Option<i128>, high: Option<i128>) -> (i128, i128) {
    match (low, high) {
        (Some(l), Some(h)) => (l, h),
        (Some(l), None) => (l, l + 99),
        (None, Some(h)) if h >= 0 => (0, h.min(99)),
        (None, Some(h)) => (h - 99, h),
        (None, None) => (0, 99),
    }
}

fn clamp_i64(n: i128) -> i64 {
    n.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// A property name as a lowercase, dash-separated word (`"text"` for none).
fn slug(hint: &str) -> String {
    let mut out = String::new();
    for ch in hint.chars() {
        if ch.is_alphanumeric() {
            if ch.is_uppercase() && !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(ch.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 24 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "text".into()
    } else {
        out.into()
    }
}

/// The name of one item of a list called `hint` (`topics` → `topic`).
fn singular(hint: &str) -> String {
    if let Some(stem) = hint.strip_suffix("ies")
        && !stem.is_empty()
    {
        return format!("{stem}y");
    }
    match hint.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_string(),
        _ => hint.to_string(),
    }
}

/// Whether a property called `hint` holds a file path.
fn is_path_name(hint: &str) -> bool {
    let hint = hint.to_ascii_lowercase();
    hint == "path" || hint == "file" || hint.ends_with("_path") || hint.ends_with("_file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::schema::{FieldDesc, NamedKind, NamedType, TypeDefs, TypeDesc, schema_for};
    use proptest::prelude::*;
    use serde_json::json;
    use std::sync::OnceLock;

    fn validator(schema: &Value) -> jsonschema::Validator {
        jsonschema::draft202012::new(schema).expect("a valid schema")
    }

    /// Asserts that the values of `schema` for seeds `0..n` validate, and
    /// returns them.
    fn valid_values(schema: &Value, n: u64) -> Vec<Value> {
        let v = validator(schema);
        (0..n)
            .map(|seed| {
                let value = generate(schema, seed);
                assert!(v.is_valid(&value), "seed {seed}: {value} for {schema}");
                value
            })
            .collect()
    }

    #[test]
    fn same_schema_and_seed_give_the_same_value() {
        let schema = json!({
            "type": "object",
            "properties": {"topic": {"type": "string"}, "tags": {"type": "array", "items": {}}},
            "required": ["topic", "tags"],
            "additionalProperties": false
        });
        for seed in [0, 1, 42, u64::MAX] {
            assert_eq!(generate(&schema, seed), generate(&schema, seed));
        }
        let distinct: std::collections::BTreeSet<String> = (0..50)
            .map(|seed| generate(&schema, seed).to_string())
            .collect();
        assert!(distinct.len() > 40, "seeds should vary the value");
    }

    #[test]
    fn primitives() {
        for value in valid_values(&json!({"type": "integer"}), 100) {
            assert!((0..100).contains(&value.as_i64().unwrap()), "{value}");
        }
        for value in valid_values(&json!({"type": "number"}), 100) {
            assert!(value.as_f64().unwrap().is_finite());
        }
        let bools = valid_values(&json!({"type": "boolean"}), 100);
        assert!(bools.contains(&json!(true)) && bools.contains(&json!(false)));
        assert_eq!(
            valid_values(&json!({"type": "null"}), 3),
            vec![Value::Null; 3]
        );
    }

    #[test]
    fn strings_are_named_after_their_property() {
        let schema = json!({
            "type": "object",
            "properties": {
                "topic": {"type": "string"},
                "DecisionStatus": {"type": "string"},
                "path": {"type": "string", "minLength": 1,
                         "description": "a path relative to the workspace, with `/` separators"}
            },
            "required": ["topic", "DecisionStatus", "path"],
            "additionalProperties": false
        });
        let value = generate(&schema, 3);
        let topic = value["topic"].as_str().unwrap();
        assert!(topic.starts_with("topic-") && topic.len() == 10, "{topic}");
        assert!(
            value["DecisionStatus"]
                .as_str()
                .unwrap()
                .starts_with("decision-status-")
        );
        let path = value["path"].as_str().unwrap();
        assert!(
            path.starts_with("src/path-") && path.ends_with(".txt"),
            "{path}"
        );
        assert!(
            generate(&json!({"type": "string"}), 1)
                .as_str()
                .unwrap()
                .starts_with("text-")
        );
    }

    #[test]
    fn string_lengths_and_formats() {
        for value in valid_values(
            &json!({"type": "string", "minLength": 30, "maxLength": 32}),
            20,
        ) {
            let n = value.as_str().unwrap().chars().count();
            assert!((30..=32).contains(&n), "{value}");
        }
        valid_values(&json!({"type": "string", "maxLength": 2}), 20);
        let email = generate(&json!({"type": "string", "format": "email"}), 1);
        assert!(email.as_str().unwrap().ends_with("@example.com"), "{email}");
        let named = json!({"type": "object", "properties": {"image_url": {"type": "string"}},
                           "required": ["image_url"]});
        let url = generate(&named, 1);
        assert!(
            url["image_url"]
                .as_str()
                .unwrap()
                .starts_with("https://example.com/image-url-"),
            "{url}"
        );
    }

    #[test]
    fn numeric_bounds() {
        let schema = json!({"type": "integer", "minimum": 1000, "exclusiveMaximum": 1003});
        for value in valid_values(&schema, 50) {
            assert!((1000..1003).contains(&value.as_i64().unwrap()));
        }
        valid_values(&json!({"type": "integer", "maximum": -5}), 50);
        valid_values(&json!({"type": "integer", "minimum": 7, "maximum": 7}), 5);
        valid_values(
            &json!({"type": "number", "exclusiveMinimum": 0, "maximum": 0.5}),
            50,
        );
        valid_values(&json!({"type": "number", "minimum": -3.5}), 50);
    }

    #[test]
    fn enums_consts_and_type_lists() {
        let values = valid_values(&json!({"type": "string", "enum": ["a", "b", "c"]}), 60);
        for choice in ["a", "b", "c"] {
            assert!(values.contains(&json!(choice)), "{choice} never chosen");
        }
        assert_eq!(generate(&json!({"const": {"x": 1}}), 5), json!({"x": 1}));
        let values = valid_values(&json!({"type": ["string", "integer"]}), 40);
        assert!(values.iter().any(Value::is_string) && values.iter().any(Value::is_i64));
    }

    #[test]
    fn optional_values_are_sometimes_null() {
        let schema = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        let values = valid_values(&schema, 100);
        let nulls = values.iter().filter(|v| v.is_null()).count();
        assert!((5..60).contains(&nulls), "{nulls} nulls in 100");
    }

    #[test]
    fn arrays_are_short() {
        let schema = json!({"type": "array", "items": {"type": "integer"}});
        let lengths: Vec<usize> = valid_values(&schema, 100)
            .iter()
            .map(|v| v.as_array().unwrap().len())
            .collect();
        assert!(lengths.iter().all(|n| *n <= 3));
        assert!(lengths.contains(&0) && lengths.contains(&3));
        let bounded = json!({"type": "array", "items": {"type": "boolean"},
                             "minItems": 2, "maxItems": 2, "uniqueItems": true});
        for value in valid_values(&bounded, 20) {
            assert_eq!(value.as_array().unwrap().len(), 2);
        }
        let tuple = json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                           "items": false, "minItems": 2});
        valid_values(&tuple, 20);
        let topics = json!({"type": "object", "properties": {"topics": {"type": "array",
            "items": {"type": "string"}, "minItems": 1}}, "required": ["topics"]});
        let value = generate(&topics, 1);
        assert!(
            value["topics"][0].as_str().unwrap().starts_with("topic-"),
            "{value}"
        );
    }

    #[test]
    fn objects_keep_to_their_properties() {
        let schema = json!({
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
            "required": ["a"],
            "additionalProperties": false
        });
        let values = valid_values(&schema, 100);
        assert!(values.iter().all(|v| v.get("a").is_some()));
        let with_b = values.iter().filter(|v| v.get("b").is_some()).count();
        assert!(
            (30..100).contains(&with_b),
            "optional field present {with_b} times"
        );
    }

    #[test]
    fn maps_respect_their_keys() {
        let map = |names: Value| json!({"type": "object", "additionalProperties": {"type": "integer"}, "propertyNames": names});
        let int_keys = valid_values(&map(json!({"pattern": "^-?[0-9]+$"})), 50);
        assert!(int_keys.iter().any(|v| !v.as_object().unwrap().is_empty()));
        let enum_keys = valid_values(&map(json!({"enum": ["public", "private"]})), 50);
        assert!(enum_keys.iter().any(|v| v.as_object().unwrap().len() == 2));
        valid_values(&map(json!({"pattern": "^[A-Z]{3}$"})), 20);
        let plain = json!({"type": "object", "additionalProperties": {"type": "string"}});
        let values = valid_values(&plain, 50);
        assert!(values.iter().any(|v| v.as_object().unwrap().len() == 3));
    }

    #[test]
    fn the_empty_schema_gives_all_sorts_of_values() {
        let values = valid_values(&json!({}), 100);
        assert!(values.iter().any(Value::is_string));
        assert!(values.iter().any(Value::is_object));
        assert!(values.iter().any(Value::is_array));
        valid_values(&json!(true), 5);
    }

    fn link_defs() -> TypeDefs {
        let field = |name: &str, ty: TypeDesc| FieldDesc {
            name: name.into(),
            ty,
            doc: None,
        };
        let link = || TypeDesc::Named("Link".into());
        let mut defs = TypeDefs::new();
        defs.insert(
            "Link".into(),
            NamedType {
                doc: None,
                kind: NamedKind::Record(vec![
                    field("slug", TypeDesc::Text),
                    field("visits", TypeDesc::Int),
                    field("parent", TypeDesc::Optional(Box::new(link()))),
                    field("related", TypeDesc::List(Box::new(link()))),
                    field("visibility", TypeDesc::Named("Visibility".into())),
                    field(
                        "by_visibility",
                        TypeDesc::Map(
                            Box::new(TypeDesc::Named("Visibility".into())),
                            Box::new(link()),
                        ),
                    ),
                ]),
            },
        );
        defs.insert(
            "Visibility".into(),
            NamedType {
                doc: None,
                kind: NamedKind::Enum(vec![("public".into(), None), ("private".into(), None)]),
            },
        );
        defs
    }

    /// Nesting depth of a value.
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    #[test]
    fn recursive_types_terminate() {
        let schema = schema_for(&TypeDesc::Named("Link".into()), &link_defs());
        let values = valid_values(&schema, 200);
        let deepest = values.iter().map(depth).max().unwrap();
        assert!(deepest >= 3, "recursion never nests");
        assert!(deepest <= 2 * SOFT_DEPTH, "too deep: {deepest}");
        assert!(
            values
                .iter()
                .all(|v| v["slug"].as_str().unwrap().starts_with("slug-"))
        );
    }

    #[test]
    fn a_type_that_must_nest_forever_still_terminates() {
        // Unsatisfiable, but generation must end rather than overflow.
        let schema = json!({
            "$ref": "#/$defs/Loop",
            "$defs": {"Loop": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Loop"}},
                               "required": ["next"]}}
        });
        assert!(depth(&generate(&schema, 1)) <= HARD_DEPTH + 1);
        assert_eq!(
            generate(&json!({"$ref": "#/$defs/Missing"}), 1),
            Value::Null
        );
        assert_eq!(generate(&json!(false), 1), Value::Null);
    }

    #[test]
    fn escaped_definition_names_resolve() {
        let schema = json!({
            "$ref": "#/$defs/a~1b~0c",
            "$defs": {"a/b~c": {"type": "integer", "minimum": 500}}
        });
        valid_values(&schema, 10);
    }

    #[test]
    fn mixed_seeds_differ() {
        assert_ne!(mix(1, 2), mix(1, 3));
        assert_ne!(mix(1, 2), mix(2, 1));
        assert_eq!(mix(5, 6), mix(5, 6));
    }

    /// Every schema in the plans of the repository's examples, by where it
    /// is, with its validator.
    fn example_schemas() -> &'static [(String, Value, jsonschema::Validator)] {
        static SCHEMAS: OnceLock<Vec<(String, Value, jsonschema::Validator)>> = OnceLock::new();
        SCHEMAS.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut out = Vec::new();
            for example in [
                "examples/shortener.score",
                "examples/webshop/main.score",
                "examples/quickstart/quickstart.score",
            ] {
                let entry = root.join(example);
                let checked = crate::driver::check_file(&entry).expect("the example loads");
                let plan = crate::plan::build(
                    &checked.checked,
                    checked.sources(),
                    entry.parent().unwrap(),
                )
                .expect("the example builds");
                let mut add = |place: String, schema: &Value| {
                    out.push((place, schema.clone(), validator(schema)));
                };
                for (name, spec) in &plan.score.inputs {
                    add(format!("{example}: score input {name}"), &spec.schema);
                }
                for task in &plan.tasks {
                    add(
                        format!("{example}: {} result", task.id),
                        &task.result_schema,
                    );
                    for (name, input) in &task.inputs {
                        add(
                            format!("{example}: {} input {name}", task.id),
                            &input.schema,
                        );
                    }
                    for (name, output) in &task.outputs {
                        add(
                            format!("{example}: {} output {name}", task.id),
                            &output.schema,
                        );
                    }
                }
            }
            assert!(out.len() > 50, "only {} schemas in the examples", out.len());
            out
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn values_of_the_examples_schemas_validate(seed in any::<u64>()) {
            for (place, schema, validator) in example_schemas() {
                let value = generate(schema, seed);
                prop_assert!(validator.is_valid(&value), "{}: {} for {}", place, value, schema);
                prop_assert_eq!(&generate(schema, seed), &value);
            }
        }

        #[test]
        fn values_of_any_type_validate(ty in type_desc(), seed in any::<u64>()) {
            let schema = schema_for(&ty, &link_defs());
            let value = generate(&schema, seed);
            prop_assert!(validator(&schema).is_valid(&value), "{} for {}", value, schema);
        }
    }

    /// Types as a score writes them, over the types of [`link_defs`].
    fn type_desc() -> impl Strategy<Value = TypeDesc> {
        let leaf = prop_oneof![
            Just(TypeDesc::Text),
            Just(TypeDesc::Int),
            Just(TypeDesc::Float),
            Just(TypeDesc::Bool),
            Just(TypeDesc::Path),
            Just(TypeDesc::Json),
            Just(TypeDesc::Named("Link".into())),
            Just(TypeDesc::Named("Visibility".into())),
        ];
        let key = prop_oneof![
            Just(TypeDesc::Text),
            Just(TypeDesc::Int),
            Just(TypeDesc::Float),
            Just(TypeDesc::Bool),
            Just(TypeDesc::Path),
            Just(TypeDesc::Named("Visibility".into())),
        ];
        leaf.prop_recursive(4, 24, 2, move |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| TypeDesc::Optional(Box::new(t))),
                inner.clone().prop_map(|t| TypeDesc::List(Box::new(t))),
                (key.clone(), inner).prop_map(|(k, v)| TypeDesc::Map(Box::new(k), Box::new(v))),
            ]
        })
    }
}
