import Foundation

// The drawing helpers of the dashboard charts: value scales, numbers and coordinates, and the
// XML writer every element goes through (escaping included); and ChartText, the charts' words.

extension DashboardChart {
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
    static func number(_ v: Double?) -> String { DashboardCSV.number(v) }

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
    var noFigureDrawn: String {
        pick("Ninguna cifra de este panel tiene valor; cada fila dice por qué.", "No figure in this panel has a value; each row says why.")
    }
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
