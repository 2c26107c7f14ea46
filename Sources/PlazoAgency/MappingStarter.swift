import Foundation
import PlazoModel

/// Writes a starter mapping file from an export's header and distinct values (`plazo seal
/// --init-mapping export.csv`): it guesses each column from common Spanish and English header
/// names, each coded value from the vocabulary's labels (machine, Spanish, aliases), and the date
/// format from the dates it sees, and marks with `# TODO` what it could not map.
///
/// Only the values of columns it maps to coded Plazo columns are written out; the case identifier
/// and every column it does not recognise (names, notes) are never read beyond the header, so the
/// file holds nothing that identifies a person.
public enum MappingStarter {
    /// Common header names of each Plazo column, as ``Swift/String/vocabularyKey``.
    static let headerNames: [String: ExportColumn] = {
        var out: [String: ExportColumn] = [:]
        func add(_ c: ExportColumn, _ names: String...) { for n in names { out[n] = c } }
        add(.caseID, "case_id", "carpeta", "carpeta_de_investigacion", "expediente", "folio", "caso", "numero_de_caso", "nuc", "id_caso", "case", "case_number")
        add(.event, "event", "evento", "tipo_evento", "tipo_de_evento", "actuacion", "event_type")
        add(.date, "date", "fecha", "fecha_evento", "fecha_del_evento", "event_date")
        add(.detail, "detail", "detalle", "motivo", "resultado")
        add(.offenceCategory, "offence_category", "delito", "tipo_delito", "tipo_de_delito", "offence", "offense")
        add(.victimAge, "victim_age", "edad", "edad_victima", "edad_de_la_victima", "age")
        add(.victimAgeBand, "victim_age_band", "rango_edad", "rango_de_edad", "grupo_de_edad")
        add(.victimSex, "victim_sex", "sexo", "sexo_victima", "sexo_de_la_victima", "genero", "sex", "gender")
        add(.state, "state", "entidad", "estado", "entidad_federativa")
        add(.reportChannel, "report_channel", "canal", "medio_de_denuncia", "via_de_denuncia", "channel")
        add(.agencyType, "agency_type", "tipo_institucion", "tipo_de_institucion", "institucion")
        add(.targetEvent, "target_event", "evento_anulado")
        add(.targetDetail, "target_detail", "detalle_anulado")
        add(.targetDate, "target_date", "fecha_anulada")
        return out
    }()

    /// Columns whose values are codes (their distinct values go into `values:`).
    static let coded: Set<ExportColumn> = [
        .event, .detail, .offenceCategory, .victimAgeBand, .victimSex, .state, .reportChannel, .agencyType, .targetEvent, .targetDetail,
    ]

    /// At most this many distinct values of one column are written (more suggests a free-text column).
    static let maxDistinct = 300

