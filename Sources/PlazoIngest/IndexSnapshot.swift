import Dispatch
import Foundation
import PlazoCases
import PlazoSodium
import PlazoStore
import PlazoWire
import Synchronization

/// The case-index snapshot: the in-memory case index (pins included) as of a batch-log
/// watermark, in a file beside the store, so that a start only replays the batches accepted
/// after it (`docs/operations.md`, "Start-up replay").
///
/// The snapshot is derived state. The batch log stays the only source of truth: a snapshot that
/// is missing, damaged, written by another store or by this store before a restore from backup,
/// sealed to a box key that is not configured, or from another format version is ignored (with a
/// warning) and the log is replayed in full. It may be deleted at any time; `plazo backup` does
/// not copy it.
///
/// The file (mode 0600, replaced atomically) is a fixed header and then the index's image
/// (``CaseIndex/writeImage(to:)``) encrypted in 1 MiB chunks with ``SecretStream``
/// (XChaCha20-Poly1305) under a key derived from the service's box secret key and a random salt:
/// the store itself holds events only as sealed batches, and so does the snapshot (a copy of the
/// data directory without the keys reveals no event). The header binds the snapshot to the log
/// and to the releases:
///
/// | bytes | field |
/// |---|---|
/// | 0..<8 | `PLZSNAP1` |
/// | 8..<12 | format version (1) |
/// | 12..<16 | header length (224) |
/// | 16..<24 | watermark: the acceptance number of the last batch in the snapshot |
/// | 24..<32 | batches with `seq <=` watermark |
/// | 32..<64 | ``BatchLog/fingerprint(through:)`` at the watermark |
/// | 64..<72 | release pin points already applied (a prefix of ``ReleaseStore/pinPoints()``) |
/// | 72..<104 | BLAKE2b-256 of those pin points |
/// | 104..<112 | key id of the box public key the file key is derived from |
/// | 112..<128 | salt of the file key |
/// | 128..<152 | secret-stream header |
/// | 152..<160 | image length (plaintext bytes) |
/// | 160..<168 | chunk length (plaintext bytes of every chunk but the last) |
/// | 168..<176 | written at (Unix seconds) |
/// | 176..<184 | events in the index |
/// | 184..<192 | cases in the index |
/// | 192..<224 | BLAKE2b-256 of bytes 0..<192 |
///
/// (integers little-endian). The header is also the first chunk's additional data, so it is
/// authenticated under the key as well; the chunks' MACs and the stream's final tag authenticate
/// the image, in order and complete.
public enum IndexSnapshot {
    /// The snapshot file of the store at `database`: `<database>.index-snapshot`.
    public static func path(forStore database: String) -> String { database + ".index-snapshot" }

    /// The format this build reads and writes. Bump it whenever replaying a batch could give a
    /// different index than before (vocabulary, validation, apply or pin rules), so that a
    /// snapshot written by an older build is ignored rather than trusted.
    public static let formatVersion: UInt32 = 1
    static let magic = Array("PLZSNAP1".utf8)
    static let headerByteCount = 224
    static let hashedHeaderByteCount = 192
    static let chunkByteCount = 1 << 20

    /// Why a snapshot was not used (the start then replays the whole log).
    public enum Refusal: Error, Sendable, CustomStringConvertible {
        /// The file could not be read.
        case unreadable(String)
        /// Not a snapshot of this format, or its header or length is damaged.
        case malformed(String)
        /// Its key is derived from a box key this service was not given.
        case unknownKey(KeyID)
        /// The log does not hold the batches the snapshot was taken from: another store, or this
        /// store restored from an earlier backup.
        case otherLog(String)
        /// The stored releases do not agree with the pins in the snapshot.
        case otherReleases(String)
        /// The encrypted image does not authenticate or does not decode.
        case corrupt(String)

        /// A sentence for the log (never contains case data).
        public var description: String {
            switch self {
            case let .unreadable(why): "the snapshot cannot be read (\(why))"
            case let .malformed(why): "the snapshot is not one this version writes (\(why))"
            case let .unknownKey(id): "the snapshot is sealed to box key \(id), which this service was not given"
            case let .otherLog(why): "the snapshot was not taken from this batch log (\(why)): another store, or this store restored from a backup"
            case let .otherReleases(why): "the snapshot's pins do not agree with the stored releases (\(why))"
            case let .corrupt(why): "the snapshot is damaged (\(why))"
            }
        }
    }

