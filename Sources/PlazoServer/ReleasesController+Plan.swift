import Foundation
import Hummingbird
import PlazoApp
import PlazoLedger
import PlazoPrivacy
import PlazoReleases
import PlazoStore

extension ReleasesController {
    /// `POST /v1/release-plans` (steward): accuracy before spend (``AccuracyPlanner``). The body is
    /// a plan request (releases per cohort, optional lifetime ρ, targets, fixed tables); without
    /// `lifetime_rho` the ledger's default budget is planned with. Reads no case data, spends
    /// nothing, stores nothing: 200 with the plan, 400 `bad_json` for a body that is not a plan
    /// request, 422 `invalid_spec` for one the planner refuses (the sentence says why).
    @Sendable func plan(request: Request, context: PlazoRequestContext) async throws -> Response {
        let bytes: ByteBuffer
        do { bytes = try await request.body.collect(upTo: maxJSONBodySize) } catch {
            throw APIError.tooLarge(limit: maxJSONBodySize)
        }
        let planRequest: AccuracyPlanner.Request
        do {
            planRequest = try JSONDecoder().decode(AccuracyPlanner.Request.self, from: Data(bytes.readableBytesView))
        } catch {
            throw APIError(
                .badRequest, "bad_json",
                "the body must be a plan request: a JSON object with releases_per_cohort and targets (table, half_width, expected_cases); see docs/examples/quarterly-targets.json",
                cause: "\(error)")
        }
        let budget: Rational
        if let text = planRequest.lifetimeRho {
            do { budget = try Rational(parsing: text) } catch {
                throw APIError(.unprocessableContent, "invalid_spec", "lifetime_rho \"\(text.prefix(40))\" is not an exact rational (\"1\", \"1/2\")")
            }
        } else {
            let engine = cache.engine
            let read: Result<Rational, LedgerError>
            do throws(LedgerError) { read = .success(try await BudgetLedger(database: engine.database).defaultBudget().rho) } catch { read = .failure(error) }
            switch read {
            case let .success(rho): budget = rho
            case let .failure(error): throw APIError(.serviceUnavailable, "store_unavailable", "the ledger could not be read", cause: "\(error)")
            }
        }
        let plan: AccuracyPlanner.Plan
        do { plan = try AccuracyPlanner.plan(planRequest, lifetimeRho: budget) } catch { throw error.apiError }
        return try jsonResponse(.ok, plan, encoder: ReleaseDryRun.jsonEncoder(pretty: false))
    }
}
