import Foundation
import PlazoModel
import ZIPFoundation

/// The archive formats a Data Package is delivered in.
public enum ArchiveFormat: String, CaseIterable, Sendable {
    /// A zip with deflate compression and `datapackage.json` at its root: the layout of a zipped
    /// Data Package, which the frictionless tools open and validate without extracting. The default.
    case zip
    /// A POSIX ustar archive holding one directory `plazo-release-{id}/` (`tar -xf` extracts it).
    case tar

    /// The media type of the archive (`application/zip`, `application/x-tar`).
    public var contentType: String {
        switch self {
        case .zip: "application/zip"
        case .tar: "application/x-tar"
        }
    }

    /// The file name extension, without the dot.
    public var fileExtension: String { rawValue }
}

/// Why an archive could not be written.
public enum ArchiveError: Error, Equatable, CustomStringConvertible {
    /// A path does not fit a ustar header: more than 100 bytes after the last `/` that leaves at
    /// most 155 bytes before it (the header's `name` and `prefix` fields). Never truncated.
    case tarPathTooLong(path: String)
    /// The zip library refused to write an entry.
    case zipFailed(path: String, reason: String)
    /// `datapackage.json` could not be encoded (never written empty).
    case packageUnencodable(reason: String)

    /// A stable machine-readable code.
    public var code: String {
        switch self {
        case .tarPathTooLong: "tar_path_too_long"
        case .zipFailed: "zip_failed"
        case .packageUnencodable: "package_unencodable"
        }
    }

    /// One human sentence.
    public var description: String {
        switch self {
        case let .tarPathTooLong(path):
            "the path '\(path)' (\(path.utf8.count) bytes) does not fit a ustar header (a name of at most 100 bytes after a prefix of at most 155)"
        case let .zipFailed(path, reason): "could not add '\(path)' to the zip archive: \(reason)"
        case let .packageUnencodable(reason): "datapackage.json could not be encoded: \(reason)"
        }
    }
}

/// Writers of the one-file downloads of a release: zip (deflate, through ZIPFoundation) and tar.
///
/// Both are deterministic for the same files and `modified` date (no current time, owner or
/// host enters them), so the same release always downloads as the same bytes.
public enum ReleaseArchive {
    /// The Data Package of `release` as one archive and its file name (`plazo-release-7.zip`).
    /// The zip holds the package at its root; the tar holds it in the directory `plazo-release-{id}/`.
    public static func dataPackage(_ release: Release, format: ArchiveFormat = .zip) throws(ArchiveError) -> (fileName: String, bytes: [UInt8]) {
        let name = "plazo-release-\(release.metadata.id)"
        let files: [(path: String, bytes: [UInt8])]
        do { files = try ReleaseExport.dataPackage(release) } catch { throw .packageUnencodable(reason: "\(error)") }
        let modified = release.metadata.createdAt
        switch format {
        case .zip:
            return ("\(name).zip", try zip(files, modified: modified))
        case .tar:
            let nested = files.map { (path: "\(name)/\($0.path)", bytes: $0.bytes) }
            return ("\(name).tar", try tar(nested, modified: modified))
        }
    }

    /// A zip archive of `files`, each compressed with deflate and stamped with `modified` (UTC, DOS
    /// precision: 2 s), mode 0644, names in UTF-8.
    public static func zip(_ files: [(path: String, bytes: [UInt8])], modified: Date) throws(ArchiveError) -> [UInt8] {
        do {
            let archive = try Archive(accessMode: .create)
            for file in files {
                do {
                    let bytes = file.bytes
                    try archive.addEntry(
                        with: file.path, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: modified,
                        permissions: 0o644, compressionMethod: .deflate
                    ) { position, size in
                        let start = Int(position)
                        return Data(bytes[start..<min(bytes.count, start + size)])
                    }
                } catch {
                    throw ArchiveError.zipFailed(path: file.path, reason: String(describing: error))
                }
            }
            guard let data = archive.data else { throw ArchiveError.zipFailed(path: "", reason: "no archive data") }
            return Array(data)
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw .zipFailed(path: "", reason: String(describing: error))
        }
    }

    /// A POSIX ustar archive of `files` (regular files, mode 0644, owner 0, mtime = `modified`, or
    /// 0 when nil). A path longer than the header's 100-byte `name` field is split at a `/` into
    /// the 155-byte `prefix` field; a path that fits neither way throws
    /// ``ArchiveError/tarPathTooLong(path:)`` rather than being truncated.
    public static func tar(_ files: [(path: String, bytes: [UInt8])], modified: Date? = nil) throws(ArchiveError) -> [UInt8] {
        var out: [UInt8] = []
        let mtime = Int(modified?.timeIntervalSince1970 ?? 0)
        for file in files {
            let (prefix, name) = try ustarSplit(file.path)
            var h = [UInt8](repeating: 0, count: 512)
            func put(_ bytes: some Collection<UInt8>, _ at: Int) {
                for (i, b) in bytes.enumerated() { h[at + i] = b }
            }
            // A numeric field: octal digits, zero-padded, then a NUL.
            func octal(_ v: Int, _ at: Int, _ len: Int) { put(String(v, radix: 8).leftPadded(to: len - 1).utf8, at) }
            put(name, 0)
            octal(0o644, 100, 8)
            octal(0, 108, 8)
            octal(0, 116, 8)
            octal(file.bytes.count, 124, 12)
            octal(mtime, 136, 12)
            put("        ".utf8, 148)
            h[156] = UInt8(ascii: "0")
            put("ustar".utf8, 257)
            put("00".utf8, 263)
            put(prefix, 345)
            let sum = h.reduce(0) { $0 + Int($1) }
            put(String(sum, radix: 8).leftPadded(to: 6).utf8, 148)
            h[154] = 0
            h[155] = UInt8(ascii: " ")
            out += h
            out += file.bytes
            out += [UInt8](repeating: 0, count: (512 - file.bytes.count % 512) % 512)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    /// The ustar `prefix` and `name` of `path`: the whole path as the name when it fits 100 bytes,
    /// else split at the last `/` that leaves at most 100 bytes after it and 155 before it.
    static func ustarSplit(_ path: String) throws(ArchiveError) -> (prefix: [UInt8], name: [UInt8]) {
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ([], bytes) }
        for i in bytes.indices.reversed() where bytes[i] == UInt8(ascii: "/") {
            let name = bytes[(i + 1)...]
            if name.count > 100 { break }
            if i <= 155 && !name.isEmpty { return (Array(bytes[..<i]), Array(name)) }
        }
        throw .tarPathTooLong(path: path)
    }
}
