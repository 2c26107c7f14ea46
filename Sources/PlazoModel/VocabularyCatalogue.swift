/// The whole vocabulary v1 as data: used by `plazo vocabulary` and by the test that keeps
/// `specs/events.md` and the code in agreement.
public enum VocabularyCatalogue {
    /// One code list: the attribute name and its (number, label, meaning) rows.
    public struct CodeList: Sendable {
        public let attribute: String
        public let rows: [(code: UInt8, label: String, meaning: String, spanish: String)]
    }

    /// Every code list of the vocabulary, in the order of `specs/events.md`.
    public static let lists: [CodeList] = [
        list(EventType.self), list(SuspensionReason.self), list(ClosureReason.self), list(Disposition.self),
        list(UpdateKind.self), list(OffenceCategory.self), list(AgeBand.self), list(VictimSex.self),
        list(MexicanState.self), list(ReportChannel.self), list(AgencyType.self),
    ]

    static func list<C: VocabularyCode>(_ type: C.Type) -> CodeList {
        CodeList(attribute: C.attributeName, rows: C.allCases.map { ($0.rawValue, $0.label, $0.meaning, $0.spanishLabel) })
    }

    /// A code list as a Markdown table (`| code | label | meaning | etiqueta (es) |`).
    public static func markdown(_ list: CodeList) -> String {
        var out = "| code | label | meaning | etiqueta (es) |\n|---:|---|---|---|\n"
        for row in list.rows { out += "| \(row.code) | `\(row.label)` | \(row.meaning) | \(row.spanish) |\n" }
        return out
    }
}
