import ArgumentParser
import Foundation
import PlazoModel
import PlazoSodium
import PlazoWire

/// `plazo open`: verifies and opens a batch file (for the service operator and for tests).
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Verify and open a sealed batch file, printing its records as JSON lines.",
        discussion: """
            Follows the verification order of specs/batch-format.md. The first line describes the \
            batch ("kind":"header"); then one line per record, "kind":"record" for valid records and \
            "kind":"rejected" with a reason for invalid ones. Exits with status 1 and a reason code \
            if the batch as a whole is refused. Output contains case pseudonyms: operator use only.
            """
    )

    @Argument(help: "The batch file.")
    var batch: String

    @Option(name: .long, help: "The service's box secret key file (service-box.secret).")
    var serviceKey: String

    @Option(name: .long, help: "The agency's signing public key file (agency-signing.public).")
    var agencyKey: String

    @Flag(name: .long, help: "Also check the creation time against the service's allowed clock skew.")
    var checkTime = false

    func run() throws {
        let service = try KeyFile.read(serviceKey, expecting: .serviceBoxSecret).boxKeyPair()
        let agency = try KeyFile.read(agencyKey, expecting: .agencySigningPublic).signingPublicKey()
        let agencyKeyID = KeyID.of(agency)
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: batch))) } catch {
            throw ValidationError("cannot read \(batch)")
        }
        let opener = BatchOpener(serviceKeys: [service], timestampPolicy: checkTime ? .standard : .none) {
            (_, keyID) throws(BatchError) in
            guard keyID == agencyKeyID else { throw .unknownSigningKey(keyID) }
            return agency
        }
        let opened: OpenedBatch
        do { opened = try opener.open(bytes, now: Int64(Date().timeIntervalSince1970)) } catch {
            FileHandle.standardError.write(Data("refused: \(error.code): \(error.description)\n".utf8))
            throw ExitCode.failure
        }
        let h = opened.header
        printLine([
            "kind": "header", "version": Int(h.version), "agency_id": Int(h.agencyID), "batch_id": h.batchID.hex,
            "signing_key_id": h.signingKeyID.hex, "service_key_id": h.serviceKeyID.hex, "created_at": Int(h.createdAt),
            "record_count": Int(h.recordCount), "accepted": opened.events.count, "rejected": opened.rejected.count,
        ])
        // Records in batch order, valid and rejected interleaved by index.
        var rejected = opened.rejected.makeIterator()
        var nextRejected = rejected.next()
        var index = 0
        for event in opened.events {
            while let r = nextRejected, r.index == index {
                printLine(["kind": "rejected", "index": r.index, "reason": r.error.code, "message": r.error.description])
                nextRejected = rejected.next()
                index += 1
            }
            printLine(Self.json(event, index: index))
            index += 1
        }
        while let r = nextRejected {
            printLine(["kind": "rejected", "index": r.index, "reason": r.error.code, "message": r.error.description])
            nextRejected = rejected.next()
        }
    }

    static func json(_ e: CaseEvent, index: Int) -> [String: Any] {
        var o: [String: Any] = [
            "kind": "record", "index": index, "case": e.pseudonym.hex, "event": e.type.label, "day": e.day.iso,
            "offence_category": e.attributes.offence.label, "victim_age_band": e.attributes.ageBand.label,
            "victim_sex": e.attributes.sex.label, "state": e.attributes.state.label,
            "report_channel": e.attributes.channel.label, "agency_type": e.agencyType.label,
        ]
        if let vocabulary = e.type.detailAttribute {
            o["detail"] = vocabulary.labelOf(raw: e.detail)
        }
        if let t = e.target {
            o["target_event"] = t.type.label
            o["target_day"] = t.day.iso
            if let vocabulary = t.type.detailAttribute { o["target_detail"] = vocabulary.labelOf(raw: t.detail) }
        }
        return o
    }

    private func printLine(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

extension VocabularyCode {
    static func labelOf(raw: UInt8) -> String { Self(rawValue: raw)?.label ?? "\(raw)" }
}
