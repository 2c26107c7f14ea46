import Foundation

// The plots of a dashboard chart: curves and trends on a day or release axis, horizontal bars,
// and the figure elements both draw (DashboardChart.swift has the model and the document).

extension DashboardChart {
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
        // When no figure of the panel has a value (every median not reached, say), there is no
        // scale to draw: an axis from 0 to 1 would suggest figures near zero. The panel says so
        // instead, and each category keeps its reason.
        let empty = !panel.lines.contains { $0.points.contains { $0.value != nil } }
        var plotTop = top + 8
        if empty {
            w.text(x: left - 56, y: plotTop + 12, text.noFigureDrawn, fill: muted)
            plotTop += 20
        }
        let plotBottom = plotTop + Double(categories.count) * groupHeight

        if !empty {
            for tick in scale.ticks {
                let x = xPos(tick)
                w.element("line", [("x1", fmt(x)), ("y1", fmt(plotTop)), ("x2", fmt(x)), ("y2", fmt(plotBottom)), ("stroke", gridColour)])
                w.text(x: x, y: plotBottom + 16, scale.tickLabel(tick, text), anchor: "middle", fill: muted)
            }
            w.text(x: (x0 + x1) / 2, y: plotBottom + 34, text.axis(unit: panel.unit), anchor: "middle", fill: muted)
        }

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
        if empty { return plotBottom + 8 }
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
}
