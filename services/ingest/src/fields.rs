//! A field-by-field reader of JSON that collects every problem instead of stopping at the first.
//! It remembers which keys it was asked for, so the keys a type does not have are found
//! without a list of them kept by hand ([`Fields::done`]).

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::domain::dates::parse_date;
use serde_json::{Map, Value};

use crate::problem::{ErrorKind, FieldError};

pub type Obj = Map<String, Value>;

/// Reads fields of event `index`, recording each problem with its path and kind.
pub struct Fields<'e> {
    index: usize,
    errors: &'e mut Vec<FieldError>,
    /// (address of the object, key) of every key asked for; the address only tells the
    /// objects of one event apart and is never followed
    asked: std::collections::HashSet<(usize, String)>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl<'e> Fields<'e> {
    pub fn new(index: usize, errors: &'e mut Vec<FieldError>) -> Self {
        Self {
            index,
            errors,
            asked: Default::default(),
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    /// Records a problem of `kind` with field `field`.
    pub fn err(&mut self, field: impl Into<String>, kind: ErrorKind, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(self.index, field, kind, message));
    }

    /// A value that fails its check.
    pub fn invalid(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.err(field, ErrorKind::Invalid, message);
    }

    /// Counts `keys` of `m` as read: they belong to the type, whether or not they are used.
    pub fn known(&mut self, m: &Obj, keys: &[&str]) {
        for k in keys {
            self.asked
                .insert((m as *const Obj as usize, (*k).to_owned()));
        }
    }

    /// Reports every key of `m` that no read asked for: the type has no such field. Call it
    /// once every field of `m` has been read.
    pub fn done(&mut self, m: &Obj, path: &str) {
        let at = m as *const Obj as usize;
        for k in m.keys() {
            if !self.asked.contains(&(at, k.clone())) {
                self.err(join(path, k), ErrorKind::Unknown, "is not a known field");
            }
        }
    }

    fn get<'a>(&mut self, m: &'a Obj, path: &str, key: &str, required: bool) -> Option<&'a Value> {
        self.known(m, &[key]);
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(join(path, key), ErrorKind::Missing, "is required");
                }
                None
            }
            Some(v) => Some(v),
        }
    }

    /// The raw value of `key`, if present and not null (it counts as read).
    pub fn value<'a>(&mut self, m: &'a Obj, key: &str) -> Option<&'a Value> {
        self.get(m, "", key, false)
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
                self.err(join(path, key), ErrorKind::WrongType, "must be an object");
                None
            }
        }
    }

    pub fn string(&mut self, m: &Obj, path: &str, key: &str, required: bool) -> Option<String> {
        let v = self.get(m, path, key, required)?;
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.to_owned()),
            Some(_) => {
                self.invalid(join(path, key), "must not be empty");
                None
            }
            None => {
                self.err(join(path, key), ErrorKind::WrongType, "must be a string");
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
                self.invalid(join(path, key), e.to_string());
                None
            }
        }
    }

    pub fn one_of(&mut self, m: &Obj, path: &str, key: &str, allowed: &[&str]) -> Option<String> {
        let s = self.string(m, path, key, true)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.invalid(
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
                self.err(
                    join(path, key),
                    ErrorKind::WrongType,
                    "must be true or false",
                );
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
                self.invalid(
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
                self.err(
                    join(path, key),
                    ErrorKind::Order,
                    format!("must not be before {what}"),
                );
            }
        }
    }
}
