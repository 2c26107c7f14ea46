import Foundation
import PlazoModel
import PlazoSodium
import PlazoWire

/// Collects events and writes them as sealed, signed batch files of at most `maxRecords`
/// records each (`<prefix>-0001.plzb`, `<prefix>-0002.plzb`, ...), so that a large export
/// becomes several batches that can be submitted and acknowledged one by one.
public struct BatchFileWriter {
    /// The file extension of sealed batches.
    public static let fileExtension = "plzb"

    let directory: URL
    let prefix: String
    let agencyID: AgencyID
    let signer: SigningKeyPair
    let service: BoxPublicKey
    let maxRecords: Int
    let createdAt: Int64
    var pending: [CaseEvent] = []
    /// Files written so far, with their batch ids and record counts.
    public private(set) var written: [(path: String, batchID: BatchID, records: Int)] = []

    /// - Parameters:
    ///   - directory: where batch files go (created if missing).
    ///   - prefix: file-name prefix.
    ///   - maxRecords: records per batch, 1 ... ``BatchFormat/maxRecords``.
    public init(
        directory: URL, prefix: String, agencyID: AgencyID, signer: SigningKeyPair, service: BoxPublicKey,
        maxRecords: Int = 10_000, createdAt: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws {
        precondition((1...BatchFormat.maxRecords).contains(maxRecords), "maxRecords out of range")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.prefix = prefix
        self.agencyID = agencyID
        self.signer = signer
        self.service = service
        self.maxRecords = maxRecords
        self.createdAt = createdAt
        pending.reserveCapacity(maxRecords)
    }

    /// Adds one event, writing a batch when `maxRecords` are pending.
    public mutating func add(_ event: CaseEvent) throws {
        pending.append(event)
        if pending.count == maxRecords { try flush() }
    }

    /// Forgets every pending event and deletes every batch file written so far (none has been
    /// submitted: used when an export must be read again, e.g. to hold cases back whole).
    public mutating func discard() throws {
        pending.removeAll(keepingCapacity: true)
        for file in written { try FileManager.default.removeItem(atPath: file.path) }
        written.removeAll()
    }

    /// Writes the pending events, if any, as one batch.
    public mutating func flush() throws {
        guard !pending.isEmpty else { return }
        let batchID = try BatchID.random()
        let bytes = try BatchSealer.seal(
            events: pending, agencyID: agencyID, batchID: batchID, createdAt: createdAt, signer: signer, service: service
        )
        let name = String(format: "%@-%04d.%@", prefix, written.count + 1, Self.fileExtension)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url, options: [.withoutOverwriting])
        written.append((url.path, batchID, pending.count))
        pending.removeAll(keepingCapacity: true)
    }
}
