import PlazoModel
import PlazoSodium

/// Builds sealed, signed batches (the agency side of `specs/batch-format.md`).
public enum BatchSealer {
    /// The plaintext that is sealed: the 32-byte inner header followed by the records.
    public static func payload(events: [CaseEvent], agencyID: AgencyID, batchID: BatchID) -> [UInt8] {
        var plain = [UInt8](repeating: 0, count: BatchFormat.payloadHeaderSize + events.count * EventRecord.byteCount)
        plain.withUnsafeMutableBytes { buffer in
            let p = buffer.baseAddress!
            for i in 0..<4 { p.storeBytes(of: BatchFormat.payloadMagic[i], toByteOffset: i, as: UInt8.self) }
            p.storeBytes(of: agencyID.rawValue.littleEndian, toByteOffset: 4, as: UInt32.self)
            for i in 0..<16 { p.storeBytes(of: batchID.bytes[i], toByteOffset: 8 + i, as: UInt8.self) }
            p.storeBytes(of: UInt32(events.count).littleEndian, toByteOffset: 24, as: UInt32.self)
            p.storeBytes(of: UInt32(0), toByteOffset: 28, as: UInt32.self)
            for (i, event) in events.enumerated() {
                EventRecord.encode(event, into: buffer, at: BatchFormat.payloadHeaderSize + i * EventRecord.byteCount)
            }
        }
        return plain
    }

    /// Seals `events` to the service key and signs header and ciphertext with the agency key.
    ///
    /// - Parameters:
    ///   - events: 1 ... ``BatchFormat/maxRecords`` events.
    ///   - agencyID: the agency's id in the service registry.
    ///   - batchID: a fresh random id (``BatchID/random()``).
    ///   - createdAt: Unix seconds.
    ///   - signer: the agency's signing key pair.
    ///   - service: the service's box public key.
    public static func seal(
        events: [CaseEvent], agencyID: AgencyID, batchID: BatchID, createdAt: Int64,
        signer: SigningKeyPair, service: BoxPublicKey
    ) throws(BatchError) -> [UInt8] {
        guard !events.isEmpty, events.count <= BatchFormat.maxRecords else {
            throw .recordCountOutOfRange(UInt32(clamping: events.count))
        }
        let header = BatchHeader(
            agencyID: agencyID, recordCount: UInt32(events.count), signingKeyID: KeyID.of(signer.publicKey),
            batchID: batchID, createdAt: createdAt, serviceKeyID: KeyID.of(service)
        )
        var plain = payload(events: events, agencyID: agencyID, batchID: batchID)
        defer { for i in plain.indices { plain[i] = 0 } }
        let sealed: [UInt8]
        do { sealed = try SealedBox.seal(plain, to: service) } catch { throw .payloadOpenFailed }
        var batch = header.encoded()
        batch.reserveCapacity(batch.count + sealed.count + BatchFormat.signatureSize)
        batch += sealed
        guard let signature = try? Signature.sign(batch, with: signer) else { throw .signatureInvalid }
        batch += signature
        return batch
    }
}

/// How much clock difference a receiver tolerates (`specs/batch-format.md` §7, step 6).
public struct TimestampPolicy: Sendable {
    /// Largest accepted `createdAt - now`, in seconds.
    public var maxFutureSkew: Int64
    /// Largest accepted `now - createdAt`, in seconds.
    public var maxAge: Int64

    public init(maxFutureSkew: Int64 = 300, maxAge: Int64 = 30 * 86_400) {
        self.maxFutureSkew = maxFutureSkew
        self.maxAge = maxAge
    }

    /// The service default: 5 minutes ahead, 30 days old.
    public static let standard = TimestampPolicy()
    /// No time checks (for `plazo open` on archived batches).
    public static let none = TimestampPolicy(maxFutureSkew: .max / 2, maxAge: .max / 2)
}

/// A record that failed validation inside an otherwise valid batch.
public struct RecordRejection: Hashable, Sendable {
    /// The record's position in the batch, from 0.
    public let index: Int
    public let error: EventError

    public init(index: Int, error: EventError) {
        self.index = index
        self.error = error
    }
}

