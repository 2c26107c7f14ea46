import PlazoModel
import PlazoSodium

/// A random 16-byte batch id, chosen by the agency. The service refuses a second, different
/// batch with an id it has already accepted.
public struct BatchID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// Length in bytes.
    public static let byteCount = 16
    /// The 16 bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses 32 hex digits.
    public init?(hex: String) {
        guard let b = Hex.decode(hex) else { return nil }
        self.init(bytes: b)
    }

    /// A fresh id from the CSPRNG.
    public static func random() throws(SodiumError) -> BatchID {
        BatchID(bytes: try SecureRandom.bytes(byteCount))!
    }

    /// Lowercase hex (32 digits).
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = BatchID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a batch id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// The constants of batch wire format v1 (`specs/batch-format.md`).
public enum BatchFormat {
    /// `PLZB`.
    public static let magic: [UInt8] = [0x50, 0x4C, 0x5A, 0x42]
    /// `PLZP`: the magic of the sealed payload's inner header.
    public static let payloadMagic: [UInt8] = [0x50, 0x4C, 0x5A, 0x50]
    /// The format version this implementation writes and reads.
    public static let version: UInt16 = 1
    /// Cleartext header bytes.
    public static let headerSize = 64
    /// Inner (sealed) payload header bytes.
    public static let payloadHeaderSize = 32
    /// Signature bytes.
    public static let signatureSize = 64
    /// Sealed-box overhead.
    public static let sealOverhead = SealedBox.overhead
    /// The most records one batch may carry.
    public static let maxRecords = 100_000
    /// Bytes of a batch that carries `records` records.
    public static func batchSize(records: Int) -> Int {
        headerSize + sealOverhead + payloadHeaderSize + records * EventRecord.byteCount + signatureSize
    }
    /// The smallest valid batch (one record): 240 bytes.
    public static let minBatchSize = batchSize(records: 1)
    /// The largest valid batch (``maxRecords`` records): 3,200,208 bytes.
    public static let maxBatchSize = batchSize(records: maxRecords)
}

/// The cleartext batch header (64 bytes, little-endian; `specs/batch-format.md` §3).
public struct BatchHeader: Hashable, Sendable {
    public var version: UInt16
    /// The agency's id in the service's registry.
    public var agencyID: AgencyID
    /// Number of records in the sealed payload (1 ... ``BatchFormat/maxRecords``).
    public var recordCount: UInt32
    /// Id of the agency signing key that signed the batch.
    public var signingKeyID: KeyID
    public var batchID: BatchID
    /// Creation time, Unix seconds (UTC).
    public var createdAt: Int64
    /// Length of the sealed payload: 48 + 32 + 32 × recordCount.
    public var payloadLength: UInt32
    /// Id of the service box key the payload is sealed to.
    public var serviceKeyID: KeyID

    /// A header for `recordCount` records, with `payloadLength` computed.
    public init(agencyID: AgencyID, recordCount: UInt32, signingKeyID: KeyID, batchID: BatchID, createdAt: Int64, serviceKeyID: KeyID) {
        self.version = BatchFormat.version
        self.agencyID = agencyID
        self.recordCount = recordCount
        self.signingKeyID = signingKeyID
        self.batchID = batchID
        self.createdAt = createdAt
        self.payloadLength = UInt32(BatchFormat.sealOverhead + BatchFormat.payloadHeaderSize + Int(recordCount) * EventRecord.byteCount)
        self.serviceKeyID = serviceKeyID
    }

