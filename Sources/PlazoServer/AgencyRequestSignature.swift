import Foundation
import HTTPTypes
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// Authentication of an agency's request for its own receipt, with the agency's signing key:
///
/// ```
/// Authorization: Plazo-Agency agency=7, key=5b2c0f9a61d3e7a4, time=1764423600, signature=<128 hex digits>
/// ```
/// `signature` is the Ed25519 detached signature, by the agency's key `key`, of the ASCII string
/// `"plazo-receipt-request-v1\n" + <batch id, 32 lowercase hex digits> + "\n" + <time, decimal>`.
/// `time` (Unix seconds) must be within 300 s of the service's clock. Any registered key of the
/// agency may be used, including a retired or revoked one, so receipts stay retrievable after a
/// rotation (a receipt reveals nothing the agency did not send).
public struct AgencyRequestSignature: Sendable {
    /// The `Authorization` scheme name.
    public static let scheme = "Plazo-Agency"
    /// Allowed clock difference.
    public static let maxSkew: Int64 = 300

    /// The authenticated agency.
    public let agencyID: UInt32

    /// The signed message for a batch id and time.
    public static func message(batchID: BatchID, time: Int64) -> [UInt8] {
        Array("plazo-receipt-request-v1\n\(batchID.hex)\n\(time)".utf8)
    }

    /// The header value an agency sends (used by `plazo submit` and tests).
    public static func header(agencyID: UInt32, key: SigningKeyPair, batchID: BatchID, time: Int64) throws -> String {
        let signature = try Signature.sign(message(batchID: batchID, time: time), with: key)
        return "\(scheme) agency=\(agencyID), key=\(KeyID.of(key.publicKey).hex), time=\(time), signature=\(Hex.encode(signature))"
    }

    /// Why a request is not authenticated.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case missing
        case malformed
        case stale
        case unknownKey
        case badSignature

        var status: HTTPResponse.Status { self == .missing || self == .malformed ? .unauthorized : .forbidden }
        var code: String {
            switch self {
            case .missing: "missing_authorization"
            case .malformed: "malformed_authorization"
            case .stale: "stale_request_time"
            case .unknownKey: "unknown_signing_key"
            case .badSignature: "bad_request_signature"
            }
        }
        public var description: String {
            switch self {
            case .missing: "this endpoint needs an Authorization: Plazo-Agency header signed with the agency's key"
            case .malformed: "the Authorization header is not a valid Plazo-Agency signature"
            case .stale: "the request time is more than 300 s from the service's clock"
            case .unknownKey: "the key is not registered for this agency"
            case .badSignature: "the request signature does not verify"
            }
        }
    }

    /// The signed message of a request for the agency's own quality report.
    public static func qualityMessage(agencyID: UInt32, time: Int64) -> [UInt8] {
        Array("plazo-quality-request-v1\n\(agencyID)\n\(time)".utf8)
    }

    /// The header value for a quality-report request (used by `plazo quality` and tests).
    public static func qualityHeader(agencyID: UInt32, key: SigningKeyPair, time: Int64) throws -> String {
        let signature = try Signature.sign(qualityMessage(agencyID: agencyID, time: time), with: key)
        return "\(scheme) agency=\(agencyID), key=\(KeyID.of(key.publicKey).hex), time=\(time), signature=\(Hex.encode(signature))"
    }

    /// Parses and verifies an `Authorization` header value.
    static func verify(header: String?, batchID: BatchID, now: Int64, registry: AgencyRegistry) async throws(Failure) -> AgencyRequestSignature {
        try await verify(header: header, now: now, registry: registry) { _, time in message(batchID: batchID, time: time) }
    }

    /// Parses and verifies an `Authorization` header value over the message `message(agency, time)`.
    static func verify(
        header: String?, now: Int64, registry: AgencyRegistry, message: (UInt32, Int64) -> [UInt8]
    ) async throws(Failure) -> AgencyRequestSignature {
        guard let header else { throw .missing }
        guard header.hasPrefix(scheme + " ") else { throw .malformed }
        var fields: [String: String] = [:]
        for part in header.dropFirst(scheme.count + 1).split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw .malformed }
            fields[pair[0]] = pair[1]
        }
        guard let agency = fields["agency"].flatMap(UInt32.init), let keyID = fields["key"].flatMap(KeyID.init(hex:)),
            let time = fields["time"].flatMap(Int64.init), let signature = fields["signature"].flatMap(Hex.decode),
            signature.count == Signature.byteCount
        else { throw .malformed }
        guard abs(now - time) <= maxSkew else { throw .stale }
        guard let (key, _) = await registry.anyKey(agencyID: AgencyID(agency), keyID: keyID) else { throw .unknownKey }
        do { try Signature.verify(signature, of: message(agency, time), by: key) } catch { throw .badSignature }
        return AgencyRequestSignature(agencyID: agency)
    }
}
