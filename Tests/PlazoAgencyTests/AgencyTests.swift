import Foundation
import PlazoModel
import PlazoSodium
import PlazoWire
import Testing

@testable import PlazoAgency

@Suite("Case identifier normalisation and pseudonyms")
struct PseudonymTests {
    @Test("identifiers written differently at different agencies normalise alike")
    func normalisation() throws {
        #expect(try CaseIdentifier.normalise("cdmx/fids/00123-2024 ") == "CDMX-FIDS-00123-2024")
        #expect(try CaseIdentifier.normalise("CDMX-FIDS-00123-2024") == "CDMX-FIDS-00123-2024")
        #expect(try CaseIdentifier.normalise("  CT 1234 / 99") == "CT-1234-99")
        #expect(try CaseIdentifier.normalise("00123") != (try CaseIdentifier.normalise("123")))
        #expect(throws: CaseIdentifierError.empty) { try CaseIdentifier.normalise(" -/ ") }
        #expect(throws: CaseIdentifierError.nonASCII) { try CaseIdentifier.normalise("CARPETA-Ñ-1") }
        #expect(throws: CaseIdentifierError.tooLong(129)) { try CaseIdentifier.normalise(String(repeating: "A", count: 129)) }
    }

    @Test("pseudonyms match the committed vectors, link across agencies and depend on the key")
    func pseudonyms() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/test-vectors/batch-v1.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let keyHex = (json["keys"] as! [String: Any])["linkage_key"] as! String
        let p = try Pseudonymizer(linkageKey: SecretBytes(copying: Hex.decode(keyHex)!))
        let cases = json["cases"] as! [[String: String]]
        #expect(cases.count >= 5)
        for c in cases {
            #expect(try CaseIdentifier.normalise(c["raw"]!) == c["normalised"]!)
            #expect(try p.pseudonym(forCaseID: c["raw"]!).hex == c["pseudonym"]!)
        }
        let other = try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 1, count: 32)))
        #expect(try other.pseudonym(forCaseID: "CDMX-1") != (try p.pseudonym(forCaseID: "CDMX-1")))
        #expect(throws: SodiumError.self) { try Pseudonymizer(linkageKey: SecretBytes(copying: [1, 2, 3])) }
    }
}

@Suite("Agency CSV exports")
struct ExportTests {
    let today = Day(year: 2025, month: 6, day: 1)!

    func reader() throws -> ExportReader {
        ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32))),
            agencyType: .stateProsecutor, today: today
        )
    }

    func read(_ csv: String) throws -> (events: [CaseEvent], summary: ExportSummary) {
        var events: [CaseEvent] = []
        let summary = try reader().read(string: csv) { events.append($0) }
        return (events, summary)
    }

    @Test("a clean export becomes coded events; undocumented columns are dropped and named")
    func cleanExport() throws {
        let (events, summary) = try read("""
            case_id,event,date,detail,offence_category,victim_age,victim_sex,state,report_channel,victim_name,notes
            A-1,report_received,2024-01-08,,online_grooming,13,female,09,hotline,REDACTED NAME,"long, quoted note"
            a/1,charge_filed,2024-04-02,,,,,,,,
            A-1,disposed,2025-01-10,conviction_by_plea,,,,,,,
            """)
        #expect(summary.rejected.isEmpty)
        #expect(summary.droppedColumns == ["victim_name", "notes"])
        #expect(summary.cases == 1)
        #expect(events.count == 3)
        #expect(events[0].attributes == CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline))
        #expect(events[0].agencyType == .stateProsecutor)
        #expect(events[2].detail == Disposition.convictionByPlea.rawValue)
        #expect(Set(events.map(\.pseudonym)).count == 1)
    }

    @Test("each bad row is reported with its line, column and reason, and is not emitted")
    func badRows() throws {
        let (events, summary) = try read("""
            case_id,event,date,detail,offence_category,victim_age,state,target_event,target_date
            A-1,report_received,2024-31-02,,,,,,
            A-2,report_received,1999-12-31,,,,,,
            A-3,report_received,2025-06-03,,,,,,
            A-4,report_received,2024-01-01,,phishing,,,,
            A-5,report_received,2024-01-01,,,18,,,
            A-6,report_received,2024-01-01,,,,33,,
            A-7,arrested,2024-01-01,,,,,,
            A-8,disposed,2024-01-01,guilty,,,,,
            A-9,charge_filed,2024-01-01,conviction_by_plea,,,,,
            A-10,void,2024-01-01,,,,,,
            A-11,charge_filed,2024-01-01,,,,,charge_filed,2024-01-01
            ,report_received,2024-01-01,,,,,,
            A-13,report_received,2025-06-02,,,,,,
            """)
        #expect(events.count == 1)  // only the row dated tomorrow
        #expect(summary.rejected.map(\.line) == Array(2...13))
        #expect(summary.rejected.map(\.code) == [
            "malformed_date", "date_before_2000", "date_in_future", "invalid_code", "age_out_of_range", "invalid_code",
            "invalid_code", "invalid_code", "unexpected_detail", "void_without_target", "target_on_non_void", "case_id_empty",
        ])
        #expect(summary.rejected[0].column == "date")
        #expect(summary.rejected[5].column == "state")
        // Messages never repeat the case identifier.
        for e in summary.rejected { #expect(!e.message.contains("A-")) }
    }

    @Test("an export without a required column, or with malformed quoting, is refused whole")
    func refusedExports() throws {
        #expect(throws: ExportError.missingColumns(["date"])) { try read("case_id,event\nA,report_received\n") }
        #expect(throws: ExportError.noHeader) { try read("") }
        #expect(throws: ExportError.malformedCSV(line: 2, reason: "a quoted field is never closed")) {
            try read("case_id,event,date\n\"A-1,report_received,2024-01-01\n")
        }
        #expect(throws: ExportError.duplicateColumn("date")) { try read("case_id,event,date,date\n") }
    }

    @Test("quoted fields may span lines and line numbers still point at the record's first line")
    func multilineQuoted() throws {
        let (_, summary) = try read("case_id,event,date,notes\nA-1,report_received,2024-01-01,\"two\nlines\"\nA-2,report_received,bad,\n")
        #expect(summary.rows == 2)
        #expect(summary.rejected.map(\.line) == [4])
    }

    @Test("a large export is split into several sealed batches that all open")
    func splitting() throws {
        var csv = "case_id,event,date\n"
        for i in 0..<25 { csv += "C-\(i),report_received,2024-02-01\n" }
        let service = try BoxKeyPair.generate()
        let agency = try SigningKeyPair.generate()
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("plazo-split-\(UUID().uuidString)")
        var writer = try BatchFileWriter(directory: dir, prefix: "export", agencyID: 4, signer: agency, service: service.publicKey, maxRecords: 10, createdAt: 1_748_736_000)
        let summary = try reader().read(string: csv) { try writer.add($0) }
        try writer.flush()
        #expect(summary.events == 25)
        #expect(writer.written.map(\.records) == [10, 10, 5])
        let key = agency.publicKey
        let opener = BatchOpener(serviceKeys: [service]) { (_, _) throws(BatchError) in key }
        var total = 0
        for file in writer.written {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file.path)))
            total += try opener.open(bytes, now: 1_748_736_000).events.count
        }
        #expect(total == 25)
        #expect(Set(writer.written.map(\.batchID)).count == 3)
    }
}