    /// The starter mapping for an export, as YAML text.
    public static func yaml(stream: InputStream, options: ExportOptions = ExportOptions()) throws -> String {
        var reader = CSVRowReader(stream: stream, delimiter: options.delimiter, encoding: try options.readerEncoding())
        defer { stream.close() }
        func next() throws(ExportError) -> (line: Int, fields: [String])? { try reader.nextRecord() }
        guard let (_, header) = try next(), !(header.count == 1 && header[0].isEmpty) else { throw ExportError.noHeader }
        var columns: [(header: String, column: ExportColumn?)] = []
        var taken = Set<ExportColumn>()
        for h in header {
            var guess = headerNames[h.vocabularyKey]
            if let g = guess, taken.contains(g) { guess = nil }
            if let g = guess { taken.insert(g) }
            columns.append((h, guess))
        }
        var distinct: [Int: [String: Int]] = [:]
        var overflow = Set<Int>()
        var dateSamples: [String] = []
        let dateIndex = columns.firstIndex { $0.column == .date }
        while let (_, row) = try next() {
            if row.allSatisfy(\.isEmpty) || row.count != header.count { continue }
            for (i, c) in columns.enumerated() {
                guard let column = c.column, coded.contains(column), !overflow.contains(i), !row[i].isEmpty else { continue }
                distinct[i, default: [:]][row[i], default: 0] += 1
                if distinct[i]!.count > maxDistinct {
                    overflow.insert(i)
                    distinct[i] = nil
                }
            }
            if let d = dateIndex, dateSamples.count < 500, !row[d].isEmpty { dateSamples.append(row[d]) }
        }

        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var out = "# Plazo mapping file (docs/agency-guide.md §2.1). Check every line marked TODO.\n"
        out += "# Written by plazo seal --init-mapping from the header and the distinct values of coded columns.\n"
        out += "columns:\n"
        for c in columns {
            if let column = c.column {
                out += "  \(q(c.header)): \(column.rawValue)\n"
            } else {
                out += "  # \(q(c.header)): not a Plazo column: dropped, never sealed (map it here if it is one)\n"
            }
        }
        for required in ExportColumn.required where !taken.contains(required) {
            out += "  # TODO: no column was recognised as \(required.rawValue) (required): add \"your header\": \(required.rawValue)\n"
        }
        out += "values:\n"
        for (i, c) in columns.enumerated() {
            guard let column = c.column, coded.contains(column) else { continue }
            if overflow.contains(i) {
                out += "  # \(column.rawValue): more than \(maxDistinct) distinct values; not listed\n"
                continue
            }
            guard let values = distinct[i], !values.isEmpty else { continue }
            out += "  \(column.rawValue):\n"
            for (value, rows) in values.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                switch guessCode(value, for: column) {
                case let .mapped(label): out += "    \(q(value)): \(q(label))  # \(rows) rows\n"
                case let .ambiguous(why): out += "    \(q(value)): \"\"  # TODO \(rows) rows: \(why)\n"
                case .unknown: out += "    \(q(value)): \"\"  # TODO \(rows) rows: not recognised; write a label of plazo vocabulary \(vocabularyName(column))\n"
                }
            }
        }
        if let format = guessDateFormat(dateSamples) {
            out += "dates:\n  all: \(q(format))\n"
        }
        if options.delimiter == nil, reader.separator != 0x2C {
            out += "delimiter: \(reader.separator == 0x09 ? "tab" : "semicolon")\n"
        }
        if reader.encodingUsed != .utf8 { out += "encoding: \(reader.encodingUsed.rawValue)\n" }
        return out
    }

    enum Guess { case mapped(String), ambiguous(String), unknown }

    static func vocabularyName(_ column: ExportColumn) -> String {
        switch column {
        case .event, .targetEvent: "event_type"
        case .detail, .targetDetail: "(the detail list of the event type)"
        default: column.rawValue
        }
    }

    static func guessCode(_ value: String, for column: ExportColumn) -> Guess {
        func attempt<C: VocabularyCode>(_: C.Type) -> Guess {
            do { return .mapped(try C.parse(value).label) } catch {
                if case let .ambiguous(_, _, advice) = error { return .ambiguous(advice) }
                return .unknown
            }
        }
        switch column {
        case .event, .targetEvent: return attempt(EventType.self)
        case .offenceCategory: return attempt(OffenceCategory.self)
        case .victimAgeBand: return attempt(AgeBand.self)
        case .victimSex: return attempt(VictimSex.self)
        case .state: return attempt(MexicanState.self)
        case .reportChannel: return attempt(ReportChannel.self)
        case .agencyType: return attempt(AgencyType.self)
        case .detail, .targetDetail:
            // The detail's list depends on the event type: keep the value as written when some
            // detail list reads it.
            for guess in [attempt(SuspensionReason.self), attempt(ClosureReason.self), attempt(Disposition.self),
                          attempt(UpdateKind.self), attempt(AgencyType.self)] {
                if case .mapped = guess { return guess }
            }
            return .unknown
        default: return .unknown
        }
    }

    /// The date format of sample values: ISO needs none; `a/b/YYYY` is DD/MM/YYYY unless a second
    /// number over 12 shows MM/DD/YYYY; a time after the day adds ` HH:MM:SS`.
    static func guessDateFormat(_ samples: [String]) -> String? {
        guard !samples.isEmpty else { return nil }
        let withTime = samples.contains { $0.contains(" ") || $0.contains("T") }
        let dates = samples.map { $0.split(whereSeparator: { $0 == " " || $0 == "T" }).first.map(String.init) ?? "" }
        if dates.allSatisfy({ Day(iso: $0) != nil }) { return withTime ? "YYYY-MM-DD HH:MM:SS" : nil }
        let groups = dates.map { $0.split(whereSeparator: { !$0.isNumber }).map(String.init) }
        guard let first = groups.first, first.count == 3 else { return nil }
        let separator = dates[0].first { !$0.isNumber }.map(String.init) ?? "/"
        let time = withTime ? " HH:MM:SS" : ""
        if first[0].count == 4 { return "YYYY\(separator)MM\(separator)DD\(time)" }
        let secondOver12 = groups.contains { $0.count == 3 && (Int($0[1]) ?? 0) > 12 }
        return (secondOver12 ? "MM\(separator)DD\(separator)YYYY" : "DD\(separator)MM\(separator)YYYY") + time
    }
}
