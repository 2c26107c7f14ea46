import Foundation
import PlazoModel
import Yams

extension ExportMapping {
    /// The key under which ``sourceLines`` records the line of an entry: `columns` and a header,
    /// `values`, a Plazo column and a value, `dates` and a column, or a top-level key alone.
    static func lineKey(_ parts: String...) -> String { parts.joined(separator: "\u{1F}") }

    /// The line of an entry in the mapping file it was loaded from, if known.
    func line(_ parts: String...) -> Int? { sourceLines[parts.joined(separator: "\u{1F}")] }

    /// The line of every entry of a mapping file, from its YAML nodes; refuses a key written twice
    /// in one section (YAML decoders keep one of them silently).
    static func entryLines(of text: String) throws(MappingError) -> [String: Int] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { return [:] }
        guard let top = root?.mapping else { return [:] }
        var out: [String: Int] = [:]
        func record(_ key: String, _ node: Node, section: String) throws(MappingError) {
            let line = node.mark?.line ?? 0
            if let first = out[key] {
                throw .invalidAt(line: line, "\(section): '\(key.split(separator: "\u{1F}").last ?? "")' is written twice (first at line \(first)); keep one")
            }
            out[key] = line
        }
        for (k, v) in top {
            guard let section = k.string else { continue }
            try record(lineKey(section), k, section: "mapping")
            guard let entries = v.mapping else { continue }
            for (ek, ev) in entries {
                guard let name = ek.string else { continue }
                try record(lineKey(section, name), ek, section: section)
                if section == "values", let inner = ev.mapping {
                    for (vk, _) in inner {
                        guard let value = vk.string else { continue }
                        try record(lineKey(section, name, value), vk, section: "values: \(name)")
                    }
                }
            }
        }
        return out
    }

    /// Refuses what would seal something other than the office means: targets that are not Plazo
    /// columns, two export columns mapped to one Plazo column, value maps for unknown columns or to
    /// labels that are not in the column's vocabulary, and date formats that cannot be read. When
    /// the mapping was loaded from a file, the refusal names the line.
    public func validate() throws(MappingError) {
        func refuse(_ line: Int?, _ why: String) -> MappingError {
            line.map { .invalidAt(line: $0, why) } ?? .invalid(why)
        }
        let known = Set(ExportColumn.allCases.map(\.rawValue))
        // Entries in file order (by line), so the first problem in the file is the one named.
        let columnEntries = columns.sorted { (line("columns", $0.key) ?? 0, $0.key) < (line("columns", $1.key) ?? 0, $1.key) }
        var mappedTo: [String: String] = [:]
        for (from, to) in columnEntries {
            guard known.contains(to) else {
                throw refuse(line("columns", from),
                             "columns: '\(from)' maps to '\(to)', which is not a Plazo column (\(ExportColumn.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if let other = mappedTo[to] {
                let otherLine = line("columns", other).map { " (line \($0))" } ?? ""
                throw refuse(line("columns", from),
                             "columns: '\(from)' and '\(other)'\(otherLine) both map to \(to); a Plazo column takes one export column (mark the other as dropped)")
            }
            mappedTo[to] = from
        }
        for column in values.keys.sorted() where !known.contains(column) {
            throw refuse(line("values", column), "values: '\(column)' is not a Plazo column")
        }
        if values[ExportColumn.caseID.rawValue] != nil {
            throw refuse(line("values", ExportColumn.caseID.rawValue), "values: case identifiers are never mapped")
        }
        for (column, map) in values.sorted(by: { $0.key < $1.key }) {
            guard let plazo = ExportColumn(rawValue: column) else { continue }
            let entries = map.sorted { (line("values", column, $0.key) ?? 0, $0.key) < (line("values", column, $1.key) ?? 0, $1.key) }
            for (from, to) in entries {
                let target = to.trimmingCharacters(in: .whitespaces)
                if target.isEmpty { continue }  // a TODO left in the file: the value reads as written
                if let why = Self.refusal(of: target, for: plazo) {
                    throw refuse(line("values", column, from), "values: \(column): '\(from)' maps to '\(target)', \(why)")
                }
            }
        }
        for (column, format) in dates.sorted(by: { $0.key < $1.key }) {
            guard column == "all" || column == "date" || column == "target_date" else {
                throw refuse(line("dates", column), "dates: '\(column)' is not a date column (date, target_date or all)")
            }
            guard DateFormat(format) != nil else {
                throw refuse(line("dates", column), "dates: '\(format)' is not a date format (for example DD/MM/YYYY, YYYY-MM-DD HH:MM:SS)")
            }
        }
        if let d = delimiter, !["comma", "semicolon", "tab", ",", ";"].contains(d.lowercased()) {
            throw refuse(line("delimiter"), "delimiter: '\(d)' (comma, semicolon or tab)")
        }
        if let e = encoding, !ExportOptions.encodings.contains(e.lowercased()) {
            throw refuse(line("encoding"), "encoding: '\(e)' (\(ExportOptions.encodings.joined(separator: ", ")))")
        }
    }

    /// Why `target` cannot be a value of `column`, or nil when it can.
    static func refusal(of target: String, for column: ExportColumn) -> String? {
        func check<C: VocabularyCode>(_: C.Type) -> String? {
            do { _ = try C.parse(target); return nil } catch {
                if case .ambiguous = error { return "which is ambiguous: write the machine label (plazo vocabulary)" }
                return "which is not a label of plazo vocabulary \(C.attributeName)" + (C.suggestion(for: target).map { "; did you mean \($0)?" } ?? "")
            }
        }
        switch column {
        case .caseID: return "but case identifiers are never mapped"
        case .event, .targetEvent: return check(EventType.self)
        case .offenceCategory: return check(OffenceCategory.self)
        case .victimAgeBand: return check(AgeBand.self)
        case .victimSex: return check(VictimSex.self)
        case .state: return check(MexicanState.self)
        case .reportChannel: return check(ReportChannel.self)
        case .agencyType: return check(AgencyType.self)
        case .detail, .targetDetail:
            let lists: [String?] = [check(SuspensionReason.self), check(ClosureReason.self), check(Disposition.self),
                                    check(UpdateKind.self), check(AgencyType.self)]
            return lists.contains { $0 == nil } ? nil : "which is not a label of any detail list (plazo vocabulary)"
        case .victimAge:
            let whole = target.hasSuffix(".0") ? String(target.dropLast(2)) : target
            return Int(whole).map { (0...17).contains($0) } == true ? nil : "which is not an age in years from 0 to 17"
        case .date, .targetDate:
            return Day(iso: target) == nil ? "which is not a day written YYYY-MM-DD" : nil
        }
    }
}
