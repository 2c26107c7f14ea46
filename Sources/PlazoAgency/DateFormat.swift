import Foundation
import PlazoModel

/// A day written as in an office's export: the tokens `YYYY`, `MM` (or `M`), `DD` (or `D`) in any
/// order with any separators (`DD/MM/YYYY`, `D-M-YYYY`, `MM/DD/YYYY`, `YYYY-MM-DD`). A time after a
/// space or `T` (`YYYY-MM-DD HH:MM:SS`) is ignored: Plazo records days.
public struct DateFormat: Sendable, Equatable {
    enum Part: Equatable { case year, month, day }
    let parts: [Part]
    /// The pattern as written.
    public let pattern: String

    /// Parses a pattern; nil if it is not a date pattern.
    public init?(_ pattern: String) {
        let datePart = pattern.split(whereSeparator: { $0 == " " || $0 == "T" }).first.map(String.init) ?? ""
        var parts: [Part] = []
        var token = ""
        func flush() -> Bool {
            defer { token = "" }
            switch token.uppercased() {
            case "": return true
            case "YYYY": parts.append(.year)
            case "MM", "M": parts.append(.month)
            case "DD", "D": parts.append(.day)
            default: return false
            }
            return true
        }
        for ch in datePart {
            if ch.isLetter { token.append(ch) } else if !flush() { return nil }
        }
        if !flush() { return nil }
        guard Set(parts).count == 3, parts.count == 3 else { return nil }
        self.parts = parts
        self.pattern = pattern
    }

    /// The day a value names, or nil.
    public func day(_ text: String) -> Day? {
        let datePart = text.split(whereSeparator: { $0 == " " || $0 == "T" }).first.map(String.init) ?? ""
        let numbers = datePart.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count == 3 else { return nil }
        var y = 0, m = 0, d = 0
        for (part, n) in zip(parts, numbers) {
            switch part {
            case .year: y = n
            case .month: m = n
            case .day: d = n
            }
        }
        guard y >= 1000 else { return nil }
        return Day(year: y, month: m, day: d)
    }
}
