//! Cases drawn from golden fixtures, for event types the generator cannot draw from.
//!
//! A valid fixture is picked at random; shrinking removes object members and array items one at a
//! time (largest subtrees first) and halves long strings. The tree does not know the contract:
//! the runner re-judges every candidate with the registry and calls `complicate` on one that is
//! no longer what it was labelled, so every shrunk event is still valid (or still the same
//! mutant). Mutations are simple and aimed: a required envelope member dropped, an id that is not
//! a UUID, plus the catalogue mutations of [`super::cases`].

use super::cases::{Case, WEIGHTS, catalogue_cases};
use super::judge::Aim;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, NewTree, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value;

/// Strings at least this long are candidates for halving while shrinking.
const SHRINKABLE_STRING: usize = 2;

#[derive(Debug, Clone)]
enum Step {
    Remove(String),
    Halve(String),
}

/// A fixture event that shrinks by removing members and items.
#[derive(Debug, Clone)]
pub struct EventTree {
    cur: Value,
    prev: Option<Value>,
    steps: Vec<Step>,
    /// Whether the step `prev` undoes was a halving (pushed back to be retried).
    halved: bool,
}

fn plan(v: &Value, path: &str, out: &mut Vec<Step>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(Step::Remove(p.clone()));
                plan(child, &p, out);
            }
        }
        Value::Array(a) => {
            // Highest index first, so removing one does not shift the others still planned.
            for (i, child) in a.iter().enumerate().rev() {
                let p = format!("{path}/{i}");
                out.push(Step::Remove(p.clone()));
                plan(child, &p, out);
            }
        }
        Value::String(s) if s.chars().count() >= SHRINKABLE_STRING => {
            out.push(Step::Halve(path.to_owned()));
        }
        _ => {}
    }
}

fn apply(v: &mut Value, step: &Step) -> bool {
    match step {
        Step::Remove(p) => {
            let Some((parent, last)) = p.rsplit_once('/') else {
                return false;
            };
            let key = last.replace("~1", "/").replace("~0", "~");
            match v.pointer_mut(parent) {
                Some(Value::Object(m)) => m.shift_remove(&key).is_some(),
                Some(Value::Array(a)) => match key.parse::<usize>() {
                    Ok(i) if i < a.len() => {
                        a.remove(i);
                        true
                    }
                    _ => false,
                },
                _ => false,
            }
        }
        Step::Halve(p) => match v.pointer_mut(p) {
            Some(Value::String(s)) if s.chars().count() >= SHRINKABLE_STRING => {
                let keep = s.chars().count().div_ceil(2);
                *s = s.chars().take(keep).collect();
                true
            }
            _ => false,
        },
    }
}

impl EventTree {
    fn new(event: Value) -> Self {
        let mut steps = Vec::new();
        plan(&event, "", &mut steps);
        steps.reverse(); // popped from the end: top-level members first
        EventTree {
            cur: event,
            prev: None,
            steps,
            halved: false,
        }
    }
}

impl ValueTree for EventTree {
    type Value = Value;

    fn current(&self) -> Value {
        self.cur.clone()
    }

    fn simplify(&mut self) -> bool {
        while let Some(step) = self.steps.pop() {
            let mut next = self.cur.clone();
            if apply(&mut next, &step) {
                self.halved = matches!(step, Step::Halve(_));
                if self.halved {
                    // A halved string may halve again.
                    self.steps.push(step);
                }
                self.prev = Some(std::mem::replace(&mut self.cur, next));
                return true;
            }
        }
        false
    }

    fn complicate(&mut self) -> bool {
        match self.prev.take() {
            Some(p) => {
                self.cur = p;
                // The step just undone must not be retried: drop the halving pushed back.
                if std::mem::take(&mut self.halved) {
                    self.steps.pop();
                }
                true
            }
            None => false,
        }
    }
}

/// Picks one of the events at random.
#[derive(Debug, Clone)]
pub struct Pick(Vec<Value>);

impl Strategy for Pick {
    type Tree = EventTree;
    type Value = Value;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        if self.0.is_empty() {
            return Err("no fixture to pick".into());
        }
        let i = (0..self.0.len()).new_tree(runner)?.current();
        Ok(EventTree::new(self.0[i].clone()))
    }
}

/// A simple aimed mutation of a valid envelope.
fn simple_mutation(event_type: &str, mut v: Value, which: usize) -> Option<Case> {
    let o = v.as_object_mut()?;
    let (keyword, path, class) = match which {
        0 => {
            o.shift_remove("tenant_id")?;
            ("required", "", "drop_required")
        }
        1 => {
            o.insert("tenant_id".into(), "acme".into());
            ("pattern", "/tenant_id", "pattern_broken")
        }
        _ => {
            o.insert("payload".into(), Value::Array(Vec::new()));
            ("type", "/payload", "wrong_type")
        }
    };
    Some(Case {
        event_type: event_type.to_owned(),
        event: v,
        aim: Some(Aim {
            keyword: keyword.into(),
            instance_path: path.into(),
            class: class.into(),
        }),
    })
}

/// The fixture source's cases, mixed like the generator's.
pub fn fixture_cases(events: &[Value], event_type: &str, invalid: bool) -> BoxedStrategy<Case> {
    let pick = Pick(events.to_vec());
    let t = event_type.to_owned();
    let valid = {
        let t = t.clone();
        pick.clone().prop_map(move |v| Case::valid(&t, v)).boxed()
    };
    if !invalid {
        return valid;
    }
    let schema = (pick.clone(), 0..3usize)
        .prop_filter_map("mutation does not apply", move |(v, w)| {
            simple_mutation(&t, v, w)
        })
        .boxed();
    let catalogue = catalogue_cases(pick.boxed(), event_type);
    let (a, b, c) = WEIGHTS;
    prop_oneof![a => valid, b => schema, c => catalogue].boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_removes_members_and_can_undo() {
        let mut t = EventTree::new(serde_json::json!({"a": 1, "b": [1, 2]}));
        assert!(t.simplify());
        assert_eq!(t.current(), serde_json::json!({"b": [1, 2]}));
        assert!(t.complicate());
        assert_eq!(t.current(), serde_json::json!({"a": 1, "b": [1, 2]}));
        assert!(t.simplify());
        assert_eq!(t.current(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn undoing_a_removal_keeps_the_halving_planned_after_it() {
        // Regression: undoing Remove(/s) used to drop the Halve(/s) queued behind it.
        let mut t = EventTree::new(serde_json::json!({"s": "abcd"}));
        assert!(t.simplify()); // remove /s
        assert!(t.complicate());
        assert!(t.simplify()); // halve /s
        assert_eq!(t.current(), serde_json::json!({"s": "ab"}));
    }
}