    /// A snapshot read and checked against the store.
    public struct Loaded: Sendable {
        /// The index as of ``watermark``, with the pins of the first ``pinPointsApplied`` pin points.
        public let index: CaseIndex
        /// The acceptance number of the last batch in ``index``.
        public let watermark: Int64
        /// How many of the stored releases' pin points (in pinning order) are in ``index``.
        public let pinPointsApplied: Int
    }

    /// What a write stored.
    public struct Written: Sendable {
        /// The acceptance number of the last batch in the snapshot.
        public let watermark: Int64
        /// Release pin points whose pins it holds.
        public let pinPointsApplied: Int
        /// The file's length in bytes.
        public let bytes: Int
        /// Events and cases in the index.
        public let events: Int
        public let cases: Int
    }

    // MARK: Writing

    /// Writes `index`, which must hold exactly the batches with `seq <= watermark` and the pins of
    /// the pin points `pinPoints` (the first ones of ``ReleaseStore/pinPoints()``), to `path`,
    /// encrypted under a key derived from `key`: to a temporary file beside it (mode 0600), synced,
    /// then renamed over `path` and the directory synced, so a crash leaves the old snapshot or the
    /// new one, never a part.
    public static func write(
        _ index: CaseIndex, watermark: Int64, pinPoints: ArraySlice<ReleasePinPoint>, log: BatchLog, key: BoxKeyPair, to path: String,
        now: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> Written {
        try await write(
            imageBytes: index.imageByteCount, events: index.eventCount, cases: index.caseCount, watermark: watermark, pinPoints: pinPoints,
            log: log, key: key, to: path, now: now
        ) { sink in try index.writeImage(to: sink) }
    }

    /// ``write(_:watermark:pinPoints:log:key:to:now:)`` from an image already encoded
    /// (``CaseIndex/image()``), with the index's event and case counts: the running service
    /// encodes under the index lock and writes after releasing it.
    public static func write(
        image: [UInt8], events: Int, cases: Int, watermark: Int64, pinPoints: ArraySlice<ReleasePinPoint>, log: BatchLog, key: BoxKeyPair,
        to path: String, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> Written {
        try await write(
            imageBytes: image.count, events: events, cases: cases, watermark: watermark, pinPoints: pinPoints, log: log, key: key, to: path,
            now: now
        ) { sink in try image.withUnsafeBytes { try sink($0) } }
    }

    private static func write(
        imageBytes: Int, events: Int, cases: Int, watermark: Int64, pinPoints: ArraySlice<ReleasePinPoint>, log: BatchLog, key: BoxKeyPair,
        to path: String, now: Int64, image: @escaping @Sendable ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) async throws -> Written {
        precondition(watermark >= 1, "a snapshot holds at least one batch")
        let fingerprint = try await log.fingerprint(through: watermark)
        // Encryption and the synced write take seconds at millions of cases: on a queue of their
        // own, never on a Swift concurrency thread.
        return try await withCheckedThrowingContinuation { continuation in
            fileQueue.async {
                continuation.resume(with: Result {
                    try writeFile(
                        imageBytes: imageBytes, events: events, cases: cases, watermark: watermark, pinPoints: pinPoints,
                        fingerprint: fingerprint, key: key, to: path, now: now, image: image)
                })
            }
        }
    }

    /// Where snapshot files are encrypted and written.
    static let fileQueue = DispatchQueue(label: "plazo.index-snapshot", qos: .utility)

    private static func writeFile(
        imageBytes: Int, events: Int, cases: Int, watermark: Int64, pinPoints: ArraySlice<ReleasePinPoint>,
        fingerprint: (batches: Int, digest: [UInt8]), key: BoxKeyPair, to path: String, now: Int64,
        image: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> Written {
        let salt = try SecureRandom.bytes(16)
        let keyID = KeyID.of(key.publicKey)
        let fileKey = try fileKey(from: key, keyID: keyID, salt: salt)
        let stream = try SecretStream.Encryptor(key: fileKey)

        var header = [UInt8]()
        header.reserveCapacity(headerByteCount)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        header += magic
        put(formatVersion)
        put(UInt32(headerByteCount))
        put(watermark)
        put(UInt64(fingerprint.batches))
        header += fingerprint.digest
        put(UInt64(pinPoints.count))
        header += try digest(of: pinPoints)
        header += keyID.bytes
        header += salt
        header += stream.header
        put(UInt64(imageBytes))
        put(UInt64(chunkByteCount))
        put(now)
        put(UInt64(events))
        put(UInt64(cases))
        precondition(header.count == hashedHeaderByteCount)
        header += try GenericHash.hash(header)

        let temporary = path + ".tmp"
        unlink(temporary)  // a leftover of a crash during an earlier write
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SnapshotIOError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            try writeFully(fd, header)
            let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkByteCount, alignment: 16)
            let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkByteCount + SecretStream.overhead, alignment: 16)
            defer {
                plain.deallocate()
                sealed.deallocate()
            }
            var fill = 0
            var written = 0
            var first = true
            func push(final: Bool) throws {
                let out = UnsafeMutableRawBufferPointer(rebasing: sealed[0..<(fill + SecretStream.overhead)])
                try stream.push(UnsafeRawBufferPointer(rebasing: plain[0..<fill]), additionalData: first ? header : [], final: final, into: out)
                try writeFully(fd, UnsafeRawBufferPointer(out))
                written += fill
                fill = 0
                first = false
            }
            try image { piece in
                var offset = 0
                while offset < piece.count {
                    // A full chunk goes out only once more bytes follow it: the last chunk is final.
                    if fill == chunkByteCount { try push(final: false) }
                    let n = min(piece.count - offset, chunkByteCount - fill)
                    (plain.baseAddress! + fill).copyMemory(from: piece.baseAddress! + offset, byteCount: n)
                    fill += n
                    offset += n
                }
            }
            try push(final: true)
            guard written == imageBytes else { throw SnapshotIOError("the image was \(written) bytes, not the \(imageBytes) announced") }
            guard fsync(fd) == 0 else { throw SnapshotIOError("fsync \(temporary): \(String(cString: strerror(errno)))") }
        }
        guard rename(temporary, path) == 0 else { throw SnapshotIOError("rename to \(path): \(String(cString: strerror(errno)))") }
        renamed = true
        syncDirectory(of: path)
        return Written(
            watermark: watermark, pinPointsApplied: pinPoints.count, bytes: fileLength(imageBytes: imageBytes), events: events, cases: cases)
    }

