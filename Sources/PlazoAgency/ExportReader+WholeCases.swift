import Foundation
import PlazoModel

/// A case held back because a row that is (or may be) its report was rejected.
struct LostReport: Sendable, Equatable {
    /// The line of the rejected row.
    var line: Int
    /// True when the rejected row was read as the case's `report_received` row; false when it was a
    /// wrong-width (`field_count`) row that may have been the report.
    var certain: Bool
}

extension ExportReader {
    /// The cases a wrong-width (`field_count`) row may be the report of: what it takes to keep the
    /// whole-cases promise (`docs/agency-guide.md` §3) when a report row is rejected for its shape.
    ///
    /// Nothing of such a row is sealed or echoed; only its case identifier and event are looked at,
    /// here, to decide which cases to hold back. A separator inside an unquoted value shifts every
    /// field after it, and a missing one shifts them back, so a column at position `i` of the
    /// header is at one of `i ... i + d` in a row with `d` fields too many (`i + d ... i` with too
    /// few). The conservative rule:
    ///
    /// - The row is known **not** to be a report only when, among the event column's candidate
    ///   positions, at least one reads as an event type (after the mapping's values) and all that
    ///   read as one read as the same type, other than `report_received`. Otherwise (a report at
    ///   some position, no readable event, or readings that disagree) the row may be the report.
    ///   A value that is not an event type cannot be the event column's, so it is not a reading.
    /// - If it may be the report, every candidate case identifier (the non-empty values at the case
    ///   column's candidate positions that are valid identifiers) is held back. A candidate that is
    ///   not a real case identifier holds back nothing, because no other row carries it.
    ///
    /// - Returns: the pseudonyms of the cases to hold back (empty when the row is not a report).
    func casesPossiblyLosingReport(
        row: [String], headerCount: Int, caseColumn: Int, eventColumn: Int, eventMap: [String: String]?
    ) -> [CasePseudonym] {
        func candidates(_ i: Int) -> [String] {
            let d = row.count - headerCount
            let range = d >= 0 ? i...(i + d) : max(0, i + d)...i
            return range.filter { $0 < row.count }.map { row[$0] }
        }
        let events = candidates(eventColumn).map { raw -> EventType? in
            guard !raw.isEmpty else { return nil }
            let text = eventMap.flatMap { $0[raw] ?? $0["\u{1}" + raw.vocabularyKey] } ?? raw
            return try? EventType.parse(text)
        }
        let readings = events.compactMap { $0 }
        if let type = readings.first, type != .reportReceived, readings.allSatisfy({ $0 == type }) {
            return []
        }
        var out: [CasePseudonym] = []
        for text in candidates(caseColumn) where !text.isEmpty {
            if let p = try? pseudonymizer.pseudonym(forCaseID: text), !out.contains(p) { out.append(p) }
        }
        return out
    }
}
