import Foundation
import Hummingbird
import PlazoApp
import PlazoCases
import PlazoIngest
import PlazoModel
import PlazoStore

/// An agency's quality report and worklists (`AgencyQualityReport`):
/// - `GET /v1/quality`: the agency's own report, by a request signed with its key (`Plazo-Agency`
///   header over `"plazo-quality-request-v1\n" + <agency id> + "\n" + <time>`), computed from its
///   own events only;
/// - `GET /v1/agencies/{agency}/quality` (steward token): the same, plus what depends on other
///   agencies' events (`linked_cases`), which the agency itself never sees.
///
/// Query: `cutoff=YYYY-MM-DD` (default today), `limit` (cases per worklist, 1–5,000, default 500).
struct QualityController: Sendable {
    let service: PlazoService

    func addAgencyRoute(to router: Router<PlazoRequestContext>) {
        router.get("/v1/quality", use: agencyView)
    }

    func addStewardRoute(to group: RouterGroup<PlazoRequestContext>) {
        group.get("agencies/{agency}/quality", use: stewardView)
    }

    static func parameters(_ request: Request) throws -> (cutoff: Day, limit: Int) {
        let query = request.uri.queryParameters
        var cutoff = Day(unixSeconds: Int64(Date().timeIntervalSince1970))!
        if let text = query.get("cutoff") {
            guard let day = Day(iso: text) else { throw APIError(.badRequest, "bad_cutoff", "cutoff must be a date YYYY-MM-DD") }
            cutoff = day
        }
        var limit = 500
        if let text = query.get("limit") {
            guard let n = Int(text), (1...5000).contains(n) else { throw APIError(.badRequest, "bad_limit", "limit must be a whole number from 1 to 5000") }
            limit = n
        }
        return (cutoff, limit)
    }

    @Sendable func agencyView(request: Request, context: PlazoRequestContext) async throws -> AgencyQualityReport {
        let (service, header, now) = (self.service, request.headers[.authorization], Int64(Date().timeIntervalSince1970))
        let auth: AgencyRequestSignature
        do throws(AgencyRequestSignature.Failure) {
            auth = try await AgencyRequestSignature.verify(header: header, now: now, registry: service.registry) { agency, time in
                AgencyRequestSignature.qualityMessage(agencyID: agency, time: time)
            }
        } catch {
            throw error.apiError
        }
        let (cutoff, limit) = try Self.parameters(request)
        let report = try? await service.qualityReport(agency: AgencyID(auth.agencyID), asOf: cutoff, limit: limit)
        guard let report else { throw APIError(.serviceUnavailable, "store_unavailable", "the store could not be read") }
        return report.forAgency
    }

    @Sendable func stewardView(request: Request, context: PlazoRequestContext) async throws -> AgencyQualityReport {
        let (service, reference) = (self.service, pathParameter(context, "agency"))
        let record: AgencyRecord
        do { record = try await service.registry.find(reference) } catch { throw error.apiError }
        let (cutoff, limit) = try Self.parameters(request)
        let report = try? await service.qualityReport(agency: record.id, asOf: cutoff, limit: limit)
        guard let report else { throw APIError(.serviceUnavailable, "store_unavailable", "the store could not be read") }
        return report
    }
}

/// A quality report is the quality endpoints' typed answer (its keys are spelt in `PlazoCases`).
extension AgencyQualityReport: ResponseEncodable {}
