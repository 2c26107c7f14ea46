import Foundation

// Dashboard answers as SVG charts (`?format=svg`), drawn on the server from the same
// `DashboardResponse` / `DashboardTrendResponse` values the JSON and CSV answers encode, so that
// the numbers exist in one place (docs/architecture.md, "The web page"). The page at `/` puts
// these charts in its DOM; an observatory can embed the file in a report as it is.
//
// What every chart promises (Tests/PlazoDashboardsTests/DashboardChartTests.swift):
// - every drawn point or bar is an element with a `<title>` (its label, value and interval, in
//   the answer's language) and `data-*` attributes holding the raw figures of the JSON answer
//   (`data-value`, `data-low`, `data-high`, `data-x`, `data-series`, `data-group`, …);
// - curve points whose status is `beyond_follow_up` are not drawn: the curve stops at follow-up;
// - unreliable figures (`reliable: false`) are drawn grey (markers and bars, bars with a dashed
//   outline), and the stretch of a curve between them dashed and washed out;
// - all text comes from the answer (labels chosen by the server, codes checked by the query
//   parser) and is XML-escaped; nothing of the request is reflected;
// - the root has `role="img"`, a `<title>` and a `<desc>`; colours have at least 3:1 contrast
//   with the white background (WCAG 2.1 AA, 1.4.11) and text at least 4.5:1 (1.4.3).

/// Draws dashboard answers (and trends) as standalone SVG documents: `svg(_:)`.
public enum DashboardChart {
    // MARK: - The model drawn

    /// One figure to draw.
    struct Point {
        var x: String
        var label: String
        var day: Int?
        var value: Double?
        var interval: DashboardInterval
        var status: String
        var statusText: String?
        var reliable: Bool
        var observedUntil: Int?
        var denominator: DashboardDenominator?
        /// For a trend: the release the figure comes from.
        var releaseID: Int64?
    }

    /// One line (curves, trends) or one colour of bars: a series, or one group of a comparison.
    struct Line {
        var series: String
        var seriesTitle: String
        var group: String
        var groupLabel: String?
        /// What the legend says.
        var label: String
        var points: [Point]
    }

    /// One plot: its lines share the axes.
    struct Panel {
        enum Kind { case curve, bars, trend }
        var kind: Kind
        var title: String
        var unit: String
        var xAxis: String
        var lines: [Line]
    }

    // MARK: - Entry points

    /// The chart of one dashboard answer: one panel per series (the time-to-decision curves
    /// share one panel unless states are compared); in a comparison, one line or bar per group.
    public static func svg(_ answer: DashboardResponse) -> String {
        let lang = DashboardLanguage(rawValue: answer.lang) ?? .es
        let comparison = answer.series.contains { $0.group != nil }
        var panels: [Panel] = []
        for s in answer.series {
            let line = Line(
                series: s.name, seriesTitle: s.title, group: DashboardCSV.groupCell(s.group), groupLabel: s.groupLabel,
                label: s.groupLabel ?? s.title,
                points: s.points.map {
                    Point(x: $0.x, label: $0.label, day: $0.day, value: $0.value, interval: $0.interval, status: $0.status,
                          statusText: $0.statusText, reliable: $0.reliable, observedUntil: $0.observedUntil, denominator: $0.denominator)
                })
            let kind: Panel.Kind = s.xAxis == "day" ? .curve : .bars
            // Curves of one unit on a day axis share a panel when no groups are compared (charged,
            // closed without charge and no decision yet, read together).
            if !comparison, kind == .curve, let last = panels.indices.last, panels[last].kind == .curve, panels[last].unit == s.unit,
                panels[last].xAxis == "day"
            {
                panels[last].lines.append(line)
                panels[last].title = ChartText(lang).curvesTitle
                continue
            }
            if let i = panels.firstIndex(where: { $0.lines.first?.series == s.name }) {
                panels[i].lines.append(line)
            } else {
                panels.append(Panel(kind: kind, title: s.title, unit: s.unit, xAxis: s.xAxis, lines: [line]))
            }
        }
        // A panel of one line needs no legend entry naming the series again.
        for i in panels.indices where panels[i].lines.count == 1 { panels[i].lines[0].label = panels[i].lines[0].groupLabel ?? "" }
        let text = ChartText(lang)
        var desc = [answer.description, text.releaseLine(answer.release.id, answer.release.title, answer.release.cutoff)]
        if let f = filterLine(answer.filters, text) { desc.append(f) }
        desc.append(answer.intervalNote)
        return document(
            id: "plazo-\(answer.metric)", title: answer.title, desc: desc.joined(separator: " "), lang: lang,
            attributes: [("data-metric", answer.metric), ("data-release", "\(answer.release.id)"), ("data-kind", "board")],
            panels: panels)
    }