/// A verified and opened batch.
public struct OpenedBatch: Sendable {
    public let header: BatchHeader
    /// The records that passed validation, in batch order.
    public let events: [CaseEvent]
    /// The records that did not, with their index and reason.
    public let rejected: [RecordRejection]
}

/// Verifies and opens batches (the receiver side of `specs/batch-format.md`), strictly in the
/// verification order of §7 so that a receiver never decrypts bytes it has not authenticated.
public struct BatchOpener: Sendable {
    /// Looks up the public key that must have signed a batch of `agencyID` with key `keyID`, or
    /// throws ``BatchError/unknownAgency(_:)``, ``BatchError/unknownSigningKey(_:)`` or
    /// ``BatchError/revokedSigningKey(_:)``.
    public typealias AgencyKeyLookup = @Sendable (_ agencyID: AgencyID, _ keyID: KeyID) throws(BatchError) -> SigningPublicKey

    let serviceKeys: [KeyID: BoxKeyPair]
    let agencyKey: AgencyKeyLookup
    let timestampPolicy: TimestampPolicy

    /// - Parameters:
    ///   - serviceKeys: the service box key pairs payloads may be sealed to (several during a rotation).
    ///   - timestampPolicy: the allowed clock skew.
    ///   - agencyKey: the registry lookup.
    public init(serviceKeys: [BoxKeyPair], timestampPolicy: TimestampPolicy = .standard, agencyKey: @escaping AgencyKeyLookup) {
        var keys: [KeyID: BoxKeyPair] = [:]
        for k in serviceKeys { keys[KeyID.of(k.publicKey)] = k }
        self.serviceKeys = keys
        self.agencyKey = agencyKey
        self.timestampPolicy = timestampPolicy
    }

    /// Steps 1–6: everything up to and including the signature and timestamp checks. Returns
    /// the authenticated header.
    public func authenticate(_ batch: UnsafeRawBufferPointer, now: Int64) throws(BatchError) -> BatchHeader {
        try authenticate(batch, now: now, agencyKey: agencyKey)
    }

    /// ``authenticate(_:now:)`` with the registry lookup of this one batch: a receiver whose
    /// registry is read asynchronously looks the header's key up first and hands the answer in
    /// here, where step 5 reports it in its place in the verification order.
    public func authenticate(_ batch: UnsafeRawBufferPointer, now: Int64, agencyKey: AgencyKeyLookup) throws(BatchError) -> BatchHeader {
        let header = try BatchHeader.parse(batch)
        if serviceKeys[header.serviceKeyID] == nil { throw .unknownServiceKey(header.serviceKeyID) }
        let publicKey = try agencyKey(header.agencyID, header.signingKeyID)
        let signedLength = BatchFormat.headerSize + Int(header.payloadLength)
        do {
            try Signature.verify(
                UnsafeRawBufferPointer(rebasing: batch[signedLength..<(signedLength + BatchFormat.signatureSize)]),
                of: UnsafeRawBufferPointer(rebasing: batch[0..<signedLength]),
                by: publicKey
            )
        } catch {
            throw .signatureInvalid
        }
        if header.createdAt > now, header.createdAt - now > timestampPolicy.maxFutureSkew {
            throw .timestampInFuture(createdAt: header.createdAt, now: now)
        }
        if header.createdAt < now, now - header.createdAt > timestampPolicy.maxAge {
            throw .timestampTooOld(createdAt: header.createdAt, now: now)
        }
        return header
    }

