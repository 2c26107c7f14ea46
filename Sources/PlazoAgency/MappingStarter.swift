import Foundation
import PlazoModel

/// Writes a starter mapping file from an export (`plazo seal --init-mapping export.csv`).
///
/// Each column is judged by its header (Spanish and English names and words, accents, case,
/// abbreviations, correction columns such as `anula_*`, `*_corregido`, `ref_*`) and by its values
/// (dates and date-times, vocabulary labels with accent, case and plural variants, state names,
/// event codes). A column is written as mapped when name and values agree, as a `# TODO` listing
/// its candidates when they do not settle it, and as dropped only when nothing in it points to a
/// Plazo column: a real column is never dropped in silence. Each coded value is guessed from the
/// vocabulary; the date format and the encoding are read from the export.
///
/// Only the distinct values of columns mapped to coded Plazo columns are written out; case
/// identifiers, names, notes and every other column's values are read on this machine to judge
/// the column, and never written.
public enum MappingStarter {
    /// Columns whose values are codes (their distinct values go into `values:`).
    static let coded: Set<ExportColumn> = [
        .event, .detail, .offenceCategory, .victimAgeBand, .victimSex, .state, .reportChannel, .agencyType, .targetEvent, .targetDetail,
    ]

    /// At most this many distinct values of one column are kept (more suggests free text or identifiers).
    static let maxDistinct = 300

    /// What the starter found in one column.
    struct Profile {
        var header: String
        var name: NameGuess
        /// Distinct non-empty values and their rows (nil once over ``maxDistinct``).
        var distinct: [String: Int]? = [:]
        var nonEmpty = 0
        var dateLike = 0
        var ageLike = 0
        var dateSamples: [String] = []
    }

    /// The decision for one column.
    enum Decision: Equatable {
        /// Mapped; `note` says when the guess is to be checked.
        case mapped(ExportColumn, note: String?)
        /// Undecided between these Plazo columns.
        case todo([ExportColumn], why: String)
        case dropped
    }

    /// The starter mapping for an export, as YAML text.
    public static func yaml(stream: InputStream, options: ExportOptions = ExportOptions()) throws -> String {
        var reader = CSVRowReader(stream: stream, delimiter: options.delimiter, encoding: try options.readerEncoding())
        defer { stream.close() }
        guard let (_, header) = try reader.nextRecord(), !(header.count == 1 && header[0].isEmpty) else { throw ExportError.noHeader }
        var profiles = header.map { Profile(header: $0, name: judgeName($0)) }
        // The event columns by name, for reading details in the list of their event type.
        let eventIndex = profiles.firstIndex { $0.name.column == .event }
        let targetEventIndex = profiles.firstIndex { $0.name.column == .targetEvent }
        var withEvent: [Int: [String: Set<String>]] = [:]
        while let (_, row) = try reader.nextRecord() {
            if row.count != header.count || row.allSatisfy(\.isEmpty) { continue }
            for i in row.indices where !row[i].isEmpty {
                let value = row[i]
                profiles[i].nonEmpty += 1
                if profiles[i].distinct != nil {
                    profiles[i].distinct![value, default: 0] += 1
                    if profiles[i].distinct!.count > maxDistinct { profiles[i].distinct = nil }
                }
                if isDateLike(value) {
                    profiles[i].dateLike += 1
                    if profiles[i].dateSamples.count < 500 { profiles[i].dateSamples.append(value) }
                }
                let whole = value.hasSuffix(".0") ? String(value.dropLast(2)) : value
                if let n = Int(whole), (0...17).contains(n) { profiles[i].ageLike += 1 }
                let name = profiles[i].name.column
                if name == .detail || name == .targetDetail, let e = name == .detail ? eventIndex : targetEventIndex, !row[e].isEmpty,
                   (withEvent[i]?[value]?.count ?? 0) < 20 {
                    withEvent[i, default: [:]][value, default: []].insert(row[e])
                }
            }
        }
        let decisions = decide(profiles)
        return render(profiles, decisions, withEvent: withEvent, reader: reader, options: options)
    }

    /// Rows of a column whose value reads as a label of `column` (numbers excluded: a column of
    /// numbers is judged by its name), over its non-empty rows.
    static func labelRate(_ p: Profile, _ column: ExportColumn) -> Double {
        guard let distinct = p.distinct, p.nonEmpty > 0 else { return 0 }
        var hits = 0
        for (value, rows) in distinct where !value.allSatisfy(\.isNumber) {
            if case .mapped = guessCode(value, for: column, others: Set(distinct.keys)) { hits += rows }
        }
        return Double(hits) / Double(p.nonEmpty)
    }

