import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoIngest
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// `POST /v1/batches` and `GET /v1/batches/{id}/receipt`.
struct BatchController: Sendable {
    let ingest: IngestService
    let metrics: PlazoMetrics

    func addRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.post(use: submit)
        group.get("{id}/receipt", use: receipt)
    }

    /// Receives a batch. 201 with the receipt when stored now; 200 with the original receipt for
    /// a replay; 4xx with `{"error": {"code", "message"}}` otherwise.
    @Sendable func submit(request: Request, context: PlazoRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        // 413 before reading: a declared length over the limit is refused without reading the body.
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > BatchFormat.maxBatchSize {
            metrics.batchRejected("too_large")
            return errorResponse(.contentTooLarge, code: "too_large", message: BatchError.tooLarge(actual: declared, limit: BatchFormat.maxBatchSize).description)
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: BatchFormat.maxBatchSize) } catch {
            metrics.batchRejected("too_large")
            return errorResponse(.contentTooLarge, code: "too_large", message: "the body is larger than \(BatchFormat.maxBatchSize) bytes")
        }
        let bytes = Array(buffer: body)
        // Verification, decryption, the WAL sync and the index update block for milliseconds (and
        // for as long as a release's projection holds the index): off the cooperative pool, whose
        // few threads keep serving everything else meanwhile.
        let ingest = self.ingest
        let outcome: Result<IngestResult, IngestError> = await offload {
            do throws(IngestError) { return .success(try ingest.submit(bytes)) } catch { return .failure(error) }
        }
        do {
            let result = try outcome.get()
            let r = result.receipt
            if result.replayed {
                metrics.batchReplayed()
            } else {
                metrics.batchAccepted(newEvents: Int(r.newEvents), duplicates: Int(r.accepted - r.newEvents), rejected: r.rejected.count)
            }
            metrics.observeIngest(ContinuousClock.now - started)
            context.logger.info(
                result.replayed ? "batch replayed" : "batch accepted",
                metadata: [
                    "batch.id": "\(r.batchID)", "agency.id": "\(r.agencyID)", "batch.records": "\(r.recordCount)",
                    "batch.new_events": "\(r.newEvents)", "batch.rejected": "\(r.rejected.count)",
                ]
            )
            return jsonResponse(result.replayed ? .ok : .created, receiptJSON(result.receipt, bytes: result.receiptBytes, replayed: result.replayed))
        } catch {
            metrics.batchRejected(error.code)
            context.logger.notice("batch refused", metadata: ["reason": "\(error.code)"])
            return errorResponse(HTTPResponse.Status(code: error.httpStatus), code: error.code, message: error.description)
        }
    }

    /// Returns a stored receipt to the agency that sent the batch. The request is authenticated
    /// by the agency's signature (`specs/openapi.yaml`, `AgencySignature`).
    @Sendable func receipt(request: Request, context: PlazoRequestContext) async throws -> Response {
        guard let idText = context.parameters.get("id"), let batchID = BatchID(hex: idText.lowercased()) else {
            return errorResponse(.badRequest, code: "bad_batch_id", message: "the batch id must be 32 hexadecimal digits")
        }
        let auth: AgencyRequestSignature
        do {
            auth = try AgencyRequestSignature.verify(
                header: request.headers[.authorization], batchID: batchID, now: Int64(Date().timeIntervalSince1970), registry: ingest.registry
            )
        } catch {
            return errorResponse(error.status, code: error.code, message: error.description, headers: [.wwwAuthenticate: AgencyRequestSignature.scheme])
        }
        // A batch of another agency is answered exactly like a missing one.
        guard let stored = try? ingest.log.receipt(batchID: batchID), stored.agencyID == auth.agencyID,
            let receipt = try? Receipt.parse(stored.receipt)
        else {
            return errorResponse(.notFound, code: "unknown_batch", message: "this agency has no batch \(batchID)")
        }
        return jsonResponse(.ok, receiptJSON(receipt, bytes: stored.receipt, replayed: false))
    }
}

/// Human sentences for receipt reasons.
extension RecordReason {
    var message: String {
        switch self {
        case .invalidEventType: "the event type is not in the vocabulary"
        case .invalidDetailCode: "the detail code is not valid for this event type"
        case .codeOutOfRange: "an attribute code is not in its list"
        case .dayInFuture: "a day is after tomorrow"
        case .voidWithoutTarget: "a void event must name the event it retracts"
        case .voidTargetsVoid: "a void event cannot retract another void event"
        case .targetOnNonVoid: "only void events may name a target event"
        case .reservedNotZero: "reserved bytes must be zero"
        }
    }
}

/// The JSON form of a receipt, with the signed canonical bytes in base64.
func receiptJSON(_ r: Receipt, bytes: [UInt8], replayed: Bool) -> [String: Any] {
    [
        "batch_id": r.batchID.hex,
        "replayed": replayed,
        "receipt": [
            "batch_digest": Hex.encode(r.batchDigest),
            "agency_id": Int(r.agencyID),
            "received_at": Int(r.receivedAt),
            "record_count": Int(r.recordCount),
            "accepted": Int(r.accepted),
            "new_events": Int(r.newEvents),
            "duplicates": Int(r.accepted - r.newEvents),
            "rejected": r.rejected.map { ["index": Int($0.index), "reason": $0.reason.code, "message": $0.reason.message] as [String: Any] },
            "service_key_id": r.serviceKeyID.hex,
        ] as [String: Any],
        "signed_receipt": Data(bytes).base64EncodedString(),
    ]
}

/// A JSON response.
func jsonResponse(_ status: HTTPResponse.Status, _ object: [String: Any], headers: HTTPFields = [:]) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// The error body every refusal uses: `{"error": {"code": "...", "message": "..."}}`.
func errorResponse(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) -> Response {
    jsonResponse(status, ["error": ["code": code, "message": message]], headers: headers)
}

/// Turns errors thrown anywhere in the router (unknown route, wrong method, framework errors) into
/// the same JSON error body, and anything unexpected into a 500 that reveals nothing.
struct ErrorBodyMiddleware: RouterMiddleware {
    typealias Context = PlazoRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .contentTooLarge: "too_large"
                case .unauthorized: "unauthorized"
                default: "http_\(error.status.code)"
                }
            return errorResponse(error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("unexpected error", metadata: ["error.type": "\(type(of: error))"])
            return errorResponse(.internalServerError, code: "internal", message: "internal error")
        }
    }
}
