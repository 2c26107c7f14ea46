import PlazoModel
import PlazoSodium

/// The reason a record was rejected, as one byte in a receipt (`specs/batch-format.md` §10): the
/// table itself (bytes, codes, sentences) is ``EventErrorReason`` in PlazoModel.
public typealias RecordReason = EventErrorReason

extension EventErrorReason {
    /// The reason of a record error.
    public init(_ error: EventError) { self = error.reason }
}

/// Why a receipt cannot be read or trusted.
public enum ReceiptError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case wrongServiceKey
    case signatureInvalid
    case doesNotMatchBatch

    public var description: String {
        switch self {
        case let .malformed(reason): "the receipt is malformed: \(reason)"
        case .wrongServiceKey: "the receipt was signed by another service key"
        case .signatureInvalid: "the receipt's signature does not verify"
        case .doesNotMatchBatch: "the receipt is for other bytes than this batch"
        }
    }
}

/// A receipt: the service's signed statement that it durably stored a batch, with what it
/// accepted and rejected. Agencies keep receipts as proof of submission.
///
/// Canonical binary form (little-endian), signed with the service's Ed25519 key:
/// ```
///  0   4  magic "PLZR"
///  4   2  version (1)
///  6   2  reserved (0)
///  8  16  batch id
/// 24  32  batch digest: BLAKE2b-256 of the batch bytes as received
/// 56   4  agency id
/// 60   8  received at (Unix seconds)
/// 68   4  record count
/// 72   4  accepted (valid records, new or already known)
/// 76   4  new events (accepted records not already held from an earlier batch)
/// 80   4  rejected count r
/// 84   5r rejected records: index (u32) and reason (u8), by increasing index
/// ..   8  service signing key id
/// ..  64  Ed25519 signature over every byte before it
/// ```
public struct Receipt: Hashable, Sendable {
    public static let magic: [UInt8] = Array("PLZR".utf8)
    public static let version: UInt16 = 1

    public var batchID: BatchID
    public var batchDigest: [UInt8]
    public var agencyID: AgencyID
    public var receivedAt: Int64
    public var recordCount: UInt32
    public var accepted: UInt32
    public var newEvents: UInt32
    /// Rejected records: (index in the batch, reason), by increasing index.
    public var rejected: [RejectedRecord]
    public var serviceKeyID: KeyID
    /// The 64-byte signature (empty until signed).
    public var signature: [UInt8]

    /// One rejected record.
    public struct RejectedRecord: Hashable, Sendable {
        public var index: UInt32
        public var reason: RecordReason
        public init(index: UInt32, reason: RecordReason) {
            self.index = index
            self.reason = reason
        }
    }

    /// An unsigned receipt.
    public init(
        batchID: BatchID, batchDigest: [UInt8], agencyID: AgencyID, receivedAt: Int64, recordCount: UInt32,
        accepted: UInt32, newEvents: UInt32, rejected: [RejectedRecord], serviceKeyID: KeyID
    ) {
        self.batchID = batchID
        self.batchDigest = batchDigest
        self.agencyID = agencyID
        self.receivedAt = receivedAt
        self.recordCount = recordCount
        self.accepted = accepted
        self.newEvents = newEvents
        self.rejected = rejected
        self.serviceKeyID = serviceKeyID
        self.signature = []
    }

    /// The digest a receipt names: BLAKE2b-256 of the batch bytes.
    public static func digest(of batch: [UInt8]) -> [UInt8] {
        try! GenericHash.hash(batch, outputLength: 32)
    }

    /// The signed part of the canonical form.
    public func signedBytes() -> [UInt8] {
        var out = Self.magic + le(Self.version) + le(UInt16(0))
        out += batchID.bytes
        out += batchDigest
        out += le(agencyID.rawValue) + le(UInt64(bitPattern: receivedAt)) + le(recordCount) + le(accepted) + le(newEvents)
        out += le(UInt32(rejected.count))
        for r in rejected { out += le(r.index) + [r.reason.rawValue] }
        out += serviceKeyID.bytes
        return out
    }

    /// Signs the receipt with the service key.
    public mutating func sign(with key: SigningKeyPair) throws(SodiumError) {
        serviceKeyID = KeyID.of(key.publicKey)
        signature = try Signature.sign(signedBytes(), with: key)
    }

    /// The canonical bytes: the signed part and the signature.
    public func encoded() -> [UInt8] { signedBytes() + signature }

    /// Parses the canonical form (without verifying the signature).
    public static func parse(_ bytes: [UInt8]) throws(ReceiptError) -> Receipt {
        func u32(_ o: Int) -> UInt32 { bytes[o..<(o + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ o: Int) -> UInt64 { bytes[o..<(o + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        guard bytes.count >= 84 + 8 + 64 else { throw .malformed("too short") }
        guard Array(bytes[0..<4]) == magic else { throw .malformed("bad magic") }
        guard bytes[4] == 1, bytes[5] == 0, bytes[6] == 0, bytes[7] == 0 else { throw .malformed("unsupported version") }
        let r = Int(u32(80))
        guard r <= BatchFormat.maxRecords, bytes.count == 84 + 5 * r + 8 + 64 else { throw .malformed("length does not match") }
        var rejected: [RejectedRecord] = []
        for i in 0..<r {
            let o = 84 + 5 * i
            guard let reason = RecordReason(rawValue: bytes[o + 4]) else { throw .malformed("unknown reason \(bytes[o + 4])") }
            rejected.append(RejectedRecord(index: u32(o), reason: reason))
        }
        let keyOffset = 84 + 5 * r
        var receipt = Receipt(
            batchID: BatchID(bytes: Array(bytes[8..<24]))!, batchDigest: Array(bytes[24..<56]), agencyID: AgencyID(u32(56)),
            receivedAt: Int64(bitPattern: u64(60)), recordCount: u32(68), accepted: u32(72), newEvents: u32(76),
            rejected: rejected, serviceKeyID: KeyID(bytes: Array(bytes[keyOffset..<(keyOffset + 8)]))!
        )
        receipt.signature = Array(bytes[(keyOffset + 8)...])
        return receipt
    }

    /// Checks the signature against the service's public key and, if given, that the receipt
    /// names exactly these batch bytes.
    public func verify(serviceKey: SigningPublicKey, batch: [UInt8]? = nil) throws(ReceiptError) {
        guard serviceKeyID == KeyID.of(serviceKey) else { throw .wrongServiceKey }
        do { try Signature.verify(signature, of: signedBytes(), by: serviceKey) } catch { throw .signatureInvalid }
        if let batch, !ConstantTime.equals(Self.digest(of: batch), batchDigest) { throw .doesNotMatchBatch }
    }
}