    // MARK: Loading

    /// Reads the snapshot at `path` and checks it against the store: its header and key, the log's
    /// fingerprint at its watermark (the same batches are still stored, in the same order), the
    /// stored releases' pin points (those it holds are the first of them, and every later one is
    /// at or after its watermark), then decrypts and loads the image (``CaseIndex/init(image:byteCount:)``
    /// checks every event).
    ///
    /// - Returns: nil when there is no snapshot file.
    /// - Throws: a ``Refusal`` saying why the snapshot cannot be used.
    public static func load(
        from path: String, log: BatchLog, serviceKeys: [BoxKeyPair], pinPoints: [ReleasePinPoint]
    ) async throws(Refusal) -> Loaded? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .unreadable(String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(String(cString: strerror(errno))) }

        // The header, on its own.
        var header = [UInt8](repeating: 0, count: headerByteCount)
        do { try readFully(fd, &header) } catch { throw .malformed("shorter than its header") }
        func field<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            header.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        guard Array(header[0..<8]) == magic else { throw .malformed("not a case-index snapshot") }
        guard field(8, UInt32.self) == formatVersion else { throw .malformed("format version \(field(8, UInt32.self)), this build reads \(formatVersion)") }
        guard field(12, UInt32.self) == UInt32(headerByteCount),
            (try? GenericHash.hash(Array(header[0..<hashedHeaderByteCount]))) == Array(header[hashedHeaderByteCount...])
        else { throw .malformed("header checksum") }
        let watermark = field(16, Int64.self)
        let batches = field(24, UInt64.self)
        let fingerprint = Array(header[32..<64])
        let pinned = field(64, UInt64.self)
        let pinDigest = Array(header[72..<104])
        let keyID = KeyID(bytes: Array(header[104..<112]))!
        let salt = Array(header[112..<128])
        let streamHeader = Array(header[128..<152])
        let imageBytes = field(152, UInt64.self)
        let chunk = field(160, UInt64.self)
        let events = field(176, UInt64.self)
        let cases = field(184, UInt64.self)
        guard watermark >= 1, chunk == UInt64(chunkByteCount), imageBytes >= 1, imageBytes < UInt64(Int.max / 2),
            Int64(info.st_size) == Int64(fileLength(imageBytes: Int(imageBytes)))
        else { throw .malformed("length") }

