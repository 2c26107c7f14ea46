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
        try printLine(OpenedHeader(
            version: Int(h.version), agencyID: h.agencyID.rawValue, batchID: h.batchID.hex, signingKeyID: h.signingKeyID.hex,
            serviceKeyID: h.serviceKeyID.hex, createdAt: h.createdAt, recordCount: Int(h.recordCount), accepted: opened.events.count,
            rejected: opened.rejected.count))
        // Records in batch order, valid and rejected interleaved by index.
        var rejected = opened.rejected.makeIterator()
        var nextRejected = rejected.next()
        var index = 0
        for event in opened.events {
            while let r = nextRejected, r.index == index {
                try printLine(OpenedLine(kind: "rejected", index: r.index, reason: r.error.code, message: r.error.description))
                nextRejected = rejected.next()
                index += 1
            }
            try printLine(Self.json(event, index: index))
            index += 1
        }
        while let r = nextRejected {
            try printLine(OpenedLine(kind: "rejected", index: r.index, reason: r.error.code, message: r.error.description))
            nextRejected = rejected.next()
        }
    }

    static func json(_ e: CaseEvent, index: Int) -> OpenedLine {
        var o = OpenedLine(kind: "record", index: index)
        o.case = e.pseudonym.hex
        o.event = e.type.label
        o.day = e.day.iso
        o.offenceCategory = e.attributes.offence.label
        o.victimAgeBand = e.attributes.ageBand.label
        o.victimSex = e.attributes.sex.label
        o.state = e.attributes.state.label
        o.reportChannel = e.attributes.channel.label
        o.agencyType = e.agencyType.label
        if let vocabulary = e.type.detailAttribute {
            o.detail = vocabulary.labelOf(raw: e.detail)
        }
        if let t = e.target {
            o.targetEvent = t.type.label
            o.targetDay = t.day.iso
            if let vocabulary = t.type.detailAttribute { o.targetDetail = vocabulary.labelOf(raw: t.detail) }
        }
        return o
    }

    private func printLine(_ line: some Encodable) throws {
        print(try PlazoJSON.text(line, pretty: false))
    }
}

/// The first JSON line of `plazo open`: the batch header and how many records were accepted.
struct OpenedHeader: Encodable {
    var kind = "header"
    var version: Int
    var agencyID: UInt32
    var batchID: String
    var signingKeyID: String
    var serviceKeyID: String
    var createdAt: Int64
    var recordCount: Int
    var accepted: Int
    var rejected: Int
    enum CodingKeys: String, CodingKey {
        case kind, version, agencyID = "agency_id", batchID = "batch_id", signingKeyID = "signing_key_id"
        case serviceKeyID = "service_key_id", createdAt = "created_at", recordCount = "record_count", accepted, rejected
    }
}

/// One JSON line of `plazo open`: a record (`kind` = `record`) or a rejected one (`rejected`,
/// with `reason` and `message`). Absent fields are left out.
struct OpenedLine: Encodable {
    var kind: String
    var index: Int
    var reason: String?
    var message: String?
    var `case`: String?
    var event: String?
    var day: String?
    var offenceCategory: String?
    var victimAgeBand: String?
    var victimSex: String?
    var state: String?
    var reportChannel: String?
    var agencyType: String?
    var detail: String?
    var targetEvent: String?
    var targetDay: String?
    var targetDetail: String?

    enum CodingKeys: String, CodingKey {
        case kind, index, reason, message, `case`, event, day, offenceCategory = "offence_category", victimAgeBand = "victim_age_band"
        case victimSex = "victim_sex", state, reportChannel = "report_channel", agencyType = "agency_type", detail
        case targetEvent = "target_event", targetDay = "target_day", targetDetail = "target_detail"
    }
}

extension VocabularyCode {
    static func labelOf(raw: UInt8) -> String { Self(rawValue: raw)?.label ?? "\(raw)" }
}
