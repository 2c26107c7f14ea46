import Foundation

// Dashboard answers as CSV (`?format=csv` or `Accept: text/csv`): one row per point, the same
// figures as the JSON, with snake_case column names as in the Data Package CSVs. Labels are in
// the answer's language; codes are not translated. Absent values are empty cells.

/// Dashboard and trend answers as CSV bytes: `DashboardCSV.csv(answer)`.
public enum DashboardCSV {
    /// The columns of a dashboard CSV.
    public static let csvColumns = [
        "release_id", "metric", "series", "series_title", "group", "group_label", "x", "day", "label", "value", "low", "high",
        "level", "status", "status_text", "reliable", "observed_until", "denominator", "denominator_low", "denominator_high",
    ]

    /// The columns of a trend CSV.
    public static let trendColumns = [
        "metric", "series", "series_title", "group", "group_label", "x", "day", "label", "release_id", "release_title", "cutoff",
        "value", "low", "high", "level", "status", "status_text", "reliable", "observed_until", "denominator", "denominator_low",
        "denominator_high",
    ]

    /// A dashboard answer as CSV: the header row, then one row per point of every series.
    public static func csv(_ answer: DashboardResponse) -> [UInt8] {
        var rows = [csvColumns]
        for s in answer.series {
            for p in s.points {
                rows.append([
                    "\(answer.release.id)", answer.metric, s.name, s.title, groupCell(s.group), s.groupLabel ?? "", p.x,
                    p.day.map(String.init) ?? "", p.label, number(p.value), number(p.interval.low), number(p.interval.high),
                    number(p.interval.level), p.status, p.statusText ?? "", p.reliable ? "true" : "false",
                    p.observedUntil.map(String.init) ?? "", number(p.denominator?.value), number(p.denominator?.interval.low),
                    number(p.denominator?.interval.high),
                ])
            }
        }
        return encode(rows)
    }

    /// A trend answer as CSV: the header row, then one row per release of every series' point.
    public static func csv(_ answer: DashboardTrendResponse) -> [UInt8] {
        var rows = [trendColumns]
        for s in answer.series {
            for p in s.points {
                rows.append([
                    answer.metric, s.name, s.title, groupCell(s.group), s.groupLabel ?? "", s.x, s.day.map(String.init) ?? "", s.label,
                    "\(p.releaseID)", p.releaseTitle, p.cutoff, number(p.value), number(p.interval.low), number(p.interval.high),
                    number(p.interval.level), p.status, p.statusText ?? "", p.reliable ? "true" : "false",
                    p.observedUntil.map(String.init) ?? "", number(p.denominator?.value), number(p.denominator?.interval.low),
                    number(p.denominator?.interval.high),
                ])
            }
        }
        return encode(rows)
    }

    /// `state=09` for a comparison's group, empty otherwise.
    public static func groupCell(_ group: [String: String]?) -> String {
        (group ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "&")
    }

    /// A number as its shortest exact decimal (`0.1234`, `365`), empty when absent.
    public static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; CRLF line
    /// ends. A field starting with `=`, `+`, `-` or `@` that is not a number is prefixed with `'`
    /// so that a spreadsheet never runs it as a formula (OWASP "CSV injection").
    public static func encode(_ rows: [[String]]) -> [UInt8] {
        var out = ""
        for row in rows {
            out += row.map { field -> String in
                var f = field
                if let first = f.first, "=+-@".contains(first), Double(f) == nil { f = "'" + f }
                if f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                    return "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                }
                return f
            }.joined(separator: ",")
            out += "\r\n"
        }
        return Array(out.utf8)
    }
}
