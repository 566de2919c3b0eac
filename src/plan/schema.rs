//! JSON Schema (draft 2020-12) for the values that cross a boundary.
//!
//! The plan describes every input and output with a self-contained schema:
//! named records and enums go into `$defs` (so recursive types through `T?`
//! or `[T]` work) and the value itself is a `$ref` to them. A record accepts
//! exactly its fields: required unless optional, nothing else.
//!
//! This module works on its own small type description ([`TypeDesc`] plus
//! [`TypeDefs`]); `compile` converts the checked model's types into it.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The `$schema` of every schema in a plan.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A type as the plan needs it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeDesc {
    Text,
    Int,
    Float,
    Bool,
    /// A workspace-relative path, written with `/`.
    Path,
    /// Any JSON value.
    Json,
    Optional(Box<TypeDesc>),
    List(Box<TypeDesc>),
    Map(Box<TypeDesc>, Box<TypeDesc>),
    /// A record or enum, by the name under which it is in [`TypeDefs`].
    Named(String),
}

impl TypeDesc {
    /// The type as a score writes it: `[Link]?`, `{Text: Int}`.
    pub fn display(&self) -> String {
        match self {
            TypeDesc::Text => "Text".into(),
            TypeDesc::Int => "Int".into(),
            TypeDesc::Float => "Float".into(),
            TypeDesc::Bool => "Bool".into(),
            TypeDesc::Path => "Path".into(),
            TypeDesc::Json => "Json".into(),
            TypeDesc::Optional(t) => format!("{}?", t.display()),
            TypeDesc::List(t) => format!("[{}]", t.display()),
            TypeDesc::Map(k, v) => format!("{{{}: {}}}", k.display(), v.display()),
            TypeDesc::Named(n) => n.clone(),
        }
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, TypeDesc::Optional(_))
    }
}

/// A named type's definition.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedType {
    pub doc: Option<String>,
    pub kind: NamedKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NamedKind {
    Record(Vec<FieldDesc>),
    /// Variant names with their docs.
    Enum(Vec<(String, Option<String>)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDesc {
    pub name: String,
    pub ty: TypeDesc,
    pub doc: Option<String>,
}

/// The named types that [`TypeDesc::Named`] refers to.
pub type TypeDefs = BTreeMap<String, NamedType>;

/// The named types with their definitions rendered once: a big score asks
/// for the schemas of thousands of values built from the same few types.
#[derive(Clone, Debug)]
pub struct SchemaSet {
    defs: TypeDefs,
    rendered: BTreeMap<String, Value>,
}

impl SchemaSet {
    pub fn new(defs: TypeDefs) -> SchemaSet {
        let rendered = defs
            .iter()
            .map(|(name, def)| (name.clone(), definition(name, def, &defs)))
            .collect();
        SchemaSet { defs, rendered }
    }

    /// A self-contained schema for a value of type `ty`, keys sorted.
    pub fn schema_for(&self, ty: &TypeDesc) -> Value {
        let mut root = Map::new();
        root.insert("$schema".into(), Value::String(DIALECT.into()));
        merge(&mut root, body(ty, &self.defs));
        let used = reachable(std::iter::once(ty), &self.defs);
        if !used.is_empty() {
            root.insert("$defs".into(), self.definitions(&used));
        }
        // Sorted once here, so that plans can be written without re-sorting.
        let mut schema = Value::Object(root);
        schema.sort_all_objects();
        schema
    }

    /// A self-contained schema for an object with one property per entry
    /// (required unless its type is optional), and no others: the shape of
    /// what an agent returns. Keys sorted.
    pub fn object_schema<'a>(
        &self,
        fields: impl IntoIterator<Item = (&'a str, &'a TypeDesc, Option<&'a str>)> + Clone,
    ) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, ty, doc) in fields.clone() {
            properties.insert(name.to_string(), with_doc(body(ty, &self.defs), doc));
            if !ty.is_optional() {
                required.push(Value::String(name.to_string()));
            }
        }
        let mut root = Map::new();
        root.insert("$schema".into(), Value::String(DIALECT.into()));
        root.insert("type".into(), "object".into());
        root.insert("properties".into(), Value::Object(properties));
        root.insert("required".into(), Value::Array(required));
        root.insert("additionalProperties".into(), Value::Bool(false));
        let used = reachable(fields.into_iter().map(|(_, t, _)| t), &self.defs);
        if !used.is_empty() {
            root.insert("$defs".into(), self.definitions(&used));
        }
        let mut schema = Value::Object(root);
        schema.sort_all_objects();
        schema
    }

    fn definitions(&self, names: &BTreeSet<String>) -> Value {
        let mut out = Map::new();
        for name in names {
            let schema = match self.rendered.get(name) {
                Some(def) => def.clone(),
                // A name with no definition cannot come from a checked
                // score; accept anything rather than emit a dangling `$ref`.
                None => json!({"title": name}),
            };
            out.insert(name.clone(), schema);
        }
        Value::Object(out)
    }
}

