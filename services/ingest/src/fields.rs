//! A field-by-field reader of JSON that collects every problem instead of stopping at the first.

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::dates::parse_date;
use serde_json::{Map, Value};

use crate::problem::FieldError;

pub type Obj = Map<String, Value>;

/// Reads fields of event `index`, recording each problem with its path.
pub struct Fields<'e> {
    pub index: usize,
    pub errors: &'e mut Vec<FieldError>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Fields<'_> {
    pub fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            index: self.index,
            field: field.into(),
            message: message.into(),
        });
    }

    fn get<'a>(&mut self, m: &'a Obj, path: &str, key: &str, required: bool) -> Option<&'a Value> {
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(join(path, key), "is required");
                }
                None
            }
            Some(v) => Some(v),
        }
    }

    pub fn object<'a>(
        &mut self,
        m: &'a Obj,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<&'a Obj> {
        let v = self.get(m, path, key, required)?;
        match v.as_object() {
            Some(o) => Some(o),
            None => {
                self.err(join(path, key), "must be an object");
                None
            }
        }
    }

    pub fn string(&mut self, m: &Obj, path: &str, key: &str, required: bool) -> Option<String> {
        let v = self.get(m, path, key, required)?;
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.to_owned()),
            Some(_) => {
                self.err(join(path, key), "must not be empty");
                None
            }
            None => {
                self.err(join(path, key), "must be a string");
                None
            }
        }
    }

    /// A string checked by `check`, whose error message is reported as is.
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        m: &Obj,
        path: &str,
        key: &str,
        required: bool,
        check: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let s = self.string(m, path, key, required)?;
        match check(&s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(join(path, key), e.to_string());
                None
            }
        }
    }

    pub fn one_of(&mut self, m: &Obj, path: &str, key: &str, allowed: &[&str]) -> Option<String> {
        let s = self.string(m, path, key, true)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.err(
                join(path, key),
                format!("must be one of {}", allowed.join(", ")),
            );
            None
        }
    }

    pub fn date(&mut self, m: &Obj, path: &str, key: &str, required: bool) -> Option<Date> {
        self.parsed(m, path, key, required, |s| {
            parse_date(s).ok_or("must be a date YYYY-MM-DD")
        })
    }

    pub fn timestamp(&mut self, m: &Obj, path: &str, key: &str) -> Option<Timestamp> {
        self.parsed(m, path, key, true, |s| {
            s.parse::<Timestamp>().map_err(|_| {
                "must be an RFC 3339 date-time with offset, e.g. 2026-01-31T09:00:00+01:00"
            })
        })
    }

    pub fn boolean(&mut self, m: &Obj, path: &str, key: &str, required: bool) -> Option<bool> {
        let v = self.get(m, path, key, required)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.err(join(path, key), "must be true or false");
                None
            }
        }
    }

    pub fn integer(
        &mut self,
        m: &Obj,
        path: &str,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let v = self.get(m, path, key, true)?;
        match v.as_i64() {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.err(
                    join(path, key),
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// Reports every key of `m` that is not in `allowed`.
    pub fn no_unknown(&mut self, m: &Obj, path: &str, allowed: &[&str]) {
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(join(path, k), "is not a known field");
            }
        }
    }

    /// Reports when `later` is before `earlier`.
    pub fn not_before(
        &mut self,
        earlier: Option<Date>,
        later: Option<Date>,
        path: &str,
        key: &str,
        what: &str,
    ) {
        if let (Some(a), Some(b)) = (earlier, later) {
            if b < a {
                self.err(join(path, key), format!("must not be before {what}"));
            }
        }
    }
}