        guard let boxKey = serviceKeys.first(where: { KeyID.of($0.publicKey) == keyID }) else { throw .unknownKey(keyID) }

        // The store: the same batches up to the watermark, and the releases it pinned.
        let stored: (batches: Int, digest: [UInt8])
        do { stored = try await log.fingerprint(through: watermark) } catch { throw .unreadable("batch log: \(error)") }
        guard stored.batches == Int(batches), ConstantTime.equals(stored.digest, fingerprint) else {
            throw .otherLog(stored.batches < Int(batches) ? "batches up to #\(watermark) are missing" : "batches up to #\(watermark) differ")
        }
        guard pinned <= UInt64(pinPoints.count) else { throw .otherReleases("it holds the pins of \(pinned) releases, \(pinPoints.count) are stored") }
        let applied = pinPoints.prefix(Int(pinned))
        guard (try? digest(of: applied)) == pinDigest else { throw .otherReleases("the releases it pinned are not the first stored ones") }
        if let next = pinPoints.dropFirst(Int(pinned)).first, next.batchWatermark < watermark {
            throw .otherReleases("release \(next.releaseID), at batch #\(next.batchWatermark), is missing from it")
        }

        // The image.
        let index: CaseIndex
        do {
            let fileKey = try fileKey(from: boxKey, keyID: keyID, salt: salt)
            let reader = try ChunkReader(
                fd: fd, stream: SecretStream.Decryptor(key: fileKey, header: streamHeader), header: header, imageBytes: Int(imageBytes))
            defer { reader.stop() }
            index = try CaseIndex(image: { try reader.fill($0) }, byteCount: Int(imageBytes))
            try reader.finish()
        } catch {
            throw .corrupt("\(error)")
        }
        guard index.eventCount == Int(events), index.caseCount == Int(cases) else { throw .corrupt("counts differ from its header") }
        return Loaded(index: index, watermark: watermark, pinPointsApplied: Int(pinned))
    }

    // MARK: Helpers

    /// The file key: keyed BLAKE2b under the box secret key of a context naming this use, the
    /// box key's id and the file's random salt (a new key for every file).
    static func fileKey(from key: BoxKeyPair, keyID: KeyID, salt: [UInt8]) throws -> SecretBytes {
        try GenericHash.deriveKey(from: key.secretKey, context: Array("plazo case-index snapshot v1".utf8) + keyID.bytes + salt)
    }

    /// BLAKE2b-256 of pin points, in order.
    static func digest(of points: ArraySlice<ReleasePinPoint>) throws -> [UInt8] {
        var message = Array("plazo pin points v1".utf8)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { message.append(contentsOf: $0) } }
        func put(_ s: String) {
            put(UInt32(s.utf8.count))
            message += s.utf8
        }
        for p in points {
            put(p.releaseID)
            put(p.batchWatermark)
            put(p.cutoff)
            put(p.cohorts.joined(separator: ","))
            // The continual-release steps (issue 21), only where a release made some, so that the
            // digest of pin points without any is what it was.
            if !p.continualSteps.isEmpty {
                put(p.continualSteps.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
            }
        }
        return try GenericHash.hash(message)
    }

    /// The length of a snapshot file whose image is `imageBytes` long.
    static func fileLength(imageBytes: Int) -> Int {
        let chunks = (imageBytes + chunkByteCount - 1) / chunkByteCount
        return headerByteCount + imageBytes + chunks * SecretStream.overhead
    }

    static func writeFully(_ fd: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeFully(fd, $0) }
    }

    static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SnapshotIOError("write: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    static func readFully(_ fd: Int32, _ bytes: inout [UInt8]) throws {
        try bytes.withUnsafeMutableBytes { try readFully(fd, $0) }
    }

    static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let n = Foundation.read(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SnapshotIOError("read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw SnapshotIOError("the file ends early") }
            offset += n
        }
    }

    /// fsync of the directory holding `path`, so that a rename in it is durable.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}

