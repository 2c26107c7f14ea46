import Foundation
import PlazoModel

extension ExportReader {
    /// The agency's own case identifiers by pseudonym, from its export: how `plazo quality
    /// --export` turns the service's worklists (pseudonyms) back into case numbers, on the agency's
    /// machine. Only the case identifier column is read.
    public func caseIdentifiers(path: String, options: ExportOptions = ExportOptions()) throws -> [CasePseudonym: String] {
        guard let stream = InputStream(fileAtPath: path), FileManager.default.isReadableFile(atPath: path) else {
            throw ExportError.unreadable(path: path, reason: "no such file")
        }
        var reader = CSVRowReader(stream: stream, delimiter: options.delimiter, encoding: try options.readerEncoding())
        defer { stream.close() }
        func next() throws(ExportError) -> [String]? { try reader.nextRecord()?.fields }
        guard let header = try next() else { throw ExportError.noHeader }
        guard let column = header.firstIndex(where: {
            (options.mapping?.plazoColumn(forHeader: $0) ?? ExportColumn(rawValue: $0.lowercased())) == .caseID
        }) else { throw ExportError.missingColumns([ExportColumn.caseID.rawValue]) }
        var out: [CasePseudonym: String] = [:]
        var last = ""
        while let row = try next() {
            guard column < row.count, !row[column].isEmpty, row[column] != last else { continue }
            last = row[column]
            if let p = try? pseudonymizer.pseudonym(forCaseID: row[column]), out[p] == nil { out[p] = row[column] }
        }
        return out
    }
}
