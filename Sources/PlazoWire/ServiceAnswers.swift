import Foundation
import PlazoModel

// The JSON answers of the batch endpoint, which the service writes and agencies read
// (`specs/openapi.yaml`).

/// The answer to `POST /v1/batches` and `GET /v1/batches/{id}/receipt` (`specs/openapi.yaml`,
/// `ReceiptResponse`): the receipt's fields, and its signed canonical bytes in base64. Here, below
/// both, so that the service encodes and the agency's ``BatchSubmitter`` (`PlazoAgency`) decodes one type.
public struct ReceiptResponse: Codable, Sendable, Hashable {
    /// The receipt's fields.
    public struct Fields: Codable, Sendable, Hashable {
        /// BLAKE2b-256 of the batch as received, hex.
        public var batchDigest: String
        /// The sending agency.
        public var agencyID: UInt32
        /// When the service stored the batch (Unix seconds).
        public var receivedAt: Int64
        /// Records in the batch.
        public var recordCount: UInt32
        /// Records that passed validation.
        public var accepted: UInt32
        /// Accepted records the service had not seen before.
        public var newEvents: UInt32
        /// Accepted records already known (from this or another agency).
        public var duplicates: UInt32
        /// The rejected records.
        public var rejected: [Rejected]
        /// The id of the service signing key that signed the receipt.
        public var serviceKeyID: String

        enum CodingKeys: String, CodingKey {
            case batchDigest = "batch_digest", agencyID = "agency_id", receivedAt = "received_at", recordCount = "record_count"
            case accepted, newEvents = "new_events", duplicates, rejected, serviceKeyID = "service_key_id"
        }
    }

    /// A rejected record: its index in the batch, its reason code and the reason's sentence.
    public struct Rejected: Codable, Sendable, Hashable {
        /// Index of the record in the batch.
        public var index: UInt32
        /// The reason code (`EventErrorReason.code`).
        public var reason: String
        /// The reason as a sentence.
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
            batchDigest: Hex.encode(r.batchDigest), agencyID: r.agencyID.rawValue, receivedAt: r.receivedAt, recordCount: r.recordCount,
            accepted: r.accepted, newEvents: r.newEvents, duplicates: r.accepted - r.newEvents,
            rejected: r.rejected.map { Rejected(index: $0.index, reason: $0.reason.code, message: $0.reason.message) },
            serviceKeyID: r.serviceKeyID.hex
        )
        signedReceipt = Data(bytes).base64EncodedString()
    }
}

/// The JSON body of every refusal: `{"error": {"code": "...", "message": "..."}}`
/// (`specs/openapi.yaml`, `Error`). Here, below the service and its
/// clients, so that both (`PlazoServer`, and `PlazoAgency`'s ``BatchSubmitter``) use one type.
public struct ErrorBody: Codable, Sendable, Hashable {
    /// The refusal.
    public struct Detail: Codable, Sendable, Hashable {
        /// The stable machine-readable reason.
        public var code: String
        /// A human sentence.
        public var message: String
    }

    /// The refusal.
    public var error: Detail

    /// A body with `code` and `message`.
    public init(code: String, message: String) { error = Detail(code: code, message: message) }
}
