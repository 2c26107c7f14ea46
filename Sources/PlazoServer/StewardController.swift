import Foundation
import Hummingbird
import Logging
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
    @Sendable func ledgerView(request: Request, context: PlazoRequestContext) async throws -> Response {
        var scope: PrivacyScope?
        if let text = request.uri.queryParameters["scope"] {
            do { scope = try PrivacyScope(String(text)) } catch {
                return errorResponse(.badRequest, code: "bad_scope", message: error.description)
            }
        }
        do {
            let audit = try ledger.audit()
            let spends = try ledger.entries(scope: scope)
            let history = try ledger.history()
            let body: [String: Any] = [
                "default_budget": rhoJSON(try ledger.defaultBudget().rho),
                "balances": audit.balances.filter { scope == nil || $0.scope == scope }.map { b -> [String: Any] in
                    [
                        "scope": b.scope.rawValue, "budget": rhoJSON(b.budget.rho), "budget_is_default": b.budgetIsDefault,
                        "spent": rhoJSON(b.spent.rho),
                        "remaining": rhoJSON(Rational.ledgerUnits(b.remainingUnits)),
                        "spend_count": b.spendCount,
                    ]
                },
                "spends": spends.map { e -> [String: Any] in
                    [
                        "id": Int(e.id), "spent_at": timestamp(e.spentAt), "scopes": e.scopes.map(\.rawValue),
                        "cost": costJSON(e.cost), "charged": rhoJSON(e.charged.rho), "purpose": e.purpose, "requester": e.requester,
                    ]
                },
                "audit": [
                    "consistent": audit.isConsistent, "problems": audit.problems, "spend_count": audit.spendCount,
                    "flagged_budget_changes": history.filter(\.flagged).map { Int($0.id) },
                ] as [String: Any],
                // Who changed which budget, when, from what to what, and why (oldest first).
                "budget_history": history.filter { scope == nil || $0.scope == nil || $0.scope == scope }.map { h -> [String: Any] in
                    var e: [String: Any] = [
                        "id": Int(h.id), "changed_at": timestamp(h.changedAt), "changed_by": h.changedBy,
                        "scope": h.scope.map { $0.rawValue as Any } ?? NSNull(),
                        "previous": h.previous.map { rhoJSON($0.rho) as Any } ?? NSNull(), "budget": rhoJSON(h.budget.rho),
                        "requested": h.requested.description, "flagged": h.flagged, "flags": h.flags,
                    ]
                    e["reason"] = h.reason.map { $0 as Any } ?? NSNull()
                    return e
                },
            ]
            return jsonResponse(.ok, body)
        } catch {
            context.logger.error("ledger unreadable", metadata: ["error.code": "ledger_unavailable"])
            return errorResponse(.serviceUnavailable, code: "ledger_unavailable", message: "the ledger could not be read")
        }
    }

    // MARK: - Agencies

    @Sendable func listAgencies(request: Request, context: PlazoRequestContext) async throws -> Response {
        do { return jsonResponse(.ok, ["agencies": try registry.list().map(agencyJSON)]) } catch {
            return registryError(error)
        }
    }

    @Sendable func showAgency(request: Request, context: PlazoRequestContext) async throws -> Response {
        let reference = pathParameter(context, "agency")
        do { return jsonResponse(.ok, agencyJSON(try registry.find(reference))) } catch { return registryError(error) }
    }

    struct NewAgency: Decodable {
        let name: String
        let type: String
        let publicKey: String
        enum CodingKeys: String, CodingKey { case name, type, publicKey = "public_key" }
    }

    @Sendable func addAgency(request: Request, context: PlazoRequestContext) async throws -> Response {
        let form: NewAgency
        switch await readJSON(request, as: NewAgency.self) {
        case let .failure(e): return e.response
        case let .success(f): form = f
        }
        let type: AgencyType
        do { type = try AgencyType.parse(form.type) } catch {
            return errorResponse(.unprocessableContent, code: "invalid_agency_type", message: error.description)
        }
        let key: SigningPublicKey
        switch Self.parsePublicKey(form.publicKey) {
        case let .failure(e): return e.response
        case let .success(k): key = k
        }
        do {
            let record = try registry.add(name: form.name, type: type, publicKey: key, now: clock())
            context.logger.info("agency registered", metadata: ["agency.id": "\(record.id)"])
            return jsonResponse(.created, agencyJSON(record))
        } catch { return registryError(error) }
    }

    struct NewKey: Decodable {
        let publicKey: String
        enum CodingKeys: String, CodingKey { case publicKey = "public_key" }
    }

    @Sendable func rotateAgency(request: Request, context: PlazoRequestContext) async throws -> Response {
        let reference = pathParameter(context, "agency")
        let form: NewKey
        switch await readJSON(request, as: NewKey.self) {
        case let .failure(e): return e.response
        case let .success(f): form = f
        }
        let key: SigningPublicKey
        switch Self.parsePublicKey(form.publicKey) {
        case let .failure(e): return e.response
        case let .success(k): key = k
        }
        do {
            let record = try registry.rotate(reference, newKey: key, now: clock())
            context.logger.info("agency key rotated", metadata: ["agency.id": "\(record.id)"])
            return jsonResponse(.ok, agencyJSON(record))
        } catch { return registryError(error) }
    }

    struct KeyChoice: Decodable {
        let keyID: String?
        enum CodingKeys: String, CodingKey { case keyID = "key_id" }
    }

    @Sendable func revokeAgencyKey(request: Request, context: PlazoRequestContext) async throws -> Response {
        let reference = pathParameter(context, "agency")
        // The body is optional: none (or `{}`) revokes the active key.
        let form: KeyChoice
        switch await readJSON(request, as: KeyChoice.self, emptyAs: KeyChoice(keyID: nil)) {
        case let .failure(e): return e.response
        case let .success(f): form = f
        }
        var keyID: KeyID?
        if let text = form.keyID {
            guard let id = KeyID(hex: text) else {
                return errorResponse(.unprocessableContent, code: "invalid_key_id", message: "key_id must be 16 hexadecimal digits")
            }
            keyID = id
        }
        do {
            let record = try registry.revoke(reference, keyID: keyID, now: clock())
            context.logger.info("agency key revoked", metadata: ["agency.id": "\(record.id)"])
            return jsonResponse(.ok, agencyJSON(record))
        } catch { return registryError(error) }
    }

    /// An Ed25519 public key given as 64 hex digits or as the text of an `agency-signing.public`
    /// key file.
    static func parsePublicKey(_ text: String) -> Result<SigningPublicKey, ResponseError> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8]?
        if trimmed.hasPrefix(KeyFile.magicLine) {
            guard let file = try? KeyFile.parse(trimmed + "\n", path: "public_key"), file.kind == .agencySigningPublic else {
                return .failure(ResponseError(.unprocessableContent, "invalid_public_key", "public_key is not an agency-signing-public key file"))
            }
            bytes = file.key.withUnsafeBytes { Array($0) }
        } else {
            bytes = Hex.decode(trimmed)
        }
        guard let bytes, let key = try? SigningPublicKey(bytes: bytes) else {
            return .failure(ResponseError(
                .unprocessableContent, "invalid_public_key", "public_key must be 64 hexadecimal digits or an agency-signing.public key file"))
        }
        return .success(key)
    }

    func agencyJSON(_ a: AgencyRecord) -> [String: Any] {
        [
            "id": Int(a.id), "name": a.name, "type": a.type.label, "created_at": timestamp(a.createdAt),
            "keys": a.keys.map { k -> [String: Any] in
                var key: [String: Any] = [
                    "key_id": k.keyID.hex, "public_key": Hex.encode(k.publicKey.bytes), "status": k.status.rawValue,
                    "added_at": timestamp(k.addedAt),
                ]
                if let retired = k.retiredAt { key["retired_at"] = timestamp(retired) }
                return key
            },
        ]
    }

    func registryError(_ error: RegistryError) -> Response {
        let status: HTTPResponse.Status =
            switch error {
            case .duplicateName, .keyAlreadyRegistered, .noActiveKey: .conflict
            case .unknownAgency, .unknownKey: .notFound
            case .invalidName: .unprocessableContent
            case .database: .serviceUnavailable
            }
        if case .database = error {
            return errorResponse(status, code: "store_unavailable", message: "the registry could not be read or written")
        }
        return errorResponse(status, code: error.code, message: error.description)
    }

    // MARK: - Tokens

    @Sendable func listTokens(request: Request, context: PlazoRequestContext) async throws -> Response {
        let all = request.uri.queryParameters["include_revoked"].map { $0 == "true" || $0 == "1" } ?? false
        do { return jsonResponse(.ok, ["tokens": try tokens.list(includeRevoked: all).map(tokenJSON)]) } catch {
            return tokenError(error)
        }
    }

    struct NewToken: Decodable {
        let name: String
        let role: String
    }

    /// Creates a token; the answer carries it once (and `Cache-Control: no-store`).
    @Sendable func createToken(request: Request, context: PlazoRequestContext) async throws -> Response {
        let form: NewToken
        switch await readJSON(request, as: NewToken.self) {
        case let .failure(e): return e.response
        case let .success(f): form = f
        }
        guard let role = TokenRole(rawValue: form.role) else {
            return errorResponse(.unprocessableContent, code: "invalid_role", message: "role must be oversight, researcher or steward")
        }
        do {
            let issued = try tokens.create(name: form.name, role: role, createdBy: context.token.map { "token \($0.id) (\($0.name))" } ?? "api")
            context.logger.info("token created", metadata: ["created.token.id": "\(issued.record.id)", "created.token.role": "\(role)"])
            var body = tokenJSON(issued.record)
            body["token"] = issued.token
            return jsonResponse(.created, body, headers: [.cacheControl: "no-store"])
        } catch { return tokenError(error) }
    }

    @Sendable func revokeToken(request: Request, context: PlazoRequestContext) async throws -> Response {
        let reference = pathParameter(context, "token")
        do {
            let record = try tokens.revoke(reference)
            context.logger.info("token revoked", metadata: ["revoked.token.id": "\(record.id)"])
            return jsonResponse(.ok, tokenJSON(record))
        } catch { return tokenError(error) }
    }

    func tokenJSON(_ t: TokenRecord) -> [String: Any] {
        var object: [String: Any] = [
            "id": Int(t.id), "name": t.name, "role": t.role.rawValue, "created_at": timestamp(t.createdAt), "created_by": t.createdBy,
            "active": t.isActive,
        ]
        if let revoked = t.revokedAt { object["revoked_at"] = timestamp(revoked) }
        return object
    }

    func tokenError(_ error: TokenError) -> Response {
        switch error {
        case .invalidName: errorResponse(.unprocessableContent, code: error.code, message: error.description)
        case .duplicateName, .alreadyRevoked: errorResponse(.conflict, code: error.code, message: error.description)
        case .unknownToken: errorResponse(.notFound, code: error.code, message: error.description)
        case .malformed, .unknown, .revoked, .crypto, .database:
            errorResponse(.serviceUnavailable, code: "store_unavailable", message: "the token store could not be read or written")
        }
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
