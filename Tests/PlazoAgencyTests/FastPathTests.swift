import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoAgency

/// The byte-level fast path of the sealer (issue 22, item 4) must read every export exactly as the
/// String path does: the same events in the same order, the same problems, the same summary.
@Suite("Fast sealer reads exports exactly as before")
struct FastPathTests {
    func read(_ data: Data, fast: Bool, _ base: ExportOptions = ExportOptions()) throws -> (events: [CaseEvent], summary: ExportSummary) {
        let reader = ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32))),
            agencyType: .stateProsecutor, today: Day(year: 2025, month: 6, day: 1)!)
        var options = base
        options.byteFastPath = fast
        var events: [CaseEvent] = []
        let summary = try reader.read(data: data, options: options) { events.append($0) }
        return (events, summary)
    }

    /// Reads `data` both ways and expects the same outcome (or the same error).
    func expectSame(_ data: Data, _ options: ExportOptions = ExportOptions(), sourceLocation: SourceLocation = #_sourceLocation) {
        let slow = Result { try read(data, fast: false, options) }
        let fast = Result { try read(data, fast: true, options) }
        switch (slow, fast) {
        case let (.success(s), .success(f)):
            #expect(f.events == s.events, sourceLocation: sourceLocation)
            #expect(f.summary.rejected == s.summary.rejected, sourceLocation: sourceLocation)
            #expect(f.summary.rows == s.summary.rows, sourceLocation: sourceLocation)
            #expect(f.summary.rejectedRows == s.summary.rejectedRows, sourceLocation: sourceLocation)
            #expect(f.summary.heldBackCases == s.summary.heldBackCases, sourceLocation: sourceLocation)
            #expect(f.summary.events == s.summary.events && f.summary.cases == s.summary.cases, sourceLocation: sourceLocation)
            #expect(f.summary.eventsByType == s.summary.eventsByType, sourceLocation: sourceLocation)
            #expect(f.summary.firstDay == s.summary.firstDay && f.summary.lastDay == s.summary.lastDay, sourceLocation: sourceLocation)
            #expect(f.summary.encoding == s.summary.encoding, sourceLocation: sourceLocation)
            #expect(f.summary.droppedColumns == s.summary.droppedColumns, sourceLocation: sourceLocation)
            #expect("\(f.summary.columns)" == "\(s.summary.columns)", sourceLocation: sourceLocation)
        case let (.failure(s), .failure(f)):
            #expect("\(f)" == "\(s)", sourceLocation: sourceLocation)
        default:
            Issue.record("one path failed and the other did not: slow \(slow), fast \(fast)", sourceLocation: sourceLocation)
        }
    }

    /// SplitMix64: a fixed, seeded stream so the generated exports are the same on every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let header = "case_id,event,date,detail,offence_category,victim_age,victim_age_band,victim_sex,state,report_channel,agency_type,target_event,target_detail,target_date,notes"
    static let pools: [[String]] = [
        ["C-1", "C-1", "C-2", "c 2", "C-3", "", "  ", "Ñ-9", String(repeating: "X", count: 40), "\"C-4\""],
        ["report_received", "investigation_opened", "charge_filed", "victim_informed", "suspended", "void", "", "nonsense",
         "Report Received", "denuncia_recibida", "\"charge_filed\""],
        ["2024-01-05", "2024-02-30", "1999-12-31", "2030-01-01", "2025-06-02", "2025-06-03", "05/01/2024", "", "2024-1-5", " 2024-03-04 "],
        ["", "0", "progress", "hearing_scheduled", "suspect_not_located", "bogus", String(repeating: "d", count: 40)],
        ["", "sexual_extortion", "online_grooming", "unknown", "wrong", "extorsión sexual"],
        ["", "14", "14.0", "3", "17", "18", "-1", "x", "+5", "09"],
        ["", "13_15", "0_12", "16_17", "bad"],
        ["", "female", "male", "F", "x"],
        ["", "13", "14", "Jalisco", "99", "Nuevo León"],
        ["", "platform_referral", "third_party", "hotline", "bad channel"],
        ["", "police_cyber_unit", "hotline", "nope"],
        ["", "report_received", "charge_filed", "zzz"],
        ["", "progress", "0", "bad"],
        ["", "2024-01-02", "2031-01-01", "junk"],
        ["", "texto libre", "\"con, coma\"", "\"línea\nnueva\"", "\"comillas \"\"dobles\"\"\"", "pidió $2,000"],
    ]

    func randomExport(seed: UInt64, rows: Int, lineEnd: String = "\n") -> String {
        var rng = SplitMix(state: seed)
        var lines = [Self.header]
        for _ in 0..<rows {
            if Int.random(in: 0..<60, using: &rng) == 0 { lines.append(""); continue }
            // Mostly plain valid rows (like a real export), with every kind of problem mixed in.
            let plain = Int.random(in: 0..<3, using: &rng) > 0
            var fields: [String] = []
            for (i, pool) in Self.pools.enumerated() {
                let choice = plain ? pool[min(Int.random(in: 0..<3, using: &rng), pool.count - 1)] : pool.randomElement(using: &rng)!
                fields.append(plain && i >= 11 && i <= 13 ? "" : choice)
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: lineEnd) + lineEnd
    }

    @Test("random exports with every kind of row: the same events, problems and summary both ways")
    func randomExports() throws {
        for seed in UInt64(1)...40 {
            let csv = randomExport(seed: seed, rows: 300, lineEnd: seed % 3 == 0 ? "\r\n" : "\n")
            expectSame(Data(csv.utf8))
            expectSame(Data(csv.utf8), ExportOptions(allowPartialCases: true))
            var preview = ExportOptions()
            preview.preview = true
            expectSame(Data(csv.utf8), preview)
        }
    }

    @Test("Windows-1252 and UTF-8 with a byte-order mark read alike both ways, undecodable bytes fail alike")
    func encodings() throws {
        for seed in UInt64(100)...110 {
            let csv = randomExport(seed: seed, rows: 200)
            // Windows-1252: Latin-1 for these texts.
            let latin1 = Data(csv.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
            expectSame(latin1)
            expectSame(latin1, ExportOptions(encoding: "windows-1252"))
            expectSame(Data([0xEF, 0xBB, 0xBF]) + Data(csv.utf8))
            expectSame(latin1, ExportOptions(encoding: "utf-8"))
        }
        // A UTF-8 file with one Windows-1252 byte later on; a byte 1252 leaves undefined.
        let base = randomExport(seed: 7, rows: 50)
        expectSame(Data(base.utf8) + Data("C-9,report_received,2024-01-05,,,,,,,,,,,,caf".utf8) + Data([0xE9, 0x0A]))
        expectSame(Data(base.utf8.map { $0 }) + Data([0x43, 0x81, 0x0A]), ExportOptions(encoding: "windows-1252"))
    }

    @Test("semicolons, tabs, quoting mistakes and a file without a final line end")
    func shapes() throws {
        let csv = randomExport(seed: 5, rows: 100)
        expectSame(Data(csv.replacingOccurrences(of: ",", with: ";").utf8))
        expectSame(Data(csv.replacingOccurrences(of: ",", with: "\t").utf8))
        expectSame(Data(String(csv.dropLast()).utf8))
        expectSame(Data((csv + "C-1,charge_filed,2024-01-05,\"x\"y,,,,,,,,,,,\n").utf8))
        expectSame(Data((csv + "C-1,charge_filed,2024-01-05,a\"b,,,,,,,,,,,\n").utf8))
        expectSame(Data((csv + "C-1,charge_filed,2024-01-05,\"open,,,,,,,,,,,\n").utf8))
        expectSame(Data((csv + "C-1,charge_filed,2024-01-05,  \"q\"  ,,,,,,,,,,,\n").utf8))
    }
}

/// The byte reader (``CSVRowReader/next(into:)``) splits records exactly as the String reader
/// (``CSVRowReader/next()``): the same lines, fields and failures.
@Suite("Byte CSV reader reads records exactly as the String reader")
struct ByteReaderTests {
    func records(_ data: Data, bytes: Bool, encoding: CSVRowReader.Encoding? = nil) -> (records: [String], failure: String?) {
        var reader = CSVRowReader(stream: InputStream(data: data), encoding: encoding)
        var out: [String] = []
        var record = CSVRowReader.RawRecord()
        do {
            while true {
                if bytes {
                    guard try reader.next(into: &record) else { break }
                    out.append("\(record.line) \(reader.strings(record)) \(reader.encodingUsed)")
                } else {
                    guard let (line, fields) = try reader.next() else { break }
                    out.append("\(line) \(fields) \(reader.encodingUsed)")
                }
            }
        } catch { return (out, "\(error)") }
        return (out, nil)
    }

    func expectSame(_ data: Data, encoding: CSVRowReader.Encoding? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let a = records(data, bytes: false, encoding: encoding)
        let b = records(data, bytes: true, encoding: encoding)
        #expect(b.records == a.records, sourceLocation: sourceLocation)
        #expect(b.failure == a.failure, sourceLocation: sourceLocation)
    }

    @Test("generated exports, CRLF, stray carriage returns, quotes, spaces, encodings and bad bytes")
    func sameRecords() {
        let gen = FastPathTests()
        for seed in UInt64(1)...20 {
            let csv = gen.randomExport(seed: seed, rows: 200, lineEnd: seed % 2 == 0 ? "\r\n" : "\n")
            expectSame(Data(csv.utf8))
            expectSame(Data(csv.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
            expectSame(Data(csv.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }), encoding: .utf8)
            expectSame(Data([0xEF, 0xBB, 0xBF]) + Data(csv.utf8), encoding: .windows1252)
        }
        let odd = [
            "a,b\r\nc\rd, e \n", "a, \"b\" ,c\n\"x\ny\",z\n", " , \t,\n\n\n", "a,b", "a\"b,c\n", "\"a\"b,c\n", "\"open,\n",
            "x,\u{E9}\n", "\r\n\r\n", "a;b;c\n1;2;3\n", "a\tb\n 1 \t 2 \n",
        ]
        for text in odd {
            expectSame(Data(text.utf8))
            expectSame(Data(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
        }
        expectSame(Data("a,b\nc,".utf8) + Data([0x81, 0x0A]), encoding: .windows1252)
        expectSame(Data("a,b\nc,caf".utf8) + Data([0xC3, 0xA9, 0x0A, 0x64, 0x2C, 0xE9, 0x0A]))
    }

    @Test("records that cross the reader's 64 KiB buffer")
    func acrossBuffers() {
        let row = "HGO-FE-2023-000001,report_received,2023-08-10,,sexual_extortion,13,female,13,platform_referral,,,,Persona sint\u{E9}tica 1,\"texto, libre\"\n"
        let csv = "case_id,event,date,detail,offence_category,victim_age,victim_sex,state,report_channel,target_event,target_detail,target_date,victim_name,notes\n"
            + String(repeating: row, count: 2000)
        expectSame(Data(csv.utf8))
        expectSame(Data(csv.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }
}
