import Foundation
import PlazoModel

/// Writes a synthetic dataset as per-agency CSV exports in the documented agency format
/// (`docs/agency-guide.md`), plus `agencies.json` naming each agency, its type and its file.
public enum SynthWriter {
    /// Generates the dataset into `directory` (created if needed) and returns what was written.
    @discardableResult
    public static func write(_ configuration: SynthConfiguration, to directory: URL) throws -> SynthSummary {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let agencies = SyntheticJurisdiction.agencies
        var outputs = try agencies.map { agency in
            try BufferedFile(url: directory.appendingPathComponent(agency.file))
        }
        for i in outputs.indices { outputs[i].append(SyntheticJurisdiction.header + "\n") }
        let summary = try SyntheticJurisdiction(configuration).generate { row in
            var line = ""
            line.reserveCapacity(160)
            for (i, field) in [
                row.caseID, row.event, row.date, row.detail, row.offence, row.victimAge, row.victimSex, row.state, row.channel,
                row.targetEvent, row.targetDetail, row.targetDate, row.victimName, row.notes,
            ].enumerated() {
                if i > 0 { line += "," }
                line += field.contains(",") || field.contains("\"") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
            }
            line += "\n"
            outputs[row.agency].append(line)
            if outputs[row.agency].pending > 1 << 20 { try outputs[row.agency].flush() }
        }
        for i in outputs.indices { try outputs[i].close() }
        let manifest = try PlazoJSON.encoder(pretty: true).encode(agencies)
        try manifest.write(to: directory.appendingPathComponent("agencies.json"))
        return summary
    }
}

struct BufferedFile {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var pending: Int { buffer.count }

    init(url: URL) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 0)
        buffer.reserveCapacity(1 << 21)
    }

    mutating func append(_ s: String) { buffer.append(contentsOf: s.utf8) }

    mutating func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        try flush()
        try handle.close()
    }
}