/// [`SchemaSet::schema_for`] for a one-off.
#[cfg(test)]
pub fn schema_for(ty: &TypeDesc, defs: &TypeDefs) -> Value {
    SchemaSet::new(defs.clone()).schema_for(ty)
}

/// [`SchemaSet::object_schema`] for a one-off.
#[cfg(test)]
pub fn object_schema<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a TypeDesc, Option<&'a str>)> + Clone,
    defs: &TypeDefs,
) -> Value {
    SchemaSet::new(defs.clone()).object_schema(fields)
}

fn merge(into: &mut Map<String, Value>, value: Value) {
    if let Value::Object(map) = value {
        into.extend(map);
    }
}

fn with_doc(schema: Value, doc: Option<&str>) -> Value {
    match (schema, doc) {
        (Value::Object(mut map), Some(doc)) => {
            map.insert("description".into(), Value::String(doc.to_string()));
            Value::Object(map)
        }
        (schema, _) => schema,
    }
}

/// The JSON Pointer to a definition; `~` and `/` are escaped (RFC 6901).
fn def_ref(name: &str) -> String {
    format!("#/$defs/{}", name.replace('~', "~0").replace('/', "~1"))
}

/// The schema of a type, referring to named types through `$defs`.
fn body(ty: &TypeDesc, defs: &TypeDefs) -> Value {
    match ty {
        TypeDesc::Text => json!({"type": "string"}),
        TypeDesc::Int => json!({"type": "integer"}),
        TypeDesc::Float => json!({"type": "number"}),
        TypeDesc::Bool => json!({"type": "boolean"}),
        TypeDesc::Path => json!({
            "type": "string",
            "minLength": 1,
            "description": "a path relative to the workspace, with `/` separators"
        }),
        TypeDesc::Json => json!({}),
        TypeDesc::Optional(inner) => json!({"anyOf": [body(inner, defs), {"type": "null"}]}),
        TypeDesc::List(inner) => json!({"type": "array", "items": body(inner, defs)}),
        TypeDesc::Map(key, value) => {
            let mut map = Map::new();
            map.insert("type".into(), "object".into());
            map.insert("additionalProperties".into(), body(value, defs));
            if let Some(names) = key_names(key, defs) {
                map.insert("propertyNames".into(), names);
            }
            Value::Object(map)
        }
        TypeDesc::Named(name) => json!({"$ref": def_ref(name)}),
    }
}

/// What JSON object keys may be, for a map with this key type. Keys are
/// always strings in JSON; an `Int` key is written in decimal, an enum key
/// as the variant's name.
fn key_names(key: &TypeDesc, defs: &TypeDefs) -> Option<Value> {
    match key {
        TypeDesc::Int => Some(json!({"pattern": "^-?[0-9]+$"})),
        TypeDesc::Bool => Some(json!({"enum": ["true", "false"]})),
        TypeDesc::Float => Some(json!({"pattern": "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"})),
        TypeDesc::Path => Some(json!({"minLength": 1})),
        TypeDesc::Named(name) => match defs.get(name).map(|d| &d.kind) {
            Some(NamedKind::Enum(variants)) => Some(json!({
                "enum": variants.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>()
            })),
            _ => None,
        },
        _ => None,
    }
}

