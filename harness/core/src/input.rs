//! Reading events: JSON Lines streamed one bounded line at a time, or one JSON document.
//!
//! The framing is chosen by the caller ([`Framing`]), never guessed from the content: a truncated
//! first line must not turn a JSON Lines file into one document, and an array of events must get
//! the same verdicts compact or pretty-printed.
//!
//! Invariants: every line of a JSON Lines input becomes exactly one [`Item`] (a blank line is an
//! unreadable item, never skipped), so `valid + invalid + unreadable = lines read`; no line is held
//! beyond [`MAX_EVENT_BYTES`]: the rest of an over-long line is read and discarded, not buffered.
//! A document that is an array gives one item per element, its raw bytes as written (duplicate
//! members and number spellings included), whatever the layout; any other document is one item.

use serde_json::value::RawValue;
use std::io::{BufRead, Read};

/// The largest event accepted, in bytes. Brokers cap messages near 1 MiB by default; 16 MiB leaves
/// room for batch payloads while keeping a hostile 1 GB line from being held in memory.
pub const MAX_EVENT_BYTES: usize = 16 << 20;
/// The largest pretty-printed JSON document read whole (a fixture or an array of events).
pub const MAX_DOCUMENT_BYTES: usize = 256 << 20;

/// How an input is cut into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// JSON Lines: one event per line, each line its own verdict whatever the others hold.
    Lines,
    /// One JSON document (read whole, bounded): an array is one event per element, anything
    /// else one event.
    Document,
}

/// One event's raw bytes, or why there are none.
#[derive(Debug)]
pub struct Item {
    /// 1-based line where the event starts.
    pub line: u64,
    /// Position in a top-level array when the input is one JSON array document.
    pub index: Option<usize>,
    /// The event's bytes, or the reason it is unreadable.
    pub bytes: Result<Vec<u8>, String>,
}

/// Read-side failures that stop the whole input (I/O), as opposed to unreadable events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The input could not be read.
    #[error("cannot read input")]
    Io(#[from] std::io::Error),
    /// The input holds no events at all (nothing but white space, or an empty array document).
    #[error("input is empty: no events to validate")]
    Empty,
}

/// Reads one input as a sequence of [`Item`]s.
pub struct Events<R: BufRead> {
    reader: R,
    framing: Framing,
    line: u64,
    pending: std::collections::VecDeque<Item>,
    /// Blank lines met before the first non-blank one (reported once one comes, else the input
    /// is empty).
    leading_blank: u64,
    seen_event: bool,
    done: bool,
}

impl<R: BufRead> Events<R> {
    /// Wrap a reader of JSON Lines.
    pub fn new(reader: R) -> Self {
        Self::with_framing(reader, Framing::Lines)
    }

    /// Wrap a reader, cut into events as `framing` says.
    pub fn with_framing(reader: R, framing: Framing) -> Self {
        Events {
            reader,
            framing,
            line: 0,
            pending: std::collections::VecDeque::new(),
            leading_blank: 0,
            seen_event: false,
            done: false,
        }
    }

    /// The next item, `Ok(None)` at the end.
    ///
    /// # Errors
    /// An I/O error, or [`InputError::Empty`] when the input holds nothing but white space (or
    /// is an empty array document).
    pub fn next_item(&mut self) -> Result<Option<Item>, InputError> {
        if let Some(item) = self.pending.pop_front() {
            return Ok(Some(item));
        }
        if self.done {
            return Ok(None);
        }
        match self.framing {
            Framing::Lines => self.next_line(),
            Framing::Document => {
                self.done = true;
                self.document()?;
                Ok(self.pending.pop_front())
            }
        }
    }

