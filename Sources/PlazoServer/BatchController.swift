import Foundation
import Hummingbird
import PlazoApp
import Logging
import NIOCore
import PlazoIngest
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// `POST /v1/batches` and `GET /v1/batches/{id}/receipt`.
struct BatchController: Sendable {
    let service: PlazoService
    let metrics: PlazoMetrics

    func addRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.post(use: submit)
        group.get("{id}/receipt", use: receipt)
    }

    /// Receives a batch. 201 with the receipt when stored now; 200 with the original receipt for
    /// a replay; 4xx with `{"error": {"code", "message"}}` otherwise.
    @Sendable func submit(request: Request, context: PlazoRequestContext) async throws -> EditedResponse<ReceiptResponse> {
        let started = ContinuousClock.now
        // 413 before reading: a declared length over the limit is refused without reading the body.
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > BatchFormat.maxBatchSize {
            metrics.batchRejected("too_large")
            throw APIError(.contentTooLarge, "too_large", BatchError.tooLarge(actual: declared, limit: BatchFormat.maxBatchSize).description)
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: BatchFormat.maxBatchSize) } catch {
            metrics.batchRejected("too_large")
            throw APIError.tooLarge(limit: BatchFormat.maxBatchSize)
        }
        let bytes = Array(buffer: body)
        // The store's work suspends this task (PostgreSQL round trips; SQLite on GRDB's queue);
        // verification and decryption are CPU, a millisecond per thousand events.
        let outcome: Result<IngestResult, IngestError>
        do throws(IngestError) { outcome = .success(try await service.submit(bytes)) } catch { outcome = .failure(error) }
        let result: IngestResult
        switch outcome {
        case let .success(r): result = r
        case let .failure(error):
            metrics.batchRejected(error.code)
            context.logger.notice("batch refused", metadata: ["reason": "\(error.code)"])
            throw error.apiError
        }
        let r = result.receipt
        if result.replayed {
            metrics.batchReplayed()
        } else {
            metrics.batchAccepted(newEvents: Int(r.newEvents), duplicates: Int(r.accepted - r.newEvents), rejected: r.rejected.count)
        }
        metrics.observeIngest(ContinuousClock.now - started)
        context.logger.info(result.replayed ? "batch replayed" : "batch accepted", metadata: ["batch.id": "\(r.batchID)", "agency.id": "\(r.agencyID.rawValue)"])
        // Counts of records and events only at debug level (docs/api-guide.md, "Logs").
        context.logger.debug(
            "batch counts",
            metadata: ["batch.id": "\(r.batchID)", "batch.records": "\(r.recordCount)", "batch.new_events": "\(r.newEvents)", "batch.rejected": "\(r.rejected.count)"])
        return EditedResponse(
            status: result.replayed ? .ok : .created, response: ReceiptResponse(r, bytes: result.receiptBytes, replayed: result.replayed))
    }

    /// Returns a stored receipt to the agency that sent the batch. The request is authenticated
    /// by the agency's signature (`specs/openapi.yaml`, `AgencySignature`).
    @Sendable func receipt(request: Request, context: PlazoRequestContext) async throws -> ReceiptResponse {
        guard let idText = context.parameters.get("id"), let batchID = BatchID(hex: idText.lowercased()) else {
            throw APIError(.badRequest, "bad_batch_id", "the batch id must be 32 hexadecimal digits")
        }
        let (service, header, now) = (self.service, request.headers[.authorization], Int64(Date().timeIntervalSince1970))
        // The signature check reads the registry and the receipt is a store read.
        let auth: AgencyRequestSignature
        do throws(AgencyRequestSignature.Failure) {
            auth = try await AgencyRequestSignature.verify(header: header, batchID: batchID, now: now, registry: service.registry)
        } catch {
            throw error.apiError
        }
        let stored = try? await service.storedReceipt(batchID: batchID)
        // A batch of another agency is answered exactly like a missing one.
        guard let stored, stored.agencyID == AgencyID(auth.agencyID),
            let receipt = try? Receipt.parse(stored.receipt)
        else {
            throw APIError(.notFound, "unknown_batch", "this agency has no batch \(batchID)")
        }
        return ReceiptResponse(receipt, bytes: stored.receipt, replayed: false)
    }
}

/// The receipt is the batch endpoint's typed answer (its keys are spelt in `PlazoWire`, which
/// `plazo submit` decodes with).
extension ReceiptResponse: ResponseEncodable {}
