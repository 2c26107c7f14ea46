import Foundation
import PlazoModel

/// A few values of one export column before and after the mapping, for the dry run: what a clerk
/// checks before sealing (`docs/agency-guide.md` §2.1).
public struct ColumnPreview: Sendable, Equatable {
    /// The export's header.
    public var header: String
    /// The Plazo column it is read as; nil when it is dropped (its values are then never kept).
    public var column: String?
    /// Up to ``ExportReader/previewSamples`` distinct values: as shown (the case identifier masked,
    /// never in clear) and as read (a code's label, a day, an age band, a pseudonym's prefix, or
    /// why it cannot be read).
    public var samples: [(before: String, after: String)]

    public static func == (a: ColumnPreview, b: ColumnPreview) -> Bool {
        a.header == b.header && a.column == b.column && a.samples.map(\.before) == b.samples.map(\.before)
            && a.samples.map(\.after) == b.samples.map(\.after)
    }
}

extension ExportReader {
    /// Distinct sample values kept per column for the preview.
    public static let previewSamples = 3

    /// A case identifier as the preview may show it: its first three characters and its length.
    static func masked(_ caseID: String) -> String {
        caseID.count <= 3 ? String(repeating: "•", count: caseID.count) : "\(caseID.prefix(3))…(\(caseID.count) characters)"
    }

    /// One value as shown and as read, after the mapping's value map and date format.
    func preview(_ raw: String, column: ExportColumn, valueMap: [String: String]?, format: DateFormat?) -> (before: String, after: String) {
        let text = valueMap.flatMap { $0[raw] ?? $0["\u{1}" + raw.vocabularyKey] } ?? raw
        let shownBefore = "'\(raw.prefix(40))'"
        // The mapping's target is shown only when it is not already the label read.
        func via(_ result: String) -> String { text != raw && text != result ? "'\(text)' → \(result)" : result }
        func code<C: VocabularyCode>(_: C.Type) -> String {
            do { return via((try C.parse(text)).label) } catch { return via("✗ \(error.description)") }
        }
        switch column {
        case .caseID:
            let after = (try? pseudonymizer.pseudonym(forCaseID: raw)).map { "pseudonym \($0.hex.prefix(8))…" } ?? "✗ not a valid case identifier"
            return ("'\(Self.masked(raw))'", after)
        case .event, .targetEvent: return (shownBefore, code(EventType.self))
        case .offenceCategory: return (shownBefore, code(OffenceCategory.self))
        case .victimAgeBand: return (shownBefore, code(AgeBand.self))
        case .victimSex: return (shownBefore, code(VictimSex.self))
        case .state: return (shownBefore, code(MexicanState.self))
        case .reportChannel: return (shownBefore, code(ReportChannel.self))
        case .agencyType: return (shownBefore, code(AgencyType.self))
        case .detail, .targetDetail:
            for list in [SuspensionReason.self, ClosureReason.self, Disposition.self, UpdateKind.self, AgencyType.self] as [any VocabularyCode.Type] {
                if let raw = try? list.parseRaw(text), let label = Self.label(list, raw) { return (shownBefore, via(label)) }
            }
            return (shownBefore, via("✗ not in any detail list"))
        case .victimAge:
            let whole = text.hasSuffix(".0") ? String(text.dropLast(2)) : text
            guard let years = Int(whole), let band = try? AgeBand.band(forAge: years) else { return (shownBefore, via("✗ not an age from 0 to 17")) }
            return (shownBefore, via("band \(band.label)"))
        case .date, .targetDate:
            let day = format.map { $0.day(text) } ?? Day(iso: text)
            return (shownBefore, via(day.map { "\($0)" } ?? "✗ not a date in \(format?.pattern ?? "YYYY-MM-DD") form"))
        }
    }

    static func label(_ list: any VocabularyCode.Type, _ raw: UInt8) -> String? {
        func open<C: VocabularyCode>(_: C.Type) -> String? { C(rawValue: raw)?.label }
        return open(list)
    }
}

extension ExportSummary {
    /// What is still to decide before sealing, most important first (at most `limit` lines):
    /// values the mapping leaves empty (TODO) and the rows they cost, dropped columns that look
    /// like Plazo columns, and the values most often refused.
    public func openDecisions(mapping: ExportMapping?, limit: Int = 8) -> [String] {
        var out: [String] = []
        var refused: [String: [String: Int]] = [:]
        for p in rejected { if let c = p.column, let v = p.value { refused[c, default: [:]][v, default: 0] += 1 } }
        if let mapping {
            for (column, map) in mapping.values.sorted(by: { $0.key < $1.key }) {
                for (value, target) in map.sorted(by: { $0.key < $1.key }) where target.trimmingCharacters(in: .whitespaces).isEmpty {
                    let rows = refused[column]?[value] ?? 0
                    out.append("values: \(column) '\(value)' is left empty (TODO)\(rows > 0 ? ": \(rows) row(s) refused" : ""); write its label")
                }
            }
        }
        for header in droppedColumns {
            let guess = MappingStarter.judgeName(header)
            if let c = guess.column, !guess.excluded {
                out.append("column '\(header)' is dropped but looks like \(c.rawValue): map it under columns:, or leave it dropped")
            }
        }
        let todoKeys = Set((mapping?.values ?? [:]).flatMap { c, m in m.filter { $0.value.trimmingCharacters(in: .whitespaces).isEmpty }.keys.map { "\(c)\u{1}\($0)" } })
        let frequent = refused.flatMap { c, m in m.map { (column: c, value: $0.key, rows: $0.value) } }
            .filter { !todoKeys.contains("\($0.column)\u{1}\($0.value)") }
            .sorted { ($0.rows, $1.column, $1.value) > ($1.rows, $0.column, $0.value) }
        for f in frequent {
            let fix = switch f.column {
            case "date", "target_date": "fix the export, or give its date format under dates:"
            case "victim_age": "fix the export"
            default: "map it under values: \(f.column), or fix the export"
            }
            out.append("\(f.column) '\(f.value)' refused in \(f.rows) row(s): \(fix)")
        }
        return Array(out.prefix(limit))
    }
}