    /// The chart of a trend answer, across the releases, oldest first. Without a comparison, the
    /// figures of one unit share a panel, a line per series (charged, closed and undecided by day
    /// 365); in a comparison, each series and point has its panel, a line per group.
    public static func svg(_ answer: DashboardTrendResponse) -> String {
        let lang = DashboardLanguage(rawValue: answer.lang) ?? .es
        let comparison = answer.series.contains { $0.group != nil }
        var panels: [Panel] = []
        var keys: [String] = []
        for s in answer.series {
            let line = Line(
                series: s.name, seriesTitle: s.title, group: DashboardCSV.groupCell(s.group), groupLabel: s.groupLabel,
                label: comparison ? (s.groupLabel ?? s.title) : s.title,
                points: s.points.map {
                    Point(x: s.x, label: "\($0.releaseID) · \($0.cutoff)", day: s.day, value: $0.value, interval: $0.interval,
                          status: $0.status, statusText: $0.statusText, reliable: $0.reliable, observedUntil: $0.observedUntil,
                          denominator: $0.denominator, releaseID: $0.releaseID)
                })
            let key = comparison ? "\(s.name)|\(s.x)" : s.unit
            if let i = keys.firstIndex(of: key) {
                panels[i].lines.append(line)
            } else {
                keys.append(key)
                panels.append(Panel(kind: .trend, title: comparison ? "\(s.title) — \(s.label)" : s.label, unit: s.unit, xAxis: "release", lines: [line]))
            }
        }
        if !comparison {
            // A panel whose lines are at different points names the point in each line instead.
            for i in panels.indices {
                let xs = Set(panels[i].lines.compactMap { $0.points.first?.x })
                guard xs.count > 1 else { continue }
                panels[i].title = ChartText(lang).axis(unit: panels[i].unit)
                for j in panels[i].lines.indices {
                    let x = panels[i].lines[j].points.first?.x
                    let label = answer.series.first { $0.name == panels[i].lines[j].series && $0.x == x }?.label ?? ""
                    panels[i].lines[j].label += " — " + label
                }
            }
        }
        let text = ChartText(lang)
        var desc = [text.trendDescription]
        if let f = filterLine(answer.filters, text) { desc.append(f) }
        desc.append(answer.intervalNote)
        return document(
            id: "plazo-\(answer.metric)-trend", title: answer.title + " — " + text.trendTitle, desc: desc.joined(separator: " "),
            lang: lang, attributes: [("data-metric", answer.metric), ("data-kind", "trend")], panels: panels)
    }

