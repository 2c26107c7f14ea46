import Foundation
import PlazoModel

extension MappingStarter {
    /// The shape of one date or date-time value: its date numbers, separators and time.
    struct DateShape: Equatable {
        /// The three numbers of the date, as written.
        var groups: [Substring]
        /// The separator between them (`/`, `-`, `.`).
        var separator: Character
        /// Between the date and the time: a space or `T`; nil when there is no time.
        var timeJoin: Character?
        /// The numbers of the time (2: `HH:MM`, 3: `HH:MM:SS`).
        var timeParts: Int

        /// Reads `DD/MM/YYYY`, `YYYY-MM-DD`, with an optional time after a space or `T`
        /// (`HH:MM` or `HH:MM:SS`, seconds with a fraction or a zone are ignored); nil otherwise.
        init?(_ text: String) {
            let t = Substring(text)
            var datePart = t
            var timePart: Substring = ""
            timeJoin = nil
            if let i = t.firstIndex(where: { $0 == " " || $0 == "T" }) {
                datePart = t[..<i]
                timePart = t[t.index(after: i)...].drop { $0 == " " }
                timeJoin = t[i]
            }
            let seps = datePart.filter { !$0.isNumber }
            guard seps.count == 2, let sep = seps.first, seps.last == sep, "/-.".contains(sep) else { return nil }
            groups = datePart.split(separator: sep, omittingEmptySubsequences: false)
            guard groups.count == 3, groups.allSatisfy({ !$0.isEmpty && $0.count <= 4 }) else { return nil }
            guard groups[0].count == 4 || groups[2].count == 4 else { return nil }
            separator = sep
            if timeJoin != nil {
                let clock = timePart.prefix { $0.isNumber || $0 == ":" }
                let parts = clock.split(separator: ":")
                guard (2...3).contains(parts.count), parts.allSatisfy({ (1...2).contains($0.count) }) else { return nil }
                timeParts = parts.count
            } else {
                timeParts = 0
            }
        }
    }

    /// The date format of sample values, or nil when they need none (ISO days) or are not dates:
    /// `a/b/YYYY` is DD/MM/YYYY unless a second number over 12 shows MM/DD/YYYY; a time after
    /// the day adds ` HH:MM` or ` HH:MM:SS` (or `T…` as written).
    static func guessDateFormat(_ samples: [String]) -> String? {
        let shapes = samples.compactMap(DateShape.init)
        guard let first = shapes.first, shapes.count * 10 >= samples.count * 9 else { return nil }
        let withTime = shapes.first { $0.timeJoin != nil }
        let time = withTime.map { String($0.timeJoin!) + ($0.timeParts == 3 ? "HH:MM:SS" : "HH:MM") } ?? ""
        let s = String(first.separator)
        if first.groups[0].count == 4 {
            if time.isEmpty, s == "-" { return nil }  // ISO days need no format
            return "YYYY\(s)MM\(s)DD\(time)"
        }
        let secondOver12 = shapes.contains { (Int($0.groups[1]) ?? 0) > 12 }
        let firstOver12 = shapes.contains { (Int($0.groups[0]) ?? 0) > 12 }
        let order = secondOver12 && !firstOver12 ? "MM\(s)DD\(s)YYYY" : "DD\(s)MM\(s)YYYY"
        return order + time
    }

    /// Whether a value reads as a day (in either order of day and month).
    static func isDateLike(_ text: String) -> Bool {
        guard let shape = DateShape(text) else { return false }
        let n = shape.groups.compactMap { Int($0) }
        guard n.count == 3 else { return false }
        if shape.groups[0].count == 4 { return Day(year: n[0], month: n[1], day: n[2]) != nil }
        return Day(year: n[2], month: n[1], day: n[0]) != nil || Day(year: n[2], month: n[0], day: n[1]) != nil
    }
}
