import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@testable import PlazoDashboards

/// The SVG charts (`format=svg`, `DashboardChart.swift`): every figure drawn carries the JSON's
/// values, nothing past follow-up is drawn, unreliable figures are grey, all text is escaped.
/// Through the router (headers, refusals) and the web page: `PlazoServerTests/DashboardPageTests.swift`.
@Suite("dashboard charts (SVG)")
struct DashboardChartTests {
    // MARK: - Answers to draw

    static let level = 0.95

    static func point(
        _ x: String, day: Int? = nil, _ value: Double?, _ low: Double?, _ high: Double?, status: String = "ok", reliable: Bool = true,
        observedUntil: Int? = nil, label: String? = nil
    ) -> DashboardPointJSON {
        DashboardPointJSON(
            x: x, day: day, label: label ?? (day.map { "día \($0)" } ?? x), value: value,
            interval: DashboardInterval(low: low, high: high, level: level), status: status,
            statusText: status == "ok" ? nil : "Más allá del seguimiento: ningún caso se ha observado tanto tiempo.",
            reliable: reliable, observedUntil: observedUntil,
            denominator: DashboardDenominator(value: 192, interval: DashboardInterval(low: 133, high: 251, level: level)))
    }

    /// A curve observed until day 90: days 30, 60, 90 drawn (60 unreliable), 120 and 150 beyond follow-up.
    static func curve(_ name: String, title: String, group: [String: String]? = nil, groupLabel: String? = nil, shift: Double = 0)
        -> DashboardSeriesJSON
    {
        DashboardSeriesJSON(
            name: name, title: title, unit: "proportion", xAxis: "day", group: group, groupLabel: groupLabel,
            points: [
                point("30", day: 30, 0.1 + shift, 0.05 + shift, 0.15 + shift, observedUntil: 90),
                point("60", day: 60, 0.2123 + shift, nil, 0.4 + shift, reliable: false, observedUntil: 90),
                point("90", day: 90, 0.3 + shift, 0.25 + shift, 0.35 + shift, observedUntil: 90),
                point("120", day: 120, nil, nil, nil, status: "beyond_follow_up", reliable: false, observedUntil: 90),
                point("150", day: 150, nil, nil, nil, status: "beyond_follow_up", reliable: false, observedUntil: 90),
            ])
    }

    static func bars(_ group: [String: String]? = nil, groupLabel: String? = nil) -> DashboardSeriesJSON {
        DashboardSeriesJSON(
            name: "funnel_share", title: "Proporción que llega a la etapa", unit: "proportion", xAxis: "stage", group: group,
            groupLabel: groupLabel,
            points: [
                point("referred", 0.9431, 0.92, 0.96, label: "Canalizado"),
                point("charged", 0.081, 0.06, 0.1, label: "Imputación"),
                point("convicted", 0.015, 0, 0.2, reliable: false, label: "Condena"),
            ])
    }

    static func answer(_ series: [DashboardSeriesJSON], lang: String = "es", title: String = "Tiempo a la primera decisión") -> DashboardResponse {
        DashboardResponse(
            metric: "time-to-decision", title: title, description: "Proporción de cada cohorte.", lang: lang,
            filters: ["cohort": ["2025Q3"]],
            release: DashboardReleaseRef(
                id: 3, title: "Trimestral 2026Q3", cutoff: "2026-09-30", cohorts: ["2025Q3"], confidenceLevel: level, isPublic: true,
                selection: "default", defaultRule: "la más reciente", links: DashboardLinks()),
            intervalNote: "Cada cifra lleva ruido de privacidad diferencial.", series: series)
    }

    // MARK: - Reading the SVG back

    /// The SVG parsed as XML: every element with its attributes, text and parent.
    final class SVG: NSObject, XMLParserDelegate {
        struct Element {
            var name: String
            var attributes: [String: String]
            var text = ""
            var parent: Int?
        }

        var elements: [Element] = []
        private var stack: [Int] = []

        static func parse(_ text: String) -> SVG? {
            let svg = SVG()
            let parser = XMLParser(data: Data(text.utf8))
            parser.delegate = svg
            return parser.parse() ? svg : nil
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append(Element(name: name, attributes: attributes, parent: stack.last))
            stack.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let i = stack.last { elements[i].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }

        var root: Element { elements[0] }

        /// The drawn figures: `<g class="point …">`, with their index.
        var points: [(Int, Element)] {
            elements.enumerated().filter { $0.element.name == "g" && ($0.element.attributes["class"] ?? "").split(separator: " ").contains("point") }
                .map { ($0.offset, $0.element) }
        }

        func children(_ i: Int) -> [Element] { elements.filter { $0.parent == i } }

        func title(_ i: Int) -> String { children(i).first { $0.name == "title" }?.text ?? "" }
    }