    /// Judges every column by name and values, then settles two columns claiming one Plazo column.
    static func decide(_ profiles: [Profile]) -> [Decision] {
        let valueKinds: [ExportColumn] = [.event, .offenceCategory, .victimSex, .state, .reportChannel, .victimAgeBand, .detail]
        var decisions: [Decision] = []
        var strength: [Int] = []
        for p in profiles {
            let rates = Dictionary(uniqueKeysWithValues: valueKinds.map { ($0, labelRate(p, $0)) })
            let dateRate = p.nonEmpty > 0 ? Double(p.dateLike) / Double(p.nonEmpty) : 0
            let ageRate = p.nonEmpty > 0 ? Double(p.ageLike) / Double(p.nonEmpty) : 0
            // Coded columns the values point to, best first (detail values also read as agency types).
            let strong = valueKinds.filter { rates[$0]! >= 0.7 }.sorted { rates[$0]! > rates[$1]! }
            if p.name.excluded {
                let labelled = valueKinds.filter { rates[$0]! >= 0.8 }
                decisions.append(labelled.isEmpty ? .dropped : .todo(labelled, why: "its name looks like free text, but its values read as labels"))
                strength.append(0)
                continue
            }
            if let named = p.name.column {
                strength.append(p.name.strength)
                switch named {
                case .date, .targetDate:
                    decisions.append(dateRate >= 0.5 || p.nonEmpty == 0 ? .mapped(named, note: nil)
                        : .todo([named], why: "its name says a date, but its values are not dates"))
                case .victimAge:
                    if ageRate >= 0.5 || p.nonEmpty == 0 {
                        decisions.append(.mapped(.victimAge, note: nil))
                    } else if rates[.victimAgeBand]! >= 0.5 {
                        decisions.append(.mapped(.victimAgeBand, note: "its values are age bands"))
                    } else {
                        decisions.append(.todo([.victimAge, .victimAgeBand], why: "its values are neither ages (0-17) nor age bands"))
                    }
                case .caseID, .targetEvent, .targetDetail, .agencyType:
                    decisions.append(.mapped(named, note: p.name.strength < 2 ? "guessed from its name: check" : nil))
                default:
                    let own = rates[named] ?? 0
                    let numbers = p.distinct.map { d in d.keys.allSatisfy { $0.allSatisfy(\.isNumber) } } ?? false
                    if let other = strong.first, other != named, own < 0.3, !numbers, !(named == .detail) {
                        decisions.append(.todo([named, other], why: "its name says \(named.rawValue), its values read as \(other.rawValue)"))
                    } else {
                        decisions.append(.mapped(named, note: p.name.strength < 2 ? "guessed from its name: check" : nil))
                    }
                }
                continue
            }
            strength.append(1)
            // Nothing in the name: the values decide, and anything that points to a Plazo column
            // makes it a TODO rather than a silent drop.
            let some = valueKinds.filter { rates[$0]! >= 0.3 }.sorted { rates[$0]! > rates[$1]! }
            if strong.count == 1 {
                decisions.append(.mapped(strong[0], note: "guessed from its values: check"))
            } else if !strong.isEmpty {
                decisions.append(.todo(strong, why: "its values read as labels of several columns"))
            } else if dateRate >= 0.8 {
                decisions.append(.todo([.date, .targetDate], why: "its values are dates"))
            } else if !some.isEmpty {
                decisions.append(.todo(some, why: "some of its values read as labels"))
            } else if ageRate >= 0.9, p.distinct != nil {
                decisions.append(.todo([.victimAge, .state], why: "its values are small numbers"))
            } else {
                decisions.append(.dropped)
            }
        }
        // One export column per Plazo column: the stronger name keeps it; a tie leaves both to the clerk.
        for column in ExportColumn.allCases {
            let claims = decisions.indices.filter { if case .mapped(column, _) = decisions[$0] { return true } else { return false } }
            guard claims.count > 1 else { continue }
            let best = claims.map { strength[$0] }.max()!
            let winners = claims.filter { strength[$0] == best }
            for i in claims where winners.count > 1 || strength[i] < best {
                let others = claims.filter { $0 != i }.map { "'\(profiles[$0].header)'" }.joined(separator: ", ")
                decisions[i] = .todo([column], why: "\(others) also looks like \(column.rawValue); a Plazo column takes one export column")
            }
        }
        // The event's date when no name gave one: the only column of dates.
        let named = decisions.contains { if case .mapped(.date, _) = $0 { return true } else { return false } }
        let dateTodos = decisions.indices.filter { if case .todo([.date, .targetDate], _) = decisions[$0] { return true } else { return false } }
        if !named, dateTodos.count == 1 { decisions[dateTodos[0]] = .mapped(.date, note: "the only column of dates: check") }
        return decisions
    }
}