    /// The 64 header bytes.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(BatchFormat.headerSize)
        out += BatchFormat.magic
        out += le(version)
        out += le(UInt16(0))
        out += le(agencyID.rawValue)
        out += le(recordCount)
        out += signingKeyID.bytes
        out += batchID.bytes
        out += le(UInt64(bitPattern: createdAt))
        out += le(payloadLength)
        out += serviceKeyID.bytes
        out += le(UInt32(0))
        assert(out.count == BatchFormat.headerSize)
        return out
    }

    /// Parses and checks the header of `batch` (steps 1–3 of the verification order): overall
    /// size, magic, version, reserved fields, record count and the three lengths agreeing.
    public static func parse(_ batch: UnsafeRawBufferPointer) throws(BatchError) -> BatchHeader {
        if batch.count < BatchFormat.headerSize { throw .truncated(actual: batch.count, expected: BatchFormat.minBatchSize) }
        if batch.count > BatchFormat.maxBatchSize { throw .tooLarge(actual: batch.count, limit: BatchFormat.maxBatchSize) }
        let p = batch.baseAddress!
        for i in 0..<4 where p.load(fromByteOffset: i, as: UInt8.self) != BatchFormat.magic[i] { throw .badMagic }
        let version = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        if version != BatchFormat.version { throw .unsupportedVersion(version) }
        if p.loadUnaligned(fromByteOffset: 6, as: UInt16.self) != 0 || p.loadUnaligned(fromByteOffset: 60, as: UInt32.self) != 0 {
            throw .reservedNotZero
        }
        let count = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        if count == 0 || count > UInt32(BatchFormat.maxRecords) { throw .recordCountOutOfRange(count) }
        let payloadLength = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        let expectedPayload = BatchFormat.sealOverhead + BatchFormat.payloadHeaderSize + Int(count) * EventRecord.byteCount
        if Int(payloadLength) != expectedPayload { throw .lengthMismatch(reason: "payload length \(payloadLength) does not match \(count) records") }
        let expectedTotal = BatchFormat.headerSize + expectedPayload + BatchFormat.signatureSize
        if batch.count < expectedTotal { throw .truncated(actual: batch.count, expected: expectedTotal) }
        if batch.count > expectedTotal { throw .lengthMismatch(reason: "\(batch.count - expectedTotal) bytes after the signature") }
        func bytes(_ offset: Int, _ n: Int) -> [UInt8] { Array(UnsafeRawBufferPointer(rebasing: batch[offset..<(offset + n)])) }
        var header = BatchHeader(
            agencyID: AgencyID(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))),
            recordCount: count,
            signingKeyID: KeyID(bytes: bytes(16, 8))!,
            batchID: BatchID(bytes: bytes(24, 16))!,
            createdAt: Int64(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 40, as: UInt64.self))),
            serviceKeyID: KeyID(bytes: bytes(52, 8))!
        )
        header.version = version
        return header
    }

    /// Parses the header of a byte array.
    public static func parse(_ batch: [UInt8]) throws(BatchError) -> BatchHeader {
        try withBytes(batch) { (b: UnsafeRawBufferPointer) throws(BatchError) in try parse(b) }
    }
}

@inline(__always)
func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.littleEndian) { Array($0) }
}

/// Why a batch is refused as a whole. Each case has a stable machine-readable ``code`` (the
/// `reason` in HTTP error bodies and CLI output) and a human sentence.
public enum BatchError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(actual: Int, expected: Int)
    case tooLarge(actual: Int, limit: Int)
    case badMagic
    case unsupportedVersion(UInt16)
    case reservedNotZero
    case recordCountOutOfRange(UInt32)
    case lengthMismatch(reason: String)
    case unknownServiceKey(KeyID)
    case unknownAgency(AgencyID)
    case unknownSigningKey(KeyID)
    case revokedSigningKey(KeyID)
    case signatureInvalid
    case timestampInFuture(createdAt: Int64, now: Int64)
    case timestampTooOld(createdAt: Int64, now: Int64)
    case payloadOpenFailed
    case payloadHeaderMismatch(reason: String)

    /// The stable machine-readable reason code (`specs/batch-format.md` §7).
    public var code: String {
        switch self {
        case .truncated: "truncated"
        case .tooLarge: "too_large"
        case .badMagic: "bad_magic"
        case .unsupportedVersion: "unsupported_version"
        case .reservedNotZero: "reserved_not_zero"
        case .recordCountOutOfRange: "record_count_out_of_range"
        case .lengthMismatch: "length_mismatch"
        case .unknownServiceKey: "unknown_service_key"
        case .unknownAgency: "unknown_agency"
        case .unknownSigningKey: "unknown_signing_key"
        case .revokedSigningKey: "revoked_signing_key"
        case .signatureInvalid: "bad_signature"
        case .timestampInFuture: "timestamp_in_future"
        case .timestampTooOld: "timestamp_too_old"
        case .payloadOpenFailed: "payload_open_failed"
        case .payloadHeaderMismatch: "payload_header_mismatch"
        }
    }

    public var description: String {
        switch self {
        case let .truncated(actual, expected): "batch is truncated: \(actual) bytes, expected \(expected)"
        case let .tooLarge(actual, limit): "batch is \(actual) bytes, over the limit of \(limit)"
        case .badMagic: "not a Plazo batch (bad magic)"
        case let .unsupportedVersion(v): "batch format version \(v) is not supported (this service reads version \(BatchFormat.version))"
        case .reservedNotZero: "reserved header fields must be zero"
        case let .recordCountOutOfRange(n): "record count \(n) is outside 1...\(BatchFormat.maxRecords)"
        case let .lengthMismatch(reason): "batch lengths disagree: \(reason)"
        case let .unknownServiceKey(id): "the payload is sealed to service key \(id), which this service does not hold"
        case let .unknownAgency(id): "agency \(id.rawValue) is not registered"
        case let .unknownSigningKey(id): "signing key \(id) is not registered for this agency"
        case let .revokedSigningKey(id): "signing key \(id) has been revoked"
        case .signatureInvalid: "the signature does not verify: the batch was altered or signed with another key"
        case let .timestampInFuture(c, n): "batch creation time \(c) is \(c - n) s in the future"
        case let .timestampTooOld(c, n): "batch creation time \(c) is \(n - c) s old, older than allowed"
        case .payloadOpenFailed: "the sealed payload cannot be opened with the service key"
        case let .payloadHeaderMismatch(reason): "the sealed payload does not belong to this header: \(reason)"
        }
    }
}