    static func draw(_ answer: DashboardResponse) throws -> SVG {
        let text = DashboardChart.svg(answer)
        return try #require(SVG.parse(text), "not well-formed XML:\n\(text.prefix(400))")
    }

    // MARK: - Tests

    @Test("every drawn figure carries the JSON's raw values in data-* and says value and interval in its title")
    func valuesPresent() throws {
        let answer = Self.answer([Self.curve("charge_incidence_curve", title: "Con imputación"), Self.bars()])
        let svg = try Self.draw(answer)
        var expected: [String: DashboardPointJSON] = [:]
        for s in answer.series { for p in s.points where p.value != nil { expected["\(s.name)|\(p.x)"] = p } }
        var seen = Set<String>()
        for (i, g) in svg.points {
            let key = "\(g.attributes["data-series"] ?? "")|\(g.attributes["data-x"] ?? "")"
            let p = try #require(expected[key], "drawn but not in the answer: \(key)")
            #expect(seen.insert(key).inserted, "drawn twice: \(key)")
            #expect(g.attributes["data-value"].flatMap(Double.init) == p.value)
            #expect(g.attributes["data-low"] == DashboardCSV.number(p.interval.low))
            #expect(g.attributes["data-high"] == DashboardCSV.number(p.interval.high))
            #expect(g.attributes["data-level"] == "0.95")
            #expect(g.attributes["data-status"] == p.status)
            #expect(g.attributes["data-denominator"] == "192")
            let title = svg.title(i)
            #expect(title.contains(String(format: "%.1f %%", p.value! * 100)), "\(title)")
            #expect(title.contains("IC 95 %"), "\(title)")
            #expect(title.contains("de unos 192 casos"), "\(title)")
        }
        #expect(seen == Set(expected.keys))
        // An unbounded interval end is said, not drawn as a number.
        let unbounded = try #require(svg.points.first { $0.1.attributes["data-x"] == "60" })
        #expect(unbounded.1.attributes["data-low"] == "")
        #expect(svg.title(unbounded.0).contains("sin límite – 40.0 %"), "\(svg.title(unbounded.0))")
    }

    @Test("curve points past follow-up are not drawn, and the end of follow-up is marked")
    func cutAtFollowUp() throws {
        let svg = try Self.draw(Self.answer([
            Self.curve("no_decision_curve", title: "Aún sin decisión"), Self.curve("charge_incidence_curve", title: "Con imputación"),
        ]))
        #expect(!svg.points.contains { $0.1.attributes["data-status"] == "beyond_follow_up" })
        #expect(Set(svg.points.map { $0.1.attributes["data-x"] ?? "" }) == ["30", "60", "90"])
        #expect(svg.points.count == 6, "two curves share one panel, three points each")
        #expect(svg.elements.contains { $0.name == "rect" && $0.attributes["class"] == "beyond-follow-up" })
        #expect(svg.elements.contains { $0.name == "text" && $0.text == "fin del seguimiento: día 90" })
        // No line or band reaches past day 90: every x coordinate of a polyline or polygon stays left of the cut.
        let cut = try #require(svg.elements.first { $0.attributes["class"] == "beyond-follow-up" }?.attributes["x"].flatMap(Double.init))
        for e in svg.elements where e.name == "polyline" || e.name == "polygon" {
            let xs = (e.attributes["points"] ?? "").split(separator: " ").compactMap { Double($0.split(separator: ",")[0]) }
            #expect(xs.allSatisfy { $0 <= cut + 0.01 }, "\(e.name) past the cut: \(xs)")
        }
    }

    @Test("unreliable figures are drawn grey, reliable ones in a series colour")
    func unreliableGreyed() throws {
        let svg = try Self.draw(Self.answer([Self.curve("charge_incidence_curve", title: "Con imputación"), Self.bars()]))
        for (i, g) in svg.points {
            let shape = try #require(svg.children(i).first { $0.attributes["class"] == "marker" || $0.attributes["class"] == "bar" })
            let reliable = g.attributes["data-reliable"] == "true"
            #expect((g.attributes["class"] ?? "").contains("unreliable") == !reliable)
            if reliable {
                #expect(shape.attributes["fill"] != DashboardChart.grey)
                #expect(DashboardChart.palette.contains(shape.attributes["fill"] ?? ""))
            } else {
                #expect(shape.attributes["fill"] == DashboardChart.grey, "\(g.attributes)")
                #expect(svg.title(i).contains("Poco fiable"))
            }
        }
        #expect(svg.points.filter { $0.1.attributes["data-reliable"] == "false" }.count == 2)
        // The legend says what grey means.
        #expect(svg.elements.contains { $0.name == "text" && $0.text.hasPrefix("Gris: poco fiable") })
    }

