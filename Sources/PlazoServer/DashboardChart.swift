import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

// Dashboard answers as SVG charts (`?format=svg`), drawn on the server from the same
// `DashboardResponse` / `DashboardTrendResponse` values the JSON and CSV answers encode, so that
// the numbers exist in one place (docs/architecture.md, "The web page"). The page at `/` puts
// these charts in its DOM; an observatory can embed the file in a report as it is.
//
// What every chart promises (Tests/PlazoServerTests/DashboardChartTests.swift):
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
enum DashboardChart {
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
    static func svg(_ answer: DashboardResponse) -> String {
        let lang = DashboardLanguage(rawValue: answer.lang) ?? .es
        let comparison = answer.series.contains { $0.group != nil }
        var panels: [Panel] = []
        for s in answer.series {
            let line = Line(
                series: s.name, seriesTitle: s.title, group: DashboardController.groupCell(s.group), groupLabel: s.groupLabel,
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
    static func svg(_ answer: DashboardTrendResponse) -> String {
        let lang = DashboardLanguage(rawValue: answer.lang) ?? .es
        let comparison = answer.series.contains { $0.group != nil }
        var panels: [Panel] = []
        var keys: [String] = []
        for s in answer.series {
            let line = Line(
                series: s.name, seriesTitle: s.title, group: DashboardController.groupCell(s.group), groupLabel: s.groupLabel,
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
        } else {
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

    // MARK: - Curves and trends

    /// Draws a curve (day axis) or trend (release axis) panel: grid, follow-up cut, bands, lines,
    /// markers, x axis; returns the y below it.
    static func curves(_ panel: Panel, top: Double, into w: inout SVGWriter, text: ChartText) -> Double {
        let plotTop = top + 22  // room for the follow-up note above the plot
        let plotBottom = plotTop + plotHeight
        let x0 = left
        let x1 = width - right
        let yScale = Scale(unit: panel.unit, lines: panel.lines)
        func yPos(_ v: Double) -> Double { plotBottom - (yScale.clamp(v) - yScale.min) / (yScale.max - yScale.min) * plotHeight }

        // The x positions: days on a linear axis; releases evenly spaced.
        var categories: [String] = []
        var categoryLabels: [String: String] = [:]
        for line in panel.lines {
            for p in line.points {
                let key = panel.kind == .trend ? "\(p.releaseID ?? 0)" : p.x
                if categoryLabels[key] == nil {
                    categories.append(key)
                    categoryLabels[key] = p.label
                }
            }
        }
        if panel.kind == .trend {
            categories.sort { (Int64($0) ?? 0) < (Int64($1) ?? 0) }
        }
        let maxDay = Double(panel.lines.flatMap { $0.points.compactMap(\.day) }.max() ?? 1)
        func xPos(_ p: Point) -> Double {
            if panel.kind == .trend {
                let i = Double(categories.firstIndex(of: "\(p.releaseID ?? 0)") ?? 0)
                let n = Double(max(categories.count, 1))
                return x0 + (i + 0.5) / n * (x1 - x0)
            }
            return x0 + Double(p.day ?? 0) / max(maxDay, 1) * (x1 - x0)
        }

        // Grid and y axis.
        for tick in yScale.ticks {
            let y = yPos(tick)
            w.element("line", [("x1", fmt(x0)), ("y1", fmt(y)), ("x2", fmt(x1)), ("y2", fmt(y)), ("stroke", gridColour)])
            w.text(x: x0 - 6, y: y + 4, yScale.tickLabel(tick, text), anchor: "end", fill: muted)
        }
        w.text(x: 14, y: (plotTop + plotBottom) / 2, text.axis(unit: panel.unit), anchor: "middle", fill: muted,
               transform: "rotate(-90 14 \(fmt((plotTop + plotBottom) / 2)))")

        // The follow-up cut: points beyond it are not drawn; the region is shaded and named.
        let beyond = panel.lines.flatMap(\.points).filter { $0.status == "beyond_follow_up" }
        if panel.kind == .curve, !beyond.isEmpty {
            let until = panel.lines.flatMap(\.points).compactMap(\.observedUntil).max()
                ?? panel.lines.flatMap(\.points).filter { $0.status != "beyond_follow_up" }.compactMap(\.day).max() ?? 0
            let cut = x0 + Double(until) / max(maxDay, 1) * (x1 - x0)
            if cut < x1 {
                w.element("rect", [("x", fmt(cut)), ("y", fmt(plotTop)), ("width", fmt(x1 - cut)), ("height", fmt(plotHeight)),
                                   ("fill", "#f0f0f0"), ("class", "beyond-follow-up")])
                w.element("line", [("x1", fmt(cut)), ("y1", fmt(plotTop)), ("x2", fmt(cut)), ("y2", fmt(plotBottom)), ("stroke", muted),
                                   ("stroke-dasharray", "4 3")])
                let label = text.followUpEnds(until)
                let fits = x1 - cut > textWidth(label) + 8
                w.text(x: fits ? cut + 6 : cut, y: plotTop - 6, label, anchor: fits ? "start" : "end", fill: muted)
            }
        }

        // Bands, lines and markers, per line.
        for (i, line) in panel.lines.enumerated() {
            let colour = palette[i % palette.count]
            let drawable = line.points.enumerated().filter { $0.element.status != "beyond_follow_up" }
            // Runs of consecutive points with a value.
            var runs: [[Point]] = [[]]
            for (_, p) in drawable {
                if p.value == nil { if !runs[runs.count - 1].isEmpty { runs.append([]) } } else { runs[runs.count - 1].append(p) }
            }
            runs.removeAll { $0.isEmpty }
            w.open("g", [("class", "line"), ("data-series", line.series), ("data-group", line.group)])
            for run in runs {
                // The band, over the run (an unbounded end reaches the axis' end).
                let upper = run.map { "\(fmt(xPos($0))),\(fmt(yPos($0.interval.high ?? yScale.max)))" }
                let lower = run.reversed().map { "\(fmt(xPos($0))),\(fmt(yPos($0.interval.low ?? yScale.min)))" }
                if run.count > 1 {
                    w.element("polygon", [("points", (upper + lower).joined(separator: " ")), ("fill", colour),
                                          ("fill-opacity", panel.lines.count > 1 ? "0.1" : "0.16"), ("class", "band")])
                } else if let p = run.first {
                    // One point: its interval as a whisker.
                    w.element("line", [("x1", fmt(xPos(p))), ("y1", fmt(yPos(p.interval.low ?? yScale.min))), ("x2", fmt(xPos(p))),
                                       ("y2", fmt(yPos(p.interval.high ?? yScale.max))), ("stroke", p.reliable ? colour : grey),
                                       ("stroke-width", "6"), ("stroke-opacity", "0.3"), ("class", "band")])
                }
                // Segments: solid between reliable points, dashed and washed out otherwise.
                var k = 0
                while k < run.count - 1 {
                    let reliable = run[k].reliable && run[k + 1].reliable
                    var end = k + 1
                    while end < run.count - 1, (run[end].reliable && run[end + 1].reliable) == reliable { end += 1 }
                    let pts = run[k...end].map { "\(fmt(xPos($0))),\(fmt(yPos($0.value!)))" }.joined(separator: " ")
                    // An unreliable stretch keeps its colour (so the line can still be followed), washed out and dashed.
                    var attrs: [(String, String)] = [("points", pts), ("fill", "none"), ("stroke", colour),
                                                     ("stroke-width", "2.5"), ("stroke-linejoin", "round")]
                    if !reliable { attrs += [("stroke-dasharray", "5 4"), ("stroke-opacity", "0.45"), ("class", "unreliable")] }
                    w.element("polyline", attrs)
                    k = end
                }
            }
            for (_, p) in drawable where p.value != nil {
                pointElement(p, line: line, panel: panel, text: text, into: &w) { w in
                    marker(i, x: xPos(p), y: yPos(p.value!), fill: p.reliable ? colour : grey, stroke: p.reliable ? "#ffffff" : colour, into: &w)
                }
            }
            w.close("g")
        }

        // The x axis.
        w.element("line", [("x1", fmt(x0)), ("y1", fmt(plotBottom)), ("x2", fmt(x1)), ("y2", fmt(plotBottom)), ("stroke", ink)])
        if panel.kind == .trend {
            for key in categories {
                let p = Point(x: "", label: "", value: nil, interval: DashboardInterval(level: 0), status: "", reliable: true,
                              releaseID: Int64(key))
                let x = xPos(p)
                w.element("line", [("x1", fmt(x)), ("y1", fmt(plotBottom)), ("x2", fmt(x)), ("y2", fmt(plotBottom + 5)), ("stroke", ink)])
                w.text(x: x, y: plotBottom + 18, truncate(categoryLabels[key] ?? key, 24), anchor: "middle", fill: ink)
            }
            w.text(x: (x0 + x1) / 2, y: plotBottom + 36, text.releaseAxis, anchor: "middle", fill: muted)
        } else {
            var days = Set(panel.lines.flatMap { $0.points.compactMap(\.day) })
            days.insert(0)
            var lastLabelled = -Double.infinity
            for day in days.sorted() {
                let x = x0 + Double(day) / max(maxDay, 1) * (x1 - x0)
                w.element("line", [("x1", fmt(x)), ("y1", fmt(plotBottom)), ("x2", fmt(x)), ("y2", fmt(plotBottom + 5)), ("stroke", ink)])
                // Labels that would overlap are left out (the table lists every day).
                if x - lastLabelled >= 30 {
                    w.text(x: x, y: plotBottom + 18, "\(day)", anchor: "middle", fill: ink)
                    lastLabelled = x
                }
            }
            w.text(x: (x0 + x1) / 2, y: plotBottom + 36, text.dayAxis, anchor: "middle", fill: muted)
        }
        return plotBottom + 40
    }

    // MARK: - Bars

    /// The width left for category labels, and one bar's height.
    static let labelColumn = 236.0
    static let barHeight = 14.0

    /// Draws a horizontal bar panel (one bar per category and group, whiskers for intervals, the
    /// value written after each bar, the reason where there is no value); returns the y below it.
    static func bars(_ panel: Panel, top: Double, into w: inout SVGWriter, text: ChartText) -> Double {
        var categories: [String] = []
        var labels: [String: String] = [:]
        for line in panel.lines {
            for p in line.points where labels[p.x] == nil {
                categories.append(p.x)
                labels[p.x] = p.label
            }
        }
        let x0 = left - 56 + labelColumn
        let x1 = width - right - 150  // room for the value and interval written after the bar
        let scale = Scale(unit: panel.unit, lines: panel.lines)
        func xPos(_ v: Double) -> Double { x0 + (scale.clamp(v) - scale.min) / (scale.max - scale.min) * (x1 - x0) }
        let groupHeight = Double(panel.lines.count) * barHeight + 12
        let plotTop = top + 8
        let plotBottom = plotTop + Double(categories.count) * groupHeight

        for tick in scale.ticks {
            let x = xPos(tick)
            w.element("line", [("x1", fmt(x)), ("y1", fmt(plotTop)), ("x2", fmt(x)), ("y2", fmt(plotBottom)), ("stroke", gridColour)])
            w.text(x: x, y: plotBottom + 16, scale.tickLabel(tick, text), anchor: "middle", fill: muted)
        }
        w.text(x: (x0 + x1) / 2, y: plotBottom + 34, text.axis(unit: panel.unit), anchor: "middle", fill: muted)

        for (c, category) in categories.enumerated() {
            let groupTop = plotTop + Double(c) * groupHeight + 6
            w.text(x: x0 - 8, y: groupTop + Double(panel.lines.count) * barHeight / 2 + 4, truncate(labels[category] ?? category, 34),
                   anchor: "end", fill: ink)
            for (i, line) in panel.lines.enumerated() {
                guard let p = line.points.first(where: { $0.x == category }) else { continue }
                let y = groupTop + Double(i) * barHeight
                let colour = palette[i % palette.count]
                w.open("g", [("class", "bar-group"), ("data-series", line.series), ("data-group", line.group)])
                if let value = p.value {
                    pointElement(p, line: line, panel: panel, text: text, into: &w) { w in
                        var attrs: [(String, String)] = [
                            ("x", fmt(x0)), ("y", fmt(y + 1)), ("width", fmt(max(xPos(value) - x0, 1))), ("height", fmt(barHeight - 2)),
                            ("fill", p.reliable ? colour : grey),
                        ]
                        if !p.reliable { attrs += [("stroke", ink), ("stroke-dasharray", "3 2")] }
                        w.element("rect", attrs, "bar")
                        // A grey bar keeps a strip of its group's colour, so a comparison can still be read.
                        if !p.reliable, panel.lines.count > 1 {
                            w.element("rect", [("x", fmt(x0)), ("y", fmt(y + 1)), ("width", "5"), ("height", fmt(barHeight - 2)), ("fill", colour)])
                        }
                    }
                    // The interval as a whisker; an unbounded end runs to the axis' end without a cap.
                    let lo = xPos(p.interval.low ?? scale.min)
                    let hi = xPos(p.interval.high ?? scale.max)
                    let cy = y + barHeight / 2
                    w.element("line", [("x1", fmt(lo)), ("y1", fmt(cy)), ("x2", fmt(hi)), ("y2", fmt(cy)), ("stroke", ink), ("stroke-width", "1.5")], "whisker")
                    if p.interval.low != nil {
                        w.element("line", [("x1", fmt(lo)), ("y1", fmt(cy - 4)), ("x2", fmt(lo)), ("y2", fmt(cy + 4)), ("stroke", ink), ("stroke-width", "1.5")])
                    }
                    if p.interval.high != nil {
                        w.element("line", [("x1", fmt(hi)), ("y1", fmt(cy - 4)), ("x2", fmt(hi)), ("y2", fmt(cy + 4)), ("stroke", ink), ("stroke-width", "1.5")])
                    }
                    // The value and its interval in words, after the bar and its whisker.
                    w.open("text", [("x", fmt(max(hi, xPos(value)) + 6)), ("y", fmt(cy + 4)), ("fill", p.reliable ? ink : muted)])
                    w.element("tspan", [], text: text.value(value, unit: panel.unit))
                    w.element("tspan", [("fill", muted), ("font-size", "11")], text: " " + text.shortInterval(p.interval, unit: panel.unit))
                    w.close("text")
                } else {
                    // No figure: say why where the bar would be.
                    pointElement(p, line: line, panel: panel, text: text, into: &w) { w in
                        w.element("text", [("x", fmt(x0 + 4)), ("y", fmt(y + barHeight / 2 + 4)), ("fill", muted), ("font-style", "italic")],
                                  text: "— " + truncate(p.statusText ?? text.noValue, 60))
                    }
                }
                w.close("g")
            }
        }
        w.element("line", [("x1", fmt(x0)), ("y1", fmt(plotTop)), ("x2", fmt(x0)), ("y2", fmt(plotBottom)), ("stroke", ink)])
        return plotBottom + 38
    }

    // MARK: - Points

    /// A drawn figure: a `<g class="point">` with the raw figures as `data-*` attributes and a
    /// `<title>` that says them in words, around the shape `draw` makes.
    static func pointElement(_ p: Point, line: Line, panel: Panel, text: ChartText, into w: inout SVGWriter, draw: (inout SVGWriter) -> Void) {
        var attrs: [(String, String)] = [
            ("class", p.reliable ? "point" : "point unreliable"), ("data-series", line.series), ("data-group", line.group),
            ("data-x", p.x), ("data-value", number(p.value)), ("data-low", number(p.interval.low)),
            ("data-high", number(p.interval.high)), ("data-level", number(p.interval.level)), ("data-status", p.status),
            ("data-reliable", p.reliable ? "true" : "false"),
        ]
        if let d = p.day { attrs.append(("data-day", "\(d)")) }
        if let r = p.releaseID { attrs.append(("data-release", "\(r)")) }
        if let n = p.denominator { attrs.append(("data-denominator", number(n.value))) }
        w.open("g", attrs)
        w.element("title", [], text: title(p, line: line, panel: panel, text: text))
        draw(&w)
        w.close("g")
    }

    /// What a figure's `<title>` says: series (and group), x, value, interval, denominator,
    /// status and reliability.
    static func title(_ p: Point, line: Line, panel: Panel, text: ChartText) -> String {
        var head = line.seriesTitle
        if let g = line.groupLabel { head += " — " + g }
        var s = "\(head). \(p.label): "
        if let v = p.value {
            s += text.value(v, unit: panel.unit) + " (" + text.interval(p.interval, unit: panel.unit) + ")"
        } else {
            s += p.statusText ?? text.noValue
        }
        if let n = p.denominator {
            s += "; " + text.denominator(n)
        }
        if p.value != nil, !p.reliable { s += ". " + text.unreliable }
        return s
    }

    /// A marker shape per line (circle, square, diamond, triangle), so that lines differ by more
    /// than colour.
    static func marker(_ index: Int, x: Double, y: Double, fill: String, stroke: String = "#ffffff", into w: inout SVGWriter) {
        let extra: [(String, String)] = [("fill", fill), ("stroke", stroke), ("stroke-width", stroke == "#ffffff" ? "1.5" : "2")]
        switch index % 4 {
        case 0: w.element("circle", [("cx", fmt(x)), ("cy", fmt(y)), ("r", "5")] + extra, "marker")
        case 1: w.element("rect", [("x", fmt(x - 4.5)), ("y", fmt(y - 4.5)), ("width", "9"), ("height", "9")] + extra, "marker")
        case 2: w.element("path", [("d", "M\(fmt(x)) \(fmt(y - 6.5))L\(fmt(x + 6.5)) \(fmt(y))L\(fmt(x)) \(fmt(y + 6.5))L\(fmt(x - 6.5)) \(fmt(y))Z")] + extra, "marker")
        default: w.element("path", [("d", "M\(fmt(x)) \(fmt(y - 6.5))L\(fmt(x + 6.5)) \(fmt(y + 5))L\(fmt(x - 6.5)) \(fmt(y + 5))Z")] + extra, "marker")
        }
    }

    // MARK: - Scales and numbers

    /// A value axis: proportions from 0 to 100 %; days and cases from 0 to a round number above
    /// the largest interval end (or value).
    struct Scale {
        var min = 0.0
        var max = 1.0
        var ticks: [Double]
        var unit: String

        init(unit: String, lines: [Line]) {
            self.unit = unit
            if unit == "proportion" {
                ticks = [0, 0.25, 0.5, 0.75, 1]
                return
            }
            let points = lines.flatMap(\.points).filter { $0.status != "beyond_follow_up" }
            let top = points.compactMap { [$0.value, $0.interval.high].compactMap { $0 }.max() }.max() ?? 1
            let step = Scale.niceStep(Swift.max(top, 1) / 4)
            max = (Swift.max(top, 1) / step).rounded(.up) * step
            ticks = stride(from: 0.0, through: max + step / 2, by: step).map { $0 }
        }

        /// The smallest 1, 2, 2.5 or 5 times a power of ten at least `raw`.
        static func niceStep(_ raw: Double) -> Double {
            let magnitude = pow(10, floor(log10(raw)))
            for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= raw { return m * magnitude }
            return 10 * magnitude
        }

        /// `v` held within the axis.
        func clamp(_ v: Double) -> Double { Swift.min(Swift.max(v, min), max) }

        /// A tick's label: `25 %` for proportions, `1,200` otherwise.
        func tickLabel(_ v: Double, _ text: ChartText) -> String {
            unit == "proportion" ? "\(Int((v * 100).rounded())) %" : text.plain(v)
        }
    }

    /// A raw figure as the `data-*` attributes carry it: the shortest decimal that reads back as
    /// the JSON number (as in the CSV answers), empty when absent.
    static func number(_ v: Double?) -> String { DashboardController.number(v) }

    /// A coordinate with at most two decimals.
    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// The approximate width of `s` at 12 px (for layout only).
    static func textWidth(_ s: String, size: Double = 12) -> Double { Double(s.count) * size * 0.56 }

    /// `s` cut to `n` characters with an ellipsis (the full text is in the table and titles).
    static func truncate(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }

    // MARK: - XML

    /// XML text and attribute escaping: `&`, `<`, `>`, `"` and `'`; characters XML 1.0 does not
    /// allow (controls other than tab and line breaks, lone surrogates cannot occur in Swift
    /// strings, U+FFFE/U+FFFF) are dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Builds SVG markup; every attribute value and text node goes through ``escape(_:)``.
    struct SVGWriter {
        var output = ""

        mutating func open(_ name: String, _ attributes: [(String, String)]) {
            output += "<\(name)" + Self.attributes(attributes) + ">"
        }

        mutating func close(_ name: String) { output += "</\(name)>" }

        mutating func element(_ name: String, _ attributes: [(String, String)], _ cls: String? = nil, text: String? = nil) {
            var attributes = attributes
            if let cls { attributes.append(("class", cls)) }
            output += "<\(name)" + Self.attributes(attributes)
            if let text { output += ">" + escape(text) + "</\(name)>" } else { output += "/>" }
        }

        mutating func text(
            x: Double, y: Double, _ s: String, size: Double? = nil, weight: String? = nil, anchor: String? = nil, fill: String = DashboardChart.ink,
            transform: String? = nil
        ) {
            var attrs: [(String, String)] = [("x", fmt(x)), ("y", fmt(y)), ("fill", fill)]
            if let size { attrs.append(("font-size", fmt(size))) }
            if let weight { attrs.append(("font-weight", weight)) }
            if let anchor { attrs.append(("text-anchor", anchor)) }
            if let transform { attrs.append(("transform", transform)) }
            element("text", attrs, text: s)
        }

        /// Markup already built by another ``SVGWriter``.
        mutating func raw(_ markup: String) { output += markup }

        static func attributes(_ list: [(String, String)]) -> String {
            list.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
        }
    }
}

/// The words of the charts that the JSON answers do not carry (axis titles, legend notes), in
/// the answer's language, and numbers as the charts write them.
struct ChartText: Sendable {
    let lang: DashboardLanguage
    init(_ lang: DashboardLanguage) { self.lang = lang }

    private func pick(_ es: String, _ en: String) -> String { lang == .es ? es : en }

    var curvesTitle: String { pick("Situación de la cohorte por día desde la denuncia", "Where the cohort stands, by day since the report") }
    var dayAxis: String { pick("Días desde la denuncia", "Days since the report") }
    var releaseAxis: String { pick("Publicación (número · fecha de corte)", "Release (number · cutoff)") }
    var trendTitle: String { pick("tendencia entre publicaciones", "trend across releases") }
    var trendDescription: String {
        pick("La misma cifra en cada publicación que puede responder, de la más antigua a la más reciente.",
             "The same figure in every release that can answer, oldest first.")
    }
    var band: String { pick("Banda: intervalo de confianza", "Band: confidence interval") }
    var whisker: String { pick("Bigote: intervalo de confianza", "Whisker: confidence interval") }
    var greyed: String { pick("Gris: poco fiable (intervalo demasiado ancho)", "Grey: unreliable (interval too wide)") }
    var unreliable: String { pick("Poco fiable: el intervalo es demasiado ancho.", "Unreliable: the interval is too wide.") }
    var noValue: String { pick("sin valor", "no value") }
    var nothing: String { pick("No hay cifras publicables para esta selección.", "No figures can be published for this selection.") }
    var filters: String { pick("Filtros: ", "Filters: ") }
    var unbounded: String { pick("sin límite", "unbounded") }

    func releaseLine(_ id: Int64, _ title: String, _ cutoff: String) -> String {
        pick("Publicación \(id) (\(title)), fecha de corte \(cutoff).", "Release \(id) (\(title)), cutoff \(cutoff).")
    }

    func followUpEnds(_ day: Int) -> String { pick("fin del seguimiento: día \(day)", "end of follow-up: day \(day)") }

    func axis(unit: String) -> String {
        switch unit {
        case "proportion": pick("Proporción de los casos", "Share of cases")
        case "days": pick("Días", "Days")
        case "cases": pick("Casos", "Cases")
        default: unit
        }
    }

    /// A value in words: `42.1 %`, `123.5 días`, `1,234 casos`.
    func value(_ v: Double, unit: String) -> String {
        switch unit {
        case "proportion": percent(v) + " %"
        case "days": plain(v) + pick(" días", " days")
        case "cases": plain(v) + pick(" casos", " cases")
        default: plain(v)
        }
    }

    func percent(_ v: Double) -> String { String(format: "%.1f", v * 100) }

    /// A number with thousands separated by commas and at most one decimal (Mexican and
    /// English usage agree: `1,234.5`).
    func plain(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        let whole = Int64(abs(r).rounded(.down))
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits = String(digits.dropLast(3))
        }
        grouped = digits + grouped
        let fraction = abs(r) - Double(whole)
        let tenths = Int((fraction * 10).rounded())
        return (r < 0 ? "-" : "") + grouped + (tenths > 0 ? ".\(tenths)" : "")
    }

    /// `IC 95 %: 39.0 – 45.2 %` / `95 % CI: 39.0 – 45.2 %`.
    func interval(_ i: DashboardInterval, unit: String) -> String {
        let level = "\(Int((i.level * 100).rounded())) %"
        func end(_ v: Double?) -> String {
            guard let v else { return unbounded }
            return unit == "proportion" ? percent(v) : plain(v)
        }
        let suffix = unit == "proportion" ? " %" : ""
        return pick("IC \(level): ", "\(level) CI: ") + end(i.low) + " – " + end(i.high) + suffix
    }

    /// `(39.0–45.2)`: an interval beside its value, in the value's unit.
    func shortInterval(_ i: DashboardInterval, unit: String) -> String {
        func end(_ v: Double?) -> String {
            guard let v else { return unbounded }
            return unit == "proportion" ? percent(v) : plain(v)
        }
        return "(" + end(i.low) + "–" + end(i.high) + ")"
    }

    func denominator(_ d: DashboardDenominator) -> String {
        pick("de unos \(plain(d.value)) casos (", "of about \(plain(d.value)) cases (") + interval(d.interval, unit: "cases") + ")"
    }
}

extension DashboardController {
    /// An answer in the format the query asked for: `name` is the file name without its
    /// extension. An SVG opened on its own runs nothing (`default-src 'none'`; the chart holds
    /// no script and no style sheet) and is never sniffed as HTML.
    static func respond(_ body: [UInt8], _ query: Query, name: String) -> Response {
        guard query.svg else { return respond(body, csv: query.csv, name: name + ".csv") }
        var headers = varyHeaders
        headers[.contentType] = "image/svg+xml; charset=utf-8"
        headers[.contentDisposition] = "inline; filename=\"\(name).svg\""
        headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
