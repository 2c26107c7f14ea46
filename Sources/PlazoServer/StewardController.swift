import Foundation
import Hummingbird
import Logging
import PlazoApp
import PlazoLedger
import PlazoModel
import PlazoPrivacy
import PlazoSodium
import PlazoStore
import PlazoWire

/// The data steward's endpoints (mounted behind ``RequireRole`` for `steward`):
///
/// - `GET /v1/ledger`: the privacy-budget ledger (balances per cohort, spends, audit);
/// - `GET|POST /v1/agencies`, `GET /v1/agencies/{agency}`, `POST /v1/agencies/{agency}/rotate|revoke`;
/// - `GET|POST /v1/tokens`, `POST /v1/tokens/{token}/revoke`.
///
/// These read and change the service's configuration, never case data: nothing here returns a
/// statistic about cases.
struct StewardController: Sendable {
    let ledger: BudgetLedger
    let registry: AgencyRegistry
    let tokens: TokenStore
    let clock: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<PlazoRequestContext>) {
        group.get("ledger", use: ledgerView)
        group.get("agencies", use: listAgencies)
        group.post("agencies", use: addAgency)
        group.get("agencies/{agency}", use: showAgency)
        group.post("agencies/{agency}/rotate", use: rotateAgency)
        group.post("agencies/{agency}/revoke", use: revokeAgencyKey)
        group.get("tokens", use: listTokens)
        group.post("tokens", use: createToken)
        group.post("tokens/{token}/revoke", use: revokeToken)
    }

    // MARK: - Ledger

    /// The ledger: default budget, every scope's balance, the spends (only those naming `scope`
    /// when the query asks), and the audit's verdict.
    @Sendable func ledgerView(request: Request, context: PlazoRequestContext) async throws -> LedgerResponse {
        var scope: Quarter?
        if let text = request.uri.queryParameters["scope"] {
            do { scope = try Quarter(scope: String(text)) } catch {
                throw APIError(.badRequest, "bad_scope", error.description)
            }
        }
        let body: LedgerResponse
        do {
            // Four reads of the store.
            let (audit, spends, history, defaultBudget) = (
                try await ledger.audit(), try await ledger.entries(scope: scope), try await ledger.history(), try await ledger.defaultBudget()
            )
            body = LedgerResponse(
                defaultBudget: RhoJSON(defaultBudget.rho),
                balances: audit.balances.filter { scope == nil || $0.scope == scope }.map { b in
                    LedgerResponse.Balance(
                        scope: b.scope.description, budget: RhoJSON(b.budget.rho), budgetIsDefault: b.budgetIsDefault,
                        spent: RhoJSON(b.spent.rho), remaining: RhoJSON(Rational.ledgerUnits(b.remainingUnits)), spendCount: b.spendCount)
                },
                spends: spends.map { e in
                    LedgerResponse.Spend(
                        id: e.id, spentAt: timestamp(e.spentAt), scopes: e.scopes.map(\.description), cost: CostJSON(e.cost),
                        charged: RhoJSON(e.charged.rho), purpose: e.purpose, requester: e.requester)
                },
                audit: LedgerResponse.Audit(
                    consistent: audit.isConsistent, problems: audit.problems, spendCount: audit.spendCount,
                    flaggedBudgetChanges: history.filter(\.flagged).map(\.id)),
                budgetHistory: history.filter { scope == nil || $0.scope == nil || $0.scope == scope }.map { h in
                    LedgerResponse.BudgetChange(
                        id: h.id, changedAt: timestamp(h.changedAt), changedBy: h.changedBy, scope: h.scope?.description,
                        previous: h.previous.map { RhoJSON($0.rho) }, budget: RhoJSON(h.budget.rho), requested: h.requested.description,
                        flagged: h.flagged, flags: h.flags, reason: h.reason)
                }
            )
        } catch {
            throw APIError(.serviceUnavailable, "ledger_unavailable", "the ledger could not be read", cause: "\(error)")
        }
        return body
    }

    // MARK: - Agencies

    @Sendable func listAgencies(request: Request, context: PlazoRequestContext) async throws -> AgencyList {
        let list: [AgencyRecord]
        do { list = try await registry.list() } catch { throw error.apiError }
        return AgencyList(agencies: list.map(AgencyJSON.init))
    }

    @Sendable func showAgency(request: Request, context: PlazoRequestContext) async throws -> AgencyJSON {
        let reference = try context.parameters.requireDecoded("agency")
        let record: AgencyRecord
        do { record = try await registry.find(reference) } catch { throw error.apiError }
        return AgencyJSON(record)
    }

    struct NewAgency: Decodable {
        let name: String
        let type: String
        let publicKey: String
        enum CodingKeys: String, CodingKey { case name, type, publicKey = "public_key" }
    }

    @Sendable func addAgency(request: Request, context: PlazoRequestContext) async throws -> EditedResponse<AgencyJSON> {
        let form = try await request.decode(as: NewAgency.self, context: context)
        let type: AgencyType
        do { type = try AgencyType.parse(form.type) } catch {
            throw APIError(.unprocessableContent, "invalid_agency_type", error.description)
        }
        let key = try Self.parsePublicKey(form.publicKey)
        let record: AgencyRecord
        do {
            record = try await registry.add(name: form.name, type: type, publicKey: key, now: clock())
        } catch {
            throw error.apiError
        }
        context.logger.info("agency registered", metadata: ["agency.id": "\(record.id.rawValue)"])
        return EditedResponse(status: .created, response: AgencyJSON(record))
    }

    struct NewKey: Decodable {
        let publicKey: String
        enum CodingKeys: String, CodingKey { case publicKey = "public_key" }
    }

    @Sendable func rotateAgency(request: Request, context: PlazoRequestContext) async throws -> AgencyJSON {
        let reference = try context.parameters.requireDecoded("agency")
        let form = try await request.decode(as: NewKey.self, context: context)
        let key = try Self.parsePublicKey(form.publicKey)
        let record: AgencyRecord
        do {
            record = try await registry.rotate(reference, newKey: key, now: clock())
        } catch {
            throw error.apiError
        }
        context.logger.info("agency key rotated", metadata: ["agency.id": "\(record.id.rawValue)"])
        return AgencyJSON(record)
    }

    /// The body is optional: none (or `{}`) revokes the active key.
    struct KeyChoice: EmptyBodyDecodable {
        let keyID: String?
        enum CodingKeys: String, CodingKey { case keyID = "key_id" }
        static var emptyBody: KeyChoice { KeyChoice(keyID: nil) }
    }

    @Sendable func revokeAgencyKey(request: Request, context: PlazoRequestContext) async throws -> AgencyJSON {
        let reference = try context.parameters.requireDecoded("agency")
        let form = try await request.decode(as: KeyChoice.self, context: context)
        var keyID: KeyID?
        if let text = form.keyID {
            guard let id = KeyID(hex: text) else {
                throw APIError(.unprocessableContent, "invalid_key_id", "key_id must be 16 hexadecimal digits")
            }
            keyID = id
        }
        let record: AgencyRecord
        do {
            record = try await registry.revoke(reference, keyID: keyID, now: clock())
        } catch {
            throw error.apiError
        }
        context.logger.info("agency key revoked", metadata: ["agency.id": "\(record.id.rawValue)"])
        return AgencyJSON(record)
    }

    /// An Ed25519 public key given as 64 hex digits or as the text of an `agency-signing.public`
    /// key file.
    static func parsePublicKey(_ text: String) throws(APIError) -> SigningPublicKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8]?
        if trimmed.hasPrefix(KeyFile.magicLine) {
            guard let file = try? KeyFile.parse(trimmed + "\n", path: "public_key"), file.kind == .agencySigningPublic else {
                throw APIError(.unprocessableContent, "invalid_public_key", "public_key is not an agency-signing-public key file")
            }
            bytes = file.key.withUnsafeBytes { Array($0) }
        } else {
            bytes = Hex.decode(trimmed)
        }
        guard let bytes, let key = try? SigningPublicKey(bytes: bytes) else {
            throw APIError(
                .unprocessableContent, "invalid_public_key", "public_key must be 64 hexadecimal digits or an agency-signing.public key file")
        }
        return key
    }

    // MARK: - Tokens

    @Sendable func listTokens(request: Request, context: PlazoRequestContext) async throws -> TokenList {
        let all = request.uri.queryParameters["include_revoked"].map { $0 == "true" || $0 == "1" } ?? false
        let list: [TokenRecord]
        do { list = try await tokens.list(includeRevoked: all) } catch { throw error.apiError }
        return TokenList(tokens: list.map { TokenJSON($0) })
    }

    struct NewToken: Decodable {
        let name: String
        let role: String
    }

    /// Creates a token; the answer carries it once (and `Cache-Control: no-store`).
    @Sendable func createToken(request: Request, context: PlazoRequestContext) async throws -> EditedResponse<TokenJSON> {
        let form = try await request.decode(as: NewToken.self, context: context)
        guard let role = TokenRole(rawValue: form.role) else {
            throw APIError(.unprocessableContent, "invalid_role", "role must be oversight, researcher or steward")
        }
        let issued: IssuedToken
        do {
            let createdBy = context.token.map { "token \($0.id) (\($0.name))" } ?? "api"
            issued = try await tokens.create(name: form.name, role: role, createdBy: createdBy)
        } catch { throw error.apiError }
        context.logger.info("token created", metadata: ["created.token.id": "\(issued.record.id)", "created.token.role": "\(role)"])
        return EditedResponse(status: .created, headers: [.cacheControl: "no-store"], response: TokenJSON(issued.record, token: issued.token))
    }

    @Sendable func revokeToken(request: Request, context: PlazoRequestContext) async throws -> TokenJSON {
        let reference = try context.parameters.requireDecoded("token")
        let record: TokenRecord
        do { record = try await tokens.revoke(reference) } catch { throw error.apiError }
        context.logger.info("token revoked", metadata: ["revoked.token.id": "\(record.id)"])
        return TokenJSON(record)
    }
}

extension Rational {
    /// A signed count of ledger units as an exact ρ (for remaining budgets, which may be negative
    /// after a budget was lowered).
    static func ledgerUnits(_ units: Int64) -> Rational {
        if units >= 0 { return RhoUnits(units: units).rho }
        let positive = RhoUnits(units: -units).rho
        return (try? Rational.zero.subtracting(positive)) ?? positive
    }
}
