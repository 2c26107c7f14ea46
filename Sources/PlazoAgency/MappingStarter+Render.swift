import Foundation
import PlazoModel

extension MappingStarter {
    /// A YAML double-quoted string.
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The mapping file: columns (mapped, TODO with candidates, or dropped), the distinct values of
    /// mapped coded columns with their guesses, the date formats, separator and encoding.
    static func render(
        _ profiles: [Profile], _ decisions: [Decision], withEvent: [Int: [String: Set<String>]], reader: CSVRowReader, options: ExportOptions
    ) -> String {
        let q = quoted
        var out = "# Plazo mapping file (docs/agency-guide.md §2.1). Check every line marked TODO or check.\n"
        out += "# Written by plazo seal --init-mapping from the header and the values of the export.\n"
        out += "columns:\n"
        var mapped: [ExportColumn: Int] = [:]
        for (i, d) in decisions.enumerated() {
            let h = q(profiles[i].header)
            switch d {
            case let .mapped(column, note):
                mapped[column] = i
                out += "  \(h): \(column.rawValue)\(note.map { "  # \($0)" } ?? "")\n"
            case let .todo(candidates, why):
                out += "  # TODO \(h): which Plazo column? \(candidates.map(\.rawValue).joined(separator: " or ")) (\(why)); "
                    + "write it here without the #, or leave the line out to drop the column\n"
            case .dropped:
                out += "  # \(h): not a Plazo column: dropped, never sealed (map it here if it is one)\n"
            }
        }
        for required in ExportColumn.required where mapped[required] == nil {
            out += "  # TODO: no column was recognised as \(required.rawValue) (required): add \"your header\": \(required.rawValue)\n"
        }
        out += "values:\n"
        for (i, d) in decisions.enumerated() {
            guard case let .mapped(column, _) = d, coded.contains(column) else { continue }
            guard let values = profiles[i].distinct else {
                out += "  # \(column.rawValue): more than \(maxDistinct) distinct values; not listed\n"
                continue
            }
            guard !values.isEmpty else { continue }
            out += "  \(column.rawValue):\n"
            let eventColumn: ExportColumn = column == .targetDetail ? .targetEvent : .event
            for (value, rows) in values.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                var types = Set<EventType>()
                for raw in withEvent[i]?[value] ?? [] {
                    if case let .mapped(label, _) = guessCode(raw, for: eventColumn), let t = try? EventType.parse(label) { types.insert(t) }
                }
                switch guessCode(value, for: column, others: Set(values.keys), eventTypes: types) {
                case let .mapped(label, note): out += "    \(q(value)): \(q(label))  # \(rows) rows\(note.map { "; \($0)" } ?? "")\n"
                case let .ambiguous(why): out += "    \(q(value)): \"\"  # TODO \(rows) rows: \(why)\n"
                case .unknown: out += "    \(q(value)): \"\"  # TODO \(rows) rows: not recognised; write a label of plazo vocabulary \(vocabularyName(column))\n"
                }
            }
        }
        var formats: [(String, String)] = []
        for column in [ExportColumn.date, .targetDate] {
            if let i = mapped[column], let f = guessDateFormat(profiles[i].dateSamples) { formats.append((column.rawValue, f)) }
        }
        if !formats.isEmpty {
            out += "dates:\n"
            if Set(formats.map(\.1)).count == 1 {
                out += "  all: \(q(formats[0].1))\n"
            } else {
                for (c, f) in formats { out += "  \(c): \(q(f))\n" }
            }
        }
        if options.delimiter == nil, reader.separator != 0x2C {
            out += "delimiter: \(reader.separator == 0x09 ? "tab" : "semicolon")\n"
        }
        if reader.encodingUsed != .utf8 { out += "encoding: \(reader.encodingUsed.rawValue)\n" }
        return out
    }

    static func vocabularyName(_ column: ExportColumn) -> String {
        switch column {
        case .event, .targetEvent: "event_type"
        case .detail, .targetDetail: "(the detail list of the event type)"
        default: column.rawValue
        }
    }
}