    /// Steps 7–8: opens the sealed payload of an authenticated batch into `plaintext` (exactly
    /// `payloadLength - 48` bytes) and checks its inner header against the cleartext header.
    public func openPayload(
        _ batch: UnsafeRawBufferPointer, header: BatchHeader, into plaintext: UnsafeMutableRawBufferPointer
    ) throws(BatchError) {
        guard let keyPair = serviceKeys[header.serviceKeyID] else { throw .unknownServiceKey(header.serviceKeyID) }
        let sealed = UnsafeRawBufferPointer(
            rebasing: batch[BatchFormat.headerSize..<(BatchFormat.headerSize + Int(header.payloadLength))]
        )
        do { try SealedBox.open(sealed, into: plaintext, with: keyPair) } catch { throw .payloadOpenFailed }
        let p = UnsafeRawPointer(plaintext.baseAddress!)
        for i in 0..<4 where p.load(fromByteOffset: i, as: UInt8.self) != BatchFormat.payloadMagic[i] {
            throw .payloadHeaderMismatch(reason: "bad payload magic")
        }
        if UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) != header.agencyID.rawValue {
            throw .payloadHeaderMismatch(reason: "the payload was sealed for another agency")
        }
        for i in 0..<16 where p.load(fromByteOffset: 8 + i, as: UInt8.self) != header.batchID.bytes[i] {
            throw .payloadHeaderMismatch(reason: "the payload was sealed for another batch id")
        }
        if UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt32.self)) != header.recordCount {
            throw .payloadHeaderMismatch(reason: "record counts differ")
        }
        if p.loadUnaligned(fromByteOffset: 28, as: UInt32.self) != 0 {
            throw .payloadHeaderMismatch(reason: "reserved payload field is not zero")
        }
    }

    /// Step 9: decodes and validates every record of an opened payload, calling `accept` for
    /// each valid event and `reject` for each invalid one, in batch order.
    @inlinable
    public static func decodeRecords(
        _ plaintext: UnsafeRawBufferPointer, count: Int, latestDay: Day,
        accept: (Int, CaseEvent) -> Void, reject: (Int, EventError) -> Void
    ) {
        for i in 0..<count {
            do throws(EventError) {
                let event = try EventRecord.decode(
                    plaintext, at: BatchFormat.payloadHeaderSize + i * EventRecord.byteCount, latestDay: latestDay
                )
                accept(i, event)
            } catch {
                reject(i, error)
            }
        }
    }

    /// The whole verification order on one batch: authenticate, open, decode and validate.
    /// Record days are accepted up to the day after `now` (UTC).
    public func open(_ batch: [UInt8], now: Int64) throws(BatchError) -> OpenedBatch {
        try open(batch, now: now, authenticated: true, agencyKey: agencyKey)
    }

    /// ``open(_:now:)`` with the registry's answer for this batch's header (see
    /// ``authenticate(_:now:agencyKey:)``).
    public func open(_ batch: [UInt8], now: Int64, agencyKey: AgencyKeyLookup) throws(BatchError) -> OpenedBatch {
        try open(batch, now: now, authenticated: true, agencyKey: agencyKey)
    }

    /// Re-opens a batch the store accepted at `receivedAt`: opens and decodes it, validating its
    /// records as on that day, without the signature and timestamp checks (steps 4–6).
    ///
    /// For replaying the batch log into memory at start-up only. The bytes were authenticated
    /// before they were stored, and the sealed box's Poly1305 tag still refuses any altered
    /// payload byte; `plazo rebuild` is the audit that checks the signatures again.
    public func openStored(_ batch: [UInt8], receivedAt: Int64) throws(BatchError) -> OpenedBatch {
        try open(batch, now: receivedAt, authenticated: false, agencyKey: agencyKey)
    }

    private func open(_ batch: [UInt8], now: Int64, authenticated: Bool, agencyKey: AgencyKeyLookup) throws(BatchError) -> OpenedBatch {
        let latestDay = (Day(unixSeconds: now) ?? Day(rawValue: .max)).adding(days: 1)
        return try withBytes(batch) { (bytes: UnsafeRawBufferPointer) throws(BatchError) -> OpenedBatch in
            let header = authenticated ? try authenticate(bytes, now: now, agencyKey: agencyKey) : try BatchHeader.parse(bytes)
            var plain = [UInt8](repeating: 0, count: Int(header.payloadLength) - BatchFormat.sealOverhead)
            defer { for i in plain.indices { plain[i] = 0 } }
            var events: [CaseEvent] = []
            events.reserveCapacity(Int(header.recordCount))
            var rejected: [RecordRejection] = []
            try withMutableBytes(&plain) { (buffer: UnsafeMutableRawBufferPointer) throws(BatchError) in
                try openPayload(bytes, header: header, into: buffer)
                Self.decodeRecords(
                    UnsafeRawBufferPointer(buffer), count: Int(header.recordCount), latestDay: latestDay,
                    accept: { _, e in events.append(e) },
                    reject: { i, e in rejected.append(RecordRejection(index: i, error: e)) }
                )
            }
            return OpenedBatch(header: header, events: events, rejected: rejected)
        }
    }
}