/// Names of the named types reachable from `roots`, sorted.
fn reachable<'a>(roots: impl Iterator<Item = &'a TypeDesc>, defs: &TypeDefs) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&TypeDesc> = roots.collect();
    while let Some(ty) = stack.pop() {
        match ty {
            TypeDesc::Optional(t) | TypeDesc::List(t) => stack.push(t),
            TypeDesc::Map(k, v) => {
                stack.push(k);
                stack.push(v);
            }
            TypeDesc::Named(name) => {
                if seen.insert(name.clone())
                    && let Some(NamedType {
                        kind: NamedKind::Record(fields),
                        ..
                    }) = defs.get(name)
                {
                    stack.extend(fields.iter().map(|f| &f.ty));
                }
            }
            _ => {}
        }
    }
    seen
}

fn definition(name: &str, def: &NamedType, defs: &TypeDefs) -> Value {
    let mut map = Map::new();
    map.insert("title".into(), Value::String(name.to_string()));
    if let Some(doc) = &def.doc {
        map.insert("description".into(), Value::String(doc.clone()));
    }
    match &def.kind {
        NamedKind::Record(fields) => {
            let mut properties = Map::new();
            let mut required = Vec::new();
            for f in fields {
                properties.insert(
                    f.name.clone(),
                    with_doc(body(&f.ty, defs), f.doc.as_deref()),
                );
                if !f.ty.is_optional() {
                    required.push(Value::String(f.name.clone()));
                }
            }
            map.insert("type".into(), "object".into());
            map.insert("properties".into(), Value::Object(properties));
            map.insert("required".into(), Value::Array(required));
            map.insert("additionalProperties".into(), Value::Bool(false));
        }
        NamedKind::Enum(variants) => {
            map.insert("type".into(), "string".into());
            map.insert(
                "enum".into(),
                Value::Array(
                    variants
                        .iter()
                        .map(|(v, _)| Value::String(v.clone()))
                        .collect(),
                ),
            );
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_defs() -> TypeDefs {
        let mut defs = TypeDefs::new();
        defs.insert(
            "Link".into(),
            NamedType {
                doc: Some("A short link.".into()),
                kind: NamedKind::Record(vec![
                    FieldDesc {
                        name: "slug".into(),
                        ty: TypeDesc::Text,
                        doc: None,
                    },
                    FieldDesc {
                        name: "visits".into(),
                        ty: TypeDesc::Int,
                        doc: Some("how often it was followed".into()),
                    },
                    FieldDesc {
                        name: "note".into(),
                        ty: TypeDesc::Optional(Box::new(TypeDesc::Text)),
                        doc: None,
                    },
                    FieldDesc {
                        name: "related".into(),
                        ty: TypeDesc::List(Box::new(TypeDesc::Named("Link".into()))),
                        doc: None,
                    },
                    FieldDesc {
                        name: "visibility".into(),
                        ty: TypeDesc::Named("Visibility".into()),
                        doc: None,
                    },
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

    fn validator(schema: &Value) -> jsonschema::Validator {
        jsonschema::draft202012::new(schema).expect("a valid schema")
    }

    #[test]
    fn primitives() {
        let defs = TypeDefs::new();
        let s = schema_for(&TypeDesc::Int, &defs);
        assert_eq!(s, json!({"$schema": DIALECT, "type": "integer"}));
        let v = validator(&s);
        assert!(v.is_valid(&json!(3)));
        assert!(!v.is_valid(&json!(3.5)));
        assert!(!v.is_valid(&json!("3")));
        let v = validator(&schema_for(&TypeDesc::Json, &defs));
        assert!(v.is_valid(&json!({"anything": [1]})));
    }

    #[test]
    fn optional_list_and_map() {
        let defs = TypeDefs::new();
        let ty = TypeDesc::Optional(Box::new(TypeDesc::List(Box::new(TypeDesc::Text))));
        assert_eq!(ty.display(), "[Text]?");
        let v = validator(&schema_for(&ty, &defs));
        assert!(v.is_valid(&json!(null)));
        assert!(v.is_valid(&json!(["a", "b"])));
        assert!(!v.is_valid(&json!([1])));

        let ty = TypeDesc::Map(Box::new(TypeDesc::Int), Box::new(TypeDesc::Bool));
        assert_eq!(ty.display(), "{Int: Bool}");
        let v = validator(&schema_for(&ty, &defs));
        assert!(v.is_valid(&json!({"1": true, "-20": false})));
        assert!(!v.is_valid(&json!({"x": true})));
        assert!(!v.is_valid(&json!({"1": 1})));
    }

    #[test]
    fn records_are_closed_and_recursive_types_work() {
        let defs = link_defs();
        let s = schema_for(&TypeDesc::Named("Link".into()), &defs);
        assert_eq!(s["$ref"], "#/$defs/Link");
        assert_eq!(
            s["$defs"]["Link"]["required"],
            json!(["slug", "visits", "related", "visibility"])
        );
        assert_eq!(
            s["$defs"]["Link"]["properties"]["visits"]["description"],
            "how often it was followed"
        );
        let v = validator(&s);
        let good = json!({
            "slug": "x", "visits": 1, "visibility": "public",
            "related": [{"slug": "y", "visits": 0, "related": [], "visibility": "private", "note": null}]
        });
        assert!(v.is_valid(&good));
        let mut extra = good.clone();
        extra["surprise"] = json!(1);
        assert!(!v.is_valid(&extra));
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("slug");
        assert!(!v.is_valid(&missing));
        let mut bad_enum = good;
        bad_enum["visibility"] = json!("secret");
        assert!(!v.is_valid(&bad_enum));
    }

    #[test]
    fn only_reachable_definitions_are_included() {
        let defs = link_defs();
        let s = schema_for(&TypeDesc::Named("Visibility".into()), &defs);
        let names: Vec<&String> = s["$defs"].as_object().unwrap().keys().collect();
        assert_eq!(names, vec!["Visibility"]);
        let s = schema_for(&TypeDesc::Text, &defs);
        assert!(s.get("$defs").is_none());
    }

    #[test]
    fn enum_keyed_maps_restrict_keys() {
        let defs = link_defs();
        let ty = TypeDesc::Map(
            Box::new(TypeDesc::Named("Visibility".into())),
            Box::new(TypeDesc::Int),
        );
        let v = validator(&schema_for(&ty, &defs));
        assert!(v.is_valid(&json!({"public": 1})));
        assert!(!v.is_valid(&json!({"hidden": 1})));
    }

    #[test]
    fn object_schema_for_results() {
        let defs = link_defs();
        let link = TypeDesc::Named("Link".into());
        let note = TypeDesc::Optional(Box::new(TypeDesc::Text));
        let s = object_schema(
            [("link", &link, Some("the link")), ("note", &note, None)],
            &defs,
        );
        assert_eq!(s["required"], json!(["link"]));
        assert_eq!(s["properties"]["link"]["description"], "the link");
        let v = validator(&s);
        assert!(v.is_valid(&json!({
            "link": {"slug": "x", "visits": 1, "related": [], "visibility": "public"}
        })));
        assert!(!v.is_valid(&json!({})));
        assert!(!v.is_valid(&json!({"link": null, "other": 1})));
    }

    #[test]
    fn names_are_escaped_as_json_pointers() {
        assert_eq!(def_ref("a/b~c"), "#/$defs/a~1b~0c");
        assert_eq!(def_ref("std.types.FileSet"), "#/$defs/std.types.FileSet");
    }
}
