import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoWire

/// Builds a small batch sealed and signed by this implementation.
struct Fixture {
    let service: BoxKeyPair
    let agency: SigningKeyPair
    let events: [CaseEvent]
    let now: Int64 = 1_748_736_000  // 2025-06-01
    let agencyID: AgencyID = 3

    init(recordCount: Int = 5) throws {
        service = try BoxKeyPair.generate()
        agency = try SigningKeyPair.generate()
        events = (0..<recordCount).map { i in
            CaseEvent(
                pseudonym: CasePseudonym(low: UInt64(i), high: 42), type: .reportReceived,
                day: Day(year: 2024, month: 1, day: 1 + i % 28)!,
                attributes: CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline),
                agencyType: .policeCyberUnit
            )
        }
    }

    func seal(batchID: BatchID? = nil, createdAt: Int64? = nil) throws -> [UInt8] {
        try BatchSealer.seal(
            events: events, agencyID: agencyID, batchID: batchID ?? BatchID.random(), createdAt: createdAt ?? now,
            signer: agency, service: service.publicKey
        )
    }

    func opener(revoked: Bool = false, policy: TimestampPolicy = .standard) -> BatchOpener {
        let key = agency.publicKey
        let id = agencyID
        return BatchOpener(serviceKeys: [service], timestampPolicy: policy) { (agencyID, keyID) throws(BatchError) in
            guard agencyID == id else { throw .unknownAgency(agencyID) }
            guard keyID == KeyID.of(key) else { throw .unknownSigningKey(keyID) }
            if revoked { throw .revokedSigningKey(keyID) }
            return key
        }
    }
}

@Suite("Batch sealing and verification")
struct BatchTests {
    @Test("a sealed batch round-trips: same header fields, same events")
    func roundTrip() throws {
        let f = try Fixture()
        let id = try BatchID.random()
        let bytes = try f.seal(batchID: id)
        #expect(bytes.count == BatchFormat.batchSize(records: 5))
        let opened = try f.opener().open(bytes, now: f.now)
        #expect(opened.header.batchID == id)
        #expect(opened.header.agencyID == f.agencyID)
        #expect(opened.header.createdAt == f.now)
        #expect(opened.events == f.events)
        #expect(opened.rejected.isEmpty)
    }

    @Test("flipping any single byte of a batch gets it refused, never accepted and never a crash")
    func everyByteFlipIsRefused() throws {
        let f = try Fixture(recordCount: 2)
        let bytes = try f.seal()
        let opener = f.opener()
        var reasons: [String: Int] = [:]
        for i in bytes.indices {
            var t = bytes
            t[i] ^= 0x04
            do {
                _ = try opener.open(t, now: f.now)
                Issue.record("byte \(i) flipped and accepted")
            } catch {
                reasons[error.code, default: 0] += 1
            }
        }
        // Header fields that are checked before the signature give their own reasons; all other
        // bytes (ids, timestamp, ciphertext, signature) give bad_signature.
        #expect(reasons["bad_signature", default: 0] > bytes.count - 64)
        #expect(reasons["bad_magic"] == 4)
    }

    @Test("the wrong service key cannot open a batch: it is refused as sealed to an unknown key")
    func wrongServiceKey() throws {
        let f = try Fixture()
        let bytes = try f.seal()
        let stranger = try BoxKeyPair.generate()
        let key = f.agency.publicKey
        let opener = BatchOpener(serviceKeys: [stranger]) { (_, _) throws(BatchError) in key }
        #expect(throws: BatchError.unknownServiceKey(KeyID.of(f.service.publicKey))) { try opener.open(bytes, now: f.now) }
    }

    @Test("a batch signed by another agency's key is refused before decryption")
    func wrongAgencyKey() throws {
        let f = try Fixture()
        let impostor = try SigningKeyPair.generate()
        let bytes = try BatchSealer.seal(
            events: f.events, agencyID: f.agencyID, batchID: BatchID.random(), createdAt: f.now, signer: impostor, service: f.service.publicKey
        )
        #expect(throws: BatchError.unknownSigningKey(KeyID.of(impostor.publicKey))) { try f.opener().open(bytes, now: f.now) }
        // Even if the impostor claims the real key id, the signature fails.
        var forged = bytes
        let realID = KeyID.of(f.agency.publicKey).bytes
        for i in 0..<8 { forged[16 + i] = realID[i] }
        #expect(throws: BatchError.signatureInvalid) { try f.opener().open(forged, now: f.now) }
    }

    @Test("revoked keys, unknown agencies and unsupported sizes give their own reasons")
    func registryAndSizeReasons() throws {
        let f = try Fixture()
        let bytes = try f.seal()
        #expect(throws: BatchError.revokedSigningKey(KeyID.of(f.agency.publicKey))) { try f.opener(revoked: true).open(bytes, now: f.now) }
        #expect(throws: BatchError.truncated(actual: 10, expected: BatchFormat.minBatchSize)) { try f.opener().open(Array(bytes.prefix(10)), now: f.now) }
        let huge = [UInt8](repeating: 0, count: BatchFormat.maxBatchSize + 1)
        #expect(throws: BatchError.tooLarge(actual: huge.count, limit: BatchFormat.maxBatchSize)) { try f.opener().open(huge, now: f.now) }
        var zeroCount = bytes
        for i in 12..<16 { zeroCount[i] = 0 }
        #expect(throws: BatchError.recordCountOutOfRange(0)) { try f.opener().open(zeroCount, now: f.now) }
    }

    @Test("creation times beyond the allowed skew are refused in both directions")
    func timestamps() throws {
        let f = try Fixture()
        let future = try f.seal(createdAt: f.now + 301)
        #expect(throws: BatchError.timestampInFuture(createdAt: f.now + 301, now: f.now)) { try f.opener().open(future, now: f.now) }
        _ = try f.opener().open(try f.seal(createdAt: f.now + 299), now: f.now)
        let old = try f.seal(createdAt: f.now - 31 * 86_400)
        #expect(throws: BatchError.timestampTooOld(createdAt: f.now - 31 * 86_400, now: f.now)) { try f.opener().open(old, now: f.now) }
        _ = try f.opener(policy: .none).open(old, now: f.now)
    }

    @Test("records dated after tomorrow are rejected one by one, the others accepted")
    func futureRecords() throws {
        var f = try Fixture(recordCount: 3)
        let today = Day(unixSeconds: f.now)!
        var events = f.events
        events[1].day = today.adding(days: 1)  // tomorrow: allowed
        events[2].day = today.adding(days: 2)  // after tomorrow: rejected
        f = Fixture(service: f.service, agency: f.agency, events: events)
        let opened = try f.opener().open(try f.seal(), now: f.now)
        #expect(opened.events.count == 2)
        #expect(opened.rejected == [RecordRejection(index: 2, error: .dayInFuture(today.adding(days: 2)))])
    }

    @Test("sealing refuses empty and oversized batches")
    func sealLimits() throws {
        let f = try Fixture()
        #expect(throws: BatchError.recordCountOutOfRange(0)) {
            try BatchSealer.seal(events: [], agencyID: 1, batchID: BatchID.random(), createdAt: 0, signer: f.agency, service: f.service.publicKey)
        }
    }
}

extension Fixture {
    init(service: BoxKeyPair, agency: SigningKeyPair, events: [CaseEvent]) {
        self.service = service
        self.agency = agency
        self.events = events
    }
}
