//! Resolved types and constant values.

use super::{EnumId, Model, TypeId};

/// A resolved type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Text,
    Int,
    Float,
    Bool,
    Path,
    /// Any JSON value.
    Json,
    Record(TypeId),
    Enum(EnumId),
    /// `T?`
    Optional(Box<Ty>),
    /// `[T]`
    List(Box<Ty>),
    /// `{Text: T}`: the keys are always `Text`.
    Map(Box<Ty>),
    /// A type that did not resolve (its error has been reported). Never
    /// present in a model without errors.
    Error,
}

impl Ty {
    /// The built-in types, by the names users write.
    pub const PRIMITIVES: &'static [&'static str] =
        &["Text", "Int", "Float", "Bool", "Path", "Json"];

    pub fn primitive(name: &str) -> Option<Ty> {
        match name {
            "Text" => Some(Ty::Text),
            "Int" => Some(Ty::Int),
            "Float" => Some(Ty::Float),
            "Bool" => Some(Ty::Bool),
            "Path" => Some(Ty::Path),
            "Json" => Some(Ty::Json),
            _ => None,
        }
    }

    /// Whether this type (or a type inside it) failed to resolve.
    pub fn has_error(&self) -> bool {
        match self {
            Ty::Error => true,
            Ty::Optional(t) | Ty::List(t) | Ty::Map(t) => t.has_error(),
            _ => false,
        }
    }

    /// Whether a value of type `self` may be given where `target` is
    /// expected: the same type, or a `T` where `T?` is expected (also inside
    /// lists and maps). Types with errors fit anything, so that one mistake
    /// is reported once.
    pub fn fits(&self, target: &Ty) -> bool {
        if self.has_error() || target.has_error() || self == target {
            return true;
        }
        match (self, target) {
            (Ty::Optional(a), Ty::Optional(b)) => a.fits(b),
            (a, Ty::Optional(b)) => a.fits(b),
            (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => a.fits(b),
            _ => false,
        }
    }

    /// The type as users write it, e.g. `{Text: [Link]}?`.
    pub fn display(&self, model: &Model) -> String {
        match self {
            Ty::Text => "Text".into(),
            Ty::Int => "Int".into(),
            Ty::Float => "Float".into(),
            Ty::Bool => "Bool".into(),
            Ty::Path => "Path".into(),
            Ty::Json => "Json".into(),
            Ty::Record(id) => model
                .records
                .get(id.index())
                .map_or_else(|| "?".into(), |r| r.decl.name.clone()),
            Ty::Enum(id) => model
                .enums
                .get(id.index())
                .map_or_else(|| "?".into(), |e| e.decl.name.clone()),
            Ty::Optional(t) => format!("{}?", t.display(model)),
            Ty::List(t) => format!("[{}]", t.display(model)),
            Ty::Map(t) => format!("{{Text: {}}}", t.display(model)),
            Ty::Error => "{unknown}".into(),
        }
    }
}

/// A constant argument of a check call, checked against the parameter type.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A variant of an enum, by name.
    Variant {
        ty: EnumId,
        name: String,
    },
    List(Vec<Const>),
    /// A map or record literal, entries in source order.
    Map(Vec<(String, Const)>),
}

impl Const {
    /// The text substituted for `{param}` in a check's `run` template:
    /// strings and variants as they are, numbers and booleans as written,
    /// lists and maps as JSON.
    pub fn render(&self) -> String {
        match self {
            Const::Text(s) => s.clone(),
            Const::Variant { name, .. } => name.clone(),
            other => other.to_json().to_string(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Const::Text(s) => Value::String(s.clone()),
            Const::Int(i) => Value::from(*i),
            Const::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Const::Bool(b) => Value::Bool(*b),
            Const::Variant { name, .. } => Value::String(name.clone()),
            Const::List(items) => Value::Array(items.iter().map(Const::to_json).collect()),
            Const::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_allows_optional_widening_only() {
        let text = Ty::Text;
        let opt = Ty::Optional(Box::new(Ty::Text));
        assert!(text.fits(&opt));
        assert!(!opt.fits(&text));
        assert!(Ty::List(Box::new(text.clone())).fits(&Ty::List(Box::new(opt.clone()))));
        assert!(!Ty::List(Box::new(text.clone())).fits(&text));
        assert!(!Ty::Int.fits(&Ty::Float));
        assert!(Ty::Error.fits(&Ty::Int));
        assert!(Ty::Int.fits(&Ty::List(Box::new(Ty::Error))));
    }

    #[test]
    fn display_and_render() {
        let model = Model::default();
        let ty = Ty::Optional(Box::new(Ty::Map(Box::new(Ty::List(Box::new(Ty::Int))))));
        assert_eq!(ty.display(&model), "{Text: [Int]}?");
        assert_eq!(Const::Text("a b".into()).render(), "a b");
        assert_eq!(Const::Int(3).render(), "3");
        assert_eq!(
            Const::List(vec![Const::Text("x".into()), Const::Bool(true)]).render(),
            r#"["x",true]"#
        );
    }
}
