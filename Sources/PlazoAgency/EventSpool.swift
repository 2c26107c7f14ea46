import Foundation
import PlazoModel

/// A temporary file of validated events, each as its line number (u32) and its 32-byte
/// ``EventRecord``: lets an export be read once while whole cases are held back.
struct EventSpool {
    static let recordBytes = 4 + EventRecord.byteCount
    let path: String
    let handle: FileHandle
    var buffer: [UInt8] = []

    init() throws {
        path = NSTemporaryDirectory() + "plazo-seal-\(UUID().uuidString).spool"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ExportError.unreadable(path: path, reason: "cannot create a spool file") }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        buffer.reserveCapacity(1 << 16)
    }

    mutating func append(line: Int, _ event: CaseEvent) throws {
        let l = UInt32(clamping: line)
        let at = buffer.count
        // Written in place: no array per event.
        buffer.append(contentsOf: repeatElement(0, count: Self.recordBytes))
        buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: l.littleEndian, toByteOffset: at, as: UInt32.self)
            EventRecord.encode(event, into: raw, at: at + 4)
        }
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finishWriting() throws {
        try flush()
        try handle.seek(toOffset: 0)
    }

    /// Every spooled event in order, with its line.
    func forEach(latestDay: Day, _ body: (Int, CaseEvent) throws -> Void) throws {
        while let chunk = try handle.read(upToCount: Self.recordBytes * 2048), !chunk.isEmpty {
            let bytes = [UInt8](chunk)
            try bytes.withUnsafeBytes { raw in
                var at = 0
                while at + Self.recordBytes <= raw.count {
                    let line = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    // Validated before spooling; decoding cannot fail.
                    let event = try EventRecord.decode(raw, at: at + 4, latestDay: latestDay)
                    try body(line, event)
                    at += Self.recordBytes
                }
            }
        }
    }

    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