    /// The filters of an answer as one sentence (codes, which the query parser checked).
    static func filterLine(_ filters: [String: [String]], _ text: ChartText) -> String? {
        guard !filters.isEmpty else { return nil }
        return text.filters + filters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.joined(separator: ","))" }.joined(separator: "; ") + "."
    }

    // MARK: - Layout

    /// The drawing's width (the page scales it to its column), its left margin (y tick labels),
    /// right margin and the height of a curve's plot area, in SVG user units.
    static let width = 760.0
    static let left = 64.0
    static let right = 24.0
    static let plotHeight = 250.0
    /// System fonts only: nothing is fetched.
    static let fontFamily = "system-ui, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"

    /// Series colours: each has at least 4.5:1 contrast with white, and they differ in hue and
    /// lightness; lines also differ by marker shape, so colour is never the only cue.
    static let palette = ["#0b5cad", "#b3400b", "#1a7335", "#7b2f96", "#8a5a00", "#006b75", "#b01f66", "#3d4f8f"]
    /// Unreliable figures (3.7:1 with white: visible, but clearly not a series colour).
    static let grey = "#858585"
    /// Text and axes (17:1), secondary text (7:1), grid lines (decorative).
    static let ink = "#1a1a1a"
    static let muted = "#595959"
    static let gridColour = "#d9d9d9"

    /// The whole SVG document: root with role, title and desc, then the panels stacked.
    static func document(id: String, title: String, desc: String, lang: DashboardLanguage, attributes: [(String, String)], panels: [Panel])
        -> String
    {
        let text = ChartText(lang)
        var body = SVGWriter()
        var y = 44.0
        if panels.isEmpty {
            body.text(x: left, y: y + 20, text.nothing, fill: muted)
            y += 40
        }
        for panel in panels {
            y = draw(panel, top: y, into: &body, text: text)
        }
        y += 8
        let height = y.rounded(.up)
        var root = SVGWriter()
        var rootAttributes: [(String, String)] = [
            ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(fmt(width)) \(fmt(height))"),
            ("width", fmt(width)), ("height", fmt(height)), ("role", "img"), ("aria-labelledby", "\(id)-title \(id)-desc"),
            ("lang", lang.rawValue), ("xml:lang", lang.rawValue), ("font-family", fontFamily), ("font-size", "12"),
            ("class", "plazo-chart"),
        ]
        rootAttributes += attributes
        root.open("svg", rootAttributes)
        root.element("title", [("id", "\(id)-title")], text: title)
        root.element("desc", [("id", "\(id)-desc")], text: desc)
        root.element("rect", [("width", "100%"), ("height", "100%"), ("fill", "#ffffff")])
        root.element("text", [("x", fmt(left - 56)), ("y", "24"), ("font-size", "16"), ("font-weight", "bold"), ("fill", ink)],
                     text: truncate(title, 88))
        root.raw(body.output)
        root.close("svg")
        return #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + root.output + "\n"
    }

    /// Draws one panel from `top`; returns the y below it.
    static func draw(_ panel: Panel, top: Double, into w: inout SVGWriter, text: ChartText) -> Double {
        var y = top
        w.open("g", [("class", "panel"), ("data-panel", panel.lines.first?.series ?? "")])
        w.text(x: left - 56, y: y + 14, truncate(panel.title, 100), size: 14, weight: "bold")
        y += 24
        y = legend(panel, top: y, into: &w, text: text)
        switch panel.kind {
        case .curve, .trend: y = curves(panel, top: y, into: &w, text: text)
        case .bars: y = bars(panel, top: y, into: &w, text: text)
        }
        w.close("g")
        return y + 18
    }

    /// The legend: each line's colour and marker, the band, and the grey of unreliable figures.
    static func legend(_ panel: Panel, top: Double, into w: inout SVGWriter, text: ChartText) -> Double {
        var items: [(label: String, draw: (inout SVGWriter, Double, Double) -> Void)] = []
        for (i, line) in panel.lines.enumerated() where !line.label.isEmpty {
            let colour = palette[i % palette.count]
            items.append((truncate(line.label, 48), { w, x, y in
                if panel.kind == .bars {
                    w.element("rect", [("x", fmt(x)), ("y", fmt(y - 9)), ("width", "18"), ("height", "10"), ("fill", colour)])
                } else {
                    w.element("line", [("x1", fmt(x)), ("y1", fmt(y - 4)), ("x2", fmt(x + 18)), ("y2", fmt(y - 4)), ("stroke", colour), ("stroke-width", "2.5")])
                    marker(i, x: x + 9, y: y - 4, fill: colour, into: &w)
                }
            }))
        }
        if panel.kind != .bars {
            items.append((text.band, { w, x, y in
                w.element("rect", [("x", fmt(x)), ("y", fmt(y - 10)), ("width", "18"), ("height", "12"), ("fill", palette[0]), ("fill-opacity", "0.18")])
            }))
        } else if panel.lines.contains(where: { $0.points.contains { $0.value != nil } }) {
            // No whisker in a panel with no figure to draw.
            items.append((text.whisker, { w, x, y in
                w.element("line", [("x1", fmt(x)), ("y1", fmt(y - 4)), ("x2", fmt(x + 18)), ("y2", fmt(y - 4)), ("stroke", ink), ("stroke-width", "1.5")])
                w.element("line", [("x1", fmt(x)), ("y1", fmt(y - 8)), ("x2", fmt(x)), ("y2", fmt(y)), ("stroke", ink), ("stroke-width", "1.5")])
                w.element("line", [("x1", fmt(x + 18)), ("y1", fmt(y - 8)), ("x2", fmt(x + 18)), ("y2", fmt(y)), ("stroke", ink), ("stroke-width", "1.5")])
            }))
        }
        if panel.lines.contains(where: { $0.points.contains { !$0.reliable && $0.value != nil } }) {
            items.append((text.greyed, { w, x, y in
                w.element("rect", [("x", fmt(x)), ("y", fmt(y - 9)), ("width", "18"), ("height", "10"), ("fill", grey),
                                   ("stroke", ink), ("stroke-dasharray", "2 2")])
            }))
        }
        var x = left - 56
        var y = top + 12
        for item in items {
            let itemWidth = 26 + textWidth(item.label)
            if x + itemWidth > width - right, x > left - 56 {
                x = left - 56
                y += 18
            }
            item.draw(&w, x, y)
            w.text(x: x + 24, y: y, item.label)
            x += itemWidth + 16
        }
        return y + 10
    }
}
