//! Reading events: JSON Lines streamed one bounded line at a time, or one JSON document.
//!
//! Invariants: every line of a JSON Lines input becomes exactly one [`Item`] (a blank line is an
//! unreadable item, never skipped), so `valid + invalid + unreadable = lines read`; no line is held
//! beyond [`MAX_EVENT_BYTES`]: the rest of an over-long line is read and discarded, not buffered.

use std::io::{BufRead, Read};

/// The largest event accepted, in bytes. Brokers cap messages near 1 MiB by default; 16 MiB leaves
/// room for batch payloads while keeping a hostile 1 GB line from being held in memory.
pub const MAX_EVENT_BYTES: usize = 16 << 20;
/// The largest pretty-printed JSON document read whole (a fixture or an array of events).
pub const MAX_DOCUMENT_BYTES: usize = 256 << 20;

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
    /// The input holds no events at all.
    #[error("input is empty: no events to validate")]
    Empty,
}

/// Reads one input as a sequence of [`Item`]s.
pub struct Events<R: BufRead> {
    reader: R,
    line: u64,
    pending: std::collections::VecDeque<Item>,
    started: bool,
    done: bool,
}

impl<R: BufRead> Events<R> {
    /// Wrap a reader. The format (JSON Lines or one document) is decided from the first line.
    pub fn new(reader: R) -> Self {
        Events {
            reader,
            line: 0,
            pending: std::collections::VecDeque::new(),
            started: false,
            done: false,
        }
    }

    /// The next item, `Ok(None)` at the end.
    ///
    /// # Errors
    /// An I/O error, or [`InputError::Empty`] when the input holds nothing but white space.
    pub fn next_item(&mut self) -> Result<Option<Item>, InputError> {
        if let Some(item) = self.pending.pop_front() {
            return Ok(Some(item));
        }
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            return self.first();
        }
        self.next_line()
    }

    fn first(&mut self) -> Result<Option<Item>, InputError> {
        // Skip leading blank lines only to decide the format; they are reported afterwards.
        let head;
        let mut blank_lines = 0u64;
        loop {
            let (bytes, over) = read_bounded_line(&mut self.reader, MAX_EVENT_BYTES)?;
            let Some(bytes) = bytes else {
                self.done = true;
                return Err(InputError::Empty);
            };
            if over {
                // Too long to be one document we would read whole: JSON Lines.
                self.push_blank(blank_lines);
                self.line += 1;
                self.pending.push_back(too_long(self.line));
                return Ok(self.pending.pop_front());
            }
            if is_blank(&bytes) {
                blank_lines += 1;
                continue;
            }
            head = bytes;
            break;
        }
        let trimmed = trim(&head);
        // A multi-line document is the only case where the first line is an unfinished JSON
        // value (an end-of-input error); anything else, including a syntax error or nesting past
        // the parser's depth limit, means JSON Lines: one verdict per line, nothing read whole.
        let unfinished = serde_json::from_slice::<serde::de::IgnoredAny>(trimmed)
            .err()
            .is_some_and(|e| e.is_eof());
        if !(unfinished && starts_document(trimmed)) {
            // JSON Lines.
            self.push_blank(blank_lines);
            self.line += 1;
            let item = line_item(self.line, head);
            self.pending.push_back(item);
            return Ok(self.pending.pop_front());
        }
        // A document spread over several lines: read it whole (bounded), then split arrays.
        let mut doc = Vec::new();
        doc.extend(std::iter::repeat_n(
            b'\n',
            usize::try_from(blank_lines).unwrap_or(0),
        ));
        doc.extend_from_slice(&head);
        doc.push(b'\n');
        let limit = (MAX_DOCUMENT_BYTES - doc.len()) as u64;
        (&mut self.reader).take(limit + 1).read_to_end(&mut doc)?;
        self.done = true;
        if doc.len() > MAX_DOCUMENT_BYTES {
            self.pending.push_back(Item {
                line: blank_lines + 1,
                index: None,
                bytes: Err(format!(
                    "document larger than {} MiB: split it into JSON Lines",
                    MAX_DOCUMENT_BYTES >> 20
                )),
            });
            return Ok(self.pending.pop_front());
        }
        match serde_json::from_slice::<serde_json::Value>(&doc) {
            Ok(serde_json::Value::Array(events)) => {
                for (i, event) in events.into_iter().enumerate() {
                    self.pending.push_back(Item {
                        line: blank_lines + 1,
                        index: Some(i),
                        bytes: serde_json::to_vec(&event).map_err(|e| e.to_string()),
                    });
                }
                if self.pending.is_empty() {
                    return Err(InputError::Empty);
                }
            }
            Ok(_) => self.pending.push_back(Item {
                line: blank_lines + 1,
                index: None,
                bytes: Ok(doc),
            }),
            Err(_) => {
                // Not one document after all: judge it line by line so every line gets a verdict.
                let body = doc.strip_suffix(b"\n").unwrap_or(&doc);
                for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
                    self.pending
                        .push_back(line_item(i as u64 + 1, raw.to_vec()));
                }
            }
        }
        Ok(self.pending.pop_front())
    }

    fn push_blank(&mut self, n: u64) {
        for _ in 0..n {
            self.line += 1;
            self.pending.push_back(line_item(self.line, Vec::new()));
        }
    }

    fn next_line(&mut self) -> Result<Option<Item>, InputError> {
        let (bytes, over) = read_bounded_line(&mut self.reader, MAX_EVENT_BYTES)?;
        let Some(bytes) = bytes else {
            self.done = true;
            return Ok(None);
        };
        self.line += 1;
        if over {
            return Ok(Some(too_long(self.line)));
        }
        Ok(Some(line_item(self.line, bytes)))
    }
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

/// A first line that opens an object or array without closing it on the same line.
fn starts_document(first: &[u8]) -> bool {
    matches!(first.first(), Some(b'{' | b'['))
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

    fn items(input: &str) -> Vec<(u64, Result<String, String>)> {
        let mut events = Events::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = events.next_item().expect("reads") {
            out.push((
                item.line,
                item.bytes.map(|b| String::from_utf8(b).expect("utf8")),
            ));
        }
        out
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
    fn pretty_document_is_one_item() {
        let got = items("{\n  \"a\": 1\n}\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1);
    }

    #[test]
    fn array_document_gives_one_item_per_element() {
        let got = items("[\n {\"a\":1},\n {\"b\":2}\n]\n");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn broken_document_falls_back_to_lines() {
        let got = items("{\n  \"a\": \n");
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn deeply_nested_first_line_is_json_lines_not_a_document() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let got = items(&format!("{deep}\n{{\"a\":1}}\n"));
        assert_eq!(got.len(), 2, "one item per line");
        assert_eq!(got[1], (2, Ok("{\"a\":1}".into())));
    }

    #[test]
    fn malformed_first_line_is_json_lines() {
        let got = items("{\"a\": oops}\n{\"b\":2}\n");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn lines_are_trimmed() {
        let got = items("  {\"a\":1}  \r\n\t{\"b\":2}\n");
        assert_eq!(got[0], (1, Ok("{\"a\":1}".into())));
        assert_eq!(got[1], (2, Ok("{\"b\":2}".into())));
    }

    #[test]
    fn empty_input_is_an_error() {
        let mut events = Events::new("  \n\n".as_bytes());
        assert!(matches!(events.next_item(), Err(InputError::Empty)));
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