    fn document(&mut self) -> Result<(), InputError> {
        let mut doc = Vec::new();
        (&mut self.reader)
            .take(MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_end(&mut doc)?;
        if doc.len() > MAX_DOCUMENT_BYTES {
            self.pending.push_back(Item {
                line: 1,
                index: None,
                bytes: Err(format!(
                    "document larger than {} MiB: split it into JSON Lines",
                    MAX_DOCUMENT_BYTES >> 20
                )),
            });
            return Ok(());
        }
        if is_blank(&doc) {
            return Err(InputError::Empty);
        }
        let body = trim(&doc);
        let start = doc.len() - trim_start(&doc).len();
        let first_line = line_at(&doc, start, 0, 1);
        if body.first() == Some(&b'[') {
            if let Ok(elements) = serde_json::from_slice::<Vec<&RawValue>>(&doc) {
                if elements.is_empty() {
                    return Err(InputError::Empty);
                }
                let (mut at, mut line) = (0, 1);
                for (i, raw) in elements.iter().enumerate() {
                    let bytes = raw.get().as_bytes();
                    // A slice of `doc`: its offset is where the element starts.
                    let offset = (bytes.as_ptr() as usize).wrapping_sub(doc.as_ptr() as usize);
                    line = line_at(&doc, offset, at, line);
                    at = offset;
                    self.pending.push_back(Item {
                        line,
                        index: Some(i),
                        bytes: Ok(bytes.to_vec()),
                    });
                }
                return Ok(());
            }
        }
        // Not an array of JSON values: the document is one event (or one unreadable verdict).
        self.pending.push_back(Item {
            line: first_line,
            index: None,
            bytes: Ok(body.to_vec()),
        });
        Ok(())
    }

    fn next_line(&mut self) -> Result<Option<Item>, InputError> {
        loop {
            let (bytes, over) = read_bounded_line(&mut self.reader, MAX_EVENT_BYTES)?;
            let Some(bytes) = bytes else {
                self.done = true;
                return if self.seen_event {
                    Ok(None)
                } else {
                    Err(InputError::Empty)
                };
            };
            self.line += 1;
            let item = if over {
                too_long(self.line)
            } else if !self.seen_event && is_blank(&bytes) {
                self.leading_blank += 1;
                continue;
            } else {
                line_item(self.line, bytes)
            };
            if !self.seen_event {
                self.seen_event = true;
                for n in 1..=self.leading_blank {
                    self.pending.push_back(line_item(n, Vec::new()));
                }
                self.pending.push_back(item);
                return Ok(self.pending.pop_front());
            }
            return Ok(Some(item));
        }
    }
}

/// The 1-based line of byte `offset` of `doc`, counting on from `line` at byte `from`.
fn line_at(doc: &[u8], offset: usize, from: usize, line: u64) -> u64 {
    let span = doc.get(from..offset).unwrap_or_default();
    line + memchr::memchr_iter(b'\n', span).count() as u64
}

fn too_long(line: u64) -> Item {
    Item {
        line,
        index: None,
        bytes: Err(format!(
            "line longer than {} MiB: not read as an event",
            MAX_EVENT_BYTES >> 20
        )),
    }
}

fn line_item(line: u64, bytes: Vec<u8>) -> Item {
    if is_blank(&bytes) {
        Item {
            line,
            index: None,
            bytes: Err("empty line: JSON Lines holds one JSON value per line".into()),
        }
    } else {
        Item {
            line,
            index: None,
            bytes: Ok(trim_owned(bytes)),
        }
    }
}

/// [`trim`] without copying: lines are almost always trimmed already.
fn trim_owned(mut bytes: Vec<u8>) -> Vec<u8> {
    let end = bytes
        .iter()
        .rposition(|b| !is_json_ws(*b))
        .map_or(0, |e| e + 1);
    bytes.truncate(end);
    let start = bytes
        .iter()
        .position(|b| !is_json_ws(*b))
        .unwrap_or(bytes.len());
    if start > 0 {
        bytes.drain(..start);
    }
    bytes
}

/// White space as RFC 8259 §2 defines it: space, tab, LF and CR only (a form feed or vertical
/// tab around a line is part of the line, and makes it unreadable).
fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| is_json_ws(*b))
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !is_json_ws(*b))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !is_json_ws(*b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_json_ws(*b))
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// Read one line (without its `\n`), keeping at most `limit` bytes. Returns `(None, _)` at end of
/// input and `(Some(_), true)` when the line was longer than `limit` (its rest was discarded).
fn read_bounded_line<R: BufRead>(
    reader: &mut R,
    limit: usize,
) -> std::io::Result<(Option<Vec<u8>>, bool)> {
    let mut out = Vec::new();
    let mut over = false;
    let mut any = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((any.then_some(out), over));
        }
        any = true;
        let (chunk, found) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !over {
            if out.len() + chunk.len() > limit {
                over = true;
                out = Vec::new();
            } else {
                out.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(buf.len());
        reader.consume(used);
        if found.is_some() {
            if out.last() == Some(&b'\r') {
                out.pop();
            }
            return Ok((Some(out), over));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items_as(
        input: &str,
        framing: Framing,
    ) -> Vec<(u64, Option<usize>, Result<String, String>)> {
        let mut events = Events::with_framing(input.as_bytes(), framing);
        let mut out = Vec::new();
        while let Some(item) = events.next_item().expect("reads") {
            out.push((
                item.line,
                item.index,
                item.bytes.map(|b| String::from_utf8(b).expect("utf8")),
            ));
        }
        out
    }

    fn items(input: &str) -> Vec<(u64, Result<String, String>)> {
        items_as(input, Framing::Lines)
            .into_iter()
            .map(|(l, _, b)| (l, b))
            .collect()
    }

    #[test]
    fn json_lines_give_one_item_per_line_blank_included() {
        let got = items("{\"a\":1}\n\n{\"b\":2}\nnot json\n");
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], (1, Ok("{\"a\":1}".into())));
        assert!(got[1].1.is_err(), "blank line is an unreadable item");
        assert_eq!(got[3], (4, Ok("not json".into())));
    }

    #[test]
    fn leading_blank_lines_are_items_too() {
        let got = items("\n \n{\"a\":1}\n");
        assert_eq!(got.len(), 3);
        assert!(got[0].1.is_err() && got[1].1.is_err());
        assert_eq!(got[2], (3, Ok("{\"a\":1}".into())));
    }

    /// A truncated first line made the whole input one document, read into memory: one verdict
    /// for every line (or for 256 MiB of them). Each line is its own item whatever it holds.
    #[test]
    fn a_truncated_first_line_is_one_line_of_many() {
        let got = items("{\"a\":\n1}\n");
        assert_eq!(got.len(), 2, "{got:?}");
        let mut input = String::from("{\"event_id\": \"x\",\n");
        for _ in 0..1000 {
            input.push_str("{\"a\":1}\n");
        }
        let got = items(&input);
        assert_eq!(got.len(), 1001);
        assert_eq!(got[1000], (1001, Ok("{\"a\":1}".into())));
    }

    #[test]
    fn pretty_document_is_one_item() {
        let got = items_as("\n{\n  \"a\": 1\n}\n", Framing::Document);
        assert_eq!(got, [(2, None, Ok("{\n  \"a\": 1\n}".into()))]);
    }

    /// Compact or pretty-printed, an array gives the same elements (as written, so duplicate
    /// members and number spellings reach the validator), each with its line.
    #[test]
    fn array_document_gives_one_item_per_element_whatever_the_layout() {
        let compact = items_as("[{\"a\":1,\"a\":1.0},{\"b\":2}]", Framing::Document);
        let pretty = items_as(
            "[\n  {\"a\":1,\"a\":1.0},\n  {\"b\":2}\n]\n",
            Framing::Document,
        );
        assert_eq!(compact.len(), 2);
        for ((_, ci, cb), (_, pi, pb)) in compact.iter().zip(&pretty) {
            assert_eq!((ci, cb), (pi, pb));
        }
        assert_eq!(compact[0].2, Ok("{\"a\":1,\"a\":1.0}".into()));
        assert_eq!((pretty[0].0, pretty[1].0), (2, 3));
    }

    #[test]
    fn broken_document_is_one_unreadable_item() {
        let got = items_as("[\n {\"a\": \n", Framing::Document);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].1, None);
    }

    #[test]
    fn deeply_nested_first_line_is_one_line() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let got = items(&format!("{deep}\n{{\"a\":1}}\n"));
        assert_eq!(got.len(), 2, "one item per line");
        assert_eq!(got[1], (2, Ok("{\"a\":1}".into())));
    }

    #[test]
    fn lines_are_trimmed() {
        let got = items("  {\"a\":1}  \r\n\t{\"b\":2}\n");
        assert_eq!(got[0], (1, Ok("{\"a\":1}".into())));
        assert_eq!(got[1], (2, Ok("{\"b\":2}".into())));
    }

    #[test]
    fn empty_input_is_an_error_in_both_framings() {
        for (input, framing) in [
            ("  \n\n", Framing::Lines),
            ("", Framing::Lines),
            ("", Framing::Document),
            (" \n", Framing::Document),
            ("[]", Framing::Document),
            ("[\n]\n", Framing::Document),
        ] {
            let mut events = Events::with_framing(input.as_bytes(), framing);
            assert!(
                matches!(events.next_item(), Err(InputError::Empty)),
                "{input:?} {framing:?}"
            );
        }
    }

    #[test]
    fn over_long_line_is_unreadable_and_not_kept() {
        let text = format!("{}\n{{}}\n", "x".repeat(50));
        let mut reader = std::io::BufReader::with_capacity(8, text.as_bytes());
        let (line, over) = read_bounded_line(&mut reader, 10).expect("reads");
        assert!(over);
        assert_eq!(line, Some(Vec::new()));
        let (next, over) = read_bounded_line(&mut reader, 10).expect("reads");
        assert!(!over);
        assert_eq!(next.as_deref(), Some(&b"{}"[..]));
    }
}