/// An I/O failure writing or reading a snapshot.
struct SnapshotIOError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Serves a snapshot's decrypted image to ``CaseIndex/init(image:byteCount:)`` a chunk at a time,
/// reading and decrypting ahead on a thread of its own: decryption (about a second at 10 million
/// cases) then overlaps with loading the index on the other core.
///
/// The reading thread owns the file descriptor's position and the decryptor; the two threads
/// share only the slots, handed over by the two semaphores. Call ``stop()`` in every case (it
/// waits for the thread and frees the buffers).
final class ChunkReader: @unchecked Sendable {
    private static let slotCount = 3
    private let fd: Int32
    private let stream: SecretStream.Decryptor
    private let header: [UInt8]
    private let chunks: Int
    private let imageBytes: Int
    private let slots: [UnsafeMutableRawBufferPointer]
    /// Plaintext bytes in each slot, written by the reading thread before it signals `ready`
    /// (raw memory: the threads touch different elements, in turns the semaphores order).
    private let filled: UnsafeMutableBufferPointer<Int>
    /// Why the reading thread stopped early, if it did (set before it signals `ready`).
    private let failure = Mutex<String?>(nil)
    /// Free slots. Created at 0 and signalled once per slot: libdispatch traps when a semaphore
    /// is released below its initial value, as this one may be when the load stops early.
    private let free = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)
    // The consumer's position.
    private var chunk = -1
    private var position = 0
    private var available = 0
    private var stopped = false

    init(fd: Int32, stream: SecretStream.Decryptor, header: [UInt8], imageBytes: Int) {
        self.fd = fd
        self.stream = stream
        self.header = header
        self.imageBytes = imageBytes
        chunks = (imageBytes + IndexSnapshot.chunkByteCount - 1) / IndexSnapshot.chunkByteCount
        slots = (0..<Self.slotCount).map { _ in .allocate(byteCount: IndexSnapshot.chunkByteCount, alignment: 16) }
        filled = .allocate(capacity: Self.slotCount)
        filled.initialize(repeating: 0)
        for _ in 0..<Self.slotCount { free.signal() }
        let thread = Thread { [self] in
            readAhead()
            exited.signal()
        }
        thread.name = "plazo.snapshot-read"
        thread.start()
    }

    /// The reading thread: every chunk in order, each into the next free slot.
    private func readAhead() {
        let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: IndexSnapshot.chunkByteCount + SecretStream.overhead, alignment: 16)
        defer { sealed.deallocate() }
        for k in 0..<chunks {
            free.wait()
            if cancelled.load(ordering: .acquiring) { return }
            let plain = min(IndexSnapshot.chunkByteCount, imageBytes - k * IndexSnapshot.chunkByteCount)
            let slot = k % Self.slotCount
            do {
                let input = UnsafeMutableRawBufferPointer(rebasing: sealed[0..<(plain + SecretStream.overhead)])
                try IndexSnapshot.readFully(fd, input)
                let final = try stream.pull(
                    UnsafeRawBufferPointer(input), additionalData: k == 0 ? header : [],
                    into: UnsafeMutableRawBufferPointer(rebasing: slots[slot][0..<plain]))
                guard final == (k == chunks - 1) else {
                    throw CaseIndexError.malformedSnapshot(final ? "a final chunk before the end" : "no final chunk at the end")
                }
                filled[slot] = plain
            } catch {
                failure.withLock { $0 = "\(error)" }
                ready.signal()
                return
            }
            ready.signal()
        }
    }

    /// Fills `buffer` with the next image bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            if position == available { try next() }
            let n = min(buffer.count - offset, available - position)
            (buffer.baseAddress! + offset).copyMemory(from: slots[chunk % Self.slotCount].baseAddress! + position, byteCount: n)
            position += n
            offset += n
        }
    }

    private func next() throws {
        if chunk >= 0 { free.signal() }  // the slot just used goes back to the reader
        guard chunk + 1 < chunks else { throw CaseIndexError.malformedSnapshot("the image runs past its last chunk") }
        ready.wait()
        if let why = failure.withLock({ $0 }) { throw SnapshotIOError(why) }
        chunk += 1
        position = 0
        available = filled[chunk % Self.slotCount]
    }

    /// Checks that every chunk was read, the last one final.
    func finish() throws {
        guard chunk == chunks - 1, position == available else { throw CaseIndexError.malformedSnapshot("the image ended before its last chunk") }
    }

    /// Stops the reading thread (if it is still running), waits for it, and frees the slots.
    func stop() {
        guard !stopped else { return }
        stopped = true
        cancelled.store(true, ordering: .releasing)
        free.signal()  // wakes the reader if it waits for a slot
        exited.wait()
        for slot in slots { slot.deallocate() }
        filled.deallocate()
    }
}