    @Test("all text is XML-escaped: markup in labels stays text, control characters are dropped")
    func escaping() throws {
        let hostile = "<script>alert('x')</script> & \"q\" ]]> <img src=x onerror=alert(1)>\u{01}"
        var s = Self.bars(["state": "09"], groupLabel: hostile)
        s.title = hostile
        s.points[0].label = hostile
        let answer = Self.answer([s], title: hostile)
        let text = DashboardChart.svg(answer)
        #expect(!text.contains("<script"))
        #expect(!text.contains("<img"))
        #expect(!text.contains("\u{01}"))
        #expect(text.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;q&quot; ]]&gt;"))
        let svg = try #require(SVG.parse(text))
        #expect(!svg.elements.contains { ["script", "img", "foreignObject"].contains($0.name) })
        #expect(!svg.elements.contains { $0.attributes.keys.contains { $0.lowercased().hasPrefix("on") } })
        let clean = String(hostile.dropLast())
        #expect(svg.elements.first { $0.name == "title" }?.text == clean, "the document title reads back as the text given")
        #expect(svg.points.contains { svg.title($0.0).contains(clean) })
        #expect(DashboardChart.escape("a<b>&\"'\u{0}\u{FFFE}\tz") == "a&lt;b&gt;&amp;&quot;&apos;\tz")
    }

    @Test("a comparison draws one line or bar per group, with the group's label in the legend")
    func comparison() throws {
        let svg = try Self.draw(Self.answer([
            Self.curve("charge_incidence_curve", title: "Con imputación", group: ["state": "09"], groupLabel: "Ciudad de México"),
            Self.curve("charge_incidence_curve", title: "Con imputación", group: ["state": "14"], groupLabel: "Jalisco", shift: 0.1),
            Self.bars(["state": "09"], groupLabel: "Ciudad de México"), Self.bars(["state": "14"], groupLabel: "Jalisco"),
        ]))
        #expect(Set(svg.points.map { $0.1.attributes["data-group"] ?? "" }) == ["state=09", "state=14"])
        #expect(svg.points.filter { $0.1.attributes["data-series"] == "funnel_share" }.count == 6)
        #expect(svg.elements.filter { $0.name == "text" && $0.text == "Jalisco" }.count == 2, "one legend entry per panel")
        // The groups' lines differ in colour.
        let colours = Set(svg.elements.filter { $0.name == "polyline" }.compactMap { $0.attributes["stroke"] })
        #expect(colours.count == 2)
    }

    @Test("the trend draws each release's figure, oldest first")
    func trend() throws {
        func p(_ id: Int64, _ v: Double?, reliable: Bool = true) -> DashboardTrendResponse.Point {
            DashboardTrendResponse.Point(
                releaseID: id, releaseTitle: "R\(id)", cutoff: "2026-0\(id)-30", value: v,
                interval: DashboardInterval(low: v.map { $0 - 0.05 }, high: v.map { $0 + 0.05 }, level: 0.95),
                status: v == nil ? "beyond_follow_up" : "ok", reliable: reliable)
        }
        let answer = DashboardTrendResponse(
            metric: "time-to-charge", title: "Tiempo a la imputación", lang: "en", filters: [:], intervalNote: "Noise.",
            series: [
                .init(name: "charge_incidence", title: "Charged by day …", unit: "proportion", xAxis: "day", x: "365", day: 365,
                      label: "day 365", points: [p(1, 0.2), p(2, 0.25, reliable: false), p(3, nil)]),
            ])
        let svg = try #require(SVG.parse(DashboardChart.svg(answer)))
        #expect(svg.root.attributes["data-kind"] == "trend")
        #expect(svg.root.attributes["lang"] == "en")
        #expect(svg.points.map { $0.1.attributes["data-release"] ?? "" } == ["1", "2"])
        #expect(svg.points.map { $0.1.attributes["data-value"] ?? "" } == ["0.2", "0.25"])
        #expect(svg.elements.contains { $0.name == "text" && $0.text == "Release (number · cutoff)" })
        #expect(svg.title(svg.points[1].0).contains("Unreliable"))
    }

