import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoAgency

/// Whole cases, always (issue 22, item 1): a case whose report row is rejected for its number of
/// fields is held back like one whose report row is rejected for its values.
@Suite("Whole cases with wrong-width report rows")
struct WholeCaseTests {
    func read(_ csv: String, _ options: ExportOptions = ExportOptions()) throws -> (events: [CaseEvent], summary: ExportSummary) {
        let reader = ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32))),
            agencyType: .stateProsecutor, today: Day(year: 2025, month: 6, day: 1)!)
        var events: [CaseEvent] = []
        let summary = try reader.read(string: csv, options: options) { events.append($0) }
        return (events, summary)
    }

    /// The example: 13 columns, an unquoted `$2,000` in the notes of one case's report row
    /// gives that row 14 fields; the case's five other rows must not be sealed without it.
    static let export = """
        carpeta,evento,fecha,detalle,delito,edad,sexo,entidad,canal,agencia,evento_anulado,fecha_anulada,notas
        FGE-JAL-001,report_received,2025-01-10,,sexual_extortion,14,female,14,victim_or_family,,,,pidió $2,000 por no publicar
        FGE-JAL-001,investigation_opened,2025-01-12,,,,,,,,,,
        FGE-JAL-001,suspect_identified,2025-02-01,,,,,,,,,,
        FGE-JAL-001,victim_informed,2025-02-03,progress,,,,,,,,,
        FGE-JAL-001,charge_filed,2025-03-01,,,,,,,,,,
        FGE-JAL-001,victim_informed,2025-03-02,hearing_scheduled,,,,,,,,,
        FGE-JAL-002,report_received,2025-01-11,,online_grooming,13,male,14,third_party,,,,sin novedad
        FGE-JAL-002,investigation_opened,2025-01-15,,,,,,,,,,
        """

    static let mapping = ExportMapping(columns: [
        "carpeta": "case_id", "evento": "event", "fecha": "date", "detalle": "detail", "delito": "offence_category",
        "edad": "victim_age", "sexo": "victim_sex", "entidad": "state", "canal": "report_channel", "agencia": "agency_type",
        "evento_anulado": "target_event", "fecha_anulada": "target_date",
    ])

    @Test("a report row with 14 fields for 13 columns holds its case's five other rows back, naming the report's line")
    func wrongWidthReportHoldsCaseBack() throws {
        let (events, summary) = try read(Self.export, ExportOptions(mapping: Self.mapping))
        // Only case 002 is sealed; nothing of case 001.
        #expect(events.count == 2)
        #expect(Set(events.map(\.pseudonym)).count == 1)
        let fieldCount = summary.rejected.filter { $0.code == "field_count" }
        #expect(fieldCount.map(\.line) == [2])
        let held = summary.rejected.filter { $0.code == "case_without_report" }
        #expect(held.map(\.line) == [3, 4, 5, 6, 7])
        #expect(held.allSatisfy { $0.message.contains("line 2") && $0.value == nil })
        #expect(summary.heldBackCases == 1 && summary.rejectedRows == 6)
        // Nothing of the refused row is echoed: neither its notes nor its case identifier.
        for problem in summary.rejected {
            #expect(!problem.description.contains("2,000") && !problem.description.contains("FGE-JAL"))
        }
    }

    @Test("--allow-partial-cases still seals the other rows")
    func partialCases() throws {
        let (events, summary) = try read(Self.export, ExportOptions(allowPartialCases: true, mapping: Self.mapping))
        #expect(events.count == 7)
        #expect(summary.rejected.map(\.code) == ["field_count"])
    }

    @Test("a separator shifted before the case column still finds the case; a short report row holds back too")
    func shiftBeforeCaseColumn() throws {
        let csv = """
            notas,case_id,event,date
            dijo: hola, adiós,A-1,report_received,2025-01-10
            ,A-1,charge_filed,2025-03-10
            ,A-2,report_received,2025-01-11
            ,A-3,report_received
            ,A-3,charge_filed,2025-03-11
            """
        let (events, summary) = try read(csv)
        #expect(events.count == 1)
        let held = summary.rejected.filter { $0.code == "case_without_report" }
        #expect(held.map(\.line) == [3, 6])
        #expect(held[0].message.contains("line 2") && held[1].message.contains("line 5"))
    }

    @Test("a wrong-width row that is surely not a report holds nothing back")
    func notAReport() throws {
        let csv = """
            case_id,event,date,notes
            A-1,report_received,2025-01-10,
            A-1,charge_filed,2025-03-10,costó $2,000
            A-1,victim_informed,2025-03-11,
            """
        let (events, summary) = try read(csv)
        #expect(events.count == 2)
        #expect(summary.rejected.map(\.code) == ["field_count"])
        #expect(summary.heldBackCases == 0)
    }

    @Test("when the event of a wrong-width row cannot be read for sure, the case is held back")
    func unreadableEvent() throws {
        let csv = """
            case_id,notes,event,date
            A-1,pagó $2,000,report_received,2025-01-10
            A-1,,charge_filed,2025-03-10
            """
        // The event is at position 2 or 3: '000' or 'report_received'; either way not surely a
        // non-report, so the case is held back.
        let (events, summary) = try read(csv)
        #expect(events.isEmpty)
        #expect(summary.rejected.map(\.code) == ["field_count", "case_without_report"])
    }
}
