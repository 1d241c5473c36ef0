//! Values for the `format` keyword: valid ones built by construction, broken ones for mutants.
//!
//! Invariants: valid values are accepted by both the Rust `jsonschema` checkers and Python
//! `jsonschema`'s (`rfc3339-validator`, `rfc3987`, `fqdn`, `ipaddress`, ...); broken values are
//! rejected by both (Python's `email` check is only "has an @", so broken e-mails have none).

use crate::source::Source;

const WORDS: [&str; 8] = [
    "alpha", "beta", "gamma", "delta", "omega", "kappa", "zeta", "sigma",
];

fn word(src: &mut dyn Source) -> &'static str {
    WORDS[src.choose(WORDS.len())]
}

fn hex(src: &mut dyn Source, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[src.choose(16)]))
        .collect()
}

fn two(n: u64) -> String {
    format!("{n:02}")
}

fn date(src: &mut dyn Source) -> String {
    format!(
        "{}-{}-{}",
        src.int_in_range(1970, 2037),
        two(src.int_in_range(1, 12)),
        two(src.int_in_range(1, 28))
    )
}

fn time(src: &mut dyn Source) -> String {
    let frac = if src.ratio(1, 3) {
        format!(".{:03}", src.int_in_range(0, 999))
    } else {
        String::new()
    };
    let offset = if src.ratio(1, 3) {
        format!(
            "+{}:{}",
            two(src.int_in_range(0, 13)),
            two(src.choose(4) as u64 * 15)
        )
    } else {
        "Z".to_owned()
    };
    format!(
        "{}:{}:{}{frac}{offset}",
        two(src.int_in_range(0, 23)),
        two(src.int_in_range(0, 59)),
        two(src.int_in_range(0, 59))
    )
}

fn hostname(src: &mut dyn Source) -> String {
    let labels = src.int_in_range(1, 3);
    let mut parts: Vec<String> = (0..labels).map(|_| word(src).to_owned()).collect();
    parts.push(["com", "org", "net", "test"][src.choose(4)].to_owned());
    parts.join(".")
}

/// A valid value for `format`, or `None` when the format is not one we build (then any string is
/// tried and the oracle decides).
pub(crate) fn valid(format: &str, src: &mut dyn Source) -> Option<String> {
    Some(match format {
        "date-time" => format!("{}T{}", date(src), time(src)),
        "date" => date(src),
        "time" => time(src),
        "duration" => match src.choose(4) {
            0 => format!("P{}D", src.int_in_range(1, 30)),
            1 => format!("PT{}H{}M", src.int_in_range(1, 23), src.int_in_range(1, 59)),
            2 => format!("P{}Y{}M", src.int_in_range(1, 9), src.int_in_range(1, 11)),
            _ => format!("P{}W", src.int_in_range(1, 52)),
        },
        "email" | "idn-email" => {
            format!("{}{}@{}", word(src), src.int_in_range(0, 99), hostname(src))
        }
        "hostname" | "idn-hostname" => hostname(src),
        "ipv4" => format!(
            "{}.{}.{}.{}",
            src.int_in_range(1, 255),
            src.int_in_range(0, 255),
            src.int_in_range(0, 255),
            src.int_in_range(0, 255)
        ),
        "ipv6" => {
            if src.ratio(1, 2) {
                format!(
                    "2001:db8::{}",
                    hex(src, 3).trim_start_matches('0').to_owned() + "1"
                )
            } else {
                (0..8)
                    .map(|_| {
                        let h = hex(src, 4);
                        let t = h.trim_start_matches('0');
                        if t.is_empty() {
                            "0".to_owned()
                        } else {
                            t.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(":")
            }
        }
        "uri" | "iri" => format!("https://{}/{}", hostname(src), word(src)),
        "uri-reference" | "iri-reference" => {
            if src.ratio(1, 2) {
                format!("/{}/{}", word(src), word(src))
            } else {
                format!(
                    "https://{}/{}?q={}",
                    hostname(src),
                    word(src),
                    src.int_in_range(0, 99)
                )
            }
        }
        "uri-template" => format!("https://{}/{{{}}}", hostname(src), word(src)),
        "uuid" => format!(
            "{}-{}-4{}-{}{}-{}",
            hex(src, 8),
            hex(src, 4),
            hex(src, 3),
            ["8", "9", "a", "b"][src.choose(4)],
            hex(src, 3),
            hex(src, 12)
        ),
        "json-pointer" => {
            let n = src.int_in_range(0, 3);
            (0..n).map(|_| format!("/{}", word(src))).collect()
        }
        "relative-json-pointer" => {
            let up = src.int_in_range(0, 3);
            if src.ratio(1, 4) {
                format!("{up}#")
            } else {
                format!("{up}/{}", word(src))
            }
        }
        "regex" => ["^[a-z]+$", "a*b", "[0-9]{2,4}", "^(x|y)$"][src.choose(4)].to_owned(),
        _ => return None,
    })
}

/// Strings that break `format` for both validators, most blatant first.
pub(crate) fn broken(format: &str) -> &'static [&'static str] {
    match format {
        "date-time" => &["not-a-date-time", "2024-13-45T25:61:61Z", "2024-01-01"],
        "date" => &["not-a-date", "2024-13-45", "2024/01/01"],
        "time" => &["not-a-time", "25:61:61Z", "12:00"],
        "duration" => &["not-a-duration", "P", "1D"],
        "email" | "idn-email" => &["no-at-sign.example.com", "plainaddress"],
        "hostname" | "idn-hostname" => &["-bad-.example.com", "a..b", "under_score host"],
        "ipv4" => &["256.256.256.256", "1.2.3", "not-an-ip"],
        "ipv6" => &["12345::", "1:2:3:4:5:6:7:8:9", "not-an-ip"],
        "uri" | "iri" => &["not a uri", "relative/path", "//no-scheme"],
        "uri-reference" | "iri-reference" => &["\\\\bad ref", "a b c", "http://[bad"],
        "uri-template" => &["https://example.com/{unclosed", "{{x}"],
        "uuid" => &["not-a-uuid", "1234", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"],
        "json-pointer" => &["no-leading-slash", "/a~2b"],
        "relative-json-pointer" => &["/absolute", "-1/a", "x"],
        "regex" => &["[unclosed", "(unbalanced", "*bad"],
        _ => &[],
    }
}
