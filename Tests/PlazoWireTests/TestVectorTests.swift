import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoWire

/// The committed vectors (specs/test-vectors/batch-v1.json) come from an independent Python
/// implementation of specs/batch-format.md; these tests prove this implementation agrees with it.
@Suite("Batch format v1 test vectors")
struct TestVectorTests {
    struct Vectors: Decodable {
        struct Keys: Decodable {
            let service_box_seed, service_box_public_key, service_box_secret_key, service_box_key_id: String
            let agency_signing_seed, agency_signing_public_key, agency_signing_key_id: String
            let linkage_key, linkage_key_id: String
        }
        struct Event: Decodable {
            let event, detail, day: Int
            let offence, age, sex, state, channel, agency: Int?
            let target: [Int]?
            let record: String
        }
        struct Batch: Decodable {
            let agency_id: UInt32
            let batch_id: String
            let created_at: Int64
            let header, plaintext_payload, batch: String
            let accepted_records: Int
        }
        struct Rejected: Decodable {
            let batch: String
            let rejected_index: Int
            let reason: String
        }
        struct Tampered: Decodable {
            let name, batch, reason: String
            let other_agency_id: UInt32?
            let other_agency_public_key: String?
        }
        let keys: Keys
        let events: [Event]
        let batch: Batch
        let record_rejected_batch: Rejected
        let tampered: [Tampered]
    }

    static let vectors: Vectors = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/test-vectors/batch-v1.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    static func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex)! }

    var v: Vectors { Self.vectors }

    func serviceKeys() throws -> BoxKeyPair { try BoxKeyPair.derive(seed: Self.bytes(v.keys.service_box_seed)) }
    func agencyKeys() throws -> SigningKeyPair { try SigningKeyPair.derive(seed: Self.bytes(v.keys.agency_signing_seed)) }

    func opener() throws -> BatchOpener {
        let agency = try agencyKeys().publicKey
        let otherKey = v.tampered.compactMap(\.other_agency_public_key).first.map { try! SigningPublicKey(bytes: Self.bytes($0)) }
        return BatchOpener(serviceKeys: [try serviceKeys()]) { (agencyID, keyID) throws(BatchError) in
            switch agencyID {
            case 7:
                guard keyID == KeyID.of(agency) else { throw .unknownSigningKey(keyID) }
                return agency
            case 8:
                guard let otherKey, keyID == KeyID.of(otherKey) else { throw .unknownSigningKey(keyID) }
                return otherKey
            default: throw .unknownAgency(agencyID)
            }
        }
    }

    @Test("keys derived from the seeds and their key ids match the vectors")
    func keysMatch() throws {
        let service = try serviceKeys()
        #expect(Hex.encode(service.publicKey.bytes) == v.keys.service_box_public_key)
        #expect(service.secretKey.withUnsafeBytes { Hex.encode(Array($0)) } == v.keys.service_box_secret_key)
        #expect(KeyID.of(service.publicKey).hex == v.keys.service_box_key_id)
        let agency = try agencyKeys()
        #expect(Hex.encode(agency.publicKey.bytes) == v.keys.agency_signing_public_key)
        #expect(KeyID.of(agency.publicKey).hex == v.keys.agency_signing_key_id)
        #expect(KeyFile.linkageKeyID(SecretBytes(copying: Self.bytes(v.keys.linkage_key))).hex == v.keys.linkage_key_id)
    }

    @Test("every event encodes to the vector's 32 record bytes and decodes back")
    func records() throws {
        for e in v.events {
            let expected = Self.bytes(e.record)
            let decoded = try EventRecord.decode(expected, latestDay: Day(year: 2100, month: 1, day: 1)!)
            #expect(EventRecord.encode(decoded) == expected)
            #expect(Int(decoded.type.rawValue) == e.event)
            #expect(Int(decoded.detail) == e.detail)
            #expect(Int(decoded.day.rawValue) == e.day)
            #expect(Int(decoded.attributes.offence.rawValue) == (e.offence ?? 0))
            #expect(Int(decoded.attributes.state.rawValue) == (e.state ?? 0))
            #expect(Int(decoded.agencyType.rawValue) == (e.agency ?? 0))
            if let t = e.target {
                #expect(decoded.target == EventReference(type: EventType(rawValue: UInt8(t[0]))!, detail: UInt8(t[1]), day: Day(rawValue: UInt16(t[2]))))
            } else {
                #expect(decoded.target == nil)
            }
        }
    }

    @Test("header and plaintext payload built here equal the vector bytes")
    func headerAndPayload() throws {
        let b = v.batch
        let latest = Day(year: 2100, month: 1, day: 1)!
        let events = try v.events.map { try EventRecord.decode(Self.bytes($0.record), latestDay: latest) }
        let header = BatchHeader(
            agencyID: AgencyID(b.agency_id), recordCount: UInt32(events.count), signingKeyID: KeyID.of(try agencyKeys().publicKey),
            batchID: BatchID(hex: b.batch_id)!, createdAt: b.created_at, serviceKeyID: KeyID.of(try serviceKeys().publicKey)
        )
        #expect(Hex.encode(header.encoded()) == b.header)
        #expect(try BatchHeader.parse(Self.bytes(b.batch)) == header)
        #expect(Hex.encode(BatchSealer.payload(events: events, agencyID: AgencyID(b.agency_id), batchID: header.batchID)) == b.plaintext_payload)
    }

    @Test("the batch sealed by the reference implementation verifies and opens to its records")
    func opensReferenceBatch() throws {
        let opened = try opener().open(Self.bytes(v.batch.batch), now: v.batch.created_at)
        #expect(opened.rejected.isEmpty)
        #expect(opened.events.count == v.batch.accepted_records)
        #expect(opened.events.map { Hex.encode(EventRecord.encode($0)) } == v.events.map(\.record))
    }

    @Test("a signed batch with an out-of-range code rejects that record only")
    func recordRejected() throws {
        let r = v.record_rejected_batch
        let opened = try opener().open(Self.bytes(r.batch), now: v.batch.created_at)
        #expect(opened.events.isEmpty)
        #expect(opened.rejected.map(\.index) == [r.rejected_index])
        #expect(opened.rejected.first?.error.code == r.reason)
    }

    @Test("every tampered batch is refused with the reason the vector names")
    func tampered() throws {
        let opener = try opener()
        for t in v.tampered {
            do {
                _ = try opener.open(Self.bytes(t.batch), now: v.batch.created_at)
                Issue.record("\(t.name): accepted")
            } catch {
                #expect(error.code == t.reason, "\(t.name)")
            }
        }
    }
}