    @Test("accessible: role img labelled by its title and desc, the answer's language, contrast for lines and text")
    func accessible() throws {
        let svg = try Self.draw(Self.answer([Self.bars()], lang: "en"))
        #expect(svg.root.name == "svg" && svg.root.attributes["role"] == "img")
        #expect(svg.root.attributes["aria-labelledby"] == "plazo-time-to-decision-title plazo-time-to-decision-desc")
        #expect(svg.elements.first { $0.attributes["id"] == "plazo-time-to-decision-title" }?.name == "title")
        let desc = try #require(svg.elements.first { $0.attributes["id"] == "plazo-time-to-decision-desc" })
        #expect(desc.text.contains("Cada cifra lleva ruido") && desc.text.contains("Release 3"), "\(desc.text)")
        #expect(svg.root.attributes["lang"] == "en" && svg.root.attributes["xml:lang"] == "en")
        // WCAG 2.1: graphics 3:1 (1.4.11), text 4.5:1 (1.4.3), against the white background.
        func luminance(_ hex: String) -> Double {
            let v = Int(hex.dropFirst(), radix: 16)!
            return [(v >> 16) & 255, (v >> 8) & 255, v & 255].map { c -> Double in
                let s = Double(c) / 255
                return s <= 0.03928 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
            }.enumerated().map { [0.2126, 0.7152, 0.0722][$0.offset] * $0.element }.reduce(0, +)
        }
        func contrast(_ hex: String) -> Double { 1.05 / (luminance(hex) + 0.05) }
        for colour in DashboardChart.palette { #expect(contrast(colour) >= 4.5, "\(colour): \(contrast(colour))") }
        #expect(contrast(DashboardChart.grey) >= 3)
        #expect(contrast(DashboardChart.ink) >= 4.5 && contrast(DashboardChart.muted) >= 4.5)
        for e in svg.elements where e.name == "text" {
            #expect([DashboardChart.ink, DashboardChart.muted].contains(e.attributes["fill"] ?? ""), "text in \(e.attributes["fill"] ?? "?")")
        }
    }

    @Test("an empty answer still draws a labelled chart that says there is nothing to show")
    func empty() throws {
        let svg = try Self.draw(Self.answer([]))
        #expect(svg.points.isEmpty)
        #expect(svg.elements.contains { $0.name == "text" && $0.text.hasPrefix("No hay cifras publicables") })
    }

    @Test("a bar panel where no figure has a value (every median not reached) draws no axis, and says so and why")
    func noValueDrawsNoAxis() throws {
        func median(_ x: String, _ label: String, _ value: Double?) -> DashboardPointJSON {
            var p = Self.point(x, value, value.map { $0 - 5 }, value.map { $0 + 5 }, status: value == nil ? "not_reached" : "ok", label: label)
            if value == nil { p.statusText = "No alcanzado al día 365." }
            return p
        }
        func series(_ points: [DashboardPointJSON]) -> DashboardSeriesJSON {
            DashboardSeriesJSON(
                name: "median_days_to_first_decision", title: "Mediana de días a la primera decisión", unit: "days", xAxis: "cohort",
                group: nil, groupLabel: nil, points: points)
        }
        let svg = try Self.draw(Self.answer([series([median("2025Q3", "2025T3", nil), median("2025Q4", "2025T4", nil)])]))
        let texts = svg.elements.filter { $0.name == "text" }.map(\.text)
        #expect(texts.contains("Ninguna cifra de este panel tiene valor; cada fila dice por qué."))
        #expect(texts.filter { $0.contains("No alcanzado al día 365.") }.count == 2, "\(texts)")
        // No tick labels, axis title, grid or whisker legend: nothing suggests figures near zero.
        #expect(!texts.contains("0") && !texts.contains("1") && !texts.contains("Días"), "\(texts)")
        #expect(!texts.contains { $0.hasPrefix("Bigote") })
        #expect(!svg.elements.contains { $0.name == "line" && $0.attributes["stroke"] == DashboardChart.gridColour })

        // One value is enough for the axis to come back.
        let drawn = try Self.draw(Self.answer([series([median("2025Q3", "2025T3", 120), median("2025Q4", "2025T4", nil)])]))
        let drawnTexts = drawn.elements.filter { $0.name == "text" }.map(\.text)
        #expect(drawnTexts.contains("Días") && drawnTexts.contains("0"))
        #expect(!drawnTexts.contains("Ninguna cifra de este panel tiene valor; cada fila dice por qué."))
    }
}
