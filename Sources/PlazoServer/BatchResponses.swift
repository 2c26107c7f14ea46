import Foundation
import PlazoModel
import PlazoWire

/// The answer to `POST /v1/batches` and `GET /v1/batches/{id}/receipt` (`specs/openapi.yaml`,
/// `ReceiptResponse`): the receipt's fields, and its signed canonical bytes in base64. Public so
/// that `plazo submit` decodes the same type it saves.
public struct ReceiptResponse: Codable, Sendable, Hashable {
    /// The receipt's fields.
    public struct Fields: Codable, Sendable, Hashable {
        public var batchDigest: String
        public var agencyID: UInt32
        public var receivedAt: Int64
        public var recordCount: UInt32
        public var accepted: UInt32
        public var newEvents: UInt32
        public var duplicates: UInt32
        public var rejected: [Rejected]
        public var serviceKeyID: String

        enum CodingKeys: String, CodingKey {
            case batchDigest = "batch_digest", agencyID = "agency_id", receivedAt = "received_at", recordCount = "record_count"
            case accepted, newEvents = "new_events", duplicates, rejected, serviceKeyID = "service_key_id"
        }
    }

    /// A rejected record: its index in the batch, its reason code and the reason's sentence.
    public struct Rejected: Codable, Sendable, Hashable {
        public var index: UInt32
        public var reason: String
        public var message: String
    }

    /// The batch id, 32 hex digits.
    public var batchID: String
    /// True when these bytes had been stored before (the original receipt is returned).
    public var replayed: Bool
    /// The receipt's fields.
    public var receipt: Fields
    /// The signed canonical receipt, base64.
    public var signedReceipt: String

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id", replayed, receipt, signedReceipt = "signed_receipt"
    }

    /// The answer for receipt `r` with canonical bytes `bytes`.
    public init(_ r: Receipt, bytes: [UInt8], replayed: Bool) {
        batchID = r.batchID.hex
        self.replayed = replayed
        receipt = Fields(
            batchDigest: Hex.encode(r.batchDigest), agencyID: r.agencyID, receivedAt: r.receivedAt, recordCount: r.recordCount,
            accepted: r.accepted, newEvents: r.newEvents, duplicates: r.accepted - r.newEvents,
            rejected: r.rejected.map { Rejected(index: $0.index, reason: $0.reason.code, message: $0.reason.message) },
            serviceKeyID: r.serviceKeyID.hex
        )
        signedReceipt = Data(bytes).base64EncodedString()
    }
}
