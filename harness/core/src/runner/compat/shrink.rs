//! Shrinking a counterexample: the smallest event, by greedy local simplification, that still
//! satisfies the predicate (valid under one schema, invalid under the other).
//!
//! Invariants: every accepted step strictly lowers `(serialised length, sum of |numbers|)`, so
//! shrinking terminates; the predicate is called at most `budget` times; the result satisfies the
//! predicate whenever the input did.
#![deny(clippy::wildcard_enum_match_arm)]

use serde_json::{Map, Number, Value};

/// One step into a value.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Shrink `value` while `pred` holds, spending at most `budget` predicate calls.
#[must_use]
pub fn shrink(value: Value, pred: &dyn Fn(&Value) -> bool, budget: usize) -> Value {
    if !pred(&value) {
        return value;
    }
    let mut current = value;
    let mut calls = 1;
    'outer: loop {
        let size = measure(&current);
        let mut paths = Vec::new();
        collect_paths(&current, &mut Vec::new(), &mut paths);
        for path in &paths {
            let Some(node) = get(&current, path) else {
                continue;
            };
            for cand in simpler(node) {
                let Some(next) = replace(&current, path, cand) else {
                    continue;
                };
                if measure(&next) >= size {
                    continue;
                }
                if calls >= budget {
                    break 'outer;
                }
                calls += 1;
                if pred(&next) {
                    current = next;
                    continue 'outer;
                }
            }
        }
        break;
    }
    current
}

/// Simpler replacements for one node; `None` deletes it (a member or an item).
fn simpler(v: &Value) -> Vec<Option<Value>> {
    let mut out = vec![None];
    match v {
        Value::Null => {}
        Value::Bool(b) => {
            if *b {
                out.push(Some(Value::Bool(false)));
            }
        }
        Value::Number(n) => {
            out.push(Some(Value::from(0)));
            if let Some(i) = n.as_i64() {
                out.push(Some(Value::from(i / 2)));
                out.push(Some(Value::from(i - i.signum())));
            } else if let Some(f) = n.as_f64() {
                let t = f.trunc();
                if let Some(n) = Number::from_f64(t) {
                    #[allow(clippy::cast_possible_truncation)]
                    let as_int = t as i64;
                    out.push(Some(Value::from(as_int)));
                    out.push(Some(Value::Number(n)));
                }
            }
        }
        Value::String(s) => {
            out.push(Some(Value::String(String::new())));
            let chars: Vec<char> = s.chars().collect();
            out.push(Some(Value::String(
                chars[..chars.len() / 2].iter().collect(),
            )));
            if !chars.is_empty() {
                out.push(Some(Value::String(
                    chars[..chars.len() - 1].iter().collect(),
                )));
                out.push(Some(Value::String(chars[1..].iter().collect())));
            }
        }
        Value::Array(items) => {
            out.push(Some(Value::Array(Vec::new())));
            out.push(Some(Value::Array(items[..items.len() / 2].to_vec())));
        }
        Value::Object(_) => out.push(Some(Value::Object(Map::new()))),
    }
    out
}

fn measure(v: &Value) -> (usize, u64) {
    fn mag(v: &Value) -> u64 {
        match v {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_i64().map(i64::unsigned_abs))
                .unwrap_or_else(|| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let m = n.as_f64().map_or(0, |f| f.abs().ceil() as u64);
                    m
                }),
            Value::Array(a) => a.iter().map(mag).fold(0, u64::saturating_add),
            Value::Object(m) => m.values().map(mag).fold(0, u64::saturating_add),
            Value::Null | Value::Bool(_) | Value::String(_) => 0,
        }
    }
    (v.to_string().len(), mag(v))
}

fn collect_paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                at.push(Seg::Key(k.clone()));
                collect_paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                at.push(Seg::Index(i));
                collect_paths(child, at, out);
                at.pop();
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn get<'v>(v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(k),
        Seg::Index(i) => v.get(i),
    })
}

/// `v` with the node at `path` replaced (`Some`) or deleted (`None`); the root cannot be deleted.
fn replace(v: &Value, path: &[Seg], with: Option<Value>) -> Option<Value> {
    let (last, parent_path) = path.split_last()?;
    let mut out = v.clone();
    let parent = parent_path.iter().try_fold(&mut out, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k),
        Seg::Index(i) => v.get_mut(i),
    })?;
    match (parent, last, with) {
        (Value::Object(m), Seg::Key(k), None) => {
            m.shift_remove(k)?;
        }
        (Value::Object(m), Seg::Key(k), Some(w)) => *m.get_mut(k)? = w,
        (Value::Array(a), Seg::Index(i), None) => {
            if *i >= a.len() {
                return None;
            }
            a.remove(*i);
        }
        (Value::Array(a), Seg::Index(i), Some(w)) => *a.get_mut(*i)? = w,
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shrinks_to_the_member_that_matters() {
        // Predicate: "name" longer than 3 chars.
        let pred = |v: &Value| v["name"].as_str().is_some_and(|s| s.chars().count() > 3);
        let got = shrink(
            json!({"a": [1, 2, 3], "name": "abcdefghij", "z": true}),
            &pred,
            1000,
        );
        assert_eq!(got, json!({"name": "abcd"}));
    }

    #[test]
    fn an_input_failing_the_predicate_comes_back_unchanged() {
        let v = json!({"x": 1});
        assert_eq!(shrink(v.clone(), &|_| false, 10), v);
    }
}
