//! The report as one self-contained HTML page: inline CSS, a few lines of inline JS and inline
//! SVG, no request to anything (a strict Content-Security-Policy in the page says so to the
//! browser), so it opens from a CI artefact, a mail attachment or a file share.
//!
//! Order follows what a reader needs first: the verdict, then what weakens it, then each failure
//! with its replay command, then the coverage heat map, compat changes and benchmark history.

use super::page::{BenchSeries, CoverageRow, ReportData};
use std::fmt::Write as _;

/// Text as HTML (element content and attribute values alike).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--ink:#1f2328;--mute:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:#fff}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:17px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
.sub{color:var(--mute);font-size:13px}
.verdict{display:flex;align-items:center;gap:18px;border-radius:10px;padding:18px 22px;margin:18px 0 14px;color:#fff}
.verdict.pass{background:var(--ok)} .verdict.fail{background:var(--bad)}
.verdict .word{font-size:34px;font-weight:800;letter-spacing:.04em}
.verdict .line{font-size:16px}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:0 0 8px;padding:0;list-style:none}
.figures li{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px}
.figures b{display:block;font-size:18px}
.figures span{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.warnings{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:10px 16px 10px 36px;margin:14px 0}
.warnings li{margin:4px 0}
.failure{border:1px solid var(--line);border-left:5px solid var(--bad);border-radius:8px;padding:12px 16px;margin:12px 0;background:#fff}
.failure h3{margin:0 0 6px;font-size:15px}
.badge{display:inline-block;font-size:12px;font-weight:600;border-radius:999px;padding:1px 9px;margin-right:6px;background:#ffebe9;color:var(--bad);border:1px solid #ffcecb}
.badge.src{background:var(--bg);color:var(--mute);border-color:var(--line)}
.msg{margin:6px 0;white-space:pre-wrap}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;max-height:260px;font-size:12.5px;margin:6px 0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.replay{display:flex;align-items:center;gap:8px;margin:4px 0}
.replay code{background:#0d1117;color:#e6edf3;border-radius:6px;padding:6px 10px;flex:1;overflow:auto;white-space:nowrap}
button{font:inherit;font-size:12px;border:1px solid var(--line);background:#fff;border-radius:6px;padding:4px 10px;cursor:pointer}
.none{color:var(--ok);font-weight:600}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #fff;padding:3px 8px;text-align:center}
th{background:var(--bg);font-weight:600;position:sticky;top:0}
td.name{text-align:left;white-space:nowrap;background:#fff;border-color:var(--line)}
td.cell{min-width:74px;font-variant-numeric:tabular-nums}
td.total{font-weight:600;background:#fff;border-color:var(--line);font-variant-numeric:tabular-nums}
td.na{background:#eef1f4;color:#8c959f}
.heatwrap{max-height:560px;overflow:auto;border:1px solid var(--line);border-radius:8px;display:inline-block}
.legend{display:flex;align-items:center;gap:6px;font-size:12px;color:var(--mute);margin:8px 0}
.legend i{display:inline-block;width:26px;height:12px;border-radius:2px}
input[type=search]{font:inherit;font-size:13px;padding:4px 8px;border:1px solid var(--line);border-radius:6px;margin:0 0 8px;width:260px}
.compat td{text-align:left;border-color:var(--line)}
.v-incompatible,.v-failed,.v-removed{color:var(--bad);font-weight:600}
.v-compatible,.v-added{color:var(--ok);font-weight:600}
.v-undecided{color:var(--warn);font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:var(--mute)}
footer{margin-top:40px;color:var(--mute);font-size:12px}
"#;

/// Filter rows of the heat map, and copy a replay command; the last line marks the script as
/// run to its end (`data-script="done"` on `<html>`). The page shows everything without script.
const JS: &str = r#"
document.querySelectorAll('button[data-copy]').forEach(function (b) {
  b.addEventListener('click', function () {
    var text = b.getAttribute('data-copy');
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(function () { b.textContent = 'copied'; }, function () { b.textContent = 'select + copy'; });
    }
  });
});
var filter = document.getElementById('coverage-filter');
if (filter) {
  filter.addEventListener('input', function () {
    var q = filter.value.toLowerCase();
    document.querySelectorAll('#coverage tbody tr').forEach(function (tr) {
      tr.style.display = tr.getAttribute('data-type').indexOf(q) >= 0 ? '' : 'none';
    });
  });
}
document.documentElement.setAttribute('data-script', 'done');
"#;

/// The page for `data`.
pub(crate) fn render(data: &ReportData) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let verdict = if data.passed { "PASS" } else { "FAIL" };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{verdict}: OneProtect contracts report</title><style>{CSS}</style></head><body><main>\
<h1>OneProtect contracts report</h1><div class=\"sub\">{}</div>",
        esc(&data.sources.join(" · "))
    );
    let _ = write!(
        h,
        "<section id=\"verdict\" class=\"verdict {}\" data-verdict=\"{verdict}\"><span class=\"word\">{verdict}</span><span class=\"line\">{}</span></section>",
        if data.passed { "pass" } else { "fail" },
        esc(&data.headline)
    );
    h.push_str("<ul class=\"figures\">");
    for (label, value) in &data.figures {
        let _ = write!(
            h,
            "<li><b>{}</b><span>{}</span></li>",
            esc(value),
            esc(label)
        );
    }
    h.push_str("</ul>");
    if !data.warnings.is_empty() {
        h.push_str("<ul id=\"warnings\" class=\"warnings\">");
        for w in &data.warnings {
            let _ = write!(h, "<li><b>Warning:</b> {}</li>", esc(w));
        }
        h.push_str("</ul>");
    }
    failures(&mut h, data);
    coverage(&mut h, data);
    compat(&mut h, data);
    bench(&mut h, data);
    let _ = writeln!(
        h,
        "<footer>Written by contracts {} · self-contained: no request leaves this page.</footer></main><script>{JS}</script></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn failures(h: &mut String, data: &ReportData) {
    let _ = write!(
        h,
        "<h2>Failures ({})</h2><section id=\"failures\">",
        data.failures.len()
    );
    if data.failures.is_empty() {
        h.push_str("<p class=\"none\">None.</p>");
    }
    for f in &data.failures {
        h.push_str("<article class=\"failure\">");
        let _ = write!(
            h,
            "<h3><span class=\"badge src\">{}</span><span class=\"badge rule\">{}</span>{}</h3>",
            esc(&f.source),
            esc(&f.rule),
            esc(&f.subject)
        );
        let _ = write!(h, "<div class=\"msg\">{}</div>", esc(&f.message));
        if let Some(seed) = f.seed {
            let _ = write!(
                h,
                "<div class=\"sub\">seed <code class=\"seed\">{seed}</code></div>"
            );
        }
        if let Some(e) = &f.event {
            let _ = write!(
                h,
                "<details open><summary>{}</summary><pre class=\"event\">{}</pre></details>",
                if f.source == "check" {
                    "the fixture's event"
                } else {
                    "minimal event"
                },
                esc(e)
            );
        }
        for r in &f.replay {
            let _ = write!(
                h,
                "<div class=\"replay\"><code class=\"replay-command\">{}</code><button type=\"button\" data-copy=\"{}\">copy</button></div>",
                esc(r),
                esc(r)
            );
        }
        h.push_str("</article>");
    }
    h.push_str("</section>");
}

/// Background of a heat-map cell covering `ratio` (0..=1): red, amber, then green.
fn heat(ratio: f64) -> String {
    let (r, g, b) = if ratio >= 1.0 {
        (45, 164, 78)
    } else if ratio >= 0.75 {
        (154, 205, 120)
    } else if ratio >= 0.5 {
        (234, 199, 90)
    } else if ratio >= 0.25 {
        (240, 150, 90)
    } else {
        (225, 95, 90)
    };
    format!("rgb({r},{g},{b})")
}

fn coverage(h: &mut String, data: &ReportData) {
    let _ = write!(
        h,
        "<h2>Coverage by valid fixtures, per event type</h2><p class=\"sub\">Each cell: schema items of that kind the valid golden fixtures exercise, of all there are. Hover a cell for what is missing.</p>"
    );
    if data.coverage.is_empty() {
        h.push_str("<p>Not measured.</p>");
        return;
    }
    h.push_str("<input id=\"coverage-filter\" type=\"search\" placeholder=\"filter event types\" aria-label=\"filter event types\">");
    h.push_str("<div class=\"legend\">0%<i style=\"background:");
    for r in [0.0, 0.3, 0.6, 0.8, 1.0] {
        let _ = write!(h, "{}\"></i><i style=\"background:", heat(r));
    }
    h.push_str("#eef1f4\"></i>100% · grey: no such item</div>");
    h.push_str("<div class=\"heatwrap\"><table id=\"coverage\"><thead><tr><th>event type</th>");
    for k in &data.kinds {
        let _ = write!(h, "<th>{}</th>", esc(&k.replace('_', " ")));
    }
    h.push_str("<th>all</th></tr></thead><tbody>");
    for row in &data.coverage {
        coverage_row(h, row);
    }
    h.push_str("</tbody></table></div>");
}

fn coverage_row(h: &mut String, row: &CoverageRow) {
    let _ = write!(
        h,
        "<tr data-type=\"{}\"><td class=\"name\">{} <span class=\"sub\">v{}</span></td>",
        esc(&row.event_type),
        esc(&row.event_type),
        row.major
    );
    for (cell, missing) in row.cells.iter().zip(&row.missing) {
        match cell {
            Some((covered, total)) => {
                #[allow(clippy::cast_precision_loss)] // a colour
                let ratio = *covered as f64 / (*total).max(1) as f64;
                let title = if missing.is_empty() {
                    "all covered".to_owned()
                } else {
                    format!("missing: {}", missing.join("; "))
                };
                let _ = write!(
                    h,
                    "<td class=\"cell\" style=\"background:{}\" title=\"{}\">{covered}/{total}</td>",
                    heat(ratio),
                    esc(&title)
                );
            }
            None => h.push_str("<td class=\"cell na\">–</td>"),
        }
    }
    let (covered, total) = row
        .cells
        .iter()
        .flatten()
        .fold((0, 0), |(c, t), (c1, t1)| (c + c1, t + t1));
    #[allow(clippy::cast_precision_loss)] // a percentage
    let pct = 100.0 * covered as f64 / total.max(1) as f64;
    let _ = write!(h, "<td class=\"total\">{pct:.0}%</td></tr>");
}

fn compat(h: &mut String, data: &ReportData) {
    h.push_str("<h2>Compatibility changes per schema</h2>");
    if data.compat.is_empty() {
        h.push_str("<p class=\"sub\">No compat run given (<code>contracts report --compat FILE</code> reads <code>contracts compat --format json</code>); the gate's versioning check is among the failures when it fails.</p>");
        return;
    }
    h.push_str("<table id=\"compat\" class=\"compat\"><thead><tr><th>schema</th><th>verdict</th><th>detail</th></tr></thead><tbody>");
    for c in &data.compat {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"v-{}\">{}</td><td><code>{}</code></td></tr>",
            esc(&c.schema),
            esc(&c.verdict),
            esc(&c.verdict),
            esc(&c.detail)
        );
    }
    h.push_str("</tbody></table>");
}

/// Distinct, colour-blind-safe line colours (Okabe-Ito).
const COLOURS: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

fn bench(h: &mut String, data: &ReportData) {
    h.push_str("<h2>Benchmark history</h2>");
    if data.bench.is_empty() {
        h.push_str("<p class=\"sub\">No benchmark history found (<code>make bench-baseline</code> writes <code>target/bench/*.json</code>; <code>contracts report --bench PATH</code> reads them, one point per commit).</p>");
        return;
    }
    let _ = write!(
        h,
        "<p class=\"sub\">{} relative to each cell's first point, one point per commit (lower is better).</p>",
        esc(&data.bench_metric)
    );
    h.push_str(&plot(&data.bench, &data.bench_commits));
}

/// An SVG line plot of every series as a percentage of its first value.
fn plot(series: &[BenchSeries], commits: &[String]) -> String {
    const W: f64 = 900.0;
    const H: f64 = 300.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 250.0;
    const TOP: f64 = 14.0;
    const BOTTOM: f64 = 46.0;
    let rel: Vec<Vec<Option<f64>>> = series
        .iter()
        .map(|s| {
            let first = s.values.iter().flatten().next().copied().unwrap_or(1.0);
            s.values
                .iter()
                .map(|v| v.map(|x| 100.0 * x / first.max(f64::MIN_POSITIVE)))
                .collect()
        })
        .collect();
    let all: Vec<f64> = rel.iter().flatten().flatten().copied().collect();
    let lo = all.iter().copied().fold(100.0_f64, f64::min).min(95.0);
    let hi = all.iter().copied().fold(100.0_f64, f64::max).max(105.0);
    let n = commits.len().max(1);
    #[allow(clippy::cast_precision_loss)] // a handful of commits
    let x = |i: usize| {
        LEFT + if n == 1 {
            (W - LEFT - RIGHT) / 2.0
        } else {
            i as f64 * (W - LEFT - RIGHT) / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"bench-plot\" role=\"img\" aria-label=\"benchmark history\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d1d9e0\" stroke-width=\"1\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    for (i, c) in commits.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(i),
            H - BOTTOM + 18.0,
            esc(&c.chars().take(9).collect::<String>())
        );
    }
    for (k, (serie, values)) in series.iter().zip(&rel).enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = write!(
            s,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            pts.join(" "),
            esc(&serie.name)
        );
        for (i, v) in values.iter().enumerate() {
            if let (Some(v), Some(raw)) = (v, serie.values[i]) {
                let _ = write!(
                    s,
                    "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{colour}\"><title>{} @ {}: {raw:.0} ({v:.1}%)</title></circle>",
                    x(i),
                    y(*v),
                    esc(&serie.name),
                    esc(&commits[i])
                );
            }
        }
        #[allow(clippy::cast_precision_loss)] // a few series
        let ly = TOP + 8.0 + k as f64 * 18.0;
        let last = serie.values.iter().flatten().last().copied().unwrap_or(0.0);
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"14\" height=\"4\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" style=\"fill:#1f2328\">{} · {last:.0}</text>",
            W - RIGHT + 16.0,
            ly - 4.0,
            W - RIGHT + 36.0,
            ly + 1.0,
            esc(&serie.name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere_it_lands() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn page_is_self_contained() {
        let page = render(&ReportData::default());
        for banned in ["http://", "https://", "src=\"", "<link"] {
            let hits: Vec<_> = page.match_indices(banned).collect();
            // The only URL allowed is the SVG namespace, which is a name, not a request.
            assert!(
                hits.iter()
                    .all(|(i, _)| page[*i..].starts_with("http://www.w3.org/2000/svg")),
                "{banned} in the page"
            );
        }
    }
}
