import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoAgency

/// Bad input is refused with the line to fix (issue 22, "Bad input"), and the encoding is found
/// without flags.
@Suite("Bad input and encodings")
struct BadInputTests {
    func reader() throws -> ExportReader {
        ExportReader(
            pseudonymizer: try Pseudonymizer(linkageKey: SecretBytes(copying: [UInt8](repeating: 7, count: 32))),
            agencyType: .stateProsecutor, today: Day(year: 2025, month: 6, day: 1)!)
    }

    func read(_ bytes: [UInt8], _ options: ExportOptions = ExportOptions()) throws -> (events: [CaseEvent], summary: ExportSummary) {
        var events: [CaseEvent] = []
        let summary = try reader().read(data: Data(bytes), options: options) { events.append($0) }
        return (events, summary)
    }

    func load(_ yaml: String) throws(MappingError) -> ExportMapping {
        let path = NSTemporaryDirectory() + "plazo-mapping-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try? Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return try ExportMapping.load(path: path)
    }

    func refusal(_ yaml: String) -> MappingError? {
        do { _ = try load(yaml); return nil } catch { return error }
    }

    @Test("a mapping that maps two export columns to one Plazo column is refused with the line")
    func twoColumnsToOne() throws {
        let error = try #require(refusal("""
            columns:
              "carpeta": case_id
              "fecha": date
              "fecha_registro": date
            """))
        #expect(error.line == 4)
        #expect(error.description.contains("line 4") && error.description.contains("'fecha'") && error.description.contains("line 3"))
    }

    @Test("a value mapped to a label that is not in the vocabulary is refused with the line and a suggestion")
    func labelNotInVocabulary() throws {
        let error = try #require(refusal("""
            columns:
              "sexo": victim_sex
              "entidad": state
            values:
              victim_sex:
                "M": "female"
              state:
                "Jal.": "14"
                "Gto.": "Guanajuatto"
            """))
        #expect(error.line == 9)
        #expect(error.description.contains("Guanajuatto") && error.description.contains("did you mean 11 (Guanajuato)"))
        // An ambiguous target is refused too; a TODO left empty is not.
        #expect(refusal("values:\n  victim_sex:\n    \"X\": \"M\"\n")?.line == 3)
        #expect(refusal("values:\n  victim_sex:\n    \"M\": \"\"\n") == nil)
        #expect(refusal("values:\n  detail:\n    \"Archivo\": \"temporary_archive\"\n") == nil)
        #expect(refusal("values:\n  detail:\n    \"X\": \"archivado\"\n")?.line == 3)
        #expect(refusal("values:\n  victim_age:\n    \"quince\": \"15\"\n    \"veinte\": \"20\"\n")?.line == 4)
    }

    @Test("a key written twice in the mapping file is refused, not silently dropped")
    func duplicateKey() throws {
        let error = try #require(refusal("columns:\n  \"fecha\": date\n  \"fecha\": target_date\n"))
        #expect(error.line == 3)
    }

    @Test("a UTF-8 export with a stray byte is refused naming the byte's line; nothing is sealed")
    func undecodableUTF8() throws {
        var bytes = Array("case_id,event,date,state\nA-1,report_received,2025-01-10,Quer\u{E9}taro\nA-2,report_received,2025-01-10,Yucat".utf8)
        bytes += [0xE1]  // á in Windows-1252, after UTF-8 was seen
        bytes += Array("n\n".utf8)
        var emitted = 0
        #expect(throws: ExportError.undecodable(line: 3, byte: 0xE1, encoding: "UTF-8 (as detected earlier in the file)")) {
            _ = try reader().read(data: Data(bytes), options: ExportOptions()) { _ in emitted += 1 }
        }
        #expect(emitted == 0)
        let sentence = ExportError.undecodable(line: 3, byte: 0xE1, encoding: "UTF-8").description
        #expect(sentence.contains("line 3") && sentence.contains("0xE1") && sentence.contains("nothing was sealed"))
        // Asked for UTF-8, a Windows-1252 export is refused at its first accent.
        let latin = Array("case_id,event,date\nA-1,report_received,2025-01-10\nA-2,Denuncia recibida,2025-01-10\nA-3,Canalizaci".utf8) + [0xF3] + Array("n,2025-01-11\n".utf8)
        #expect(throws: ExportError.undecodable(line: 4, byte: 0xF3, encoding: "UTF-8")) {
            _ = try read(latin, ExportOptions(encoding: "utf-8"))
        }
    }

    @Test("a byte undefined in Windows-1252 is refused, never read as a garbled label")
    func undefinedWindows1252() throws {
        let bytes = Array("case_id,event,date,state\nA-1,report_received,2025-01-10,Quer".utf8) + [0xE9] + Array("taro\nA-2,report_received,2025-01-10,Le".utf8) + [0x81] + Array("n\n".utf8)
        #expect(throws: ExportError.undecodable(line: 3, byte: 0x81, encoding: "Windows-1252 (detected: it is not UTF-8)")) {
            _ = try read(bytes)
        }
    }

    @Test("the line of a bad byte inside a quoted field that spans lines is the byte's own line")
    func badByteInMultilineField() throws {
        // The ñ of line 2 settles UTF-8; the 0xFF is on line 5, inside a record that starts on line 3.
        let bytes = Array("case_id,event,date,notes\nA-0,report_received,2025-01-09,a\u{F1}o\nA-1,report_received,2025-01-10,\"uno\ndos\ntres ".utf8)
            + [0xFF] + Array("\"\n".utf8)
        #expect(throws: ExportError.undecodable(line: 5, byte: 0xFF, encoding: "UTF-8 (as detected earlier in the file)")) {
            _ = try read(bytes)
        }
    }

    @Test("encodings are detected without flags: UTF-8 with or without BOM, else Windows-1252; --encoding overrides")
    func detection() throws {
        let utf8 = Array("case_id,event,date,offence_category,state\nA-1,Denuncia recibida,2025-01-10,Sextorsión,Querétaro\n".utf8)
        let plain = try read(utf8)
        #expect(plain.summary.encoding == "utf-8" && plain.events.first?.attributes.state.rawValue == 22)
        let bom = try read([0xEF, 0xBB, 0xBF] + utf8)
        #expect(bom.summary.encoding == "utf-8" && bom.events.count == 1)
        var latin = Array("case_id,event,date,offence_category,state\nA-1,Denuncia recibida,2025-01-10,Sextorsi".utf8)
        latin += [0xF3] + Array("n,Quer".utf8) + [0xE9] + Array("taro\n".utf8)
        let detected = try read(latin)
        #expect(detected.summary.encoding == "windows-1252" && detected.summary.rejected.isEmpty)
        #expect(detected.events.first?.attributes.offence == .sexualExtortion && detected.events.first?.attributes.state.rawValue == 22)
        // Given explicitly, Windows-1252 reads UTF-8 bytes as Windows-1252 (the flag wins).
        let forced = try read(utf8, ExportOptions(encoding: "windows-1252"))
        #expect(forced.summary.encoding == "windows-1252" && !forced.summary.rejected.isEmpty)
        // ASCII only: reported as UTF-8.
        #expect(try read(Array("case_id,event,date\nA-1,report_received,2025-01-10\n".utf8)).summary.encoding == "utf-8")
    }

    @Test("the starter detects Windows-1252 and writes an encoding line; a UTF-8 export gets none")
    func starterEncoding() throws {
        var latin = Array("carpeta;evento;fecha;entidad\nA-1;Denuncia recibida;10/01/2025;Quer".utf8)
        latin += [0xE9] + Array("taro\n".utf8)
        let yaml = try MappingStarter.yaml(stream: InputStream(data: Data(latin)))
        #expect(yaml.contains("encoding: windows-1252"))
        #expect(yaml.contains("\"Querétaro\": \"22\""))
        let utf8 = try MappingStarter.yaml(stream: InputStream(data: Data("carpeta;evento;fecha;entidad\nA-1;Denuncia recibida;10/01/2025;Querétaro\n".utf8)))
        #expect(!utf8.contains("encoding:"))
    }
}
