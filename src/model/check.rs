//! Field checks that mirror the official SDK's `parse_customer_webhook` helpers, each
//! problem reported as `<json path>: <what was expected>`.

use serde_json::{Map, Value};

use super::event::Text;

pub(crate) struct Check<'a, 'p> {
    path: &'static str,
    obj: &'a Map<String, Value>,
    pub problems: &'p mut Vec<String>,
}

impl<'a, 'p> Check<'a, 'p> {
    pub fn new(
        path: &'static str,
        obj: &'a Map<String, Value>,
        problems: &'p mut Vec<String>,
    ) -> Self {
        Self {
            path,
            obj,
            problems,
        }
    }

    fn problem(&mut self, key: &str, what: &str) {
        self.problems.push(format!("{}.{key}: {what}", self.path));
    }

    /// Required string (SDK `_require_literal_str` without `allowed`).
    pub fn string(&mut self, key: &str) -> Option<&'a str> {
        match self.obj.get(key) {
            Some(Value::String(s)) => Some(s),
            _ => {
                self.problem(key, "expected string");
                None
            }
        }
    }

    /// Required string, owned; a placeholder keeps the struct buildable while the
    /// problem list already marks the payload broken.
    pub fn text(&mut self, key: &str) -> Text {
        self.string(key).unwrap_or_default().into()
    }

    /// Missing or null is fine, otherwise a string (SDK `_require_nullable_str`; the
    /// SDK's "optional nullable" variant accepts exactly the same inputs).
    pub fn nullable(&mut self, key: &str) -> Option<Text> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str().into()),
            Some(_) => {
                self.problem(key, "expected string or null");
                None
            }
        }
    }

    /// Missing is fine, but when present it must be a string, null included
    /// (SDK `_require_optional_str`).
    pub fn optional(&mut self, key: &str) -> Option<Text> {
        match self.obj.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.as_str().into()),
            Some(_) => {
                self.problem(key, "expected string");
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            _ => {
                self.problem(key, "expected boolean");
                None
            }
        }
    }

    pub fn optional_nullable_bool(&mut self, key: &str) {
        match self.obj.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(_)) => {}
            Some(_) => self.problem(key, "expected boolean or null"),
        }
    }

    /// Optional string restricted to `allowed` (SDK `_require_optional_literal_str`).
    pub fn optional_one_of<T>(
        &mut self,
        key: &str,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        match self.obj.get(key) {
            None => None,
            Some(Value::String(s)) => {
                let found = parse(s);
                if found.is_none() {
                    // The SDK's wording: a sorted Python list.
                    let mut sorted = allowed.to_vec();
                    sorted.sort_unstable();
                    let list: Vec<String> = sorted.iter().map(|a| format!("'{a}'")).collect();
                    self.problem(key, &format!("expected one of [{}]", list.join(", ")));
                }
                found
            }
            Some(_) => {
                self.problem(key, "expected string");
                None
            }
        }
    }

    /// Optional integer. Python's `isinstance(True, int)` holds, so the SDK takes a
    /// boolean here too; we follow it and read it as 0/1.
    pub fn optional_int(&mut self, key: &str) -> Option<i64> {
        match self.obj.get(key) {
            None => None,
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.as_i64().or(Some(i64::MAX)),
            Some(Value::Bool(b)) => Some(i64::from(*b)),
            Some(_) => {
                self.problem(key, "expected integer");
                None
            }
        }
    }
}

/// A string field read without judging it: for families the SDK does not validate.
pub(crate) fn lenient(obj: &Map<String, Value>, key: &str) -> Option<Text> {
    match obj.get(key) {
        Some(Value::String(s)) => Some(s.as_str().into()),
        Some(Value::Number(n)) => Some(n.to_string().into()),
        _ => None,
    }
}
