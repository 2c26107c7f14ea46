import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoAgency

/// Seeing the mapping before sealing (issue 22, item 3): the dry run's per-column preview and its
/// short list of open decisions.
@Suite("Dry-run preview of a mapping")
struct PreviewTests {
    static let export = """
        carpeta;evento;fecha;sexo;entidad;medio;nombre;notas
        FGE/JAL/001/2025;Denuncia;14/01/2025 10:30;M;Jalisco;Tercero;Ana López;llamó la madre
        FGE/JAL/001/2025;Víctima informada;20/02/2025 09:00;;Jalisko;;Ana López;
        FGE/JAL/002/2025;Denuncia;15/01/2025 11:00;H;Jalisco;Víctima;Luis Pérez;
        FGE/JAL/003/2025;Denuncia;16/01/2025 11:00;H;Jalisko;Víctima;Eva Ruiz;
        """

    static let mapping = ExportMapping(
        columns: ["carpeta": "case_id", "evento": "event", "fecha": "date", "sexo": "victim_sex", "entidad": "state"],
        values: ["victim_sex": ["M": "", "H": "male"], "event": ["Denuncia": "report_received"]],
        dates: ["all": "DD/MM/YYYY HH:MM"])

    func summary() throws -> ExportSummary {
        let reader = ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32))),
            agencyType: .stateProsecutor, today: Day(year: 2025, month: 6, day: 1)!)
        var options = ExportOptions(mapping: Self.mapping)
        options.preview = true
        return try reader.read(string: Self.export, options: options) { _ in }
    }

    @Test("each column shows a few values as written and as read; case identifiers only masked, dropped columns never")
    func columns() throws {
        let s = try summary()
        #expect(s.columns.map(\.header) == ["carpeta", "evento", "fecha", "sexo", "entidad", "medio", "nombre", "notas"])
        let byHeader = Dictionary(uniqueKeysWithValues: s.columns.map { ($0.header, $0) })
        let event = try #require(byHeader["evento"])
        #expect(event.column == "event" && event.samples.count == 2)
        #expect(event.samples[0].before == "'Denuncia'" && event.samples[0].after == "report_received")
        #expect(event.samples[1].after == "victim_informed")
        #expect(byHeader["fecha"]?.samples.first?.after == "2025-01-14")
        #expect(byHeader["entidad"]?.samples.map(\.after).contains { $0.hasPrefix("✗") } == true)
        #expect(byHeader["sexo"]?.samples.first?.after.hasPrefix("✗") == true)  // M left empty: refused, ambiguous
        let caseID = try #require(byHeader["carpeta"])
        #expect(caseID.samples.count == 3 && caseID.samples.allSatisfy { $0.after.hasPrefix("pseudonym ") })
        for column in s.columns {
            for sample in column.samples {
                #expect(!sample.before.contains("JAL/001") && !sample.after.contains("JAL/001"))
            }
        }
        // Dropped columns are listed without any value: names and notes never reach the screen.
        for header in ["medio", "nombre", "notas"] {
            #expect(byHeader[header]?.column == nil && byHeader[header]?.samples.isEmpty == true)
        }
        #expect(!"\(s.columns)".contains("Ana") && !"\(s.columns)".contains("llamó"))
    }

    @Test("the open decisions name the TODO values and their cost, a dropped column that looks like a Plazo column, and refused values")
    func openDecisions() throws {
        let open = try summary().openDecisions(mapping: Self.mapping)
        #expect(open.count == 3)
        #expect(open[0].contains("victim_sex 'M' is left empty (TODO): 1 row(s) refused"))
        #expect(open[1].contains("'medio' is dropped but looks like report_channel"))
        #expect(open[2].contains("state 'Jalisko' refused in 2 row(s)"))
        #expect(!open.joined().contains("nombre") && !open.joined().contains("notas"))
    }

    @Test("without preview asked, no values are kept")
    func noPreviewByDefault() throws {
        let reader = ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32))),
            agencyType: .stateProsecutor, today: Day(year: 2025, month: 6, day: 1)!)
        #expect(try reader.read(string: Self.export, options: ExportOptions(mapping: Self.mapping)) { _ in }.columns.isEmpty)
    }
}
