import Foundation
@testable import PlazoReleases
import Testing
import ZIPFoundation

/// The one-file downloads: zip (deflate) by default, tar on request, and no silently cut names.
@Suite struct ArchiveTests {
    static let files: [(path: String, bytes: [UInt8])] = [
        ("datapackage.json", Array(#"{"name": "plazo-release-1", "resources": []}"#.utf8)),
        ("README.md", Array("# Plazo release\n".utf8)),
        ("data/t1-time_to_first_decision.csv", Array(String(repeating: "2025Q1,0-30,charge,12,12,3,21\n", count: 400).utf8)),
        ("data/empty.csv", []),
    ]
    static let modified = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    @Test func zipIsDeflatedReadableByAnIndependentReaderAndDeterministic() throws {
        let zip = try ReleaseArchive.zip(Self.files, modified: Self.modified)
        #expect(zip == (try ReleaseArchive.zip(Self.files, modified: Self.modified)), "same files, same bytes")
        let archive = try Archive(data: Data(zip), accessMode: .read)
        var read: [String: [UInt8]] = [:]
        for entry in archive {
            var bytes: [UInt8] = []
            _ = try archive.extract(entry) { bytes += $0 }  // checks each entry's CRC-32
            read[entry.path] = bytes
            #expect(entry.type == .file)
            #expect(entry.isCompressed)
            #expect(entry.fileAttributes[.modificationDate] as? Date == Self.modified)
            #expect((entry.fileAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
            if entry.uncompressedSize > 1000 { #expect(entry.compressedSize * 10 < entry.uncompressedSize, "\(entry.path) deflated") }
        }
        #expect(read.count == Self.files.count)
        for file in Self.files { #expect(read[file.path] == file.bytes, "\(file.path)") }
        // The package is at the archive's root: the first entry is datapackage.json.
        #expect(archive.makeIterator().next()?.path == "datapackage.json")
        let total = Self.files.reduce(0) { $0 + $1.bytes.count }
        #expect(zip.count < total / 4)
    }

    @Test func tarKeepsShortNamesAndSplitsLongOnesIntoThePrefixField() throws {
        let long = "plazo-release-12345/" + String(repeating: "d", count: 60) + "/" + String(repeating: "n", count: 90) + ".csv"
        #expect(long.utf8.count > 100)
        let tar = try ReleaseArchive.tar([("short.csv", [1, 2, 3]), (long, Array("x".utf8))], modified: Self.modified)
        #expect(tar.count == 512 + 512 + 512 + 512 + 1024)
        // First header: name, size, ustar magic, a valid checksum.
        #expect(String(decoding: tar[0..<9], as: UTF8.self) == "short.csv")
        #expect(String(decoding: tar[124..<135], as: UTF8.self) == "00000000003")
        #expect(String(decoding: tar[257..<262], as: UTF8.self) == "ustar")
        #expect(Self.checksumIsValid(Array(tar[0..<512])))
        // Second header: the name after the last '/', the directories in the prefix field.
        let h = Array(tar[1024..<1536])
        #expect(String(decoding: h[0..<100].prefix { $0 != 0 }, as: UTF8.self) == String(repeating: "n", count: 90) + ".csv")
        #expect(String(decoding: h[345..<500].prefix { $0 != 0 }, as: UTF8.self) == "plazo-release-12345/" + String(repeating: "d", count: 60))
        #expect(Self.checksumIsValid(h))
    }

    @Test func tarRefusesAPathThatFitsNeitherField() {
        let tooLongName = "data/" + String(repeating: "n", count: 101)
        #expect(throws: ArchiveError.tarPathTooLong(path: tooLongName)) { try ReleaseArchive.tar([(tooLongName, [])]) }
        let tooLongPrefix = String(repeating: "p", count: 156) + "/name.csv"
        #expect(throws: ArchiveError.tarPathTooLong(path: tooLongPrefix)) { try ReleaseArchive.tar([(tooLongPrefix, [])]) }
        // Exactly at the limits still fits.
        let limits = String(repeating: "p", count: 155) + "/" + String(repeating: "n", count: 100)
        #expect(throws: Never.self) { try ReleaseArchive.tar([(limits, [])]) }
    }

    @Test func tarIsReadByTheSystemTar() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") || FileManager.default.isExecutableFile(atPath: "/bin/tar") else { return }
        let long = "plazo-release-1/" + String(repeating: "d", count: 70) + "/" + String(repeating: "n", count: 80) + ".csv"
        let tar = try ReleaseArchive.tar(Self.files.map { ("plazo-release-1/" + $0.path, $0.bytes) } + [(long, Array("long\n".utf8))], modified: Self.modified)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plazo-tar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(tar).write(to: dir.appendingPathComponent("p.tar"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd '\(dir.path)' && tar -xf p.tar"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        for file in Self.files {
            #expect(FileManager.default.contents(atPath: dir.appendingPathComponent("plazo-release-1/" + file.path).path).map(Array.init) == file.bytes)
        }
        #expect(FileManager.default.contents(atPath: dir.appendingPathComponent(long).path) == Data("long\n".utf8))
    }

    static func checksumIsValid(_ header: [UInt8]) -> Bool {
        let stored = Int(String(decoding: header[148..<154], as: UTF8.self), radix: 8)
        var blanked = header
        for i in 148..<156 { blanked[i] = 32 }
        return stored == blanked.reduce(0) { $0 + Int($1) }
    }
}
